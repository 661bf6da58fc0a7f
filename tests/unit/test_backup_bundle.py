"""The backup file's checks, before a restore touches anything: the hash of every member,
no member outside the data directory's own files, and old plain archives still accepted."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from infra.platform.errors import InvalidInput
from infra.postgres.backup import DeploymentFiles, unpack


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
