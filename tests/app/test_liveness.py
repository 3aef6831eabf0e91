"""A live-mode run of a minute against the simulators in another process, with faults on the
depth feeds and the trading REST APIs: it keeps trading after the faults stop, exits 0, loses
no order and its venues' balances equal the starting balances plus the journal's fills.

Real sockets and processes throughout (``openclaw.bench.soak``): the simulators are one process,
the engine (``openclaw-trading run`` on a ``mode = "live"`` file) another.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from openclaw.bench.soak import FEED_FAULTS, REST_FAULTS, soak

FEED_KINDS = {f["kind"] for f in FEED_FAULTS}
REST_KINDS = {f["kind"] for f in REST_FAULTS}


def test_a_minute_with_faults_keeps_trading_and_loses_nothing(tmp_path: Path) -> None:
    rep = asyncio.run(asyncio.wait_for(
        soak(62.0, seed=11, quiet_tail=20.0, workdir=tmp_path), 240))
    s = rep["summary"]
    applied = [f for f in rep["faults"] if f["ok"]]
    assert {f["kind"] for f in applied} & FEED_KINDS, rep["faults"]
    assert {f["kind"] for f in applied} & REST_KINDS, rep["faults"]
    assert rep["exit_code"] == 0, (s, Path(rep["engine_log"]).read_text()[-3000:])
    assert s["halted"] is False, s.get("halt_reason")
    assert rep["orders_after_faults"] > 0, rep.get("orders_per_20s")
    assert s["arbitrages"] > 20, s
    assert s["lost_orders"] == 0 and s["duplicate_orders"] == 0, s
    # every order the journal has as reaching its venue is in the venue's own history
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    reached = dict(db.execute("SELECT venue, count(*) FROM orders WHERE status != 'rejected' "
                              "GROUP BY venue").fetchall())
    assert s["orders_at_venue"] == reached, (s["orders_at_venue"], reached)
    assert s["open_orders"] == [] and s["journal_consistent"] is True, s
    assert rep["fills"] > 0 and rep["balance_differences"] == [], rep["balance_differences"]
    # refusals for insufficient balance only where a balance is really short: none here
    assert s["refusals_by_reason"].get("INSUFFICIENT_BALANCE", 0) == 0, s["refusals_by_reason"]
