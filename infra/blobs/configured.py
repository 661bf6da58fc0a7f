"""The blob store the settings name (`WWC_DOCUMENT_STORE`): the composition root and the
`wwc` commands build it here, so no one else chooses an adapter."""

from __future__ import annotations

from infra.blobs.disk import SPOOL, DiskBlobStore
from infra.blobs.port import BlobStore
from infra.blobs.s3 import S3BlobStore, s3_client
from infra.platform.config import Settings
from infra.platform.errors import InvalidInput


def blob_store(settings: Settings) -> BlobStore:
    if settings.document_store == "s3":
        if not settings.s3_bucket:
            raise InvalidInput("WWC_S3_BUCKET: required when WWC_DOCUMENT_STORE is s3")
        client = s3_client(settings.s3_bucket, prefix=settings.s3_prefix,
                           endpoint=settings.s3_endpoint, region=settings.s3_region,
                           access_key_id=settings.s3_access_key_id,
                           secret_access_key=settings.s3_secret_access_key)
        # Uploads are staged (and downloads checked) on the local disk all the same.
        return S3BlobStore(client, settings.effective_documents_dir / SPOOL)
    return DiskBlobStore(settings.effective_documents_dir)
