"""One engine per journal: an advisory lock held by the process that trades on it.

Why: two engines journaling to one file would each take the other's orders for their own at
start-up (``recover``) and settle or unwind them; the second one must be refused before it sends
anything. SQLite lets several processes open a WAL file, so the lock is a separate one: an
exclusive ``flock`` on ``<journal>.lock`` (released by the kernel when the holder dies, kill -9
included). Readers (reports, doctor) do not take it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from openclaw.model.errors import JournalError

__all__ = ["JournalLock", "JournalLockedError", "lock_journal"]


class JournalLockedError(JournalError):
    """Another process (or another engine of this one) trades on this journal."""


class JournalLock:
    """An exclusive lock on one journal; ``release()`` (or process exit) frees it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        """Free the lock (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def lock_journal(journal_path: str | os.PathLike[str]) -> JournalLock:
    """Take the engine's lock of ``journal_path``; ``JournalLockedError`` (naming the holder's
    pid) if another engine holds it, ``JournalError`` if the lock file cannot be created."""
    path = Path(f"{os.fspath(journal_path)}.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise JournalError(f"cannot create the journal lock {path}: {e.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise JournalLockedError(f"journal {os.fspath(journal_path)} is in use by another "
                                 f"engine (pid {holder}); one engine per journal") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return JournalLock(path, fd)
