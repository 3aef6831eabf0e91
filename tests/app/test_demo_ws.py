"""The demo over the venues' trading WebSockets (``--route ws``): nothing lost, nothing
duplicated, the journal consistent, and the orders really went over the sockets - by the fast
routes' own counters and by the simulators' records of how each order arrived (``via``)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

pytest.importorskip("ccxt")

from openclaw.app.demo import STAGE_PAIRS, VENUES, run_demo  # noqa: E402

KEYS = ("seconds", "opportunities", "arbitrages", "orders", "fills", "unwinds", "incomplete",
        "unwind_refused", "pipeline_errors", "lost_orders", "duplicate_orders",
        "journal_consistent", "pnl", "latency_us", "book_events", "refused_by_risk",
        "last_refusal", "pnl_usdt_marked", "reconciliations", "halted", "halt_reason",
        "alerts_delivered")


def test_demo_over_the_trading_websockets_keeps_every_order() -> None:
    summary = asyncio.run(asyncio.wait_for(run_demo(4.0, seed=11, route="ws"), 120))
    for key in KEYS:                      # the public JSON keeps every key it had
        assert key in summary, key
    assert summary["lost_orders"] == 0
    assert summary["duplicate_orders"] == 0
    assert summary["journal_consistent"] is True
    assert summary["pipeline_errors"] == 0
    assert summary["halted"] is False, summary["halt_reason"]
    assert summary["arbitrages"] > 0, "the nudged market produced no arbitrage"
    assert set(summary["latency_us"]) == set(STAGE_PAIRS)
    assert summary["route"] == {v: "ws" for v in VENUES}
    stats, via = summary["route_stats"], summary["orders_via"]
    total_ws = 0
    for v in VENUES:
        s = stats[v]
        assert s["route"] == "ws"
        # every order the Router let through went out as a WebSocket frame (none fell back)
        assert s["ws_fallbacks"] == 0 and s["ws_reconnects"] == 0, s
        assert s["ws_sent"] == s["ws_acked"] + s["ws_rejected"] + s["ws_lost"] + s[
            "ws_timeouts"], s
        # the venue's own record: each order it holds of ours arrived over its WebSocket API,
        # one per acknowledged frame
        assert via[v].get("rest", 0) == 0, via
        assert via[v].get("ws", 0) == s["ws_acked"], (v, via[v], s)
        total_ws += via[v].get("ws", 0)
    assert total_ws > 0
    assert sum(stats[v]["acked"] for v in VENUES) == total_ws


def test_demo_cli_route_option() -> None:
    bad = subprocess.run([sys.executable, "-m", "openclaw.cli", "demo", "--route", "fix"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--route must be one of ccxt, ws" in bad.stderr
    p = subprocess.run([sys.executable, "-m", "openclaw.cli", "demo", "--seconds", "2",
                        "--json", "--route", "ws", "--seed", "3"],
                       capture_output=True, text=True, timeout=180)
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["route"] == {v: "ws" for v in VENUES}, p.stderr[-2000:]
    assert p.returncode == 0, p.stderr[-2000:]
    assert summary["lost_orders"] == 0 and summary["duplicate_orders"] == 0
    assert summary["journal_consistent"] is True
