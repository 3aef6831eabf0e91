"""An engine on the simulators with its control API, for the control tests: the example run
file (examples/triarb.toml) with the journal, token, state and approval files in a temporary
folder; in this process (``in_process``) or as ``python -m openclaw run`` (``run_file``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from openclaw.app.config import load_config
from openclaw.app.runner import run_config

ROOT = Path(__file__).resolve().parents[2]


def run_file(tmp: Path, *, extra: str = "", approval_file: bool = True,
             telegram_url: str = "") -> Path:
    """The example run file with every path under ``tmp`` and a ``[control]`` section;
    ``telegram_url``: the Telegram API root (a fake) for alerts and approval codes."""
    text = (ROOT / "examples" / "triarb.toml").read_text()
    text = text.replace('path = "openclaw-journal.sqlite"', f'path = "{tmp / "j.sqlite"}"')
    if telegram_url:
        text = text.replace('chat_env = "OPENCLAW_TELEGRAM_CHAT"',
                            f'chat_env = "OPENCLAW_TELEGRAM_CHAT"\nbase_url = "{telegram_url}"')
    text += (f'\n[control]\ntoken_file = "{tmp / "control.token"}"\n'
             f'state_file = "{tmp / "control.json"}"\n')
    if approval_file:
        text += f'approval_file = "{tmp / "approvals.txt"}"\n'
    path = tmp / "run.toml"
    path.write_text(text + extra)
    return path


class Captured(logging.Handler):
    """Every log record's formatted text (to prove secrets never reach a log)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + " " + repr(record.__dict__))


@dataclass
class Engine:
    """A running engine: its URL, token, files, the runner's task and the captured logs."""

    url: str
    token: str
    tmp: Path
    task: asyncio.Task[dict[str, Any]]
    logs: Captured

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def approval_codes(self) -> list[str]:
        """The codes the engine wrote to the out-of-band file, in order."""
        p = self.tmp / "approvals.txt"
        if not p.exists():
            return []
        return [line.split("approval code ", 1)[1].split()[0]
                for line in p.read_text().splitlines() if "approval code " in line]


@contextlib.asynccontextmanager
async def in_process(tmp: Path, extra: str = "") -> AsyncIterator[Engine]:
    """``run_config`` of ``run_file(tmp)`` in a task until the block ends (then stopped)."""
    cfg_path = run_file(tmp, extra=extra)
    cfg = load_config(cfg_path)
    logs = Captured()
    root = logging.getLogger()
    root.addHandler(logs)
    old = root.level
    root.setLevel(logging.DEBUG)
    stop = asyncio.Event()
    task = asyncio.create_task(run_config(cfg, source=str(cfg_path), stop=stop,
                                          install_signals=False, drain_timeout=5))
    try:
        state = tmp / "control.json"
        while not state.exists():
            if task.done():
                task.result()
                raise AssertionError("the run ended before its control API started")
            await asyncio.sleep(0.05)
        url = orjson.loads(state.read_bytes())["url"]
        token = (tmp / "control.token").read_text().strip()
        yield Engine(url, token, tmp, task, logs)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 60)
        root.removeHandler(logs)
        root.setLevel(old)
