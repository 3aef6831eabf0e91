"""Strategies as plugins: ``[strategy.NAME]`` with ``module = "..."`` runs a strategy defined
outside the package, from a config file, against the simulators (a real ``openclaw-trading
run`` subprocess); its own ``Config`` model validates its table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

USER_STRATEGY = '''
"""A user's strategy, outside the openclaw package: counts book changes while it runs and
buys once at the best ask through the order manager (risk, journal, venue, fills)."""

import asyncio
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from openclaw.model.orders import Order, OrderType, Side


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    min_updates: int = Field(1, ge=1)


async def run_configured(config, ctx):
    seen = {"n": 0}
    ctx.aggregator.subscribe(lambda book_id, recv_ts: seen.__setitem__("n", seen["n"] + 1))
    while seen["n"] < ctx.params.min_updates and not ctx.stop.is_set():
        await asyncio.sleep(0.05)
    book = ctx.aggregator.book("okx", "BTC-USDT")
    ask = Decimal(str(book.best_ask()[0])).quantize(Decimal("0.1"))
    ids = ctx.orders.ids
    opp = ids.next_opportunity()
    order = Order(ids.make(opp, 0), "okx", "BTC/USDT", Side.BUY, OrderType.LIMIT,
                  Decimal("0.001"), ask, opp, 0)
    await ctx.orders.submit([order])
    await ctx.stop.wait()
    return {"label": ctx.params.label, "book_updates": seen["n"],
            "enough": seen["n"] >= ctx.params.min_updates,
            "has_gate": ctx.gate is not None, "has_router": ctx.router is not None,
            "order": order.client_id, "status": order.status.value,
            "filled": str(order.filled_qty)}
'''


def _config(tmp: Path, table: str) -> Path:
    cfg = tmp / "run.toml"
    cfg.write_text(
        '[venues.okx]\nmode = "sim"\n\n[[instruments]]\nvenue = "okx"\nsymbol = "BTC-USDT"\n'
        'base = "BTC"\nquote = "USDT"\ntick_size = "0.1"\nlot_size = "0.00000001"\n\n'
        '[strategy.triarb]\nenabled = false\n\n' + table +
        f'\n[journal]\npath = "{tmp / "j.sqlite"}"\n')
    return cfg


def _run(tmp: Path, cfg: Path) -> subprocess.CompletedProcess[str]:
    (tmp / "user_strategies").mkdir(exist_ok=True)
    (tmp / "user_strategies" / "counter.py").write_text(USER_STRATEGY)
    env = {**os.environ, "PYTHONPATH": str(tmp / "user_strategies")}
    return subprocess.run([sys.executable, "-m", "openclaw", "run", str(cfg), "--seconds", "4",
                           "--log-format", "json"], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp)


def test_a_users_strategy_runs_from_the_config_against_the_simulators(tmp_path: Path) -> None:
    cfg = _config(tmp_path, '[strategy.mine]\nmodule = "counter"\nlabel = "hello"\n'
                            'min_updates = 5\n')
    p = _run(tmp_path, cfg)
    assert p.returncode == 0, p.stderr[-3000:]
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    got = summary["strategies"]["mine"]
    assert got["label"] == "hello" and got["enough"] is True, got
    assert got["has_gate"] and got["has_router"], got
    # its order went the one order path: final at the venue, journaled, nothing left open
    assert got["status"] in ("filled", "canceled"), got
    assert summary["journal_consistent"] is True and summary["open_orders"] == [], summary
    import sqlite3

    row = sqlite3.connect(tmp_path / "j.sqlite").execute(
        "SELECT status FROM orders WHERE client_id = ?", (got["order"],)).fetchone()
    assert row is not None and row[0] == got["status"], row


def test_a_bad_key_of_the_users_strategy_is_a_config_error(tmp_path: Path) -> None:
    cfg = _config(tmp_path, '[strategy.mine]\nmodule = "counter"\nlabel = "x"\n'
                            'min_updates = 0\nbogus = 1\n')
    p = _run(tmp_path, cfg)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "strategy.mine.min_updates" in p.stderr and "strategy.mine.bogus" in p.stderr, p.stderr
    assert not (tmp_path / "j.sqlite").exists()
