"""The blob store the settings name (`WWC_DOCUMENT_STORE`): the composition root and the
`wwc` commands build it here, so no one else chooses an adapter."""

from __future__ import annotations

from infra.blobs.disk import DiskBlobStore
from infra.blobs.port import BlobStore
from infra.platform.config import Settings
from infra.platform.errors import InvalidInput


def blob_store(settings: Settings) -> BlobStore:
    if settings.document_store == "s3":
        raise InvalidInput("WWC_DOCUMENT_STORE=s3: the S3 document store is not built yet")
    return DiskBlobStore(settings.effective_documents_dir)
