"""The FX hot path's prebuilt objects and the benchmark's CPU placement (no timing asserted)."""

from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from ib_async import LimitOrder, MarketOrder

from openclaw.journal import Journal
from openclaw.model.orders import Order
from openclaw.venues.ibkr.session import IbkrSession


def _session(tmp_path: object) -> IbkrSession:
    import asyncio

    async def make() -> IbkrSession:
        j = await Journal.open(f"{tmp_path}/j.sqlite")
        try:
            return IbkrSession("127.0.0.1", 7497, 1, j, account="DU1")
        finally:
            await j.close()

    return asyncio.run(make())


@pytest.mark.parametrize("typ,side", [("limit", "buy"), ("limit", "sell"), ("market", "buy"),
                                      ("market", "sell")])
def test_template_orders_equal_fresh_ones_and_share_nothing(tmp_path: object, typ: str,
                                                            side: str) -> None:
    s = _session(tmp_path)
    px = Decimal("1.08355") if typ == "limit" else None
    a = s._ib_order(Order("Caaa", "ibkr", "EUR.USD", side, typ, Decimal(20000), px, 0, 0))
    b = s._ib_order(Order("Cbbb", "ibkr", "EUR.USD", side, typ, Decimal(30000), px, 0, 0))
    act = side.upper()
    ref = LimitOrder(act, 20000, 1.08355) if px else MarketOrder(act, 20000)
    ref.orderRef, ref.tif, ref.account = "Caaa", "DAY", "DU1"
    assert dataclasses.asdict(a) == dataclasses.asdict(ref)
    assert (b.orderRef, b.totalQuantity, a.totalQuantity) == ("Cbbb", 30000, 20000)
    assert a is not b
    for f in dataclasses.fields(a):
        if isinstance(getattr(a, f.name), list):
            assert getattr(a, f.name) is not getattr(b, f.name), f.name


def test_contract_is_built_once_per_symbol(tmp_path: object) -> None:
    s = _session(tmp_path)
    c = s._contract("EUR.USD")
    assert c is s._contract("EUR.USD") and c.secType == "CASH" and c.exchange == "IDEALPRO"
    assert s._contract("GBP.USD") is not c


def test_ib_async_debug_logging_is_warned_about(tmp_path: object,
                                                caplog: pytest.LogCaptureFixture) -> None:
    lg = logging.getLogger("ib_async.client")
    old = lg.level
    lg.setLevel(logging.DEBUG)
    try:
        with caplog.at_level(logging.WARNING, logger="openclaw.venues.ibkr.session"):
            _session(tmp_path)
        assert any("ib_async logs at DEBUG" in r.getMessage() for r in caplog.records)
    finally:
        lg.setLevel(old)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="openclaw.venues.ibkr.session"):
        _session(tmp_path)
    assert not any("ib_async logs at DEBUG" in r.getMessage() for r in caplog.records)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux CPU affinity")
def test_bench_pins_the_simulator_away_from_the_client() -> None:
    from openclaw.bench.ibkr import _pin

    cpus = sorted(os.sched_getaffinity(0))
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        got = _pin(proc.pid)
        if len(cpus) < 2:
            assert got is None
            return
        assert got is not None
        old, ours = got
        assert old == set(cpus) and ours == set(cpus[:-1])
        assert os.sched_getaffinity(proc.pid) == {cpus[-1]}
        assert os.sched_getaffinity(0) == set(cpus[:-1])
    finally:
        os.sched_setaffinity(0, set(cpus))
        proc.kill()
        proc.wait(10)


def test_bench_suite_runs_the_ibkr_section_quickly() -> None:
    """``openclaw-trading bench all --quick`` calls ``run_ibkr_bench(quick=True, json_out=False)``:
    it runs, reports correctness, and stays well inside the suite's 2-minute budget."""
    from openclaw.bench.suite import SECTIONS, run_section

    [section] = [s for s in SECTIONS if s.name == "ibkr"]
    out = run_section(section, quick=True)
    assert out["available"] and out["ok"], out.get("error") or out.get("log")
    r = out["result"]
    assert r["ok"] is True and r["rebalance"]["all_filled_and_verified"]
    assert r["fx_normal"]["orders"] > 0 and r["fx_full"]["orders"] > 0
