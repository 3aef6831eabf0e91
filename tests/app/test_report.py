"""``openclaw-trading report``: a demo's journal read back per arbitrage and in total, checked
against the demo's own summary and against sums computed here from the raw SQLite rows."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from support.cli import cli

from openclaw.app.report import build_report, split_symbol
from openclaw.model.orders import Fill, Order, OrderStatus, OrderType, Side


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A 4 s demo on the simulators into a temp journal, and its summary."""
    pytest.importorskip("ccxt")
    from openclaw.app.demo import run_demo

    path = tmp_path_factory.mktemp("report") / "journal.sqlite"
    summary = asyncio.run(asyncio.wait_for(run_demo(4.0, seed=11, journal_path=str(path)), 90))
    return path, summary


def _pnl_from_rows(path: Path) -> dict[str, Decimal]:
    """P&L per asset straight from the order_events rows (not through openclaw)."""
    out: dict[str, Decimal] = {}
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT o.symbol, o.side, e.qty, e.price, e.fee, e.fee_asset FROM order_events e"
            " JOIN orders o ON o.client_id = e.client_id WHERE e.kind = 'fill'").fetchall()
    finally:
        con.close()
    for symbol, side, qty, price, fee, fee_asset in rows:
        base, quote = symbol.split("/")
        q, p = Decimal(qty), Decimal(price)
        if side == "sell":
            q = -q
        out[base] = out.get(base, Decimal(0)) + q
        out[quote] = out.get(quote, Decimal(0)) - q * p
        if fee is not None:
            out[fee_asset] = out.get(fee_asset, Decimal(0)) - Decimal(fee)
    return out


def test_report_json_agrees_with_the_demo_and_the_rows(
        demo_run: tuple[Path, dict[str, Any]]) -> None:
    path, summary = demo_run
    done = cli("report", str(path), "--json", timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    totals = report["totals"]
    assert summary["arbitrages"] > 0
    assert totals["arbitrages"] == len(report["arbitrages"]) == summary["arbitrages"]
    assert totals["orders"] == summary["orders"]
    assert totals["fills"] == summary["fills"]
    assert totals["incomplete"] == summary["incomplete"]
    assert totals["unwinds"] == summary["unwinds"]
    # exact against the rows; to the venues' rounding against their balances
    expected = _pnl_from_rows(path)
    assert {a: Decimal(v) for a, v in totals["pnl"].items()} == {
        a: v for a, v in expected.items() if v}
    for asset, change in summary["pnl"].items():
        assert abs(float(totals["pnl"].get(asset, "0")) - change) < 1e-6, asset
    # the arbitrages' P&L (unwinds included) adds up to the total
    per_arb: dict[str, Decimal] = {}
    for a in report["arbitrages"]:
        assert a["detected_edge"] is None
        assert 0.0 <= a["fill_ratio"] <= 1.0
        assert a["outcome"] in ("filled", "incomplete", "not_filled", "open")
        for asset, v in a["pnl"].items():
            per_arb[asset] = per_arb.get(asset, Decimal(0)) + Decimal(v)
    assert {k: v for k, v in per_arb.items() if v} == {
        k: Decimal(v) for k, v in totals["pnl"].items()}
    assert report["edge_recorded"] is False and "not recorded" in report["edge_note"]
    filled = sum(a["outcome"] == "filled" for a in report["arbitrages"])
    assert totals["fill_rate"] == pytest.approx(filled / totals["arbitrages"])
    if report["pnl_over_time"]:
        assert report["pnl_over_time"][-1]["pnl"] == totals["pnl"]


def test_report_table_and_png(demo_run: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    path, _ = demo_run
    done = cli("report", str(path), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "totals" in done.stdout and "not recorded" in done.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pytest.skip("matplotlib (the plot extra) is not installed")
    done = cli("report", str(path), "--json", "--png", str(tmp_path / "png"), timeout=120)
    assert done.returncode == 0, done.stderr
    for p in json.loads(done.stdout)["png"]:
        assert Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_matplotlib_is_a_clear_error(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "matplotlib"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(shadow.parent), os.environ.get("PYTHONPATH", "")])}
    done = cli("report", str(tmp_path / "none.sqlite"), "--png", str(tmp_path / "out"), env=env)
    assert done.returncode == 2
    assert "--png needs matplotlib" in done.stderr
    assert not (tmp_path / "out").exists()


def test_missing_journal_is_not_created(tmp_path: Path) -> None:
    done = cli("report", str(tmp_path / "nope.sqlite"), "--json")
    assert done.returncode == 2
    assert "no journal at" in done.stderr
    assert not (tmp_path / "nope.sqlite").exists()


def _order(cid: str, opp: int, leg: int, symbol: str, side: Side, qty: str, filled: str,
           price: str, kind: OrderType = OrderType.LIMIT, fee: str = "0") -> Order:
    q, f = Decimal(qty), Decimal(filled)
    fills = {} if not f else {f"t{cid}": Fill(f"t{cid}", f, Decimal(price), Decimal(fee),
                                              "USDT", 1000 + opp)}
    status = OrderStatus.FILLED if f == q else OrderStatus.CANCELED
    return Order(cid, "binance", symbol, side, kind, q, None if kind is OrderType.MARKET
                 else Decimal(price), opp, leg, filled_qty=f, notional=f * Decimal(price),
                 fees={"USDT": Decimal(fee)} if f else {}, status=status, created_ns=opp,
                 fills=fills)


def test_an_unwind_is_attached_to_its_incomplete_list_and_costed() -> None:
    s = "CAAAAAAAAAA"
    orders = [
        _order(f"{s}000", 0, 0, "ETH/USDT", Side.BUY, "1", "1", "3000", fee="1"),
        _order(f"{s}101", 0, 1, "ETH/BTC", Side.SELL, "1", "0", "0.05"),
        _order(f"{s}002", 1, 0, "ETH/USDT", Side.SELL, "1", "1", "2990",
               OrderType.MARKET, fee="1"),
    ]
    report = build_report("j", orders, [])
    assert report["totals"]["arbitrages"] == 1
    (arb,) = report["arbitrages"]
    assert arb["outcome"] == "incomplete"
    assert arb["unwind"]["id"] == 1
    # bought 1 ETH at 3000, sold it back at 2990, 1 USDT fee each way
    assert arb["unwind"]["cost"] == {"ETH": "0", "USDT": "-12"}
    assert report["totals"]["unwind_cost"]["USDT"] == "-12"
    assert arb["pnl"] == {"ETH": "0", "USDT": "-12"}


def test_split_symbol() -> None:
    assert split_symbol("okx", "ETH/BTC") == ("ETH", "BTC")
    assert split_symbol("okx", "BTC-USDT") == ("BTC", "USDT")
    assert split_symbol("binance", "ETHUSDT") == ("ETH", "USDT")
    assert split_symbol("ibkr", "EUR.USD") == ("EUR", "USD")
    assert split_symbol("ibkr", "AAPL") == ("AAPL", "USD")
