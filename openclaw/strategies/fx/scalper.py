"""FX mean-reversion scalper on EUR/USD and GBP/USD, active in the London/New York overlap.

Window. The overlap is when both sessions are open: London 08:00-16:00 Europe/London and New
York 08:00-17:00 America/New_York by default (``SessionHours``, configurable), i.e. from
``max(opens)`` to ``min(closes)`` computed per date with zoneinfo, Monday to Friday. With these
hours it is 3 hours (12:00-15:00 UTC in summer, 13:00-16:00 UTC in winter) and 4 hours
(12:00-16:00 UTC) in the weeks when the US is on summer time and the UK is not (mid-March to
late March, late October to early November). With a London close of 17:00 the usual 4 hours
(08:00-12:00 New York) become 5 in those weeks. FX trades on bank holidays: no holiday calendar.

Signal. Per pair, the mid of each quote goes into a preallocated numpy ring buffer of the last
``window`` mids with running sum and sum of squares (O(1) per quote; re-summed exactly once per
``window`` quotes so float drift cannot build up). ``z = (mid - mean) / std``. Flat: buy below
``-entry_z``, sell above ``+entry_z``; long: sell the position back to flat once ``z >=
-exit_z``; short: symmetric; adding to a position up to ``max_position``. One order per pair in
flight at a time. Orders are marketable limits (buy at the ask rounded up to the price
increment, sell at the bid rounded down).

Risk. Each intent is checked in C before it exists (``QuoteRisk.check_fast``: the hot path's
integer check, committed in the engine); the order manager (execution/manager.py, through
``OrderManager.send_now``) journals and writes it and tells the engine the outcome once, when
the order is final (``QuoteListRisk.on_result``). The scalper decides and keeps its own
position and one-order-per-pair state from the session's callbacks; it never updates the
risk engine.

Stages (``StageClock``): quote (socket receive, given by the caller), signal, risk, sent (the
order handed to the session's socket write), ack and fill (stamped through ``on_ack`` /
``on_fill`` by the session). Every quote opens an event; quotes without a signal stop there.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from openclaw._core.risk import BUY, REASON_NAMES, SELL
from openclaw._core.stageclock import StageClock
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.errors import OpenclawError
from openclaw.model.orders import Side
from openclaw.risk.quotes import QuoteRisk, fx_limits

__all__ = [
    "LONDON",
    "NEW_YORK",
    "SENT",
    "STAGES",
    "FxIntent",
    "FxScalper",
    "FxScalperConfig",
    "FxScalperError",
    "MeanReversion",
    "OverlapClock",
    "SessionHours",
    "overlap_window",
]

log = logging.getLogger("openclaw.strategies.fx")

STAGES = ("quote", "signal", "risk", "sent", "ack", "fill")
QUOTE, SIGNAL, RISK, SENT, ACK, FILL = range(6)


class FxScalperError(OpenclawError, ValueError):
    """Bad scalper configuration or input."""


# ---- trading window ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionHours:
    """A trading session's local open and close in its time zone."""

    open: dtime
    close: dtime
    tz: str

    def bounds(self, day: date) -> tuple[datetime, datetime]:
        """(open, close) of ``day`` in UTC, DST-correct."""
        z = ZoneInfo(self.tz)
        o = datetime.combine(day, self.open, tzinfo=z).astimezone(UTC)
        c = datetime.combine(day, self.close, tzinfo=z).astimezone(UTC)
        return o, c


LONDON = SessionHours(dtime(8), dtime(16), "Europe/London")
NEW_YORK = SessionHours(dtime(8), dtime(17), "America/New_York")


def overlap_window(
    day: date, a: SessionHours = LONDON, b: SessionHours = NEW_YORK
) -> tuple[datetime, datetime] | None:
    """The UTC interval [start, end) when both sessions are open on ``day``; None on
    Saturdays, Sundays, or if the sessions do not overlap."""
    if day.weekday() >= 5:
        return None
    ao, ac = a.bounds(day)
    bo, bc = b.bounds(day)
    start, end = max(ao, bo), min(ac, bc)
    return (start, end) if start < end else None


_DAY_NS = 86_400 * 10**9


class OverlapClock:
    """``active(wall_ns)`` in O(1): the window of the current UTC date is cached as ints."""

    def __init__(self, a: SessionHours = LONDON, b: SessionHours = NEW_YORK) -> None:
        self.a, self.b = a, b
        self._day = -1
        self._start = 0
        self._end = 0

    def active(self, wall_ns: int) -> bool:
        day = wall_ns // _DAY_NS
        if day != self._day:
            self._load(day)
        return self._start <= wall_ns < self._end

    def _load(self, day: int) -> None:
        d = date(1970, 1, 1) + timedelta(days=day)
        w = overlap_window(d, self.a, self.b)
        self._day = day
        if w is None:
            self._start = self._end = 0
        else:
            self._start = int(w[0].timestamp()) * 10**9
            self._end = int(w[1].timestamp()) * 10**9


# ---- signal --------------------------------------------------------------------------------------


class MeanReversion:
    """Rolling mean/std of the last ``window`` mids per pair, O(1) per update.

    The mids live in one preallocated float64 array [pairs, window]; element access goes
    through a memoryview of it (Python floats in and out, no numpy scalar per quote).
    """

    def __init__(self, n_pairs: int, window: int) -> None:
        if window < 2:
            raise FxScalperError(f"window must be >= 2, not {window}")
        self.window = window
        self.buf = np.zeros((n_pairs, window), dtype=np.float64)
        self._mv = memoryview(self.buf).cast("B").cast("d")  # flat view, Python floats
        self.count = [0] * n_pairs
        self.sum = [0.0] * n_pairs
        self.sumsq = [0.0] * n_pairs

    def update(self, p: int, x: float) -> float:
        """Add mid ``x`` of pair ``p``; returns its z-score (NaN until the window is full or
        while the window has no variance)."""
        w = self.window
        n = self.count[p]
        k = p * w + n % w
        mv = self._mv
        old = mv[k] if n >= w else 0.0
        mv[k] = x
        n += 1
        self.count[p] = n
        if n % w == 0:  # exact re-sum once per window: no drift (amortised O(1))
            row = self.buf[p]
            s = float(row.sum())
            ss = float(np.dot(row, row))
        else:
            s = self.sum[p] + x - old
            ss = self.sumsq[p] + x * x - old * old
        self.sum[p] = s
        self.sumsq[p] = ss
        if n < w:
            return math.nan
        mean = s / w
        var = ss / w - mean * mean
        if var <= 1e-18 * mean * mean:  # flat window, or float noise around zero variance
            return math.nan
        return (x - mean) / math.sqrt(var)


# ---- strategy ------------------------------------------------------------------------------------


class FxScalperConfig(BaseModel):
    """Parameters (``[fx]`` / ``[strategy.fx]`` of an IBKR run file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pairs: list[str] = Field(default_factory=lambda: ["EUR/USD", "GBP/USD"], min_length=1)
    window: int = Field(120, ge=2)
    entry_z: float = Field(2.0, gt=0)
    exit_z: float = Field(0.5, ge=0)
    order_qty: int = Field(20_000, ge=1)
    max_position: int = Field(100_000, ge=1)
    max_spread_bps: float = Field(3.0, gt=0)
    tick_size: Decimal = Field(Decimal("0.00001"), gt=0)
    price_increment_ticks: int = Field(5, ge=1)  # IDEALPRO: 0.00005
    london: tuple[str, str] = ("08:00", "16:00")
    new_york: tuple[str, str] = ("08:00", "17:00")


@dataclass(slots=True)
class FxIntent:
    """An order the scalper decided (and risk passed): hand it to the session."""

    event: int  # stage clock event
    pair: str
    side: Side
    qty: int
    price_ticks: int
    tick_size: Decimal
    client_id: str
    z: float
    mid: float
    recv_ns: int
    filled: int = 0

    @property
    def limit_price(self) -> Decimal:
        """The limit as an exact decimal on the price grid."""
        return self.price_ticks * self.tick_size


Sender = Callable[[FxIntent], None]


@dataclass
class FxScalper:
    """``on_quote`` -> ``FxIntent`` or None; fills and acks come back through the callbacks.

    ``risk``: a ``QuoteRisk`` over the pairs (default: ``fx_limits(pairs)``; the owner sets the
    balances from the account; the order manager applies the outcomes). ``sender``: called
    synchronously with each passing intent (the order manager's write); without one the caller
    sends and calls ``mark_sent``.
    """

    config: FxScalperConfig = field(default_factory=lambda: FxScalperConfig())
    risk: QuoteRisk | None = None
    sender: Sender | None = None
    clock: StageClock = field(default_factory=lambda: StageClock(STAGES, 65536))
    ids: ClientIdFactory = field(default_factory=ClientIdFactory)

    def __post_init__(self) -> None:
        cfg = self.config
        if cfg.exit_z >= cfg.entry_z:
            raise FxScalperError(f"exit_z {cfg.exit_z} must be below entry_z {cfg.entry_z}")
        if self.risk is None:
            self.risk = QuoteRisk(fx_limits(cfg.pairs, tick_size=cfg.tick_size))
        self._pair = {p: i for i, p in enumerate(cfg.pairs)}
        self._inst = [self.risk.inst(p) for p in cfg.pairs]
        self._books = [self.risk.books[i] for i in self._inst]
        self._live = [False] * len(cfg.pairs)
        self.signal = MeanReversion(len(cfg.pairs), cfg.window)
        self.window = OverlapClock(
            SessionHours(dtime.fromisoformat(cfg.london[0]), dtime.fromisoformat(cfg.london[1]),
                         "Europe/London"),
            SessionHours(dtime.fromisoformat(cfg.new_york[0]),
                         dtime.fromisoformat(cfg.new_york[1]), "America/New_York"),
        )
        self.position = [0] * len(cfg.pairs)
        self.pending: list[FxIntent | None] = [None] * len(cfg.pairs)
        self._by_id: dict[str, FxIntent] = {}
        self._inv_tick = 1.0 / float(cfg.tick_size)
        self.denied: dict[str, int] = {}
        self.quotes = 0
        self.intents = 0

    # ---- hot path ---------------------------------------------------------------------------

    def on_quote(self, pair: str, bid: float, ask: float, recv_ns: int,
                 wall_ns: int = 0) -> FxIntent | None:
        """One top-of-book quote. ``recv_ns``: monotonic receive time (stage 0);
        ``wall_ns``: wall-clock ns for the trading window (0 = now)."""
        ev = self.clock.start(recv_ns)
        self.quotes += 1
        try:
            p = self._pair[pair]
        except KeyError:
            raise FxScalperError(f"quote for {pair!r}, not one of {self.config.pairs}") from None
        if not (0.0 < bid <= ask) or ask - bid > ask * self.config.max_spread_bps * 1e-4:
            return None  # crossed, empty or too wide: not a usable mid (nor a sane fill)
        mid = (bid + ask) * 0.5
        z = self.signal.update(p, mid)
        if z != z or self.pending[p] is not None:
            return None
        if not self.window.active(wall_ns or time.time_ns()):
            return None
        cfg = self.config
        pos = self.position[p]
        if pos == 0:
            if z <= -cfg.entry_z:
                side, qty = BUY, cfg.order_qty
            elif z >= cfg.entry_z:
                side, qty = SELL, cfg.order_qty
            else:
                return None
        elif pos > 0:
            if z >= -cfg.exit_z:
                side, qty = SELL, pos
            elif z <= -cfg.entry_z and pos + cfg.order_qty <= cfg.max_position:
                side, qty = BUY, cfg.order_qty
            else:
                return None
        else:
            if z <= cfg.exit_z:
                side, qty = BUY, -pos
            elif z >= cfg.entry_z and -pos + cfg.order_qty <= cfg.max_position:
                side, qty = SELL, cfg.order_qty
            else:
                return None
        clock = self.clock
        clock.mark(ev, SIGNAL)
        # quote on the tick grid (bid down, ask up: never a better price than quoted)
        inv = self._inv_tick
        bt = math.floor(bid * inv + 1e-6)
        at = math.ceil(ask * inv - 1e-6)
        inc = cfg.price_increment_ticks
        px = -((-at) // inc) * inc if side == BUY else (bt // inc) * inc
        # risk: the quote becomes the reference book, then the engine's checks
        risk = self.risk
        assert risk is not None
        book = self._books[p]
        book.apply_snapshot(((bt / inv, 1e9),), ((at / inv, 1e9),), 0, 0, recv_ns)
        if not self._live[p]:
            book.state = 1
            self._live[p] = True
        cid = self.ids.make(self.ids.next_opportunity(), 0, 0)
        code = risk.check_fast(self._inst[p], side, qty, px, risk.engine_id(cid),
                               recv_ns if recv_ns else time.monotonic_ns())
        clock.mark(ev, RISK)
        if code != 0:
            name = REASON_NAMES[code]
            self.denied[name] = self.denied.get(name, 0) + 1
            return None
        intent = FxIntent(ev, pair, Side.BUY if side == BUY else Side.SELL, qty, px,
                          cfg.tick_size, cid, z, mid, recv_ns)
        self.pending[p] = intent
        self._by_id[cid] = intent
        self.intents += 1
        if self.sender is not None:
            try:
                self.sender(intent)
            except Exception:
                log.exception("%s: sending %s failed", pair, cid)
                self._release(intent)
                return None
            clock.mark(ev, SENT)
        return intent

    # ---- callbacks from the session -----------------------------------------------------------

    def mark_sent(self, intent: FxIntent, ts_ns: int = 0) -> None:
        """The caller wrote the order to the socket (when no ``sender`` is configured)."""
        self.clock.mark(intent.event, SENT, ts_ns)

    def on_ack(self, client_id: str, ts_ns: int = 0) -> None:
        """The venue acknowledged the order."""
        it = self._by_id.get(client_id)
        if it is not None:
            self.clock.mark(it.event, ACK, ts_ns)

    def on_fill(self, client_id: str, qty: int, price: Decimal | float | str,
                ts_ns: int = 0) -> None:
        """A fill of ``qty`` units: moves the strategy's position and stamps FILL (the risk
        engine is told by the order manager, once, when the order is final)."""
        it = self._by_id.get(client_id)
        if it is None:
            log.warning("fill for unknown FX order %s", client_id)
            return
        if qty <= 0 or it.filled + qty > it.qty:
            raise FxScalperError(f"{client_id}: fill {qty} past the order's {it.qty}")
        it.filled += qty
        p = self._pair[it.pair]
        self.position[p] += qty if it.side is Side.BUY else -qty
        self.clock.mark(it.event, FILL, ts_ns)
        if it.filled == it.qty:
            self._release(it)

    def on_done(self, client_id: str) -> None:
        """The order is final (filled, canceled, rejected): the pair may trade again."""
        it = self._by_id.get(client_id)
        if it is not None:
            self._release(it)

    def _release(self, it: FxIntent) -> None:
        p = self._pair[it.pair]
        if self.pending[p] is it:
            self.pending[p] = None
        self._by_id.pop(it.client_id, None)

    def in_flight(self) -> list[FxIntent]:
        """Orders sent and not final yet."""
        return list(self._by_id.values())
