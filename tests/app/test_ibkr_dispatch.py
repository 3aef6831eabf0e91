"""``openclaw-trading run`` on an IBKR file: each filled strategy section starts through its entry
point; a missing module or entry point is a listed configuration error (exit 2), never a skip."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from openclaw.app import runner
from openclaw.app.config import ConfigError

ENTRY = '''
import asyncio
calls = []

async def run(config, ctx):
    calls.append(dict(config.fx))
    await ctx.stop.wait()          # a well-behaved strategy ends when the run stops
    return {"stopped": True, "fx": dict(config.fx)}

async def crash(config, ctx):
    raise RuntimeError("boom")
'''


@pytest.fixture
def fake_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "fake_ibkr_entry.py").write_text(ENTRY)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fake_ibkr_entry"


def _file(tmp_path: Path) -> Path:
    p = tmp_path / "ibkr.toml"
    p.write_text('[ibkr]\nclient_id = 3\n\n[fx]\npairs = ["EURUSD"]\n')
    return p


def test_entry_runs_until_stop(tmp_path: Path, fake_module: str,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "IBKR_ENTRIES", {"fx": (fake_module, "run")})
    out = asyncio.run(runner.run_ibkr(str(_file(tmp_path)), seconds=0.5))
    assert out["ok"] and out["strategies"]["fx"]["result"] == {
        "stopped": True, "fx": {"pairs": ["EURUSD"]}}


def test_failing_entry_is_reported(tmp_path: Path, fake_module: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "IBKR_ENTRIES", {"fx": (fake_module, "crash")})
    out = asyncio.run(runner.run_ibkr(str(_file(tmp_path)), seconds=5))
    assert not out["ok"] and "boom" in out["strategies"]["fx"]["error"]


def test_missing_entry_points_are_listed(tmp_path: Path, fake_module: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "both.toml"
    p.write_text('[momentum]\ntop_n = 5\n\n[fx]\npairs = ["EURUSD"]\n')
    monkeypatch.setattr(runner, "IBKR_ENTRIES", {
        "momentum": ("no_such_module_xyz", "run"), "fx": (fake_module, "no_such_fn")})
    with pytest.raises(ConfigError) as e:
        asyncio.run(runner.run_ibkr(str(p), seconds=1))
    text = str(e.value)
    assert "no_such_module_xyz" in text and "no_such_fn" in text

