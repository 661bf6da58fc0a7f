"""Configuration from the environment (`WWC_*`), with embedded defaults for everything.

With no database URL the embedded PostgreSQL is started in the data directory; with no
Temporal address the embedded Temporal dev server is. Point the service at your own
servers by setting the URLs.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_VARS: dict[str, str] = {
    "WWC_DATA_DIR": "Where the embedded servers keep their state (default ./.wwc).",
    "WWC_DATABASE_URL": "PostgreSQL URL of the event store; unset = embedded PostgreSQL.",
    "WWC_TEMPORAL_ADDRESS": "host:port of a Temporal frontend (over TEMPORAL_ADDRESS and a "
                            "Temporal profile); none anywhere = embedded dev server.",
    "WWC_TEMPORAL_NAMESPACE": "Temporal namespace (over TEMPORAL_NAMESPACE and a profile; "
                              "default 'default').",
    "WWC_TASK_QUEUE": "Task queue of the worker (default 'wwc-certification').",
    "WWC_STANDARDS_DIR": "Folder of operator standard files (default DATA_DIR/standards).",
    "WWC_LOG_LEVEL": "debug, info, warning or error (default info).",
    "WWC_LOG_FORMAT": "'json' or 'console' (default: console on a terminal, else json).",
    "WWC_DB_POOL_SIZE": "Connections in the worker's pool (default 10).",
    "WWC_COMMAND_TIMEOUT": "Seconds a `wwc` command waits for a worker's answer before it "
                           "ends 'unavailable' (default 60).",
    "WWC_HTTP_ADDRESS": "HOST:PORT the API listens on (default 127.0.0.1:8000).",
    "WWC_REQUEST_TIMEOUT": "Seconds an API request may wait for PostgreSQL or Temporal "
                           "before it answers 503 (default 10).",
    "WWC_READINESS_TIMEOUT": "Seconds /readyz waits for each dependency (default 1).",
    "WWC_CLI_TIMEOUT": "Seconds a wwc command that talks to the service may take before "
                       "it gives up, exit 5 (default 90).",
    "WWC_METRICS_ADDRESS": "HOST:PORT for our metrics from `wwc worker` (the API has /metrics).",
    "WWC_TEMPORAL_METRICS_ADDRESS": "HOST:PORT for the Temporal SDK's runtime metrics.",
    "WWC_TEMPORAL_UI_URL": "Base URL of the Temporal UI, for the portal's links to a city's "
                           "workflow (`wwc up` sets it to the dev server's UI).",
    "WWC_TEMPORAL_UI_BACKEND": "A Temporal UI server (started with --ui-public-path /temporal) "
                               "the API serves to operators under /temporal/ (`wwc up`: the "
                               "dev server's UI).",
    "WWC_PAYLOAD_KEYS": "Payload keys, KEY_ID:BASE64 entries, comma- or line-separated; the "
                        "first seals, all open (never logged).",
    "WWC_PAYLOAD_KEYS_FILE": "File of payload keys, one KEY_ID: BASE64 a line (default "
                             "DATA_DIR/payload.keys, made by the embedded stack).",
    "WWC_DOCUMENT_STORE": "Where evidence documents' bytes are kept: 'disk' (default) or "
                          "'s3' (an S3-compatible object store, the WWC_S3_* settings).",
    "WWC_DOCUMENTS_DIR": "Folder of the disk document store (default DATA_DIR/documents).",
    "WWC_S3_ENDPOINT": "URL of the S3-compatible store (unset = AWS S3 in WWC_S3_REGION).",
    "WWC_S3_BUCKET": "Bucket the documents are kept in (required with the s3 store).",
    "WWC_S3_REGION": "Region of the bucket (default us-east-1).",
    "WWC_S3_PREFIX": "Key prefix of the documents in the bucket (default 'documents').",
    "WWC_S3_ACCESS_KEY_ID": "Access key of the s3 store (never logged).",
    "WWC_S3_SECRET_ACCESS_KEY": "Secret key of the s3 store (never logged).",
    "WWC_DOCUMENT_LIMIT_MB": "The largest evidence document a city may upload, in MB "
                             "(default 25).",
    "WWC_CITY_DOCUMENTS_LIMIT_MB": "The most MB an application's evidence documents may take "
                                   "together, each file counted once (default 500).",
    "WWC_SECURE_COOKIES": "true behind https: session cookies are then Secure.",
    "WWC_TRUSTED_PROXIES": "Comma-separated addresses or networks of reverse proxies whose "
                           "X-Forwarded-For and X-Forwarded-Proto are believed (default "
                           "none: the socket's peer is the client).",
    "WWC_SMTP_URL": "Mail server: smtp://HOST:PORT, smtp+starttls://USER:PASSWORD@HOST:587 or "
                    "smtps://...; unset = `wwc up`'s local mail catcher (others hold mail).",
    "WWC_MAIL_FROM": "Sender address of the program's mail (default certification@wwc.local).",
    "WWC_PORTAL_URL": "The portal's public address, for links in mail (default "
                      "http://WWC_HTTP_ADDRESS).",
    "WWC_ADMIN_EMAIL": "The first administrator's e-mail (default admin@wwc.local).",
    "WWC_ADMIN_PASSWORD": "The first administrator's password; unset = a one-time one.",
    "WWC_TEST_DATABASE_URL": "Tests only: a server to create throwaway databases on.",
}


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    data_dir: Path = Path(".wwc")
    database_url: str | None = None
    temporal_address: str | None = None
    temporal_namespace: str | None = None
    # Whether Temporal's own environment configuration (TEMPORAL_* variables, profiles) may
    # name a cluster; the demo turns it off, since it always runs on the embedded stack.
    read_temporal_env_config: bool = True
    task_queue: str = "wwc-certification"
    standards_dir: Path | None = None
    log_level: str = "info"
    log_format: str | None = None
    db_pool_size: int = Field(default=10, ge=1)
    command_timeout: float = Field(default=60.0, gt=0)
    http_address: str = "127.0.0.1:8000"
    request_timeout: float = Field(default=10.0, gt=0)
    readiness_timeout: float = Field(default=1.0, gt=0)
    cli_timeout: float = Field(default=90.0, gt=0)
    metrics_address: str | None = None
    temporal_metrics_address: str | None = None
    secure_cookies: bool = False
    # Proxies whose forwarding headers are believed ("" = none); see `trusted_proxy_list`.
    trusted_proxies: str = ""
    temporal_ui_url: str | None = None
    # Never logged or printed: it may carry the mail server's password.
    smtp_url: str | None = Field(default=None, repr=False)
    mail_from: str = "WWC certification <certification@wwc.local>"
    portal_url: str | None = None
    admin_email: str = "admin@wwc.local"
    # Never logged or printed (it is given, so it is known); see infra/ops/first_accounts.py.
    admin_password: str | None = Field(default=None, repr=False)
    temporal_ui_backend: str | None = None
    # The keys payloads are sealed with (infra/temporal/keys.py): never logged or printed.
    payload_keys: str | None = Field(default=None, repr=False)
    payload_keys_file: Path | None = None
    # Evidence documents' bytes (infra/blobs): the disk store under the data directory, or
    # an S3-compatible object store. The credentials are never logged or printed.
    document_store: Literal["disk", "s3"] = "disk"
    documents_dir: Path | None = None
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_prefix: str = "documents"
    s3_access_key_id: str | None = Field(default=None, repr=False)
    s3_secret_access_key: str | None = Field(default=None, repr=False)
    # The program's limits on evidence documents (domain/rules.py), checked where the
    # bytes arrive: the operator's to set.
    document_limit_mb: int = Field(default=25, ge=1, le=100_000)
    city_documents_limit_mb: int = Field(default=500, ge=1, le=10_000_000)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in ENV_VARS:
            if name.startswith("WWC_TEST_"):
                continue
            if (value := env.get(name)) not in (None, ""):
                values[name.removeprefix("WWC_").lower()] = value
        return cls.model_validate(values)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"WWC_TRUSTED_PROXIES: {item!r} is not an address or a "
                                 "network (e.g. 10.0.0.5, 10.0.0.0/24)") from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The addresses and networks whose X-Forwarded-* headers are believed."""
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @property
    def effective_portal_url(self) -> str:
        return self.portal_url or f"http://{self.http_address}"

    @property
    def effective_standards_dir(self) -> Path:
        return self.standards_dir or self.data_dir / "standards"

    @property
    def effective_documents_dir(self) -> Path:
        return self.documents_dir or self.data_dir / "documents"
