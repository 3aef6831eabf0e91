"""FX scalper: the London/New York overlap across DST, the O(1) signal, risk, stage stamps."""

from __future__ import annotations

import math
import time as time_mod
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest

from openclaw.latency import latency_report
from openclaw.model.orders import Order, OrderType
from openclaw.risk.quotes import QuoteListRisk, QuoteRisk, fx_limits
from openclaw.strategies.fx import (
    LONDON,
    NEW_YORK,
    FxIntent,
    FxScalper,
    FxScalperConfig,
    FxScalperError,
    MeanReversion,
    OverlapClock,
    SessionHours,
    overlap_window,
)


def utc(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def hours(day: date, **kw: SessionHours) -> tuple[int, int, float]:
    w = overlap_window(day, **kw)
    assert w is not None
    return w[0].hour, w[1].hour, (w[1] - w[0]) / timedelta(hours=1)


def test_overlap_window_across_dst_changes() -> None:
    # winter (both on standard time): 13:00-16:00 UTC, 3 hours
    assert hours(date(2026, 1, 5)) == (13, 16, 3.0)
    assert hours(date(2026, 3, 6)) == (13, 16, 3.0)
    # US on summer time from 2026-03-08, UK from 2026-03-29: 12:00-16:00 UTC, 4 hours
    for d in range(9, 28):
        if date(2026, 3, d).weekday() < 5:
            assert hours(date(2026, 3, d)) == (12, 16, 4.0), d
    # both on summer time: 12:00-15:00 UTC
    assert hours(date(2026, 3, 30)) == (12, 15, 3.0)
    assert hours(date(2026, 7, 1)) == (12, 15, 3.0)
    # UK back to GMT on 2026-10-25, US on 2026-11-01: 4 hours again
    for d in range(26, 31):
        assert hours(date(2026, 10, d)) == (12, 16, 4.0), d
    assert hours(date(2026, 10, 23)) == (12, 15, 3.0)
    assert hours(date(2026, 11, 2)) == (13, 16, 3.0)
    # weekends: none
    assert overlap_window(date(2026, 3, 28)) is None
    assert overlap_window(date(2026, 11, 1)) is None
    # the classic 4-hour overlap (London to 17:00) becomes 5 hours in the mismatch weeks
    ldn17 = SessionHours(time(8), time(17), "Europe/London")
    assert hours(date(2026, 1, 5), a=ldn17) == (13, 17, 4.0)
    assert hours(date(2026, 3, 16), a=ldn17) == (12, 17, 5.0)
    assert hours(date(2026, 10, 28), a=ldn17) == (12, 17, 5.0)
    assert hours(date(2026, 7, 1), a=ldn17) == (12, 16, 4.0)
    # the local hours themselves are kept: 08:00 New York, 16:00 London
    w = overlap_window(date(2026, 3, 16))
    assert w is not None
    assert w[0].astimezone(NEW_YORK_TZ()).time() == time(8)
    assert w[1].astimezone(LONDON_TZ()).time() == time(16)


def NEW_YORK_TZ():  # noqa: N802
    from zoneinfo import ZoneInfo

    return ZoneInfo(NEW_YORK.tz)


def LONDON_TZ():  # noqa: N802
    from zoneinfo import ZoneInfo

    return ZoneInfo(LONDON.tz)


def ns(t: datetime) -> int:
    return int(t.timestamp()) * 10**9


def test_overlap_clock_boundaries() -> None:
    oc = OverlapClock()
    assert not oc.active(ns(utc(2026, 3, 16, 11, 59)))
    assert oc.active(ns(utc(2026, 3, 16, 12, 0)))
    assert oc.active(ns(utc(2026, 3, 16, 15, 59)))
    assert not oc.active(ns(utc(2026, 3, 16, 16, 0)))
    assert not oc.active(ns(utc(2026, 3, 30, 15, 30)))  # after the UK change: closes 15:00
    assert oc.active(ns(utc(2026, 3, 30, 14, 59)))
    assert not oc.active(ns(utc(2026, 3, 28, 13, 0)))  # Saturday


def test_mean_reversion_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    xs = 1.1 + np.cumsum(rng.normal(0, 1e-4, 2000))
    mr = MeanReversion(2, 50)
    for k, x in enumerate(xs):
        z = mr.update(1, float(x))
        if k < 49:
            assert math.isnan(z)
            continue
        w = xs[k - 49 : k + 1]
        want = (x - w.mean()) / w.std()
        assert z == pytest.approx(want, rel=1e-6, abs=1e-6), k
    assert mr.count == [0, 2000]
    flat = MeanReversion(1, 5)
    assert all(math.isnan(flat.update(0, 1.25)) for _ in range(20))


def _scalper(**cfg: object) -> tuple[FxScalper, list[FxIntent]]:
    sent: list[FxIntent] = []
    config = FxScalperConfig(window=30, entry_z=1.5, exit_z=0.3, order_qty=10_000,
                             max_position=20_000, **cfg)
    risk = QuoteRisk(fx_limits(config.pairs, max_orders=None, max_book_age_ms=None))
    for a in ("USD", "EUR", "GBP"):
        risk.set_balance(a, 10**9)
    s = FxScalper(config, risk=risk, sender=sent.append)
    return s, sent


def _ou(n: int, seed: int = 1) -> list[float]:
    """A mean-reverting (Ornstein-Uhlenbeck) EUR/USD mid on the 0.00001 grid."""
    rng = np.random.default_rng(seed)
    x, out = 0.0, []
    for _ in range(n):
        x = 0.85 * x + rng.normal(0, 2e-4)
        out.append(round((1.085 + x) * 1e5) / 1e5)
    return out


def _filled(it: FxIntent) -> Order:
    """The intent's order as the session reports it filled at its limit."""
    o = Order(it.client_id, "ibkr", it.pair, it.side, OrderType.LIMIT, Decimal(it.qty),
              it.limit_price, it.event, 0)
    o.mark_sent()
    o.fill(f"f-{it.client_id}", Decimal(it.qty), it.limit_price)
    return o


def _feed(s: FxScalper, mids: list[float], start: datetime, fill: bool = True) -> list[FxIntent]:
    """Quotes through the scalper; with ``fill`` each order fills at once, the session's
    callbacks reach the scalper and the order manager's outcome reaches the risk engine."""
    assert s.risk is not None
    outcome = QuoteListRisk(s.risk)
    got = []
    t0 = ns(start)
    for k, m in enumerate(mids):
        it = s.on_quote("EUR/USD", m - 0.00001, m + 0.00001, time_mod.monotonic_ns(),
                        t0 + k * 10**8)
        if it is not None:
            got.append(it)
            s.on_ack(it.client_id)
            if fill:
                s.on_fill(it.client_id, it.qty, it.limit_price)
                outcome.on_result([_filled(it)])
    return got


def test_mean_reverting_series_enters_and_exits_in_the_window() -> None:
    s, sent = _scalper()
    intents = _feed(s, _ou(3000), utc(2026, 3, 16, 12, 5))  # inside the overlap
    assert intents and sent == intents
    sides = [i.side.value for i in intents]
    assert "buy" in sides and "sell" in sides
    # every entry is followed by an exit: the position returns to flat more than once
    pos, flats = 0, 0
    for i in intents:
        pos += i.qty if i.side.value == "buy" else -i.qty
        assert abs(pos) <= 20_000
        flats += pos == 0
    assert flats >= 3
    assert s.position[0] == pos
    assert s.risk is not None and s.risk.position("EUR/USD") == pos
    pos = 0
    for i in intents:  # entries beyond +-entry_z; exits once z is back inside +-exit_z
        buy = i.side.value == "buy"
        if pos == 0 or (pos > 0) == buy:
            assert (i.z <= -1.5) if buy else (i.z >= 1.5)
        else:
            assert (i.z <= 0.3) if buy else (i.z >= -0.3)
            assert i.qty == abs(pos)
        pos += i.qty if buy else -i.qty
        assert i.limit_price == Decimal(i.price_ticks) * Decimal("0.00001")
        assert i.price_ticks % 5 == 0
        mid_ticks = round(i.mid * 1e5)
        assert (i.price_ticks >= mid_ticks + 1) if buy else (i.price_ticks <= mid_ticks - 1)
    rep = latency_report(s.clock)
    for stage in ("signal", "risk", "sent", "ack", "fill"):
        assert rep["stages"][stage]["count"] == len(intents), stage
    assert rep["events"] == 3000


def test_no_orders_outside_the_window() -> None:
    s, sent = _scalper()
    mids = _ou(3000)
    assert _feed(s, mids, utc(2026, 3, 16, 16, 0)) == []  # London closed (16:00 GMT)
    assert _feed(s, mids, utc(2026, 3, 30, 15, 0)) == []  # after the UK change: 15:00 UTC
    assert _feed(s, mids, utc(2026, 3, 28, 13, 0)) == []  # Saturday
    assert sent == [] and s.quotes == 9000
    # the same series inside the window trades
    assert _feed(s, mids, utc(2026, 3, 30, 12, 0))


def test_risk_denial_stops_the_order() -> None:
    config = FxScalperConfig(window=30, entry_z=1.5, exit_z=0.3, order_qty=10_000)
    risk = QuoteRisk(fx_limits(config.pairs, max_order_qty=5_000, max_orders=None))
    for a in ("USD", "EUR", "GBP"):
        risk.set_balance(a, 10**9)
    sent: list[FxIntent] = []
    s = FxScalper(config, risk=risk, sender=sent.append)
    assert _feed(s, _ou(2000), utc(2026, 3, 16, 13, 0)) == []
    assert sent == [] and s.position == [0, 0]
    assert set(s.denied) == {"QTY_EXCEEDS_ORDER_LIMIT"} and s.denied["QTY_EXCEEDS_ORDER_LIMIT"]
    rep = latency_report(s.clock)
    assert rep["stages"]["risk"]["count"] == s.denied["QTY_EXCEEDS_ORDER_LIMIT"]
    assert rep["stages"]["sent"]["count"] == 0


def test_one_order_in_flight_per_pair_and_fill_checks() -> None:
    s, sent = _scalper()
    intents = _feed(s, _ou(3000), utc(2026, 3, 16, 12, 5), fill=False)
    assert len(intents) == 1  # never filled: the pair waits
    it = intents[0]
    s.on_fill(it.client_id, 4_000, it.limit_price)
    with pytest.raises(FxScalperError, match="past the order"):
        s.on_fill(it.client_id, 7_000, it.limit_price)
    s.on_done(it.client_id)  # canceled with 4000 filled
    assert s.pending == [None, None] and s.in_flight() == []
    assert abs(s.position[0]) == 4_000
    # the scalper never moves the risk engine: that is the order manager's outcome, once
    assert s.risk is not None and s.risk.position("EUR/USD") == 0
    with pytest.raises(FxScalperError):
        FxScalper(FxScalperConfig(entry_z=1.0, exit_z=1.0))


def test_crossed_or_wide_quotes_are_ignored() -> None:
    s, sent = _scalper()
    t = ns(utc(2026, 3, 16, 13, 0))
    assert s.on_quote("EUR/USD", 1.1, 1.0, 1, t) is None
    assert s.on_quote("EUR/USD", 1.0, 1.01, 1, t) is None  # 100 bps wide
    assert s.signal.count == [0, 0]
