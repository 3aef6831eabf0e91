"""``openclaw-trading run`` on IBKR files against the built-in TWS simulator (``[ibkr]`` without a
port): the FX scalper ends at ``--seconds`` with a latency report, every order final and the
journal consistent; the weekly momentum scheduler catches up a slot missed within its grace,
executes it exactly once, and a second run does not execute it again."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from support.paths import ROOT

pytest.importorskip("ib_async")



def _toml(data: dict[str, Any]) -> str:
    """A tiny TOML writer for these files (tables of scalars and lists)."""
    out = []
    for table, values in data.items():
        out.append(f"[{table}]")
        for k, v in values.items():
            if isinstance(v, bool):
                out.append(f"{k} = {'true' if v else 'false'}")
            elif isinstance(v, str):
                out.append(f'{k} = "{v}"')
            elif isinstance(v, list):
                out.append(f"{k} = [{', '.join(orjson.dumps(x).decode() for x in v)}]")
            else:
                out.append(f"{k} = {v}")
        out.append("")
    return "\n".join(out)


def _run(path: Path, seconds: float) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    p = subprocess.run([sys.executable, "-m", "openclaw.cli", "run", str(path), "--seconds",
                        str(seconds)], capture_output=True, text=True, timeout=seconds + 120,
                       cwd=path.parent)
    lines = p.stdout.strip().splitlines()
    return p, (orjson.loads(lines[-1]) if lines else {})


def test_fx_run_on_the_simulator(tmp_path: Path) -> None:
    """examples/fx.toml with the simulator (port removed) and ``ignore_window = true`` said
    explicitly in the file: exit 0, orders traded, all final, latency report."""
    data = tomllib.loads((ROOT / "examples" / "fx.toml").read_text())
    data["ibkr"].pop("port")
    data["fx"].update({"ignore_window": True, "window": 30, "entry_z": 1.5, "exit_z": 0.3})
    data["journal"]["path"] = str(tmp_path / "fx.sqlite")
    cfg = tmp_path / "fx.toml"
    cfg.write_text(_toml(data))
    p, out = _run(cfg, 6)
    assert p.returncode == 0, p.stderr[-3000:]
    fx = out["strategies"]["fx"]
    assert out["ok"] and fx["ok"], fx
    r = fx["result"]
    assert r["ignore_window"] is True and r["orders"] > 0
    assert r["open_orders"] == [] and r["journal_consistent"] is True
    assert {"signal", "risk", "sent", "ack", "fill"} <= set(r["latency"]["stages"])
    assert r["latency"]["stages"]["sent"]["count"] == r["orders"]
    # every order went the order manager's path, and its outcomes moved the risk engine once
    for w in (w for w in r["windows"] if w.get("traded")):
        om = w["order_manager"]
        assert om["orders"] == w["orders"] == om["lists"] and om["errors"] == 0, w
        assert w["risk_position"] == w["position"], (w["risk_position"], w["position"])
    assert "ibkr gateway closed" in p.stderr  # logged through the runner's logging


def test_fx_ignore_window_is_for_the_simulator_only() -> None:
    from openclaw.app.config import ConfigError, IbkrRunConfig
    from openclaw.app.ibkr import fx_run_settings

    sim = IbkrRunConfig.model_validate({"fx": {"ignore_window": True}})
    assert fx_run_settings(sim)[1] is True
    assert fx_run_settings(IbkrRunConfig.model_validate({"fx": {"window": 30}}))[1] is False
    real = IbkrRunConfig.model_validate({"ibkr": {"port": 7497}, "fx": {"ignore_window": True}})
    with pytest.raises(ConfigError, match="ignore_window"):
        fx_run_settings(real)
    with pytest.raises(ConfigError, match="ignore_window"):
        fx_run_settings(IbkrRunConfig.model_validate({"fx": {"ignore_window": "yes"}}))


def test_ibkr_fx_cli_reads_ignore_window_from_the_file(tmp_path: Path) -> None:
    """``openclaw-trading ibkr fx --config`` accepts the key too, and refuses it with --port."""
    from openclaw.app.config import ConfigError
    from openclaw.app.ibkr import cli_fx

    cfg = tmp_path / "fx.toml"
    cfg.write_text(_toml({"fx": {"ignore_window": True}}))

    async def no_sim(**kw: object) -> object:
        raise AssertionError("nothing may start")

    with pytest.raises(ConfigError, match="ignore_window"):
        asyncio.run(cli_fx(config_path=str(cfg), seconds=1, ignore_window=False, host=None,
                           port=7497, client_id=None, journal_path="", seed=1,
                           start_sim=no_sim))
    p = subprocess.run([sys.executable, "-m", "openclaw.cli", "ibkr", "fx", "--seconds", "2",
                        "--json", "--config", str(cfg)], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    s = orjson.loads(p.stdout.strip().splitlines()[-1])
    assert s["traded"] is True and s["ignore_window"] is True


def _momentum_file(tmp_path: Path, journal: Path) -> Path:
    """A schedule whose slot was 5 minutes ago (a 24/7 calendar: due whatever today is)."""
    t = datetime.now(UTC) - timedelta(minutes=5)
    data = {
        "ibkr": {"client_id": 7, "order_timeout_s": 60.0},
        "momentum": {"top_n": 8},
        "schedule": {"weekday": t.weekday(), "at": t.strftime("%H:%M:%S"), "tz": "UTC",
                     "calendar": "24/7", "grace_minutes": 120},
        "journal": {"path": str(journal)},
    }
    cfg = tmp_path / "momentum.toml"
    cfg.write_text(_toml(data))
    return cfg


def test_momentum_scheduler_catches_up_once(tmp_path: Path) -> None:
    from openclaw.journal import Journal, RunStatus
    from openclaw.schedule import run_order_prefix

    journal = tmp_path / "momentum.sqlite"
    cfg = _momentum_file(tmp_path, journal)
    p, out = _run(cfg, 20)
    assert p.returncode == 0, p.stderr[-3000:]
    m = out["strategies"]["momentum"]
    assert m["ok"], m
    r = m["result"]
    [o] = r["outcomes"]
    assert (o["action"], o["status"]) == ("executed", "succeeded"), o
    run_id = o["run_id"]
    reb = r["rebalances"][run_id]
    assert reb["orders"] == reb["filled"] == 8 and reb["positions_match_target"]
    assert r["open_orders"] == [] and r["journal_consistent"] is True

    p2, out2 = _run(cfg, 4)  # same journal: the slot is finished, nothing runs again
    assert p2.returncode == 0, p2.stderr[-3000:]
    r2 = out2["strategies"]["momentum"]["result"]
    assert r2["outcomes"] == [] and r2["rebalances"] == {}

    async def check() -> tuple[list[Any], int]:
        j = await Journal.open(journal)
        try:
            runs = [x for x in await j.runs() if x.name == "momentum"]
            return runs, len(await j.orders_by_prefix(run_order_prefix(run_id)))
        finally:
            await j.close()

    runs, orders = asyncio.run(check())
    assert [(x.run_id, x.status) for x in runs] == [(run_id, RunStatus.SUCCEEDED)]
    assert orders == 8  # journaled once: the second run sent nothing


def test_schedule_section_errors_are_listed() -> None:
    from openclaw.app.config import ConfigError, IbkrRunConfig
    from openclaw.app.ibkr import weekly_schedule

    bad = IbkrRunConfig.model_validate({"schedule": {"weekday": "funday", "when": "x"}})
    with pytest.raises(ConfigError, match="when"):
        weekly_schedule(bad)
    with pytest.raises(ConfigError, match="schedule"):
        weekly_schedule(IbkrRunConfig.model_validate({"schedule": {"weekday": "funday"}}))
