"""kill -9 mid-stream: every acknowledged write survives and the file is not corrupt."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.aio import deadline

from openclaw.journal import Journal

run = deadline(20.0)

CHILD = Path(__file__).with_name("kill9_child.py")


@pytest.mark.parametrize(
    ("sync", "mode"),
    [("FULL", "single"), ("NORMAL", "single"), ("FULL", "batch"), ("NORMAL", "batch")],
)
def test_kill9_keeps_every_acknowledged_write(tmp_path: Path, sync: str, mode: str) -> None:
    """``batch``: the send path (``record_new_batch``; inline with NORMAL): every leg printed
    as "sent" right after the call returned is in the journal after the kill."""
    path = tmp_path / "journal.sqlite"
    err_path = tmp_path / "child.stderr"
    err_file = err_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), sync, mode],
        stdout=subprocess.PIPE,
        stderr=err_file,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    stdout = proc.stdout
    lines: queue.SimpleQueue[str] = queue.SimpleQueue()

    def pump() -> None:
        for ln in stdout:
            lines.put(ln)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    got: list[str] = []
    try:
        assert lines.get(timeout=15).strip() == "READY", err_path.read_text()
        # let it write a while, then kill it at a random point of its stream
        target = 400 + int.from_bytes(os.urandom(2), "big") % 400
        deadline = time.monotonic() + 15
        while len(got) < target and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                got.append(lines.get(timeout=0.5))
        assert proc.poll() is None, "the child ended by itself: " + err_path.read_text()
        assert len(got) >= target, f"stalled after {len(got)} lines: {err_path.read_text()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err_file.close()
    reader.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    while not lines.empty():
        got.append(lines.get())
    acked = [ln.split() for ln in got if ln.endswith("\n")]  # a torn last line was not acked
    new_ids = {a[1] for a in acked if a[0] == "N"}
    fills = {(a[1], a[2]) for a in acked if a[0] == "F"}
    assert len(new_ids) >= 8 and len(fills) >= 100, (len(new_ids), len(fills))

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()

    async def check() -> None:
        async with await Journal.open(path) as j:
            assert await j.consistency_check() == []
            in_journal: dict[str, set[str]] = {}
            for f in await j.fills():
                in_journal.setdefault(f.client_id, set()).add(f.fill.trade_id)
            for cid in new_ids:
                assert await j.order(cid) is not None, f"acknowledged order {cid} lost"
            for cid, tid in fills:
                assert tid in in_journal.get(cid, set()), f"acknowledged fill {cid}/{tid} lost"

    run(check)
