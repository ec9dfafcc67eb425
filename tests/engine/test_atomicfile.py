"""The shared durable atomic writer (assoc_audit.atomicfile)."""

from __future__ import annotations

import os
import stat

import pytest
from disk_probe import Disk

from assoc_audit.atomicfile import atomic_copy, atomic_write, atomic_write_text


def test_write_is_durable_and_keeps_mode(tmp_path, monkeypatch):
    disk = Disk(monkeypatch)
    target = tmp_path / "out.txt"
    target.write_text("old", "utf-8")
    target.chmod(0o640)
    atomic_write_text(target, "new\n")
    assert target.read_text("utf-8") == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert disk.durable(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_new_file_gets_default_mode(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "new.bin", lambda tmp: tmp.write_bytes(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old", "utf-8")

    def broken(tmp):
        tmp.write_text("half", "utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_copy(tmp_path, monkeypatch):
    disk = Disk(monkeypatch)
    src = tmp_path / "a.parquet"
    src.write_bytes(b"PAR1")
    dst = tmp_path / "sub" / "a.parquet"
    dst.parent.mkdir()
    atomic_copy(src, dst)
    assert dst.read_bytes() == b"PAR1" and disk.durable(dst)
    atomic_copy(dst, dst)  # the same file: nothing to do
    assert dst.read_bytes() == b"PAR1"
