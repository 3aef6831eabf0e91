"""kill -9 at every step of a 3-leg list sent through the journal's intent log.

The child (send_steps_child.py) journals the list through the intent log (SQLite rows off the
hot path) and SIGKILLs itself before the intent write, after it, after each leg reached the
venue, after each answer was handed to the journal. A new journal and router on the same files
(the venue simulator of this process kept running) must then find every order the venue may
hold, settle each one to the venue's own record, and the venue must hold each client id at
most once (nothing sent twice).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ccxt")

from support.aio import deadline  # noqa: E402

from openclaw.execution.router import Router, VenueRoute  # noqa: E402
from openclaw.execution.venues import Credentials, make_client  # noqa: E402
from openclaw.journal import Journal  # noqa: E402
from openclaw.model.orders import OrderStatus  # noqa: E402
from openclaw.sim import start_simulators  # noqa: E402

CHILD = Path(__file__).with_name("send_steps_child.py")
VENUE = "binance"
STEPS = ["before_intent", "after_intent", "leg0", "leg1", "leg2",
         "answer0", "answer1", "answer2"]
_TRUE = {"filled": OrderStatus.FILLED, "expired": OrderStatus.CANCELED,
         "canceled": OrderStatus.CANCELED}


@pytest.mark.parametrize("step", STEPS)
def test_kill9_at_each_send_step_then_recovery(tmp_path: Path, step: str) -> None:
    async def body() -> None:
        sims = await start_simulators(seed=5, rate=20)
        try:
            jpath = tmp_path / "journal.sqlite"
            spec = {"journal": str(jpath), "venue": VENUE, "rest": sims.binance.url,
                    "step": step}
            (tmp_path / "spec.json").write_text(json.dumps(spec))
            # the simulator runs on this loop: the child is awaited, never waited for
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(CHILD), str(tmp_path / "spec.json"), cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out_b, err_b = await asyncio.wait_for(proc.communicate(), 60)
            out, err = out_b.decode(), err_b.decode()
            assert proc.returncode == -signal.SIGKILL, (out, err[-3000:])
            sending = [ln for ln in out.splitlines() if ln.startswith("SENDING")]
            assert len(sending) == 1, out
            cids = sending[0].split()[1:]
            venue_orders: dict[str, list[dict[str, Any]]] = {}
            for vo in sims.binance.trading.engine.all_orders():
                venue_orders.setdefault(vo.as_dict()["client_id"], []).append(vo.as_dict())
            assert set(venue_orders) <= set(cids)
            expect_at_venue = {"leg0": 1, "leg1": 2, "leg2": 3}.get(step)
            if step in ("before_intent", "after_intent"):
                expect_at_venue = 0
            if expect_at_venue is not None:
                assert len(venue_orders) == expect_at_venue, venue_orders

            # restart: new journal handle (intent log off: it is read anyway), new client
            journal = await Journal.open(jpath, synchronous="NORMAL")
            route = VenueRoute(VENUE, make_client(VENUE, Credentials.simulator(),
                                                  sims.binance.url))
            try:
                await route.start()
                router = Router({VENUE: route}, journal, visibility_window_s=0.5)
                await router.recover()
                if step == "after_intent":
                    assert journal.stats().intents_restored == 3
                assert await journal.open_orders() == []
                assert await journal.consistency_check() == []
                rows = sqlite3.connect(jpath).execute("SELECT client_id FROM orders").fetchall()
                if step == "before_intent":
                    assert rows == [] and venue_orders == {}
                    return
                assert sorted(r[0] for r in rows) == sorted(cids)   # every leg is found
                for cid in cids:
                    o = await journal.order(cid)
                    assert o is not None and o.is_final, (cid, o)
                    recs = venue_orders.get(cid, [])
                    assert len(recs) <= 1, (cid, recs)      # never sent twice
                    if not recs:
                        assert o.status is OrderStatus.REJECTED and o.filled_qty == 0, o
                        continue
                    assert o.status is _TRUE[recs[0]["status"]], (o, recs[0])
                    assert o.filled_qty == Decimal(recs[0]["filled"])
                    assert o.venue_order_id == str(recs[0]["id"])
                # nothing was sent again by the recovery
                assert len(sims.binance.trading.engine.all_orders()) == len(venue_orders)
            finally:
                await route.close()
                await journal.close()
        finally:
            await sims.aclose()

    deadline(90.0)(body, 90)
