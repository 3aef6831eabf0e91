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



def test_strategy_tables_name_the_built_in_strategies(tmp_path: Path, fake_module: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``[strategy.fx]`` is the registered name of the FX strategy: the same section as ``[fx]``
    (an IBKR file by its tables alone); both at once, an unknown name, or the IBKR strategy
    beside crypto venues are configuration errors naming the table."""
    import tomllib

    from openclaw.app.config import load_config, load_ibkr_config

    p = tmp_path / "named.toml"
    p.write_text('[ibkr]\nclient_id = 3\n\n[strategy.fx]\npairs = ["EURUSD"]\n')
    assert runner.is_ibkr_file(tomllib.loads(p.read_text()))
    assert load_ibkr_config(p).fx == {"pairs": ["EURUSD"]}
    monkeypatch.setattr(runner, "IBKR_ENTRIES", {"fx": (fake_module, "run")})
    out = asyncio.run(runner.run_ibkr(str(p), seconds=0.5))
    assert out["ok"] and out["strategies"]["fx"]["result"]["fx"] == {"pairs": ["EURUSD"]}

    both = tmp_path / "both.toml"
    both.write_text('[fx]\npairs = ["EURUSD"]\n\n[strategy.fx]\npairs = ["GBPUSD"]\n')
    with pytest.raises(ConfigError, match=r"both \[fx\] and \[strategy.fx\]"):
        load_ibkr_config(both)
    other = tmp_path / "other.toml"
    other.write_text('[fx]\npairs = ["EURUSD"]\n\n[strategy.triarb]\nenabled = true\n')
    with pytest.raises(ConfigError, match="strategy.triarb: an IBKR run file runs"):
        load_ibkr_config(other)
    crypto = tmp_path / "crypto.toml"
    crypto.write_text('[venues.binance]\nmode = "sim"\n\n[strategy.momentum]\ntop_n = 5\n')
    with pytest.raises(ConfigError, match="strategy.momentum is the built-in IBKR strategy"):
        load_config(crypto)
