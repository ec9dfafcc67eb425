"""Durable atomic file writes: a reader sees the old file or the new one, never a mix.

Every output the toolkit writes (audit outputs, snapshots, scenario results,
the set-up document, run history, rewritten app files) goes through
:func:`atomic_write`::

    atomic_write(path, lambda tmp: frame.to_parquet(tmp))   # anything that writes a file
    atomic_write_text(path, text)                          # text, UTF-8 by default

The new content is written to a temporary file beside ``path`` (same folder,
so the rename cannot cross file systems), flushed to disk with ``fsync``,
swapped in with ``os.replace`` and the folder is fsynced so that the rename
itself survives a crash (as the apply journal does). An existing file's
permission bits are kept; a new file gets the usual ``0o666`` minus the umask.
If writing fails, the temporary file is removed and ``path`` is untouched.
The parent folder must exist.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "atomic_copy",
    "atomic_link",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "fsync_dir",
]


def fsync_dir(folder: Path | str) -> None:
    """Make the entries of ``folder`` (a rename, a new file) durable, where the OS allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temporary_name(path: Path) -> Path:
    """A unique name for a temporary file beside ``path``."""
    return path.with_name(f".{path.name[:200]}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _temporary(path: Path) -> Path:
    """A new, empty, uniquely named file beside ``path`` (mode 0o666 minus the umask)."""
    while True:
        tmp = _temporary_name(path)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        os.close(fd)
        return tmp


def _replace(tmp: Path, target: Path) -> None:
    """Flush ``tmp`` to disk and rename it over ``target``, durably; ``tmp`` is gone after."""
    try:
        _fsync_file(tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(target.parent)


def atomic_write(path: Path | str, write: Callable[[Path], object]) -> Path:
    """Replace ``path`` with what ``write(tmp)`` writes to the temporary file ``tmp``.

    ``write`` may open ``tmp`` itself (truncating it) or hand it to a library
    (Parquet, DuckDB ``COPY``). Returns ``path``.
    """
    target = Path(path)
    tmp = _temporary(target)
    try:
        write(tmp)
        with contextlib.suppress(FileNotFoundError):
            shutil.copymode(target, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _replace(tmp, target)
    return target


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Replace ``path`` with ``data``."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path | str, text: str, *, encoding: str = "utf-8") -> Path:
    """Replace ``path`` with ``text`` (line endings written as given)."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_copy(src: Path | str, dst: Path | str) -> Path:
    """Replace ``dst`` with a copy of ``src`` (nothing happens when they are the same file)."""
    source, target = Path(src), Path(dst)
    if target.exists() and os.path.samefile(source, target):
        return target
    return atomic_write(target, lambda tmp: shutil.copyfile(source, tmp))


def atomic_link(src: Path | str, dst: Path | str) -> bool:
    """Replace ``dst`` with a hard link to ``src``; False (``dst`` untouched) where the
    file system refuses one (another device, no hard links, not permitted). True at once
    when they are already the same file."""
    source, target = Path(src), Path(dst)
    if target.exists() and os.path.samefile(source, target):
        return True
    tmp = _temporary_name(target)
    try:
        os.link(source, tmp)
    except OSError:
        return False
    _replace(tmp, target)  # the shared data reaches the disk before the rename
    return True
