"""A deliberately simple, plain-Python L2 order book: the oracle for the Cython ``OrderBook``.

Written from the text of ``docs/core-api.md`` only; it never imports ``openclaw``. Everything is
exact (``fractions.Fraction``): a side is a ``dict`` ticks -> lots, sorted on every read. Slow on
purpose; obviously right is the only goal.

Readings of the contract encoded here (where the text leaves room, the most natural one):

* String grammar: ``[+] (digits [. [digits]] | . digits) [(e|E) [+|-] digits]``, ASCII digits
  only, nothing else (no whitespace, ``_``, hex, trailing newline). ``bytes`` are decoded as ASCII
  and follow the same rules.
* Reasons, in the order they are checked: ``""`` -> ``empty``; a leading ``-`` followed by a
  number (or ``nan``/``inf``) -> ``negative``; ``nan``/``inf``/``infinity`` (any case, optional
  ``+``) -> ``nonfinite``; anything else outside the grammar -> ``syntax``; then, on the exact
  value: more than INT64_MAX units -> ``overflow``; not an integer number of units ->
  ``not_multiple``; a price of 0 units -> ``zero`` (a size of 0 is valid: it deletes).
* Floats: NaN/inf -> ``nonfinite``; ``x < 0`` -> ``negative``; ``r = x / unit`` computed exactly;
  ``r`` >= 2**63 -> ``overflow``; accepted as ``round(r)`` when ``|r - round(r)| <= 1e-6``
  (the tolerance is in units of the tick/lot), otherwise ``not_multiple``.
* Ints: exact; negative -> ``negative``.
* ``apply`` validates every level of both sides first (bids before asks, in order, price before
  size) and raises the first error; nothing changes on error.  Then, per side, the message is
  reduced to its net effect (the last level for a price wins), deletes and updates are applied,
  new levels are inserted, and if the side holds more than ``capacity`` levels the ones furthest
  from the top are dropped (``dropped`` += how many).  This is what "order within a message does
  not matter" means: the result (levels *and* ``dropped``) does not depend on the order of the
  levels in the message.  Deleting a price that is not in the book is a no-op.
* ``apply_snapshot`` replaces both sides with the net content of the message (size-0 levels are
  simply absent), trimmed to ``capacity`` the same way (the excess counts in ``dropped``).
* ``set_level(side, price, size)`` is a one-level ``apply`` on one side; side must be 0 or 1.
* ``clear()`` empties both sides (it leaves ``dropped``, ``seq``, ... alone here; the tests do not
  rely on what ``clear`` does to them).
* ``fill(side, qty)`` is read-only: it walks side 0 (bids, best = highest) or 1 (asks, best =
  lowest), taking ``min(remaining, level size)`` from each level; returns
  ``(filled, vwap, worst)``, ``vwap``/``worst`` ``None`` when nothing was filled. ``qty`` is
  converted like a size (``to_lots``).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

INT64_MAX = 2**63 - 1
FLOAT_TOLERANCE = Fraction(1, 10**6)  # in units of the tick / lot

REASONS = ("empty", "syntax", "negative", "nonfinite", "overflow", "not_multiple", "zero")

_NUMBER = re.compile(r"\+?(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?:[eE](?P<exp>[+-]?[0-9]+))?")
_NONFINITE = {"nan", "inf", "infinity"}
# exponents beyond this are decided without building 10**exp (ticks/lots of the tests are far
# inside +-1e300)
_EXP_LIMIT = 1000


class RefError(Exception):
    """Base of the reference's errors (mirrors ``openclaw.errors.BookError``)."""


class RefParseError(RefError):
    """Mirrors ``PriceParseError``."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        assert reason in REASONS, reason
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {field} {value!r}: {reason}")


class RefLevelFormatError(RefError):
    """Mirrors ``LevelFormatError``."""


class RefCapacityError(RefError):
    """Mirrors ``CapacityError``."""


# --------------------------------------------------------------------------------------------
# parsing


class _Huge:
    """An exact value too large to build (mantissa != 0, exponent > _EXP_LIMIT)."""


class _Tiny:
    """An exact positive value too small to build (mantissa != 0, exponent < -_EXP_LIMIT)."""


def _is_decimal_text(text: str) -> bool:
    m = _NUMBER.fullmatch(text)
    return bool(m) and bool((m.group("int") or "") + (m.group("frac") or ""))


def parse_text(text: str, field: str, original: object) -> Fraction | _Huge | _Tiny:
    """Exact non-negative value of a decimal string, or raise RefParseError."""
    if text == "":
        raise RefParseError(field, original, "empty")
    if text[0] == "-":
        rest = text[1:]
        if _is_decimal_text(rest) or rest.lstrip("+").lower() in _NONFINITE:
            raise RefParseError(field, original, "negative")
        raise RefParseError(field, original, "syntax")
    if text.lstrip("+").lower() in _NONFINITE and text.count("+") <= 1:
        raise RefParseError(field, original, "nonfinite")
    m = _NUMBER.fullmatch(text)
    if not m:
        raise RefParseError(field, original, "syntax")
    int_part = m.group("int") or ""
    frac_part = m.group("frac") or ""
    digits = (int_part + frac_part).lstrip("0")
    if not (int_part or frac_part):
        raise RefParseError(field, original, "syntax")
    exp = int(m.group("exp") or "0") - len(frac_part)
    if not digits:
        return Fraction(0)
    mantissa = int(digits)
    # value = mantissa * 10**exp; decide extreme exponents without building the power
    magnitude = len(digits) + exp  # value < 10**magnitude
    if exp > _EXP_LIMIT:
        return _Huge()
    if magnitude < -_EXP_LIMIT:
        return _Tiny()
    return mantissa * Fraction(10) ** exp


def to_units(x: Any, unit: Fraction, field: str, *, zero_ok: bool) -> int:
    """Exact number of ``unit`` in ``x`` (str, bytes, float, int), or raise RefParseError."""
    if isinstance(x, bool):
        raise TypeError("bool is not a price/size")
    if isinstance(x, (bytes, bytearray)):
        try:
            text = bytes(x).decode("ascii")
        except UnicodeDecodeError:
            raise RefParseError(field, x, "syntax") from None
        value = parse_text(text, field, x)
        return _exact_units(value, unit, field, x, zero_ok)
    if isinstance(x, str):
        return _exact_units(parse_text(x, field, x), unit, field, x, zero_ok)
    if isinstance(x, float):  # includes numpy.float64
        xf = float(x)
        if math.isnan(xf) or math.isinf(xf):
            raise RefParseError(field, x, "nonfinite")
        if xf < 0:
            raise RefParseError(field, x, "negative")
        r = Fraction(xf) / unit
        if r >= INT64_MAX + 1:
            raise RefParseError(field, x, "overflow")
        n = math.floor(r + Fraction(1, 2))
        if abs(r - n) > FLOAT_TOLERANCE:
            raise RefParseError(field, x, "not_multiple")
        if n > INT64_MAX:
            raise RefParseError(field, x, "overflow")
        if n == 0 and not zero_ok:
            raise RefParseError(field, x, "zero")
        return n
    if isinstance(x, int):  # includes numpy integers via __index__? keep it to real ints
        if x < 0:
            raise RefParseError(field, x, "negative")
        return _exact_units(Fraction(x), unit, field, x, zero_ok)
    raise TypeError(f"unsupported {field} type {type(x).__name__}")


def _exact_units(value, unit: Fraction, field: str, original: object, zero_ok: bool) -> int:
    if isinstance(value, _Huge):
        raise RefParseError(field, original, "overflow")
    if isinstance(value, _Tiny):
        raise RefParseError(field, original, "not_multiple")
    q = value / unit
    if q > INT64_MAX:
        raise RefParseError(field, original, "overflow")
    if q.denominator != 1:
        raise RefParseError(field, original, "not_multiple")
    if q == 0 and not zero_ok:
        raise RefParseError(field, original, "zero")
    return q.numerator


def parse_unit(text: str, field: str) -> Fraction:
    """A tick/lot size given to the constructor: a positive exact decimal."""
    if not isinstance(text, (str, bytes)):
        raise TypeError(f"{field} must be a decimal string")
    raw = text.decode("ascii") if isinstance(text, bytes) else text
    value = parse_text(raw, field, text)
    if isinstance(value, (_Huge, _Tiny)):
        raise RefParseError(field, text, "overflow")
    if value == 0:
        raise RefParseError(field, text, "zero")
    return value


# --------------------------------------------------------------------------------------------
# the book


def _is_ndarray(obj: object) -> bool:
    return type(obj).__module__ == "numpy" and type(obj).__name__ == "ndarray"


class RefBook:
    """Reference L2 book. All outputs are exact (ints for ticks/lots, Fractions for values)."""

    def __init__(self, tick_size: str, lot_size: str, capacity: int) -> None:
        self.tick = parse_unit(tick_size, "tick_size")
        self.lot = parse_unit(lot_size, "lot_size")
        if not isinstance(capacity, int) or capacity < 1:
            raise RefCapacityError(f"bad capacity {capacity!r}")
        self.tick_size = tick_size
        self.lot_size = lot_size
        self.capacity = capacity
        self.sides: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self.dropped = 0
        self.seq = 0
        self.exch_ts = 0
        self.recv_ts = 0

    # ---- conversions
    def to_ticks(self, price: Any) -> int:
        return to_units(price, self.tick, "price", zero_ok=False)

    def to_lots(self, size: Any) -> int:
        return to_units(size, self.lot, "size", zero_ok=True)

    # ---- validation
    def _validate_side(self, levels: Any) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        if _is_ndarray(levels):
            if levels.ndim != 2 or levels.shape[1] != 2:
                raise RefLevelFormatError(f"array of shape {levels.shape}")
            rows = [(float(p), float(s)) for p, s in levels.tolist()]
        else:
            if isinstance(levels, (str, bytes)):
                raise RefLevelFormatError("a side must be a sequence of levels")
            rows = list(levels)
        for level in rows:
            if isinstance(level, (str, bytes, bytearray)) or not hasattr(level, "__len__"):
                raise RefLevelFormatError(f"level {level!r}")
            if len(level) != 2:
                raise RefLevelFormatError(f"level {level!r}")
            price, size = level[0], level[1]
            ticks = self.to_ticks(price)
            lots = self.to_lots(size)
            out.append((ticks, lots))
        return out

    # ---- mutation
    @staticmethod
    def _best_first(side: int, prices) -> list[int]:
        return sorted(prices, reverse=(side == 0))

    def _trim(self, side: int) -> None:
        book = self.sides[side]
        excess = len(book) - self.capacity
        if excess > 0:
            for px in self._best_first(side, book)[self.capacity :]:
                del book[px]
            self.dropped += excess

    def _apply_side(self, side: int, levels: list[tuple[int, int]]) -> None:
        net: dict[int, int] = {}
        for ticks, lots in levels:
            net[ticks] = lots
        book = self.sides[side]
        for ticks, lots in net.items():  # deletes and updates cannot drop anything
            if lots == 0:
                book.pop(ticks, None)
            elif ticks in book:
                book[ticks] = lots
        for ticks, lots in net.items():  # then the new levels
            if lots != 0 and ticks not in book:
                book[ticks] = lots
        self._trim(side)

    def _stamp(self, seq: int, exch_ts: int, recv_ts: int) -> None:
        self.seq, self.exch_ts, self.recv_ts = seq, exch_ts, recv_ts

    def apply(self, bids, asks, seq: int = 0, exch_ts: int = 0, recv_ts: int = 0) -> None:
        vb = self._validate_side(bids)
        va = self._validate_side(asks)
        self._apply_side(0, vb)
        self._apply_side(1, va)
        self._stamp(seq, exch_ts, recv_ts)

    def apply_snapshot(self, bids, asks, seq: int = 0, exch_ts: int = 0, recv_ts: int = 0) -> None:
        vb = self._validate_side(bids)
        va = self._validate_side(asks)
        for side, levels in ((0, vb), (1, va)):
            self.sides[side].clear()
            self._apply_side(side, levels)
        self._stamp(seq, exch_ts, recv_ts)

    def set_level(self, side: int, price: Any, size: Any) -> None:
        if side not in (0, 1) or isinstance(side, bool):
            raise RefLevelFormatError(f"side {side!r}")
        ticks = self.to_ticks(price)
        lots = self.to_lots(size)
        self._apply_side(side, [(ticks, lots)])

    def clear(self) -> None:
        self.sides[0].clear()
        self.sides[1].clear()

    # ---- reads (exact)
    def levels(self, side: int) -> list[tuple[int, int]]:
        book = self.sides[side]
        return [(px, book[px]) for px in self._best_first(side, book)]

    def price(self, ticks: int) -> Fraction:
        return ticks * self.tick

    def size(self, lots: int) -> Fraction:
        return lots * self.lot

    def _best(self, side: int):
        lv = self.levels(side)
        if not lv:
            return None
        return (self.price(lv[0][0]), self.size(lv[0][1]))

    def best_bid(self):
        return self._best(0)

    def best_ask(self):
        return self._best(1)

    def top(self, n: int):
        """(bids, asks): lists of (price, size) Fractions, best first, at most n each."""
        return tuple(
            [(self.price(t), self.size(q)) for t, q in self.levels(side)[:n]] for side in (0, 1)
        )

    def top_ticks(self, n: int):
        b = self.levels(0)[:n]
        a = self.levels(1)[:n]
        return ([t for t, _ in b], [q for _, q in b], [t for t, _ in a], [q for _, q in a])

    def depth(self) -> tuple[int, int]:
        return (len(self.sides[0]), len(self.sides[1]))

    def mid(self):
        bb, ba = self.best_bid(), self.best_ask()
        if bb is None or ba is None:
            return None
        return (bb[0] + ba[0]) / 2

    def spread(self):
        bb, ba = self.best_bid(), self.best_ask()
        if bb is None or ba is None:
            return None
        return ba[0] - bb[0]

    def is_crossed(self) -> bool:
        bb, ba = self.best_bid(), self.best_ask()
        return bb is not None and ba is not None and bb[0] >= ba[0]

    def fill(self, side: int, qty: Any):
        """(filled, vwap, worst) exact; vwap/worst None when nothing is filled."""
        if side not in (0, 1):
            raise RefLevelFormatError(f"side {side!r}")
        want = self.to_lots(qty)
        filled = 0
        notional = 0
        worst = None
        for ticks, lots in self.levels(side):
            if filled >= want:
                break
            take = min(lots, want - filled)
            filled += take
            notional += take * ticks
            worst = ticks
        if filled == 0:
            return (Fraction(0), None, None)
        return (
            self.size(filled),
            Fraction(notional, filled) * self.tick,
            self.price(worst),
        )
