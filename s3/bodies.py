"""S3 object bodies as files under ``settings.OBJECT_DIR`` (``IAM_OBJECT_DIR``, default ``IAM_DATA_DIR/objects``);
the object's row in PostgreSQL (``S3Object.body_file``) names its file. This module alone touches the files.

A body is written once under a new name (a uuid, fanned out in 256 subdirectories: ``3f/3f1c…``) and never
changed: an overwrite writes a new file and the row points at it. A file is written to a temporary name and renamed,
so a name a row holds never shows half a body. Nothing is fsynced by default (``IAM_OBJECT_FSYNC`` turns it on):
a 1 MiB body written to the page cache costs about 1.3 ms, with fsync about 5 ms on the reference machine
(docs/architecture.md). The trade-off: after an operating-system crash (not a process crash) the bodies of the last
seconds of uploads may be lost while their rows stay; GetObject on such an object answers ``InternalError``.

Files follow their rows: a new file is removed when its call (or the transaction it runs in) fails
(``core.calls.Call.on_rollback``), and a replaced or deleted row's file is removed once the deletion commits
(``remove_on_commit``), so a rollback never loses a body.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from core import clock
from s3.errors import InternalError

logger = logging.getLogger(__name__)
_made: set[Path] = set()  # subdirectories known to exist (one stat saved per write)


def root() -> Path:
    return Path(settings.OBJECT_DIR or Path(settings.DATA_DIR) / "objects")


def _path(name: str) -> Path:
    return root() / name


def write(body: bytes) -> str:
    """Store ``body`` in a new file; its name (relative to the object directory)."""
    unique = uuid.uuid4().hex
    name = f"{unique[:2]}/{unique}"
    path = _path(name)
    temporary = path.with_name(f"{unique}.tmp")
    if path.parent not in _made:
        path.parent.mkdir(parents=True, exist_ok=True)
        _made.add(path.parent)
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    except FileNotFoundError:  # the directory was removed since (a test's, an emptied OBJECT_DIR)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view) :]
        if getattr(settings, "OBJECT_FSYNC", False):
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(temporary, path)
    if getattr(settings, "OBJECT_FSYNC", False):  # the new name too
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return name


def read(name: str) -> bytes | None:
    """The body in file ``name``; None when there is no such file (its row was just replaced or deleted, or the
    file was lost); InternalError (logged) when it cannot be read."""
    try:
        with open(_path(name), "rb", buffering=0) as f:
            return f.read()
    except FileNotFoundError:
        return None
    except OSError:
        logger.exception("S3 object body %s is unreadable under %s", name, root())
        raise InternalError() from None


def lost(name: str) -> InternalError:
    """What a row whose file is gone answers (logged: the file was lost, e.g. by a crash without fsync)."""
    logger.error("S3 object body %s is missing under %s", name, root())
    return InternalError()


def remove(names: Iterable[str]) -> None:
    for name in names:
        if name:
            try:
                _path(name).unlink(missing_ok=True)
            except OSError:  # a file left behind takes space, nothing else: the row is gone
                logger.exception("could not remove S3 object body %s", name)


def remove_on_commit(names: Iterable[str]) -> None:
    """Remove these files once the current transaction commits (now, outside one); never on a rollback."""
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: remove(names))


def sweep(referenced: Callable[[list[str]], set[str]], *, grace: float) -> int:
    """Remove the body files that no row names and that are older than ``grace`` seconds, and temporary files as
    old: what a process killed between writing a body and committing its row (or before removing a replaced body)
    leaves behind. ``referenced(names)``: those of ``names`` that a row names. A new body's file exists a moment
    before its row commits, so only files older than ``grace`` are candidates. How many files were removed."""
    cutoff = clock.now().timestamp() - grace
    base = root()
    if not base.is_dir():
        return 0
    removed = 0
    for directory in sorted(os.scandir(base), key=lambda e: e.name):
        if not (directory.is_dir() and len(directory.name) == 2):
            continue
        old = [e for e in os.scandir(directory.path) if e.is_file() and e.stat().st_mtime < cutoff]
        names = [f"{directory.name}/{e.name}" for e in old if not e.name.endswith(".tmp")]
        kept = referenced(names) if names else set()
        for entry in old:
            if f"{directory.name}/{entry.name}" not in kept:
                try:
                    os.unlink(entry.path)
                    removed += 1
                except FileNotFoundError:
                    pass
    if removed:
        logger.warning("removed %d S3 object body files that no object names (left by an interrupted call)", removed)
    return removed
