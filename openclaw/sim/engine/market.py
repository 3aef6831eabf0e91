"""Deterministic synthetic market for the venue simulators.

Plain Python on purpose: the simulators are an independent peer of openclaw's own book code
(``openclaw._core``), so a bug in one side is not mirrored in the other.

Model, per step (one step stands for one 100 ms push interval of the venues):

* a seeded log random walk for BTC/USDT and ETH/USDT; ETH/BTC follows their ratio times a small
  mean-reverting basis;
* every venue book (venue, category, symbol) is centred on the fair price times a small
  mean-reverting venue offset; rare "dislocations" push one venue's price away for a few seconds,
  which is what opens triangular arbitrage across venues (BTC/USDT, ETH/USDT, ETH/BTC);
* each book is a plain dict per side in integer ticks and lots with ``depth`` levels a side; the
  top follows the centre, levels are modified, inserted and cancelled, and the book never crosses.

``SyntheticMarket.step()`` returns the changed levels of every book (size 0 deletes), from which
the venue servers build their own messages.  Prices and sizes are rendered exactly as each venue
does (``Formatter``): Binance pads to 8 decimals, OKX and Bybit spot trim, Bybit linear keeps the
tick/lot decimals.
"""

from __future__ import annotations

import bisect
import math
import random
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

__all__ = [
    "BID",
    "ASK",
    "BookDiff",
    "BookKey",
    "DepthView",
    "Formatter",
    "InstrumentSpec",
    "MarketStep",
    "SimBook",
    "SymbolParams",
    "SyntheticMarket",
    "TriangleEdge",
    "default_instruments",
    "default_symbol_params",
    "normalize_symbol",
    "with_ticks",
]

BID = 0
ASK = 1

#: (venue, category, venue_symbol), e.g. ("bybit", "linear", "BTCUSDT").
BookKey = tuple[str, str, str]

PRICE_STYLES = ("fixed8", "trim", "fixed")


# --------------------------------------------------------------------------- formatting


def _parse_step(text: str) -> tuple[int, int, int]:
    """Split a positive decimal step into (mantissa, decimals, written decimals), exactly.

    "0.01" -> (1, 2, 2); "0.10" -> (1, 1, 2): the written decimals are what a venue that keeps
    the tick's decimals prints (Bybit linear writes "65114.20" with a 0.10 tick).
    """
    text = text.strip()
    if not text or text.startswith(("-", "+")) or "e" in text.lower():
        raise ValueError(f"bad tick/lot size {text!r}")
    if "." in text:
        int_part, written = text.split(".", 1)
    else:
        int_part, written = text, ""
    frac = written.rstrip("0")
    mantissa = int((int_part or "0") + frac)
    if mantissa <= 0:
        raise ValueError(f"tick/lot size must be positive: {text!r}")
    return mantissa, len(frac), len(written)


def _render(units: int, mantissa: int, decimals: int, style: str, written: int = 0) -> str:
    """Render ``units * mantissa * 10**-decimals`` as a decimal string in a venue style."""
    value = units * mantissa
    if decimals == 0:
        digits, frac = str(value), ""
    else:
        s = str(value).rjust(decimals + 1, "0")
        digits, frac = s[:-decimals], s[-decimals:]
    if style == "fixed8":
        if len(frac) > 8:
            raise ValueError("more than 8 decimals cannot be rendered Binance-style")
        return f"{digits}.{frac.ljust(8, '0')}"
    if style == "trim":
        frac = frac.rstrip("0")
        return f"{digits}.{frac}" if frac else digits
    if style == "fixed":
        frac = frac.ljust(written, "0")
        return f"{digits}.{frac}" if frac else digits
    raise ValueError(f"unknown number style {style!r}")


class Formatter:
    """Exact int <-> venue string conversion for one instrument (ticks and lots)."""

    __slots__ = (
        "_pm",
        "_pd",
        "_pw",
        "_sm",
        "_sd",
        "_sw",
        "price_style",
        "size_style",
        "_zero",
        "_cache",
    )

    def __init__(self, tick: str, lot: str, price_style: str, size_style: str) -> None:
        if price_style not in PRICE_STYLES or size_style not in PRICE_STYLES:
            raise ValueError(f"styles must be in {PRICE_STYLES}")
        self._pm, self._pd, self._pw = _parse_step(tick)
        self._sm, self._sd, self._sw = _parse_step(lot)
        self.price_style = price_style
        self.size_style = size_style
        self._zero = "0" if size_style == "fixed" else _render(0, self._sm, self._sd, size_style)
        self._cache: dict[int, str] = {}  # price strings repeat a lot; sizes rarely do

    def price(self, ticks: int) -> str:
        """Price string for an integer number of ticks."""
        text = self._cache.get(ticks)
        if text is None:
            if len(self._cache) > 200_000:
                self._cache.clear()
            text = self._cache[ticks] = _render(
                ticks, self._pm, self._pd, self.price_style, self._pw
            )
        return text

    def size(self, lots: int) -> str:
        """Size string for an integer number of lots ("0" style for a delete)."""
        if lots == 0:
            return self._zero
        return _render(lots, self._sm, self._sd, self.size_style, self._sw)

    def level(self, ticks: int, lots: int) -> list[str]:
        """One ``[price, size]`` pair as the venue writes it."""
        return [self.price(ticks), self.size(lots)]

    def levels(self, pairs: Iterable[tuple[int, int]]) -> list[list[str]]:
        """Many ``[price, size]`` pairs."""
        p, s = self.price, self.size
        return [[p(px), s(sz)] for px, sz in pairs]

    def tick_value(self) -> float:
        """The tick as a float (model use only, never for rendering)."""
        return self._pm / float(10**self._pd)

    def lot_value(self) -> float:
        """The lot as a float (model use only, never for rendering)."""
        return self._sm / float(10**self._sd)


# --------------------------------------------------------------------------- instruments


@dataclass(frozen=True)
class InstrumentSpec:
    """One tradable book on one venue: naming, tick/lot and number rendering."""

    venue: str  # "binance" | "okx" | "bybit"
    category: str  # "spot" | "linear"
    symbol: str  # canonical "BTC/USDT"
    venue_symbol: str  # "BTCUSDT" | "BTC-USDT"
    tick: str
    lot: str
    price_style: str
    size_style: str
    ghost_deletes: bool = True  # report levels born and cancelled inside one step as size 0

    @property
    def key(self) -> BookKey:
        """The book key (venue, category, venue_symbol)."""
        return (self.venue, self.category, self.venue_symbol)

    def formatter(self) -> Formatter:
        """A formatter for this instrument's prices and sizes."""
        return Formatter(self.tick, self.lot, self.price_style, self.size_style)


@dataclass(frozen=True)
class SymbolParams:
    """Market-model parameters of one canonical symbol (shared by every venue)."""

    symbol: str
    start_price: float
    vol_bps: float  # std dev of the fair log price per step, basis points
    spread_bps: float  # typical quoted spread; at least one tick is always used
    level_spacing_bps: float  # mean distance between resting levels
    size_median: float  # median resting size, base currency
    size_sigma: float = 1.1  # lognormal sigma of resting sizes


def default_symbol_params() -> dict[str, SymbolParams]:
    """BTC/USDT ~65000, ETH/USDT ~3400, ETH/BTC ~0.0523."""
    return {
        "BTC/USDT": SymbolParams("BTC/USDT", 65000.0, 0.35, 0.002, 0.02, 0.15),
        "ETH/USDT": SymbolParams("ETH/USDT", 3400.0, 0.45, 0.03, 0.05, 2.5),
        "ETH/BTC": SymbolParams("ETH/BTC", 3400.0 / 65000.0, 0.3, 1.0, 1.0, 3.0),
    }


def default_instruments() -> list[InstrumentSpec]:
    """Binance, OKX and Bybit (spot + linear) books with realistic tick/lot sizes.

    OKX quotes BTC-USDT with a 0.1 tick while Binance and Bybit use 0.01, so one symbol differs
    in tick between venues (the merge code must cope with that).
    """
    out: list[InstrumentSpec] = []
    base = {  # symbol: (tick, lot)
        "BTC/USDT": ("0.01", "0.00001"),
        "ETH/USDT": ("0.01", "0.0001"),
        "ETH/BTC": ("0.00001", "0.0001"),
    }
    for sym, (tick, lot) in base.items():
        b, q = sym.split("/")
        out.append(InstrumentSpec("binance", "spot", sym, b + q, tick, lot, "fixed8", "fixed8"))
    for sym, (tick, _lot) in base.items():
        b, q = sym.split("/")
        okx_tick = "0.1" if sym == "BTC/USDT" else tick
        okx_lot = "0.00000001" if sym == "BTC/USDT" else "0.000001"
        out.append(
            InstrumentSpec("okx", "spot", sym, f"{b}-{q}", okx_tick, okx_lot, "trim", "trim")
        )
    for sym, (tick, _lot) in base.items():
        b, q = sym.split("/")
        out.append(
            InstrumentSpec(
                "bybit", "spot", sym, b + q, tick, "0.000001", "trim", "trim", ghost_deletes=False
            )
        )
    for sym, tick, lot in (("BTC/USDT", "0.10", "0.001"), ("ETH/USDT", "0.01", "0.01")):
        b, q = sym.split("/")
        out.append(
            InstrumentSpec(
                "bybit", "linear", sym, b + q, tick, lot, "fixed", "fixed", ghost_deletes=False
            )
        )
    return out


def normalize_symbol(text: str) -> str:
    """Canonical form of a venue symbol: "btcusdt", "BTC-USDT", "BTC/USDT" -> "BTCUSDT".

    Used only for matching (fault targets, book queries), never on the wire.
    """
    return text.replace("-", "").replace("/", "").replace("_", "").upper()


# --------------------------------------------------------------------------- book


class SimBook:
    """A plain price-level book in integer ticks/lots with sorted price lists."""

    __slots__ = ("sides", "_px")

    def __init__(self) -> None:
        self.sides: tuple[dict[int, int], dict[int, int]] = ({}, {})
        # ascending price lists; best bid = _px[BID][-1], best ask = _px[ASK][0]
        self._px: tuple[list[int], list[int]] = ([], [])

    def set(self, side: int, price: int, size: int) -> None:
        """Set a level's size; 0 deletes (deleting an absent level is a no-op)."""
        levels, px = self.sides[side], self._px[side]
        if size > 0:
            if price not in levels:
                bisect.insort(px, price)
            levels[price] = size
        elif price in levels:
            del levels[price]
            del px[bisect.bisect_left(px, price)]

    def best(self, side: int) -> int | None:
        """Best price of a side, or None when empty."""
        px = self._px[side]
        if not px:
            return None
        return px[-1] if side == BID else px[0]

    def worst(self, side: int) -> int | None:
        """Price furthest from the top, or None when empty."""
        px = self._px[side]
        if not px:
            return None
        return px[0] if side == BID else px[-1]

    def count(self, side: int) -> int:
        """Number of levels on a side."""
        return len(self._px[side])

    def top_prices(self, side: int, n: int | None = None) -> list[int]:
        """Prices best first (all levels when n is None)."""
        px = self._px[side]
        if side == BID:
            sel = px if n is None else px[-n:] if n > 0 else []
            return sel[::-1]
        return list(px if n is None else px[: max(n, 0)])

    def top(self, side: int, n: int | None = None) -> list[tuple[int, int]]:
        """(price, size) pairs best first."""
        levels = self.sides[side]
        return [(p, levels[p]) for p in self.top_prices(side, n)]

    def price_at(self, side: int, index: int) -> int:
        """Price of the index-th level from the top (0 = best)."""
        px = self._px[side]
        return px[-1 - index] if side == BID else px[index]

    def is_crossed(self) -> bool:
        """True when best bid >= best ask."""
        b, a = self.best(BID), self.best(ASK)
        return b is not None and a is not None and b >= a

    def copy(self) -> SimBook:
        """An independent copy."""
        out = SimBook()
        out.sides[0].update(self.sides[0])
        out.sides[1].update(self.sides[1])
        out._px[0].extend(self._px[0])
        out._px[1].extend(self._px[1])
        return out


@dataclass
class BookDiff:
    """Changed levels of one book in one step: price ticks -> new size lots (0 = delete)."""

    key: BookKey
    spec: InstrumentSpec
    fmt: Formatter
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    updates: int = 0  # engine operations merged into this diff (>= number of changed levels)

    def side(self, side: int) -> dict[int, int]:
        """The changes of one side."""
        return self.bids if side == BID else self.asks

    def __bool__(self) -> bool:
        return bool(self.bids or self.asks)

    def bid_levels(self) -> list[list[str]]:
        """Changed bids as venue strings, best first."""
        return self.fmt.levels(sorted(self.bids.items(), reverse=True))

    def ask_levels(self) -> list[list[str]]:
        """Changed asks as venue strings, best first."""
        return self.fmt.levels(sorted(self.asks.items()))


@dataclass
class MarketStep:
    """Everything that changed in one market step.

    ``trade`` marks a change made between steps by the trading API (liquidity an order took,
    published at once); the clock's own steps have ``trade=False``.
    """

    index: int
    diffs: dict[BookKey, BookDiff]
    trade: bool = False


class DepthView:
    """The top ``depth`` levels of a book as a venue streams them (Bybit depth N, OKX 400).

    ``sync`` turns one step's raw changes into the changes of the windowed view: levels entering
    the window are sent, levels leaving it are deleted, changes outside it are not sent.
    """

    __slots__ = ("depth", "sides")

    def __init__(self, book: SimBook, depth: int) -> None:
        self.depth = depth
        self.sides: tuple[dict[int, int], dict[int, int]] = (
            dict(book.top(BID, depth)),
            dict(book.top(ASK, depth)),
        )

    def reset(self, book: SimBook) -> None:
        """Resynchronise the view with the book (after a snapshot)."""
        for side in (BID, ASK):
            self.sides[side].clear()
            self.sides[side].update(book.top(side, self.depth))

    def sync(
        self, book: SimBook, diff: BookDiff, keep_ghosts: bool = False
    ) -> tuple[dict[int, int], dict[int, int]]:
        """Apply a step to the view; return (bid changes, ask changes) of the view."""
        return (
            self._sync_side(book, BID, diff.bids, keep_ghosts),
            self._sync_side(book, ASK, diff.asks, keep_ghosts),
        )

    def _sync_side(
        self, book: SimBook, side: int, touched: dict[int, int], keep_ghosts: bool
    ) -> dict[int, int]:
        view = self.sides[side]
        levels = book.sides[side]
        whole = len(levels) <= self.depth
        top = levels.keys() if whole else set(book.top_prices(side, self.depth))
        out: dict[int, int] = {}
        for p in touched:
            if p in top:
                s = levels[p]
                if view.get(p) != s:
                    out[p] = s
            elif p in view:
                out[p] = 0
            elif keep_ghosts and p not in levels:
                bound = book.worst(side) if whole else book.price_at(side, self.depth - 1)
                if whole or bound is None or (p > bound if side == BID else p < bound):
                    out[p] = 0
        for p, s in out.items():
            if s:
                view[p] = s
            else:
                view.pop(p, None)
        if len(view) != len(top) or not whole:
            for p in top - view.keys():
                out[p] = view[p] = levels[p]
            for p in view.keys() - top:
                out[p] = 0
            for p in [p for p, s in out.items() if s == 0 and p in view]:
                del view[p]
        return out

    def top(self, side: int, n: int | None = None) -> list[tuple[int, int]]:
        """(price, size) pairs of the view, best first."""
        view = self.sides[side]
        ordered = sorted(view, reverse=(side == BID))
        if n is not None:
            ordered = ordered[:n]
        return [(p, view[p]) for p in ordered]


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class TriangleEdge:
    """Gross edge of one triangular cycle over (up to) three venues, before fees.

    ``direction`` "usdt>btc>eth>usdt": buy BTC/USDT on ``btc_venue``, buy ETH/BTC on
    ``ethbtc_venue``, sell ETH/USDT on ``eth_venue``; "usdt>eth>btc>usdt" is the reverse.
    """

    direction: str
    btc_venue: str
    ethbtc_venue: str
    eth_venue: str
    edge_bps: float


@dataclass
class _BookState:
    spec: InstrumentSpec
    fmt: Formatter
    book: SimBook
    rng: random.Random
    tick: float
    lot: float
    offset: float = 0.0  # mean-reverting log offset from fair
    shock: float = 0.0  # decaying dislocation
    gap_mean: float = 1.0
    spread_ticks: int = 1


def _seed_for(seed: int, *parts: str) -> int:
    """A stable per-book seed (Python's str hash is salted, so use CRC32)."""
    return (seed * 1_000_003 + zlib.crc32("|".join(parts).encode())) & 0xFFFFFFFFFFFF


class SyntheticMarket:
    """A deterministic multi-venue market: same seed and same step calls -> same books."""

    def __init__(
        self,
        seed: int = 1,
        *,
        depth: int = 250,
        instruments: Sequence[InstrumentSpec] | None = None,
        symbols: dict[str, SymbolParams] | None = None,
        changes_per_step: float = 4.0,
        dislocation_prob: float = 0.003,
        dislocation_bps: tuple[float, float] = (3.0, 8.0),
    ) -> None:
        if depth < 5:
            raise ValueError("depth must be >= 5")
        self.seed = seed
        self.depth = depth
        self.changes_per_step = changes_per_step
        self.dislocation_prob = dislocation_prob
        self.dislocation_bps = dislocation_bps
        self.params = dict(symbols or default_symbol_params())
        self.step_index = 0
        self._rng = random.Random(_seed_for(seed, "fair"))
        self._log_fair: dict[str, float] = {}
        for sym in ("BTC/USDT", "ETH/USDT"):
            if sym in self.params:
                self._log_fair[sym] = math.log(self.params[sym].start_price)
        self._basis = 0.0  # ETH/BTC vs ETH/USDT / BTC/USDT
        self._books: dict[BookKey, _BookState] = {}
        for spec in instruments or default_instruments():
            if spec.symbol not in self.params:
                raise ValueError(f"no SymbolParams for {spec.symbol}")
            if spec.key in self._books:
                raise ValueError(f"duplicate instrument {spec.key}")
            fmt = spec.formatter()
            st = _BookState(
                spec=spec,
                fmt=fmt,
                book=SimBook(),
                rng=random.Random(_seed_for(seed, *spec.key)),
                tick=fmt.tick_value(),
                lot=fmt.lot_value(),
            )
            p = self.params[spec.symbol]
            st.gap_mean = max(1.0, p.start_price * p.level_spacing_bps / 1e4 / st.tick)
            if spec.category == "linear":
                st.offset = 0.5e-4  # a small perpetual premium
            self._books[spec.key] = st
            self._build(st)

    # ---- queries ---------------------------------------------------------------------

    @property
    def keys(self) -> list[BookKey]:
        """All book keys."""
        return list(self._books)

    def spec(self, key: BookKey) -> InstrumentSpec:
        """The instrument of a book."""
        return self._books[key].spec

    def formatter(self, key: BookKey) -> Formatter:
        """The formatter of a book."""
        return self._books[key].fmt

    def book(self, key: BookKey) -> SimBook:
        """The live book (treat as read-only)."""
        return self._books[key].book

    def instruments(self, venue: str, category: str | None = None) -> list[InstrumentSpec]:
        """Instruments of one venue (optionally one category)."""
        return [
            st.spec
            for st in self._books.values()
            if st.spec.venue == venue and (category is None or st.spec.category == category)
        ]

    def find(self, venue: str, symbol: str, category: str | None = None) -> InstrumentSpec | None:
        """Look an instrument up by any spelling of its symbol ("BTC-USDT", "btcusdt", ...)."""
        want = normalize_symbol(symbol)
        for spec in self.instruments(venue, category):
            if normalize_symbol(spec.venue_symbol) == want or normalize_symbol(spec.symbol) == want:
                return spec
        return None

    def fair_price(self, symbol: str) -> float:
        """Current fair (venue-independent) price of a canonical symbol."""
        if symbol == "ETH/BTC":
            return math.exp(self._log_fair["ETH/USDT"] - self._log_fair["BTC/USDT"] + self._basis)
        return math.exp(self._log_fair[symbol])

    def triangular_edges(self, min_edge_bps: float = -math.inf) -> list[TriangleEdge]:
        """Gross edges of every BTC/USDT, ETH/BTC, ETH/USDT cycle over spot books, best first."""
        tops: dict[str, list[tuple[str, float, float]]] = {}
        for st in self._books.values():
            if st.spec.category != "spot":
                continue
            b, a = st.book.best(BID), st.book.best(ASK)
            if b is None or a is None:
                continue
            tops.setdefault(st.spec.symbol, []).append((st.spec.venue, b * st.tick, a * st.tick))
        out: list[TriangleEdge] = []
        for vb, btc_bid, btc_ask in tops.get("BTC/USDT", []):
            for vx, x_bid, x_ask in tops.get("ETH/BTC", []):
                for ve, eth_bid, eth_ask in tops.get("ETH/USDT", []):
                    fwd = (eth_bid / (btc_ask * x_ask) - 1.0) * 1e4
                    rev = (x_bid * btc_bid / eth_ask - 1.0) * 1e4
                    if fwd >= min_edge_bps:
                        out.append(TriangleEdge("usdt>btc>eth>usdt", vb, vx, ve, fwd))
                    if rev >= min_edge_bps:
                        out.append(TriangleEdge("usdt>eth>btc>usdt", vb, vx, ve, rev))
        out.sort(key=lambda e: -e.edge_bps)
        return out

    # ---- control ---------------------------------------------------------------------

    def dislocate(self, venue: str, symbol: str, bps: float, category: str = "spot") -> None:
        """Push one venue's price for a symbol away from fair by ``bps`` (decays over ~3 s)."""
        spec = self.find(venue, symbol, category)
        if spec is None:
            raise KeyError(f"unknown instrument {venue}/{category}/{symbol}")
        self._books[spec.key].shock += bps / 1e4

    def step(self) -> MarketStep:
        """Advance every book by one step and return what changed."""
        self.step_index += 1
        rng = self._rng
        for sym, x in self._log_fair.items():
            p = self.params[sym]
            x0 = math.log(p.start_price)
            self._log_fair[sym] = x - 1e-4 * (x - x0) + rng.gauss(0.0, p.vol_bps / 1e4)
        if "ETH/BTC" in self.params:
            self._basis = 0.97 * self._basis + rng.gauss(0.0, self.params["ETH/BTC"].vol_bps / 1e4)
        if self._books and rng.random() < self.dislocation_prob:
            st = rng.choice(list(self._books.values()))
            lo, hi = self.dislocation_bps
            st.shock += rng.choice((-1.0, 1.0)) * rng.uniform(lo, hi) / 1e4
        diffs: dict[BookKey, BookDiff] = {}
        for key, st in self._books.items():
            diff = self._evolve(st)
            if diff:
                diffs[key] = diff
        return MarketStep(self.step_index, diffs)

    def run(self, n: int) -> Iterator[MarketStep]:
        """Run n steps (a generator)."""
        for _ in range(n):
            yield self.step()

    # ---- internals -------------------------------------------------------------------

    def _center_ticks(self, st: _BookState) -> float:
        base = 0.0 if st.spec.category != "linear" else 0.5e-4
        st.offset = base + 0.95 * (st.offset - base) + st.rng.gauss(0.0, 0.15e-4)
        st.shock *= 0.97
        if abs(st.shock) < 1e-7:
            st.shock = 0.0
        price = self.fair_price(st.spec.symbol) * math.exp(st.offset + st.shock)
        return price / st.tick

    def _targets(self, st: _BookState) -> tuple[int, int]:
        p = self.params[st.spec.symbol]
        center = self._center_ticks(st)
        spread = max(1, round(center * p.spread_bps / 1e4))
        r = st.rng.random()
        spread += 0 if r < 0.75 else 1 if r < 0.95 else 2
        bid = math.floor(center - spread / 2.0)
        return bid, bid + spread

    def _size(self, st: _BookState, near_top: bool = False) -> int:
        p = self.params[st.spec.symbol]
        size = p.size_median * math.exp(st.rng.gauss(0.0, p.size_sigma))
        if near_top:
            size *= 1.5
        return max(1, round(size / st.lot))

    def _gap(self, st: _BookState) -> int:
        mean = st.gap_mean
        if mean <= 1.0:
            return 1
        # geometric with the given mean (>= 1)
        u = st.rng.random()
        return 1 + int(math.log(1.0 - u) / math.log(1.0 - 1.0 / mean))

    def _build(self, st: _BookState) -> None:
        bid, ask = self._targets(st)
        book = st.book
        px = bid
        for _ in range(self.depth):
            if px <= 0:
                break
            book.set(BID, px, self._size(st))
            px -= self._gap(st)
        px = ask
        for _ in range(self.depth):
            book.set(ASK, px, self._size(st))
            px += self._gap(st)

    def _evolve(self, st: _BookState) -> BookDiff:
        book, rng = st.book, st.rng
        diff = BookDiff(st.spec.key, st.spec, st.fmt)
        start: tuple[dict[int, int], dict[int, int]] = ({}, {})  # sizes before first touch
        ops = 0

        def put(side: int, price: int, size: int) -> None:
            nonlocal ops
            levels = book.sides[side]
            if price not in start[side]:
                start[side][price] = levels.get(price, 0)
            book.set(side, price, size)
            ops += 1

        nb, na = self._targets(st)
        # 1. the top follows the centre: levels the new quote crosses are taken out
        while (b := book.best(BID)) is not None and b >= na:
            put(BID, b, 0)
        while (a := book.best(ASK)) is not None and a <= nb:
            put(ASK, a, 0)
        if (b := book.best(BID)) is None or b < nb:
            if nb > 0:
                put(BID, nb, self._size(st, near_top=True))
        if (a := book.best(ASK)) is None or a > na:
            put(ASK, na, self._size(st, near_top=True))

        # 2. random activity, biased to the top of the book
        n_changes = _poisson(rng, self.changes_per_step)
        for _ in range(n_changes):
            side = BID if rng.random() < 0.5 else ASK
            count = book.count(side)
            if count == 0:
                continue
            idx = min(count - 1, int(rng.expovariate(1.0 / 12.0)))
            r = rng.random()
            price = book.price_at(side, idx)
            if r < 0.55:  # modify
                put(side, price, self._size(st, near_top=idx < 3))
            elif r < 0.75 and count > 1:  # cancel (keep at least one level)
                put(side, price, 0)
            else:  # new level near this one, never through the other side
                step = self._gap(st)
                new = price - step if side == BID else price + step
                if rng.random() < 0.5 and idx > 0:
                    new = price + max(1, step // 2) if side == BID else price - max(1, step // 2)
                other = book.best(ASK if side == BID else BID)
                through = other is not None and (new >= other if side == BID else new <= other)
                if new <= 0 or through:
                    continue
                size = self._size(st)
                put(side, new, size)
                if rng.random() < 0.08:  # a flash order: born and cancelled in the same step
                    put(side, new, 0)

        # 3. keep the book about ``depth`` levels a side
        for side in (BID, ASK):
            while book.count(side) > self.depth:
                w = book.worst(side)
                assert w is not None
                put(side, w, 0)
            guard = 0
            while book.count(side) < self.depth and guard < 4 * self.depth:
                guard += 1
                w = book.worst(side)
                if w is None:
                    break
                new = w - self._gap(st) if side == BID else w + self._gap(st)
                if new <= 0:
                    break
                put(side, new, self._size(st))

        if book.is_crossed():  # pragma: no cover - construction prevents it
            raise AssertionError(f"{st.spec.key} crossed")

        # 4. net changes against the book as it was before the step
        for side in (BID, ASK):
            out = diff.side(side)
            levels = book.sides[side]
            for price, before in start[side].items():
                now = levels.get(price, 0)
                if now != before:
                    out[price] = now
                elif before == 0 and st.spec.ghost_deletes:
                    out[price] = 0  # born and killed within the step: venues still say "0"
        diff.updates = max(ops, len(diff.bids) + len(diff.asks))
        return diff


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth; lam is small)."""
    threshold, k, prod = math.exp(-lam), 0, rng.random()
    while prod > threshold:
        k += 1
        prod *= rng.random()
    return k


def with_ticks(
    specs: Sequence[InstrumentSpec],
    overrides: dict[tuple[str, str, str], tuple[str, str]],
) -> list[InstrumentSpec]:
    """Copy of ``specs`` with (tick, lot) replaced for the given (venue, category, symbol)."""
    out = []
    for s in specs:
        t = overrides.get((s.venue, s.category, s.symbol))
        out.append(replace(s, tick=t[0], lot=t[1]) if t else s)
    return out
