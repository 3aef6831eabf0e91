"""Historical-data pacing: requests wait for their turn under all three IB rules, never fail."""

from __future__ import annotations

import asyncio
import random

import pytest

from openclaw.venues.ibkr.pacing import Backoff, HistoricalLimits, HistoricalPacer, message_limit
from openclaw.venues.ibkr.session import IbkrError, contract_for, symbol_of


def _admit_times(pacer: HistoricalPacer, reqs: list[tuple[str, str]]) -> list[float]:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        times: list[float] = [0.0] * len(reqs)

        async def one(i: int, key: str, contract: str) -> None:
            await pacer.acquire(key, contract)
            times[i] = loop.time()

        await asyncio.gather(*(one(i, k, c) for i, (k, c) in enumerate(reqs)))
        return times

    return asyncio.run(main())


def test_window_limit_paces_instead_of_failing() -> None:
    lim = HistoricalLimits(max_requests=3, window_s=0.3, identical_s=0.0, per_contract=100,
                           contract_window_s=0.1)
    pacer = HistoricalPacer(lim)
    times = sorted(_admit_times(pacer, [(f"k{i}", f"c{i}") for i in range(7)]))
    assert pacer.stats.admitted == 7
    assert pacer.stats.waited >= 1
    for i in range(len(times) - 3):  # any 4 consecutive admissions span >= one window
        assert times[i + 3] - times[i] >= 0.3 - 1e-3


def test_identical_and_per_contract_rules() -> None:
    lim = HistoricalLimits(max_requests=100, window_s=10.0, identical_s=0.2, per_contract=2,
                           contract_window_s=0.25)
    pacer = HistoricalPacer(lim)
    reqs = [("same", "A"), ("same", "A")] + [(f"k{i}", "B") for i in range(3)]
    times = _admit_times(pacer, reqs)
    assert abs(times[1] - times[0]) >= 0.2 - 1e-3  # identical request 0.2 s apart
    b = sorted(times[2:])
    assert b[2] - b[0] >= 0.25 - 1e-3  # a third request on contract B waits for the window


def test_violation_backs_off_and_success_resets() -> None:
    async def main() -> None:
        pacer = HistoricalPacer(HistoricalLimits(identical_s=0.0),
                                Backoff(base_s=0.05, cap_s=0.2, jitter=0.0))
        loop = asyncio.get_running_loop()
        d1 = pacer.violation()
        d2 = pacer.violation()
        assert d2 == pytest.approx(2 * d1)
        t0 = loop.time()
        await pacer.acquire("x", "X")
        assert loop.time() - t0 >= d2 - 0.01
        pacer.success()
        assert pacer.violation() == pytest.approx(d1)

    asyncio.run(main())


def test_backoff_is_capped_with_jitter() -> None:
    b = Backoff(base_s=0.1, cap_s=1.0, jitter=0.5)
    rng = random.Random(1)
    for n in range(40):
        d = b.delay(n, rng)
        raw = min(1.0, 0.1 * 2**n)
        assert raw * 0.5 <= d <= raw
    with pytest.raises(ValueError):
        Backoff(base_s=0.0)


def test_message_limit_guards_real_gateways() -> None:
    assert message_limit(False) == 45
    assert message_limit(True, 0) == 0
    assert message_limit(True, 500) == 500
    with pytest.raises(ValueError):
        message_limit(False, 100)
    with pytest.raises(ValueError):
        message_limit(False, 0)


def test_contract_mapping_round_trips() -> None:
    fx = contract_for("EUR.USD")
    assert (fx.secType, fx.symbol, fx.currency, fx.exchange) == ("CASH", "EUR", "USD", "IDEALPRO")
    assert symbol_of(fx) == "EUR.USD"
    st = contract_for("AAPL")
    assert (st.secType, st.symbol, st.exchange, st.currency) == ("STK", "AAPL", "SMART", "USD")
    assert symbol_of(st) == "AAPL"
    with pytest.raises(IbkrError):
        contract_for("not a symbol!")


def test_order_pacer_waits_and_the_risk_throttle_never_trips() -> None:
    """100 orders paced at 40/s against a risk engine throttled at 40/s: none is refused
    RATE_LIMITED (the pacer waits instead), and the pacing really waited (>= 60 / 40 s)."""
    import time
    from decimal import Decimal

    from openclaw.risk.quotes import QuoteRisk, equity_limits
    from openclaw.venues.ibkr.pacing import OrderPacer

    syms = [f"S{i:03d}" for i in range(100)]
    prices = {s: 10.0 for s in syms}
    risk = QuoteRisk(equity_limits(syms, prices, max_orders=40, max_book_age_ms=None))
    for s in syms:
        risk.update_quote(s, 10.0, 10.0)
    risk.set_balance("USD", Decimal(10**9))
    pacer = OrderPacer(40)

    async def main() -> list[str]:
        out = []
        for i, s in enumerate(syms):
            now = await pacer.acquire()
            out.append(risk.check(s, "buy", 1, Decimal("10.00"), f"C{i}", now).reason)
        return out

    t0 = time.monotonic()
    reasons = asyncio.run(main())
    elapsed = time.monotonic() - t0
    assert reasons == ["PASS"] * 100, sorted(set(reasons))
    assert pacer.waited >= 55 and elapsed >= 1.4


def test_unpaced_burst_is_rate_limited() -> None:
    """The backstop: the same 100 orders without the pacer are refused beyond the bucket."""
    from decimal import Decimal

    from openclaw.risk.quotes import QuoteRisk, equity_limits

    syms = [f"S{i:03d}" for i in range(100)]
    risk = QuoteRisk(equity_limits(syms, {s: 10.0 for s in syms}, max_orders=40,
                                   max_book_age_ms=None))
    for s in syms:
        risk.update_quote(s, 10.0, 10.0)
    risk.set_balance("USD", Decimal(10**9))
    reasons = [risk.check(s, "buy", 1, Decimal("10.00"), f"C{i}").reason
               for i, s in enumerate(syms)]
    assert reasons.count("PASS") < 50 and "RATE_LIMITED" in reasons


def test_order_pacer_rejects_a_bad_rate() -> None:
    from openclaw.venues.ibkr.pacing import OrderPacer

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            OrderPacer(bad)  # type: ignore[arg-type]


def test_a_key_held_by_the_identical_rule_does_not_block_other_symbols() -> None:
    """One symbol's repeat waits out its 15 s; another symbol's request goes out meanwhile
    (the wait is computed under the pacer's lock but slept outside it)."""

    async def main() -> None:
        pacer = HistoricalPacer(HistoricalLimits(identical_s=15.0))
        await pacer.acquire(("AAA", "30 D"), "AAA")
        repeat = asyncio.create_task(pacer.acquire(("AAA", "30 D"), "AAA"))
        await asyncio.sleep(0)  # the repeat is now waiting on its identical-request rule
        other = asyncio.create_task(pacer.acquire(("BBB", "30 D"), "BBB"))
        # generous deadline on a loaded machine, far below the 15 s the repeat must wait
        done, _ = await asyncio.wait({other}, timeout=5.0)
        assert other in done, "another symbol was blocked behind the identical-request wait"
        assert not repeat.done() and pacer.stats.admitted == 2
        repeat.cancel()
        with pytest.raises(asyncio.CancelledError):
            await repeat

    asyncio.run(main())
