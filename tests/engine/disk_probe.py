"""A probe for durable writes: records fsync and rename calls, by path."""

from __future__ import annotations

import os

import pytest


class Disk:
    """Records fsync and rename calls, by path."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, ...]] = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd):
            self.events.append(("fsync", os.path.realpath(f"/proc/self/fd/{fd}")))
            return real_fsync(fd)

        def replace(src, dst, **kw):
            self.events.append(("replace", os.path.realpath(src), os.path.realpath(dst)))
            return real_replace(src, dst, **kw)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)

    def durable(self, path) -> bool:
        """``path`` was renamed into place from a fsynced file, and its folder fsynced after."""
        dst = os.path.realpath(path)
        for i, event in enumerate(self.events):
            if event[0] == "replace" and event[2] == dst:
                synced_before = ("fsync", event[1]) in self.events[:i]
                folder_after = ("fsync", os.path.dirname(dst)) in self.events[i + 1 :]
                if synced_before and folder_after:
                    return True
        return False
