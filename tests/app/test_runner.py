"""``openclaw-trading run FILE``: a subprocess against the simulators over real sockets.

* sim venues: the runner starts the simulators itself, runs for a few seconds, exits 0 with a
  consistent journal;
* live venues pointing at simulators this test owns (so the test can move prices and watch the
  venues' own order records): SIGTERM while orders flow -> exit 0, every order final, journal
  consistent, every order at the venues known to the journal;
* bad configurations: every error listed, exit 2.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from support.aio import read_lines
from support.paths import ROOT
from support.rigs import all_venue_orders

from openclaw.app.config import parse_config
from openclaw.app.runner import preflight
from openclaw.execution.venues import SIM_KEY, SIM_PASSPHRASE, SIM_SECRET
from openclaw.journal import Journal
from openclaw.sim import Simulators, start_simulators

VENUES = ("binance", "okx", "bybit")


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "openclaw.cli", "run", *args]


def _toml_instruments(sims: Simulators) -> str:
    out = []
    for venue in VENUES:
        for spec in sims.market.instruments(venue, "spot"):
            base, quote = spec.symbol.split("/")
            out.append(f'[[instruments]]\nvenue = "{venue}"\nsymbol = "{spec.venue_symbol}"\n'
                       f'base = "{base}"\nquote = "{quote}"\ntick_size = "{spec.tick}"\n'
                       f'lot_size = "{spec.lot}"\n')
    return "\n".join(out)


def _live_config(sims: Simulators, journal: Path) -> str:
    """Every venue 'live' at the simulators' URLs, credentials from environment variables."""
    ws = {"binance": sims.binance.ws_base, "okx": sims.okx.ws_url, "bybit": sims.bybit.ws_base}
    venues = ""
    for v in VENUES:
        venues += (f'[venues.{v}]\nmode = "live"\nws = "{ws[v]}"\nrest = "{sims.servers[v].url}"\n'
                   'api_key_env = "T_KEY"\nsecret_env = "T_SECRET"\n'
                   + ('passphrase_env = "T_PASS"\n' if v == "okx" else "") + "\n")
    return (venues + _toml_instruments(sims)
            + "\n[strategy.triarb]\nmin_profit_bps = 1\ncooldown_ms = 300\n"
              "max_book_age_ms = 2000\n"
            + f'\n[journal]\npath = "{journal}"\n')


def test_sim_mode_runs_and_exits_clean(tmp_path: Path) -> None:
    """The example config (sim venues) runs for a few seconds and ends consistent, exit 0."""
    import subprocess

    text = (ROOT / "examples" / "triarb.toml").read_text()
    cfg = tmp_path / "triarb.toml"
    cfg.write_text(text.replace("openclaw-journal.sqlite", str(tmp_path / "j.sqlite")))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_TELEGRAM")}
    p = subprocess.run(_cmd(str(cfg), "--seconds", "3", "--log-format", "json"),
                       capture_output=True, text=True, timeout=180, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["journal_consistent"] and summary["open_orders"] == []
    assert summary["latency"]["events"] > 0          # books changed and were stamped
    # every venue simulated and no [journal] synchronous: NORMAL, send path inline
    assert summary["journal_synchronous"] == "NORMAL" and summary["journal_inline"] is True
    logs = [json.loads(line) for line in p.stderr.splitlines() if line.startswith("{")]
    msgs = [rec["msg"] for rec in logs]
    assert "books live" in msgs and "journal closed" in msgs
    opened = [rec for rec in logs if rec["msg"] == "journal open"]
    assert opened and opened[0]["synchronous"] == "NORMAL", opened
    assert all({"ts", "level", "logger", "msg"} <= rec.keys() for rec in logs)


def test_sigterm_mid_run_settles_every_order(tmp_path: Path) -> None:
    """SIGTERM while arbitrages are sent: exit 0, nothing non-final, journal == venues."""
    journal_path = tmp_path / "journal.sqlite"

    async def body() -> None:
        sims = await start_simulators(seed=11, rate=20)
        try:
            cfg = tmp_path / "live.toml"
            cfg.write_text(_live_config(sims, journal_path))
            env = {**os.environ, "T_KEY": SIM_KEY, "T_SECRET": SIM_SECRET,
                   "T_PASS": SIM_PASSPHRASE}
            proc = await asyncio.create_subprocess_exec(
                *_cmd(str(cfg), "--log-format", "json", "--drain", "20"), env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out: list[str] = []
            err: list[str] = []
            readers = [asyncio.create_task(read_lines(proc.stdout, out)),  # type: ignore[arg-type]
                       asyncio.create_task(read_lines(proc.stderr, err))]  # type: ignore[arg-type]
            rng = random.Random(3)
            loop = asyncio.get_running_loop()
            async with aiohttp.ClientSession() as http:
                deadline = loop.time() + 120
                while not any('"msg":"running"' in line for line in err):
                    assert proc.returncode is None, "".join(err)[-3000:]
                    assert loop.time() < deadline, "runner never started: " + "".join(err)[-3000:]
                    await asyncio.sleep(0.1)
                # move prices until orders reach the venues, then stop the runner at once
                n_orders = 0
                while n_orders < 3:
                    assert loop.time() < deadline, "no orders reached the venues"
                    assert proc.returncode is None, "".join(err)[-3000:]
                    v = rng.choice(VENUES)
                    sims.market.dislocate(v, rng.choice(["BTC/USDT", "ETH/USDT", "ETH/BTC"]),
                                          rng.choice([-1, 1]) * rng.uniform(40, 80))
                    await asyncio.sleep(0.3)
                    n_orders = len(await all_venue_orders(sims, http))
                proc.send_signal(signal.SIGTERM)
                rc = await asyncio.wait_for(proc.wait(), 90)
                await asyncio.gather(*readers)
                assert rc == 0, "".join(err)[-4000:]
                summary = json.loads(out[-1])
                assert summary["open_orders"] == [] and summary["journal_consistent"]
                # live venues, no [journal] synchronous: FULL (fsync per commit, not inline)
                assert summary["journal_synchronous"] == "FULL", summary
                assert summary["journal_inline"] is False
                assert any('"msg":"signal received: shutting down"' in line for line in err)
                at_venues = await all_venue_orders(sims, http)
        finally:
            await sims.aclose()
        journal = await Journal.open(journal_path)
        try:
            assert await journal.consistency_check() == []
            assert await journal.open_orders() == []
            ours = {o["client_id"]: o for o in at_venues if o.get("client_id")}
            assert ours, "the venues hold no order of ours"
            for cid, vo in ours.items():
                row = await journal.order(cid)
                assert row is not None, f"{cid} at {vo['venue']} is not in the journal"
                assert row.is_final
                assert str(row.filled_qty.normalize()) == str(
                    type(row.filled_qty)(vo["filled"]).normalize()), (cid, vo, row)
        finally:
            await journal.close()

    asyncio.run(body())


BAD = """
[venues.binance]
mode = "sim"
taker_fee_bps = -3

[venues.kraken]
mode = "sim"

[[instruments]]
venue = "okx"
symbol = "BTC-USDT"
base = "BTC"
quote = "USDT"
tick_size = "0"
lot_size = "0.001"
"""


def test_bad_config_lists_every_error_exit_2(tmp_path: Path) -> None:
    import subprocess

    cfg = tmp_path / "bad.toml"
    cfg.write_text(BAD)
    p = subprocess.run(_cmd(str(cfg)), capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, (p.stdout, p.stderr)
    for path in ("venues.binance.taker_fee_bps", "venues.kraken", "instruments[0].tick_size"):
        assert path in p.stderr, p.stderr


def test_live_without_credentials_is_a_config_error(tmp_path: Path) -> None:
    """Live venues whose credential variables are unset: listed, exit 2, nothing started."""
    import subprocess

    cfg = tmp_path / "live.toml"
    cfg.write_text('[venues.okx]\nmode = "live"\nws = "wss://ws.okx.com:8443/ws/v5/public"\n'
                   'rest = "https://www.okx.com"\napi_key_env = "NO_SUCH_KEY_VAR_1"\n'
                   'secret_env = "NO_SUCH_SECRET_VAR_1"\n\n[[instruments]]\nvenue = "okx"\n'
                   'symbol = "BTC-USDT"\nbase = "BTC"\nquote = "USDT"\ntick_size = "0.1"\n'
                   'lot_size = "0.00000001"\n'
                   f'\n[journal]\npath = "{tmp_path / "never.sqlite"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("NO_SUCH_")}
    p = subprocess.run(_cmd(str(cfg)), capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 2, (p.stdout, p.stderr)
    for text in ("venues.okx.api_key_env", "NO_SUCH_KEY_VAR_1", "venues.okx.secret_env",
                 "venues.okx.passphrase_env"):
        assert text in p.stderr, p.stderr
    assert not (tmp_path / "never.sqlite").exists()


def test_configured_strategy_without_module_is_an_error() -> None:
    """A ``[strategy.NAME]`` section whose module is missing is an error, never skipped."""
    from openclaw.app.config import ConfigError

    cfg = parse_config({"venues": {"binance": {}}, "instruments": [
        {"venue": "binance", "symbol": "BTCUSDT", "base": "BTC", "quote": "USDT",
         "tick_size": "0.01", "lot_size": "0.00001"}],
        "strategy": {"no_such_strategy_xyz": {}}})
    with pytest.raises(ConfigError) as e:
        preflight(cfg, paper=False)
    assert e.value.errors[0][0] == "strategy.no_such_strategy_xyz"
    assert "openclaw.strategies.no_such_strategy_xyz" in e.value.errors[0][1]


def test_paper_orders_go_to_local_simulators(tmp_path: Path) -> None:
    """--paper: feeds from the configured (live) endpoints, orders to the runner's own
    simulators: the feed venues receive no order, no credentials are needed, exit 0."""
    journal_path = tmp_path / "paper.sqlite"

    async def body() -> tuple[int, dict[str, Any], list[dict[str, Any]], str]:
        sims = await start_simulators(seed=13, rate=20)
        try:
            cfg = tmp_path / "paper.toml"
            cfg.write_text(_live_config(sims, journal_path))
            env = {k: v for k, v in os.environ.items() if k not in ("T_KEY", "T_SECRET")}
            proc = await asyncio.create_subprocess_exec(
                *_cmd(str(cfg), "--paper", "--seconds", "4", "--log-format", "json"), env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            rng = random.Random(5)
            while proc.returncode is None:
                try:
                    await asyncio.wait_for(proc.wait(), 0.3)
                except TimeoutError:
                    sims.market.dislocate(rng.choice(VENUES), "ETH/BTC",
                                          rng.choice([-1, 1]) * rng.uniform(40, 80))
            out, err = await proc.communicate()
            async with aiohttp.ClientSession() as http:
                at_feed_venues = await all_venue_orders(sims, http)
        finally:
            await sims.aclose()
        return proc.returncode, json.loads(out.decode().strip().splitlines()[-1]), \
            at_feed_venues, err.decode()

    rc, summary, at_feed_venues, err = asyncio.run(body())
    assert rc == 0, err[-3000:]
    assert summary["paper"] is True and summary["journal_consistent"]
    assert summary["journal_synchronous"] == "NORMAL"    # --paper: every order simulated
    assert summary["open_orders"] == []
    assert at_feed_venues == []
