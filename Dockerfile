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
RUN pip install --no-cache-dir . && useradd --system --uid 10001 wwc
USER wwc

# Point the service at real servers (see docker-compose.yml); nothing embedded runs here.
ENV WWC_TEMPORAL_ADDRESS=temporal:7233 \
    WWC_DATABASE_URL=postgresql://wwc:wwc@postgres:5432/wwc \
    WWC_LOG_FORMAT=json

ENTRYPOINT ["wwc"]
CMD ["worker"]
