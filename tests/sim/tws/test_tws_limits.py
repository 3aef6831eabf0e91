"""Simulator: ``order_ref`` in the order log, IB's message pacing (``msg_rate_limit``, error
100) and ``--hist-limit`` on the command line (real ib_async client, loopback)."""

from __future__ import annotations

import subprocess
import sys

import orjson
from ib_async import IB, LimitOrder, Stock
from support.twsclient import connect, run, tws, wait_until


def test_order_log_carries_the_order_ref() -> None:
    async def body() -> None:
        async with tws() as sim:
            ib, _ = await connect(sim, 3)
            try:
                sym = sim.universe[0]
                c = (await ib.qualifyContractsAsync(Stock(sym, "SMART", "USD")))[0]
                o = LimitOrder("BUY", 1, round(sim.quote(sym)[1] * 1.01, 2))
                o.orderRef = "Rabc123"
                ib.placeOrder(c, o)
                await wait_until(lambda: len(sim.order_log) == 1, what="the order logged")
                e = sim.order_log[0]
                assert (e.order_ref, e.result, e.symbol) == ("Rabc123", "accepted", sym)
            finally:
                ib.disconnect()

    run(body)


def _burst(throttle: int, n: int) -> tuple[int, list[int]]:
    """``n`` reqCurrentTime messages with ib_async's throttle at ``throttle`` (0 = off) against
    a simulator enforcing 50 msgs/s; returns (sim's refusals, error codes the client got)."""

    async def body() -> tuple[int, list[int]]:
        async with tws(msg_rate_limit=50) as sim:
            ib, errors = await connect(sim, 4)
            try:
                ib.client.MaxRequests = throttle
                base = sim.messages_in
                for _ in range(n):
                    ib.client.reqCurrentTime()
                await wait_until(lambda: sim.messages_in >= base + n, timeout=20,
                                 what="every message received")
                await wait_until(lambda: errors.codes().count(100) == sim.rate_errors,
                                 what="every refusal delivered")
                return sim.rate_errors, errors.codes()
            finally:
                ib.disconnect()

    return run(body)


def test_message_pacing_refuses_an_unthrottled_burst() -> None:
    refused, codes = _burst(0, 120)
    assert refused >= 60 and codes.count(100) == refused


def test_message_pacing_accepts_ib_async_at_45_per_second() -> None:
    refused, codes = _burst(45, 120)  # ~2.7 s of client pacing
    assert refused == 0 and 100 not in codes


def test_cli_hist_limit_is_enforced() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "openclaw.sim.tws", "--port", "0", "--universe", "5",
         "--hist-limit", "2"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        url = orjson.loads(proc.stdout.readline())["urls"]["tws"]

        async def body() -> list[int]:
            ib = IB()
            codes: list[int] = []
            ib.errorEvent += lambda r, code, m, c=None: codes.append(code)
            await ib.connectAsync(url["host"], int(url["port"]), clientId=5, timeout=10)
            try:
                from openclaw.sim.tws.universe import Universe

                c = Stock(Universe(1, 5).symbols[0], "SMART", "USD")
                for _ in range(3):
                    await ib.reqHistoricalDataAsync(c, "", "5 D", "1 day", "TRADES", True,
                                                    timeout=10)
                return codes
            finally:
                ib.disconnect()

        codes = run(body)
        assert codes.count(162) == 1  # the third request within the window
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_rejects_a_bad_hist_limit() -> None:
    p = subprocess.run([sys.executable, "-m", "openclaw.sim.tws", "--hist-limit", "0"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "--hist-limit" in p.stderr


def test_openclaw_sim_accepts_hist_limit() -> None:
    from openclaw.sim.__main__ import build_parser, selected_servers

    args = build_parser().parse_args(["tws", "--hist-limit", "7"])
    assert args.hist_limit == 7 and selected_servers(args) == ["tws"]
    bad = build_parser().parse_args(["tws", "--hist-limit", "0"])
    try:
        selected_servers(bad)
    except ValueError as e:
        assert "--hist-limit" in str(e)
    else:
        raise AssertionError("--hist-limit 0 accepted")
