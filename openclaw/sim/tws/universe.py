"""Synthetic US-equity and FX universe of the TWS simulator: instruments, NYSE sessions, daily
bars and live quotes.

Everything is deterministic by seed: the symbols, contract ids, daily bars (generated forward from
a fixed anchor date, so a past bar never changes when "today" advances) and the starting point of
the live quotes.  Bars follow a per-stock drift + volatility + beta to a common market factor, plus
persistent drift regimes (so momentum rankings are meaningful).  Live quotes are random walks in
wall-clock time: stocks a geometric walk with the stock's intraday volatility, FX pairs a
mean-reverting walk around their centre (1.08 EUR.USD, 1.27 GBP.USD) with 0.1-0.5 pip spreads.

Nothing here imports ib_async, exchange_calendars or pandas (a test compares ``nyse_sessions``
with exchange_calendars' XNYS).
"""

from __future__ import annotations

import bisect
import math
import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

__all__ = [
    "ANCHOR",
    "DailyBar",
    "FX_PAIRS",
    "Instrument",
    "LiveQuote",
    "Universe",
    "nyse_holidays",
    "nyse_sessions",
]

#: First session of the generated history.
ANCHOR = date(2016, 1, 4)
NEW_YORK = ZoneInfo("America/New_York")

#: FX pairs served on IDEALPRO: localSymbol -> (conId, centre, daily vol).
FX_PAIRS: dict[str, tuple[int, float, float]] = {
    "EUR.USD": (12087792, 1.08, 0.0045),
    "GBP.USD": (12087797, 1.27, 0.0055),
}

# Unscheduled NYSE closures since the anchor (exchange_calendars XNYS has the same ones).
_SPECIAL_CLOSES = frozenset({date(2018, 12, 5), date(2025, 1, 9)})


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month, day = divmod(h + ll - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 = last) given weekday (Mon=0) of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(d: date) -> date | None:
    """NYSE observance: Saturday -> Friday, Sunday -> Monday."""
    if d.weekday() == 5:
        return d - timedelta(days=1)
    if d.weekday() == 6:
        return d + timedelta(days=1)
    return d


@lru_cache(maxsize=64)
def nyse_holidays(year: int) -> frozenset[date]:
    """Full-day NYSE holidays of a year (the rules in force since 2016, plus special closures)."""
    days: set[date | None] = set()
    ny = date(year, 1, 1)
    if ny.weekday() != 5:  # a Saturday New Year is not observed on Friday Dec 31
        days.add(_observed(ny))
    days.add(_nth_weekday(year, 1, 0, 3))  # Martin Luther King Jr. Day
    days.add(_nth_weekday(year, 2, 0, 3))  # Washington's Birthday
    days.add(_easter(year) - timedelta(days=2))  # Good Friday
    days.add(_nth_weekday(year, 5, 0, -1))  # Memorial Day
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))  # Juneteenth
    days.add(_observed(date(year, 7, 4)))  # Independence Day
    days.add(_nth_weekday(year, 9, 0, 1))  # Labor Day
    days.add(_nth_weekday(year, 11, 3, 4))  # Thanksgiving
    days.add(_observed(date(year, 12, 25)))  # Christmas
    days.update(d for d in _SPECIAL_CLOSES if d.year == year)
    return frozenset(d for d in days if d is not None)


def nyse_sessions(start: date, end: date) -> list[date]:
    """NYSE trading days in ``[start, end]``."""
    out: list[date] = []
    d = start
    one = timedelta(days=1)
    while d <= end:
        if d.weekday() < 5 and d not in nyse_holidays(d.year):
            out.append(d)
        d += one
    return out


def fx_sessions(start: date, end: date) -> list[date]:
    """FX daily bars: every weekday except Jan 1 and Dec 25."""
    out: list[date] = []
    d = start
    one = timedelta(days=1)
    while d <= end:
        if d.weekday() < 5 and (d.month, d.day) not in ((1, 1), (12, 25)):
            out.append(d)
        d += one
    return out


def _ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    """y[k] = phi * y[k-1] + shocks[k] (y[-1] = 0), vectorised in blocks of 256 steps."""
    n = len(shocks)
    out = np.empty(n)
    y0 = 0.0
    block = 256
    powers = phi ** np.arange(block)
    for s0 in range(0, n, block):
        chunk = shocks[s0 : s0 + block]
        m = len(chunk)
        p = powers[:m]
        y = p * (y0 * phi + np.cumsum(chunk / p))
        out[s0 : s0 + m] = y
        y0 = float(y[-1])
    return out


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One daily bar (prices in the instrument's currency, volume in shares; -1 for FX)."""

    date: date
    open: float
    high: float
    low: float
    close: float
    volume: int
    wap: float
    count: int


@dataclass(slots=True)
class Instrument:
    """One tradable contract: a US stock (STK) or an FX pair (CASH on IDEALPRO)."""

    symbol: str  # "ABCD" or "EUR.USD" (the key used everywhere in the simulator)
    con_id: int
    sec_type: str  # "STK" | "CASH"
    ib_symbol: str  # wire symbol: "ABCD" or "EUR"
    currency: str  # "USD"
    primary_exchange: str  # "NASDAQ" | "NYSE" | "IDEALPRO"
    long_name: str
    min_tick: float
    # generator parameters
    index: int = 0
    p0: float = 100.0
    vol: float = 0.3  # annualised
    beta: float = 1.0
    drift: float = 0.05  # annualised
    base_volume: float = 1e6

    @property
    def is_fx(self) -> bool:
        """True for a CASH pair."""
        return self.sec_type == "CASH"

    @property
    def local_symbol(self) -> str:
        """IB localSymbol ("ABCD", "EUR.USD")."""
        return self.symbol

    @property
    def trading_class(self) -> str:
        """IB tradingClass ("NMS" for NASDAQ stocks, the symbol for NYSE, the pair for FX)."""
        if self.is_fx:
            return self.symbol
        return "NMS" if self.primary_exchange == "NASDAQ" else self.symbol

    @property
    def exec_exchange(self) -> str:
        """Exchange reported on fills."""
        if self.is_fx:
            return "IDEALPRO"
        return "ISLAND" if self.primary_exchange == "NASDAQ" else "NYSE"


@dataclass(slots=True)
class LiveQuote:
    """Live top of book of one instrument, advanced lazily in wall-clock time."""

    mid: float
    bid: float
    ask: float
    last: float
    bid_size: float
    ask_size: float
    last_size: float
    t: float  # loop time of the last update
    volume: float = 0.0
    prev_close: float = 0.0
    subscribers: set[object] = field(default_factory=set)


def _make_symbols(rng: random.Random, n: int) -> list[str]:
    """n distinct 3-4 letter tickers (never EUR/GBP/USD)."""
    seen: set[str] = {"EUR", "GBP", "USD"}
    out: list[str] = []
    letters = string.ascii_uppercase
    while len(out) < n:
        k = 3 if rng.random() < 0.4 else 4
        sym = "".join(rng.choice(letters) for _ in range(k))
        if sym not in seen:
            seen.add(sym)
            out.append(sym)
    return out


_NAME_PARTS = (
    "Apex", "Blue", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iron", "Juniper",
    "Keystone", "Lumen", "Meridian", "Northern", "Orion", "Pioneer", "Quantum", "Ridge",
    "Summit", "Titan", "Union", "Vertex", "Willow", "Zenith",
)  # fmt: skip
_NAME_TAILS = (
    "Holdings", "Systems", "Corp", "Industries", "Technologies", "Energy", "Bancorp", "Health",
    "Materials", "Networks", "Brands", "Therapeutics",
)  # fmt: skip


class Universe:
    """The simulator's instruments with their daily history and live quotes."""

    def __init__(self, seed: int = 1, size: int = 500) -> None:
        if size < 1:
            raise ValueError("universe size must be >= 1")
        self.seed = seed
        names = random.Random(f"tws-universe-{seed}")
        self.stocks: list[Instrument] = []
        con_ids: set[int] = {c for c, _, _ in FX_PAIRS.values()}
        # one generator per stock: a stock is the same whatever the universe size
        for i, sym in enumerate(_make_symbols(names, size)):
            rng = random.Random(f"tws-stock-{seed}-{i}")
            con_id = rng.randrange(20_000_000, 700_000_000)
            while con_id in con_ids:
                con_id = rng.randrange(20_000_000, 700_000_000)
            con_ids.add(con_id)
            self.stocks.append(
                Instrument(
                    symbol=sym,
                    con_id=con_id,
                    sec_type="STK",
                    ib_symbol=sym,
                    currency="USD",
                    primary_exchange="NASDAQ" if rng.random() < 0.55 else "NYSE",
                    long_name=f"{rng.choice(_NAME_PARTS)} {rng.choice(_NAME_TAILS)}",
                    min_tick=0.01,
                    index=i,
                    p0=math.exp(rng.uniform(math.log(8.0), math.log(400.0))),
                    vol=rng.uniform(0.18, 0.65),
                    beta=rng.uniform(0.5, 1.5),
                    drift=rng.gauss(0.06, 0.10),
                    base_volume=math.exp(rng.uniform(math.log(2e5), math.log(2e7))),
                )
            )
        self.fx: list[Instrument] = [
            Instrument(
                symbol=pair,
                con_id=con_id,
                sec_type="CASH",
                ib_symbol=pair.split(".")[0],
                currency=pair.split(".")[1],
                primary_exchange="IDEALPRO",
                long_name="European Monetary Union Euro" if pair == "EUR.USD" else "British pound",
                min_tick=0.00005,
                index=1_000_000 + k,
                p0=centre,
                vol=vol * math.sqrt(252),
                beta=0.0,
                drift=0.0,
            )
            for k, (pair, (con_id, centre, vol)) in enumerate(FX_PAIRS.items())
        ]
        self.by_symbol: dict[str, Instrument] = {i.symbol: i for i in (*self.stocks, *self.fx)}
        self.by_con_id: dict[int, Instrument] = {i.con_id: i for i in (*self.stocks, *self.fx)}
        self._market: np.ndarray | None = None
        self._market_end: date | None = None
        self._bars: dict[str, tuple[list[date], np.ndarray]] = {}
        self._calendars: dict[tuple[bool, date], list[date]] = {}
        self._quote_rng = random.Random(f"tws-quotes-{seed}")

    # ---- lookup --------------------------------------------------------------------------

    @property
    def symbols(self) -> list[str]:
        """Stock symbols, in generation order."""
        return [s.symbol for s in self.stocks]

    def find(
        self, con_id: int, symbol: str, sec_type: str, currency: str, local_symbol: str
    ) -> Instrument | None:
        """Resolve a request's contract fields (conId first, then symbol/secType/currency)."""
        if con_id:
            inst = self.by_con_id.get(con_id)
            if inst is None:
                return None
            return inst if not symbol or symbol.upper() == inst.ib_symbol else None
        sym = symbol.upper()
        sec = sec_type.upper()
        cur = currency.upper()
        if sec in ("CASH",) or (not sec and local_symbol and "." in local_symbol):
            pair = local_symbol.upper() if local_symbol else f"{sym}.{cur or 'USD'}"
            inst = self.by_symbol.get(pair)
            return inst if inst is not None and inst.is_fx else None
        if sec not in ("", "STK"):
            return None
        inst = self.by_symbol.get(sym or local_symbol.upper())
        if inst is None or inst.is_fx:
            return None
        if cur and cur != inst.currency:
            return None
        return inst

    # ---- daily bars ----------------------------------------------------------------------

    @staticmethod
    def last_completed_session(now: datetime | None = None) -> date:
        """The newest NYSE session whose close (16:00 New York) has passed."""
        now_ny = (now or datetime.now(tz=NEW_YORK)).astimezone(NEW_YORK)
        d = now_ny.date()
        if now_ny.hour < 16:
            d -= timedelta(days=1)
        while d.weekday() >= 5 or d in nyse_holidays(d.year):
            d -= timedelta(days=1)
        return d

    def _history_end(self) -> date:
        # generate a little beyond today so a request "up to today" never runs off the end
        return datetime.now(tz=NEW_YORK).date() + timedelta(days=7)

    def _days(self, fx: bool, end: date) -> list[date]:
        key = (fx, end)
        days = self._calendars.get(key)
        if days is None:
            days = (fx_sessions if fx else nyse_sessions)(ANCHOR, end)
            self._calendars[key] = days
        return days

    def _market_returns(self, n: int) -> np.ndarray:
        if self._market is None or len(self._market) < n:
            rng = np.random.default_rng([self.seed, 7_777_777])
            sd = 0.16 / math.sqrt(252)
            regime = np.repeat(rng.normal(0.0, 0.12, n // 60 + 2), 60)[:n] / 252
            self._market = 0.07 / 252 + regime + rng.normal(0.0, sd, n)
        return self._market[:n]

    def _series(self, inst: Instrument) -> tuple[list[date], np.ndarray]:
        """All bars of an instrument since ANCHOR: (dates, array[n, 7] o/h/l/c/vol/wap/count)."""
        cached = self._bars.get(inst.symbol)
        end = self._history_end()
        if cached is not None and cached[0][-1] >= end - timedelta(days=5):
            return cached
        days = self._days(inst.is_fx, end)
        n = len(days)
        rng = np.random.default_rng([self.seed, inst.index])
        sd = inst.vol / math.sqrt(252)
        if inst.is_fx:
            # mean-reverting log price around the centre
            shocks = rng.normal(0.0, sd, n)
            close = np.exp(math.log(inst.p0) + _ar1(shocks, 0.99))
            decimals = 5
        else:
            mkt = self._market_returns(n)
            idio_sd = math.sqrt(max(sd * sd - (inst.beta * 0.16 / math.sqrt(252)) ** 2, 1e-5))
            # persistent drift regimes (geometric lengths, mean ~90 sessions)
            regime = np.empty(n)
            k = 0
            while k < n:
                length = int(rng.geometric(1 / 90)) + 10
                regime[k : k + length] = rng.normal(0.0, 0.35)
                k += length
            rets = (
                (inst.drift + regime) / 252
                + inst.beta * mkt
                + rng.normal(0.0, idio_sd, n)
                - 0.5 * sd * sd
            )
            # a weak pull of the log price towards its start keeps ten years of regimes in a
            # plausible price range without removing the one-year trends
            close = inst.p0 * np.exp(_ar1(rets, 0.998))
            decimals = 2
        prev = np.concatenate(([inst.p0], close[:-1]))
        opens = prev * np.exp(rng.normal(0.0, 0.25 * sd, n))
        highs = np.maximum(opens, close) * np.exp(np.abs(rng.normal(0.0, 0.5 * sd, n)))
        lows = np.minimum(opens, close) * np.exp(-np.abs(rng.normal(0.0, 0.5 * sd, n)))
        opens = np.round(opens, decimals)
        close = np.round(close, decimals)
        highs = np.maximum(np.round(highs, decimals), np.maximum(opens, close))
        lows = np.minimum(np.round(lows, decimals), np.minimum(opens, close))
        lows = np.maximum(lows, 10.0**-decimals)
        if inst.is_fx:
            volume = np.full(n, -1.0)
            count = np.full(n, -1.0)
        else:
            absret = np.abs(np.log(close / prev))
            volume = np.round(
                inst.base_volume * np.exp(rng.normal(0.0, 0.3, n)) * (1 + 0.6 * absret / sd), -2
            )
            volume = np.maximum(volume, 100.0)
            count = np.maximum(np.floor(volume / 150.0), 1.0)
        wap = np.round((highs + lows + close) / 3.0, decimals + 2)
        data = np.column_stack((opens, highs, lows, close, volume, wap, count))
        self._bars[inst.symbol] = (days, data)
        return days, data

    def bars(self, inst: Instrument, start: date | None, end: date) -> list[DailyBar]:
        """Daily bars with ``start <= date <= end`` (start None = from ANCHOR)."""
        days, data = self._series(inst)
        lo = 0 if start is None else bisect.bisect_left(days, start)
        hi = bisect.bisect_right(days, end)
        return [
            DailyBar(
                days[k],
                float(data[k, 0]),
                float(data[k, 1]),
                float(data[k, 2]),
                float(data[k, 3]),
                int(data[k, 4]),
                float(data[k, 5]),
                int(data[k, 6]),
            )
            for k in range(lo, hi)
        ]

    def last_close(self, inst: Instrument) -> float:
        """Close of the last completed session (the live quote starts from it)."""
        days, data = self._series(inst)
        k = bisect.bisect_right(days, self.last_completed_session()) - 1
        return float(data[max(k, 0), 3])

    # ---- live quotes ---------------------------------------------------------------------

    def new_quote(self, inst: Instrument, now: float) -> LiveQuote:
        """Starting live quote: the last close."""
        px = self.last_close(inst)
        q = LiveQuote(px, px, px, px, 0.0, 0.0, 0.0, now, prev_close=px)
        self._requote(inst, q)
        return q

    def advance(self, inst: Instrument, q: LiveQuote, now: float) -> bool:
        """Move a live quote to wall-clock ``now``; True if the price moved."""
        dt = now - q.t
        if dt <= 0:
            return False
        q.t = now
        dt = min(dt, 3600.0)
        rng = self._quote_rng
        if inst.is_fx:
            centre = FX_PAIRS[inst.symbol][1]
            sigma = 0.00005  # ~0.5 pip per sqrt(second)
            q.mid += 0.01 * dt * (centre - q.mid) + sigma * math.sqrt(dt) * rng.gauss(0.0, 1.0)
        else:
            sigma = inst.vol / math.sqrt(252 * 23400)
            q.mid *= math.exp(sigma * math.sqrt(dt) * rng.gauss(0.0, 1.0))
            q.mid = max(q.mid, 0.05)
        self._requote(inst, q)
        return True

    def set_mid(self, inst: Instrument, q: LiveQuote, mid: float, now: float) -> None:
        """Move a live quote to a given mid."""
        if not (mid > 0 and math.isfinite(mid)):
            raise ValueError(f"price must be positive, got {mid!r}")
        q.mid = mid
        q.t = now
        self._requote(inst, q)

    def _requote(self, inst: Instrument, q: LiveQuote) -> None:
        rng = self._quote_rng
        if inst.is_fx:
            spread = rng.uniform(0.00001, 0.00005)
            q.bid = round(q.mid - spread / 2, 5)
            q.ask = round(q.mid + spread / 2, 5)
            if q.ask <= q.bid:
                q.ask = round(q.bid + 0.00001, 5)
            q.bid_size = float(int(rng.random() * 19 + 1) * 1_000_000)
            q.ask_size = float(int(rng.random() * 19 + 1) * 1_000_000)
            q.last = round(q.mid, 5)
        else:
            half = max(0.005, q.mid * 0.0001)
            q.bid = max(0.01, round(q.mid - half, 2))
            q.ask = round(q.mid + half, 2)
            if q.ask <= q.bid:
                q.ask = round(q.bid + 0.01, 2)
            q.bid_size = float(int(rng.random() * 39 + 1) * 100)
            q.ask_size = float(int(rng.random() * 39 + 1) * 100)
            if rng.random() < 0.5 or not q.last_size:
                q.last = q.bid if rng.random() < 0.5 else q.ask
                q.last_size = float(int(rng.random() * 9 + 1) * 100)
                q.volume += q.last_size
