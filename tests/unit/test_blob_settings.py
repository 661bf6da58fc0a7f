"""Which document store the settings build, and the S3 credentials kept out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.blobs.configured import blob_store
from infra.blobs.disk import DiskBlobStore
from infra.blobs.s3 import S3BlobStore
from infra.platform.config import Settings
from infra.platform.errors import InvalidInput


def test_documents_are_kept_on_disk_under_the_data_dir_by_default(tmp_path: Path) -> None:
    store = blob_store(Settings.from_env({"WWC_DATA_DIR": str(tmp_path)}))
    assert isinstance(store, DiskBlobStore)
    assert store.root == tmp_path / "documents"
    elsewhere = Settings.from_env({"WWC_DATA_DIR": str(tmp_path),
                                   "WWC_DOCUMENTS_DIR": str(tmp_path / "evidence")})
    assert blob_store(elsewhere).root == tmp_path / "evidence"  # type: ignore[attr-defined]


def test_the_s3_credentials_are_never_printed() -> None:
    settings = Settings.from_env({"WWC_DOCUMENT_STORE": "s3", "WWC_S3_BUCKET": "docs",
                                  "WWC_S3_ACCESS_KEY_ID": "AKIDSHOWNNOWHERE",
                                  "WWC_S3_SECRET_ACCESS_KEY": "s3cr3t-shown-nowhere"})
    assert settings.s3_secret_access_key == "s3cr3t-shown-nowhere"
    for shown in (repr(settings), str(settings)):
        assert "s3cr3t" not in shown
        assert "AKIDSHOWNNOWHERE" not in shown


def test_the_s3_store_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="WWC_S3_BUCKET"):
        blob_store(Settings.from_env({"WWC_DOCUMENT_STORE": "s3"}))
    store = blob_store(Settings.from_env({"WWC_DATA_DIR": str(tmp_path),
                                          "WWC_DOCUMENT_STORE": "s3",
                                          "WWC_S3_BUCKET": "docs"}))
    assert isinstance(store, S3BlobStore)
    assert store.spool_dir == tmp_path / "documents" / ".spool"  # staged locally all the same
