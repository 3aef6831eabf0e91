"""``openclaw-trading run FILE`` with ``route = "ws"``: the runner sends orders over the venues'
trading WebSockets (a subprocess against simulators on loopback).

* live venues pointing at simulators this test owns (``ws_trade`` from the config, Binance
  logged on with an Ed25519 key file): orders flow over the sockets (the venues' own records say
  ``via: ws``), a cut of OKX's trading sockets is alerted at the fake Telegram server and the
  route comes back; SIGTERM -> exit 0, journal == venues;
* sim venues (the runner's own simulators, their ``ws_api``/``ws_private``/``ws_trade`` URLs):
  the routes start logged in (Binance with the configured Ed25519 key) and the run ends clean.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

pytest.importorskip("ccxt")
pytest.importorskip("cryptography")

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from support.aio import read_lines
from support.paths import ROOT
from support.rigs import all_venue_orders

from openclaw.app.config import ConfigError, parse_config  # noqa: E402
from openclaw.execution.venues import SIM_KEY, SIM_PASSPHRASE, SIM_SECRET  # noqa: E402
from openclaw.journal import Journal  # noqa: E402
from openclaw.sim import Simulators, start_simulators  # noqa: E402
from openclaw.sim.telegram import TelegramSim  # noqa: E402

VENUES = ("binance", "okx", "bybit")
WS_KEY = {"binance": "ws_api", "okx": "ws_private", "bybit": "ws_trade"}
ED_API_KEY = "openclaw-runner-ed25519-key"
TOKEN = "123456:AArunnerWsTokenForTheFakeServer0000001"


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "openclaw.cli", "run", *args]


def _key_pair(tmp: Path) -> tuple[Path, bytes]:
    key = Ed25519PrivateKey.generate()
    path = tmp / "binance-ed25519.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path, key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)


def _instruments(sims: Simulators) -> str:
    out = []
    for venue in VENUES:
        for spec in sims.market.instruments(venue, "spot"):
            base, quote = spec.symbol.split("/")
            out.append(f'[[instruments]]\nvenue = "{venue}"\nsymbol = "{spec.venue_symbol}"\n'
                       f'base = "{base}"\nquote = "{quote}"\ntick_size = "{spec.tick}"\n'
                       f'lot_size = "{spec.lot}"\n')
    return "\n".join(out)


def _live_ws_config(sims: Simulators, journal: Path, key_file: Path, tg_url: str) -> str:
    ws = {"binance": sims.binance.ws_base, "okx": sims.okx.ws_url, "bybit": sims.bybit.ws_base}
    text = ""
    for v in VENUES:
        text += (f'[venues.{v}]\nmode = "live"\nws = "{ws[v]}"\nrest = "{sims.servers[v].url}"\n'
                 'api_key_env = "T_KEY"\nsecret_env = "T_SECRET"\n'
                 f'route = "ws"\nws_trade = "{sims.urls[v][WS_KEY[v]]}"\n'
                 + ('passphrase_env = "T_PASS"\n' if v == "okx" else "")
                 + (f'ed25519_key_file = "{key_file}"\ned25519_api_key_env = "T_ED"\n'
                    if v == "binance" else "") + "\n")
    return (text + _instruments(sims)
            + "\n[strategy.triarb]\nmin_profit_bps = 1\ncooldown_ms = 300\n"
              "max_book_age_ms = 2000\n"
            + f'\n[journal]\npath = "{journal}"\n'
            + '\n[alerts.telegram]\ntoken_env = "T_TG"\nchat_env = "T_CHAT"\n'
              f'base_url = "{tg_url}"\n')


def test_live_ws_route_orders_go_over_the_sockets_drop_alerted(tmp_path: Path) -> None:
    journal_path = tmp_path / "journal.sqlite"
    key_file, public_pem = _key_pair(tmp_path)

    async def body() -> None:
        sims = await start_simulators(seed=11, rate=20, binance_options={
            "wsapi": {"ed25519_api_key": ED_API_KEY, "ed25519_public_key": public_pem}})
        tg = await TelegramSim(TOKEN).start()
        try:
            cfg = tmp_path / "live-ws.toml"
            cfg.write_text(_live_ws_config(sims, journal_path, key_file, tg.url))
            env = {**os.environ, "T_KEY": SIM_KEY, "T_SECRET": SIM_SECRET,
                   "T_PASS": SIM_PASSPHRASE, "T_ED": ED_API_KEY, "T_TG": TOKEN, "T_CHAT": "9"}
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
                # Binance logged on with the Ed25519 key; OKX and Bybit logged in
                assert sims.binance.wsapi.status()["logged_in"] == 1
                assert sims.okx.wsapi.status()["logged_in"] == 1
                # the venue cuts OKX's trading sockets: alerted, and the route comes back
                sims.okx.wsapi.drop_all()
                while not any("okx: fast route down" in m["text"] for m in tg.messages):
                    assert loop.time() < deadline, [m["text"] for m in tg.messages]
                    await asyncio.sleep(0.1)
                while sims.okx.wsapi.status()["logged_in"] < 1:
                    assert loop.time() < deadline, "the OKX fast route never came back"
                    await asyncio.sleep(0.1)
                # move prices until orders reach the venues, then stop the runner
                n_orders = 0
                while n_orders < 6:
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
                at_venues = await all_venue_orders(sims, http)
        finally:
            await tg.stop()
            await sims.aclose()
        routes = summary["routes"]
        assert {v: routes[v]["route"] for v in VENUES} == {v: "ws" for v in VENUES}
        assert routes["binance"]["ws_logins"] >= 1
        assert routes["okx"]["ws_reconnects"] >= 1
        ours = {o["client_id"]: o for o in at_venues if o.get("client_id")}
        assert ours, "the venues hold no order of ours"
        fallbacks = sum(routes[v]["ws_fallbacks"] for v in VENUES)
        via = [o["via"] for o in ours.values()]
        assert via.count("rest") == fallbacks, (via, routes)
        assert via.count("ws") == len(via) - fallbacks > 0
        assert sum(routes[v]["ws_sent"] for v in VENUES) >= via.count("ws")
        journal = await Journal.open(journal_path)
        try:
            assert await journal.consistency_check() == []
            assert await journal.open_orders() == []
            for cid, vo in ours.items():
                row = await journal.order(cid)
                assert row is not None, f"{cid} at {vo['venue']} is not in the journal"
                assert row.is_final and row.filled_qty == Decimal(vo["filled"]), (cid, vo)
        finally:
            await journal.close()

    asyncio.run(asyncio.wait_for(body(), 240))


def test_sim_ws_route_logs_in_and_runs_clean(tmp_path: Path) -> None:
    """The example config with ``route = "ws"`` on every venue and Binance's Ed25519 logon:
    the runner's own simulators serve the trading sockets; exit 0, the routes report ws."""
    key_file, _ = _key_pair(tmp_path)
    text = (ROOT / "examples" / "triarb.toml").read_text()
    text = text.replace("openclaw-journal.sqlite", str(tmp_path / "j.sqlite"))
    for v in VENUES:
        extra = 'route = "ws"\n' + (f'ed25519_key_file = "{key_file}"\n'
                                     'ed25519_api_key_env = "UNUSED_IN_SIM"\n'
                                     if v == "binance" else "")
        text = text.replace(f'[venues.{v}]\nmode = "sim"\n', f'[venues.{v}]\nmode = "sim"\n'
                            + extra)
    assert text.count('route = "ws"') == 3
    cfg = tmp_path / "triarb-ws.toml"
    cfg.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_TELEGRAM")}
    p = subprocess.run(_cmd(str(cfg), "--seconds", "3", "--log-format", "json"),
                       capture_output=True, text=True, timeout=180, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["journal_consistent"] and summary["open_orders"] == []
    routes = summary["routes"]
    for v in VENUES:
        # every venue logged in (Binance: session.logon with the Ed25519 key file)
        assert routes[v]["route"] == "ws" and routes[v]["ws_logins"] >= 1, routes
        assert routes[v]["ws_fallbacks"] == 0, routes
    # with a wrong key file the run does not start: a configuration error naming the file
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    cfg.write_text(text.replace(str(key_file), str(bad)))
    p = subprocess.run(_cmd(str(cfg), "--seconds", "1"), capture_output=True, text=True,
                       timeout=120, env=env)
    assert p.returncode == 2, p.stderr[-3000:]
    assert "ed25519_key_file" in p.stderr and "not a readable PEM" in p.stderr


def _cfg(**binance: Any) -> dict[str, Any]:
    return {"venues": {"binance": {"mode": "sim", **binance}, "okx": {"mode": "sim"}},
            "instruments": [{"venue": "binance", "symbol": "BTCUSDT", "base": "BTC",
                             "quote": "USDT", "tick_size": "0.01", "lot_size": "0.00001"}]}


def test_config_checks_of_the_ws_route() -> None:
    ok = parse_config(_cfg(route="ws", ed25519_key_file="/k.pem", ed25519_api_key_env="E"))
    assert ok.venues["binance"].route == "ws"
    bad = [
        (_cfg(route="ws", ed25519_key_file="/k.pem"), "go together"),
        (_cfg(ed25519_key_file="/k.pem", ed25519_api_key_env="E"), 'route = "ws"'),
    ]
    # live without ws_trade: the venue's built-in trading WebSocket (model/venues.py)
    from openclaw.app.config import venue_urls

    live = parse_config(_cfg(route="ws", mode="live", ws="wss://x", rest="https://x",
                             api_key_env="K", secret_env="S"))
    assert venue_urls("binance", live.venues["binance"]).ws_trade == \
        "wss://ws-api.binance.com:443/ws-api/v3"
    for data, text in bad:
        with pytest.raises(ConfigError, match=text):
            parse_config(data)
    data = _cfg()
    data["venues"]["okx"] = {"mode": "sim", "route": "ws", "ed25519_key_file": "/k.pem",
                             "ed25519_api_key_env": "E"}
    with pytest.raises(ConfigError, match="Binance only"):
        parse_config(data)
