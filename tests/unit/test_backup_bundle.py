"""The backup file's checks, before a restore touches anything: the hash of every member,
no member outside the data directory's own files, and old plain archives still accepted."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from infra.blobs.disk import DiskBlobStore
from infra.platform.errors import InvalidInput
from infra.postgres.backup import DeploymentFiles, Restored, restore_documents, unpack


def bundle(path: Path, members: dict[str, bytes], hashes: dict[str, str] | None = None,
           fmt: str = "wwc-backup") -> Path:
    manifest = {"format": fmt, "version": 1, "sha256": hashes if hashes is not None else {
        name: hashlib.sha256(body).hexdigest() for name, body in members.items()}}
    with tarfile.open(path, "w") as tar:
        for name, body in {"MANIFEST.json": json.dumps(manifest).encode(), **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


def test_a_sound_backup_unpacks_to_its_database_and_files(tmp_path: Path) -> None:
    file = bundle(tmp_path / "b.tar", {"database.dump": b"PGDMP...",
                                       "data/clock.json": b"{}",
                                       "data/standards/city-2030.yaml": b"id: x"})
    (tmp_path / "out").mkdir()
    database, files = unpack(file, tmp_path / "out")
    assert database.read_bytes() == b"PGDMP..."
    assert {name: path.read_bytes() for name, path in files.items()} == {
        "data/clock.json": b"{}", "data/standards/city-2030.yaml": b"id: x"}


def test_a_damaged_member_refuses_the_whole_backup(tmp_path: Path) -> None:
    file = bundle(tmp_path / "b.tar", {"database.dump": b"PGDMP..."},
                  hashes={"database.dump": hashlib.sha256(b"other").hexdigest()})
    with pytest.raises(InvalidInput, match="does not match its hash"):
        unpack(file, tmp_path)


@pytest.mark.parametrize("name", ["../../etc/passwd", "data/../../x", "/etc/passwd"])
def test_a_member_outside_the_data_files_is_refused(tmp_path: Path, name: str) -> None:
    file = bundle(tmp_path / "b.tar", {"database.dump": b"PGDMP", name: b"x"})
    with pytest.raises(InvalidInput, match="unexpected file"):
        unpack(file, tmp_path)


@pytest.mark.parametrize("name", ["data/../../x", "data/standards/../x", "data/other.txt",
                                  "data/standards/", "data/standards/a/b.yaml"])
def test_files_go_only_where_a_deployment_keeps_them(tmp_path: Path, name: str) -> None:
    files = DeploymentFiles(data_dir=tmp_path, standards_dir=tmp_path / "standards")
    assert files.target("data/clock.json") == tmp_path / "clock.json"
    assert files.target("data/standards/a.yaml") == tmp_path / "standards" / "a.yaml"
    with pytest.raises(InvalidInput):
        files.target(name)


def test_something_else_is_not_a_backup(tmp_path: Path) -> None:
    other = bundle(tmp_path / "b.tar", {"database.dump": b"x"}, fmt="something")
    with pytest.raises(InvalidInput, match="not a backup"):
        unpack(other, tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InvalidInput, match="not a backup"):
        unpack(text, tmp_path)


def test_a_plain_database_archive_from_an_older_wwc_is_accepted(tmp_path: Path) -> None:
    old = tmp_path / "old.dump"
    old.write_bytes(b"PGDMP\x01\x0e...")
    assert unpack(old, tmp_path) == (old, {})


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("name", ["documents/../../etc/passwd", "documents/" + "AB" * 32,
                                  "documents/", "documents/x/" + "ab" * 32])
def test_a_document_member_must_be_named_by_its_hash(tmp_path: Path, name: str) -> None:
    file = bundle(tmp_path / "b.tar", {"database.dump": b"PGDMP", name: b"x"})
    with pytest.raises(InvalidInput, match="unexpected file"):
        unpack(file, tmp_path)


def test_a_document_listed_under_another_hash_is_refused(tmp_path: Path) -> None:
    file = bundle(tmp_path / "b.tar", {"database.dump": b"PGDMP",
                                       f"documents/{sha(b'a')}": b"a"},
                  hashes={"database.dump": sha(b"PGDMP"), f"documents/{sha(b'a')}": sha(b"b")})
    with pytest.raises(InvalidInput, match="unexpected file"):
        unpack(file, tmp_path)


def test_documents_are_left_in_the_backup_by_unpack(tmp_path: Path) -> None:
    file = bundle(tmp_path / "b.tar", {"database.dump": b"PGDMP",
                                       f"documents/{sha(b'policy')}": b"policy"})
    (tmp_path / "out").mkdir()
    assert unpack(file, tmp_path / "out")[1] == {}
    assert len(list((tmp_path / "out").iterdir())) == 1  # the database only


async def test_restored_documents_are_checked_against_their_names(tmp_path: Path) -> None:
    sound, damaged, kept, kept_damaged = b"minutes", b"inventory", b"policy", b"dashboard"
    file = bundle(tmp_path / "b.tar", {
        "database.dump": b"PGDMP",
        f"documents/{sha(sound)}": sound,
        # Altered after the backup was written (its MANIFEST entry is its name).
        f"documents/{sha(damaged)}": b"inventorY",
        f"documents/{sha(kept)}": kept,
        f"documents/{sha(kept_damaged)}": kept_damaged,
    }, hashes={"database.dump": sha(b"PGDMP"),
               **{f"documents/{sha(b)}": sha(b) for b in (sound, damaged, kept, kept_damaged)}})
    store = DiskBlobStore(tmp_path / "documents")
    for body in (kept, kept_damaged):
        await store.commit(await store.stage(one_chunk(body), limit=100))
    store.path_of(sha(kept_damaged)).write_bytes(b"dashboarD")  # altered by hand

    restored = Restored()
    await restore_documents(file, store, restored)
    assert restored.documents_failed == [sha(damaged)]
    assert (restored.documents, restored.documents_kept) == (2, 1)
    assert sorted([key async for key in store.keys()]) == sorted(  # noqa: SIM118
        sha(b) for b in (sound, kept, kept_damaged))
    for key in [key async for key in store.keys()]:  # noqa: SIM118
        assert await store.verify(key) is None  # the damaged copy was replaced
    assert [p.name for p in store.spool_dir.iterdir()] == []


async def one_chunk(body: bytes) -> AsyncIterator[bytes]:
    yield body
