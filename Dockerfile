# One image for ingest, dashboard and simulators; the command picks the role.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY stadtpuls ./stadtpuls
COPY ingest ./ingest
COPY dashboard ./dashboard
COPY simulators ./simulators
COPY demo ./demo
COPY opendata ./opendata
COPY config ./config
RUN pip install --no-cache-dir . && useradd --system --uid 10001 stadtpuls \
    && mkdir -p /data && chown stadtpuls /data
USER stadtpuls
ENV STADTPULS_CATALOGUE=/app/config/stuehlinger.yaml STADTPULS_DATA_DIR=/data
ENTRYPOINT ["stadtpuls"]
