# The service image: the `wwc` CLI, whose `worker` command is the production process.
# (Docker cannot run on our build machines; this file is kept valid and documented.)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY infra ./infra
# The document store's folder exists in the image, owned by the service's user: a volume
# mounted there (docker-compose.yml) starts with that owner and mode.
RUN pip install --no-cache-dir . && useradd --system --uid 10001 wwc \
    && mkdir -p /var/lib/wwc/documents && chown -R wwc /var/lib/wwc && chmod -R 700 /var/lib/wwc
USER wwc

# Where Temporal and PostgreSQL are, with which certificates and password file, comes from
# the environment docker-compose.yml sets (TEMPORAL_ADDRESS, TEMPORAL_TLS_*,
# WWC_DATABASE_URL, PGPASSFILE): the image holds no address and no secret.
ENV WWC_LOG_FORMAT=json

ENTRYPOINT ["wwc"]
CMD ["worker"]
