"""The strategy-author API: ``openclaw.Session`` against simulators over real sockets, the
example strategy (public API only), the ``.pyi`` stubs against the compiled modules."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from support.paths import ROOT
from support.rigs import all_venue_orders

import openclaw
from openclaw.execution.venues import SIM_KEY, SIM_PASSPHRASE, SIM_SECRET
from openclaw.journal import Journal
from openclaw.sim import Simulators, start_simulators

CORE = ("book", "fixedpoint", "merge", "risk", "stageclock", "triarb", "wire")
#: the compiled modules of the venue folders (each venue's depth decoder), by glob
VENUE_EXT = tuple(sorted(".".join(p.relative_to(ROOT).with_suffix("").parts)
                         for p in (ROOT / "openclaw" / "venues").glob("*/*.pyx")))
VENUES = ("binance", "okx", "bybit")
BTC = {"binance": ("BTCUSDT", "0.01", "0.00001"), "okx": ("BTC-USDT", "0.1", "0.00000001"),
       "bybit": ("BTCUSDT", "0.01", "0.000001")}


def _config(sims: Simulators, journal: Path) -> str:
    """The three BTC/USDT books as 'live' venues at this test's simulators."""
    ws = {"binance": sims.binance.ws_base, "okx": sims.okx.ws_url, "bybit": sims.bybit.ws_base}
    text = ""
    for v in VENUES:
        text += (f'[venues.{v}]\nmode = "live"\nws = "{ws[v]}"\nrest = "{sims.servers[v].url}"\n'
                 'api_key_env = "T_KEY"\nsecret_env = "T_SECRET"\n'
                 + ('passphrase_env = "T_PASS"\n' if v == "okx" else "") + "\n")
    for v, (sym, tick, lot) in BTC.items():
        text += (f'[[instruments]]\nvenue = "{v}"\nsymbol = "{sym}"\nbase = "BTC"\n'
                 f'quote = "USDT"\ntick_size = "{tick}"\nlot_size = "{lot}"\n\n')
    return text + ('[strategy.triarb]\nenabled = false\nmax_book_age_ms = 2000\n\n'
                   f'[journal]\npath = "{journal}"\n')


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_KEY", SIM_KEY)
    monkeypatch.setenv("T_SECRET", SIM_SECRET)
    monkeypatch.setenv("T_PASS", SIM_PASSPHRASE)


async def _check_journal(path: Path, at_venues: list[dict[str, Any]]) -> int:
    """Every order the venues hold is in the journal, final, with the venue's filled qty."""
    journal = await Journal.open(path)
    try:
        assert await journal.consistency_check() == []
        assert await journal.open_orders() == []
        n = 0
        for vo in at_venues:
            row = await journal.order(vo["client_id"])
            assert row is not None and row.is_final, vo
            assert row.filled_qty == Decimal(vo["filled"]), (vo, row)
            n += 1
        return n
    finally:
        await journal.close()


def test_session_books_orders_latency(tmp_path: Path, creds: None) -> None:
    """Books LIVE, changes delivered, an order list through risk to a venue, a refused list,
    the latency report, a clean close."""

    async def body() -> None:
        sims = await start_simulators(seed=5, rate=20)
        try:
            cfg = tmp_path / "c.toml"
            cfg.write_text(_config(sims, tmp_path / "j.sqlite"))
            s = await openclaw.Session.start(cfg)
            try:
                book = s.book("binance", "BTCUSDT")
                assert book.best_bid() is not None and book.best_ask() is not None
                assert s.merged("BTC/USDT").best_bid() is not None
                changes: list[openclaw.BookChange] = []
                s.subscribe(changes.append)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 30
                while len({c.instrument.venue for c in changes}) < 3:
                    assert loop.time() < deadline, "no book changes from every venue"
                    await asyncio.sleep(0.05)
                ask = book.best_ask()
                assert ask is not None
                orders = s.order_list([("binance", "BTC/USDT", "buy", "0.001",
                                        Decimal(repr(ask[0])).quantize(Decimal("0.01")))])
                done = await s.submit(orders, changes[-1].event)
                assert done[0].is_final and done[0].venue_order_id
                with pytest.raises(openclaw.OrderRefused):    # 5,000 USDT cap per order
                    await s.submit(s.order_list([("binance", "BTC/USDT", "buy", "1",
                                                  Decimal(repr(ask[0])).quantize(
                                                      Decimal("0.01")))]))
                with pytest.raises(TypeError):
                    s.order_list([("binance", "BTC/USDT", "buy", 0.001, None)])  # type: ignore[list-item]
                rep = s.latency_report()
                assert rep["stages"]["risk"]["count"] >= 1
                assert rep["stages"]["acked"]["count"] >= 1
            finally:
                summary = await s.close()
            assert summary["ok"], summary
            with pytest.raises(RuntimeError):
                await s.submit(orders)
            at_venues = await all_venue_orders(sims)
        finally:
            await sims.aclose()
        assert await _check_journal(tmp_path / "j.sqlite", at_venues) == 1

    asyncio.run(body())


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("strategy_example",
                                                  ROOT / "examples" / "strategy_example.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example_strategy_uses_only_the_public_api() -> None:
    tree = ast.parse((ROOT / "examples" / "strategy_example.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module == "openclaw" or not node.module.startswith("openclaw"), \
                node.module
            if node.module == "openclaw":
                assert all(a.name in openclaw.__all__ for a in node.names)
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("openclaw") for a in node.names)


def test_example_strategy_trades_on_the_simulators(tmp_path: Path, creds: None) -> None:
    """The example runs against simulators whose BTC/USDT this test moves apart: it sends
    lists, every order ends final and in the journal as at the venues."""
    example = _load_example()

    async def body() -> dict[str, Any]:
        sims = await start_simulators(seed=9, rate=20)
        try:
            cfg = tmp_path / "c.toml"
            cfg.write_text(_config(sims, tmp_path / "j.sqlite"))
            run = asyncio.create_task(example.main(str(cfg), seconds=8.0, edge_bps=2.0))
            rng = random.Random(1)
            while not run.done():
                await asyncio.sleep(0.4)
                sims.market.dislocate(rng.choice(VENUES), "BTC/USDT",
                                      rng.choice([-1, 1]) * rng.uniform(60, 90))
            summary = await run
            at_venues = await all_venue_orders(sims)
        finally:
            await sims.aclose()
        assert await _check_journal(tmp_path / "j.sqlite", at_venues) == len(at_venues)
        summary["at_venues"] = len(at_venues)
        return summary

    summary = asyncio.run(body())
    assert summary["ok"], summary
    assert summary["changes"] > 0 and summary["lists"] > 0, summary
    # a leg refused before reaching its venue (a rate limit, say) is final in the journal too
    assert 0 < summary["at_venues"] <= 2 * summary["lists"], summary
    assert summary["latency"]["stages"]["signal"]["count"] >= summary["lists"]


def test_stubs_match_the_compiled_modules() -> None:
    """mypy's stubtest: every public name and signature of each .pyi against the .so."""
    pytest.importorskip("mypy")
    for m in CORE:
        assert (ROOT / "openclaw" / "_core" / f"{m}.pyi").is_file(), m
    assert (ROOT / "openclaw" / "py.typed").is_file()
    p = subprocess.run([sys.executable, "-m", "mypy.stubtest", "--mypy-config-file",
                        str(ROOT / "tests" / "api" / "stubtest_mypy.ini"), "--allowlist",
                        str(ROOT / "tests" / "api" / "stubtest_allowlist.txt"),
                        *(f"openclaw._core.{m}" for m in CORE), *VENUE_EXT],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]


def test_every_pyx_has_a_stub() -> None:
    pkg = ROOT / "openclaw"
    pyx = {p.with_suffix("") for p in pkg.rglob("*.pyx")}
    pyi = {p.with_suffix("") for p in pkg.rglob("*.pyi")}
    assert VENUE_EXT and pyx == pyi


def test_import_is_cheap() -> None:
    """``import openclaw`` loads no submodule; the API names load on first use."""
    code = ("import sys, openclaw; assert [m for m in sys.modules if m.startswith('openclaw.')]"
            " == [], sorted(sys.modules); openclaw.Session; openclaw.latency_report")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


TG_TOKEN = "123456:AAsessionReconcileTokenForTheFake0001"


def _alerting_config(sims: Simulators, journal: Path, tg_url: str) -> str:
    """``_config`` plus alerts to this test's fake Telegram server and a fast reconciler."""
    return _config(sims, journal) + (
        f'\n[alerts.telegram]\ntoken_env = "T_TG_TOKEN"\nchat_env = "T_TG_CHAT"\n'
        f'base_url = "{tg_url}"\n\n[reconcile]\ninterval_s = 0.3\n')


async def _until(pred: Any, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.fixture
def tg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_TG_TOKEN", TG_TOKEN)
    monkeypatch.setenv("T_TG_CHAT", "7")


async def _ask(s: Any) -> Decimal:
    ask = s.book("binance", "BTCUSDT").best_ask()
    assert ask is not None
    return Decimal(repr(ask[0])).quantize(Decimal("0.01"))


def test_failed_nowait_list_is_logged_counted_and_not_ok(tmp_path: Path, creds: None,
                                                         tg_env: None) -> None:
    """A ``submit_nowait`` task that raises (here: the same client ids sent twice, refused
    by the journal) is counted and makes the close summary not ok; the reconciler runs
    after real fills without a false halt."""
    from openclaw.sim.telegram import TelegramSim

    async def body() -> dict[str, Any]:
        sims = await start_simulators(seed=5, rate=20)
        tg = await TelegramSim(TG_TOKEN).start()
        try:
            cfg = tmp_path / "c.toml"
            cfg.write_text(_alerting_config(sims, tmp_path / "j.sqlite", tg.url))
            s = await openclaw.Session.start(cfg)
            try:
                orders = s.order_list([("binance", "BTC/USDT", "buy", "0.001", await _ask(s))])
                await s.submit(orders)
                assert orders[0].is_final and orders[0].filled_qty > 0, orders
                n = s.reconciliation()["reconciliations"]
                await _until(lambda: s.reconciliation()["reconciliations"] > n, 30,
                             "a reconciliation after the fill")
                assert s.reconciliation()["halted"] is False, s.reconciliation()
                again = s.submit_nowait(orders)          # the same client ids: refused
                await asyncio.wait([again], timeout=30)
                assert again.done() and again.exception() is not None
                assert s.failed_lists == 1
            finally:
                summary = await s.close()
        finally:
            await tg.stop()
            await sims.aclose()
        return summary

    summary = asyncio.run(body())
    assert summary["failed_lists"] == 1 and summary["ok"] is False, summary
    assert summary["halted"] is False and summary["journal_consistent"], summary


def test_session_halts_on_a_balance_moved_at_the_venue(tmp_path: Path, creds: None,
                                                       tg_env: None) -> None:
    """The Session's reconciler: money leaves a venue behind its back -> HALT alert at the
    Telegram server, every new order refused, the close summary halted and not ok."""
    from openclaw.sim.telegram import TelegramSim

    async def body() -> tuple[dict[str, Any], list[str]]:
        sims = await start_simulators(seed=5, rate=20)
        tg = await TelegramSim(TG_TOKEN).start()
        try:
            cfg = tmp_path / "c.toml"
            cfg.write_text(_alerting_config(sims, tmp_path / "j.sqlite", tg.url))
            s = await openclaw.Session.start(cfg)
            try:
                async with aiohttp.ClientSession() as http:
                    url = sims.bybit.url
                    async with http.get(f"{url}/_sim/balances") as r:
                        bal = (await r.json())["balances"]
                    new = {a: b["total"] for a, b in bal.items()}
                    new["USDT"] = str(Decimal(new["USDT"]) + Decimal("40"))
                    async with http.post(f"{url}/_sim/balances", json=new) as r:
                        assert r.status == 200, await r.text()
                want = "HALT: trading halted: reconciliation mismatch: bybit USDT"
                await _until(lambda: any(want in m["text"] for m in tg.messages), 30,
                             "the HALT alert")
                assert s.reconciliation()["halted"] is True
                with pytest.raises(openclaw.OrderRefused):
                    await s.submit(s.order_list([("binance", "BTC/USDT", "buy", "0.001",
                                                  await _ask(s))]))
            finally:
                summary = await s.close()
        finally:
            texts = [m["text"] for m in tg.messages]
            await tg.stop()
            await sims.aclose()
        return summary, texts

    summary, texts = asyncio.run(body())
    assert summary["halted"] is True and "bybit USDT" in summary["halt_reason"], summary
    assert summary["ok"] is False and summary["orders"] == 0, summary
