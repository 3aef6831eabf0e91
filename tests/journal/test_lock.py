"""One engine per journal: the lock refuses a second holder, names the first, frees on exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openclaw.errors import JournalError
from openclaw.journal.lock import JournalLockedError, lock_journal


def test_second_holder_refused_until_released(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    first = lock_journal(path)
    with pytest.raises(JournalLockedError, match=r"in use by another engine \(pid \d+\)"):
        lock_journal(path)
    first.release()
    lock_journal(path).release()


def test_another_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    held = lock_journal(path)
    code = ("import sys\nfrom openclaw.journal.lock import lock_journal\n"
            "try:\n    lock_journal(sys.argv[1])\nexcept Exception as e:\n"
            "    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, timeout=30).stdout
    held.release()
    assert out.startswith("JournalLockedError") and "pid" in out


def test_uncreatable_lock_is_a_journal_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(JournalError, match="cannot create the journal lock"):
        lock_journal(tmp_path / "file" / "journal.sqlite")
