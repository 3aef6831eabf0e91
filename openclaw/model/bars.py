"""Daily bars: the plain types a bar source hands to a strategy (no I/O).

``DailyBars`` (one symbol's closes, validated), ``CloseMatrix`` (a universe's closes on
one date axis), ``BarsProvider`` (what a strategy reads) and ``BarFetcher`` (what a broker
session implements). The on-disk cache is ``openclaw.feeds.bar_cache``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from openclaw.model.errors import OpenclawError

__all__ = ["BarDataError", "BarFetcher", "BarsProvider", "CloseMatrix", "DailyBars"]


class BarDataError(OpenclawError, ValueError):
    """Bars that cannot be used: names the symbol and what is wrong."""



@dataclass(frozen=True, slots=True)
class DailyBars:
    """Daily closes of one symbol, oldest first (dates strictly increasing, closes > 0)."""

    symbol: str
    dates: np.ndarray  # datetime64[D]
    closes: np.ndarray  # float64

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol:
            raise BarDataError(f"symbol must be a non-empty string, not {self.symbol!r}")
        d = np.asarray(self.dates).astype("datetime64[D]")
        c = np.asarray(self.closes, dtype=np.float64)
        if d.ndim != 1 or c.shape != d.shape:
            raise BarDataError(f"{self.symbol}: dates {d.shape} and closes {c.shape} differ")
        if d.size > 1 and not bool(np.all(d[1:] > d[:-1])):
            raise BarDataError(f"{self.symbol}: dates are not strictly increasing")
        bad = ~(np.isfinite(c) & (c > 0))
        if bad.any():
            k = int(np.argmax(bad))
            raise BarDataError(f"{self.symbol}: close {c[k]!r} on {d[k]} is not a positive number")
        object.__setattr__(self, "dates", d)
        object.__setattr__(self, "closes", c)

    @property
    def last_date(self) -> date | None:
        """The date of the last bar, or None if there is none."""
        return None if self.dates.size == 0 else self.dates[-1].astype(object)

    def merged(self, newer: DailyBars) -> DailyBars:
        """These bars with ``newer`` on top (a date in both takes the newer close)."""
        if newer.symbol != self.symbol:
            raise BarDataError(f"cannot merge {newer.symbol} into {self.symbol}")
        keep = ~np.isin(self.dates, newer.dates)
        dates = np.concatenate([self.dates[keep], newer.dates])
        closes = np.concatenate([self.closes[keep], newer.closes])
        order = np.argsort(dates, kind="stable")
        return DailyBars(self.symbol, dates[order], closes[order])


@dataclass(frozen=True, slots=True)
class CloseMatrix:
    """Closes of a universe on one date axis: ``closes[i, t]``, NaN where a symbol has no bar.

    A matrix read from the cache is read-only (a view of the file's bytes).
    """

    symbols: tuple[str, ...]
    dates: np.ndarray  # datetime64[D], increasing
    closes: np.ndarray  # float64 [len(symbols), len(dates)], C-contiguous

    def __post_init__(self) -> None:
        c = np.ascontiguousarray(self.closes, dtype=np.float64)
        if c.shape != (len(self.symbols), len(self.dates)):
            raise BarDataError(
                f"closes shape {c.shape} != ({len(self.symbols)} symbols, {len(self.dates)} days)"
            )
        object.__setattr__(self, "closes", c)

    @classmethod
    def from_bars(cls, bars: Sequence[DailyBars], days: int) -> CloseMatrix:
        """Align bars on the union of their last ``days`` dates (vectorised)."""
        if days < 1:
            raise BarDataError(f"days must be >= 1, not {days}")
        all_dates = np.unique(np.concatenate([b.dates for b in bars])) if bars else np.array(
            [], dtype="datetime64[D]"
        )
        axis = all_dates[-days:]
        out = np.full((len(bars), axis.size), np.nan)
        for i, b in enumerate(bars):
            if b.dates.size == 0 or axis.size == 0:
                continue
            sel = b.dates >= axis[0]
            pos = np.searchsorted(axis, b.dates[sel])
            out[i, pos] = b.closes[sel]
        return cls(tuple(b.symbol for b in bars), axis, out)


class BarsProvider(Protocol):
    """Where the momentum strategy gets its closes."""

    async def daily_closes(self, symbols: Sequence[str], days: int) -> CloseMatrix:
        """The last ``days`` daily closes of ``symbols`` (NaN where a symbol has no bar)."""
        ...


class BarFetcher(Protocol):
    """The network side (the IBKR session): fetches one symbol, within the pacing limits."""

    async def fetch_daily_bars(self, symbol: str, days: int) -> DailyBars:
        """At least the last ``days`` daily bars of ``symbol`` (fewer if it has less history)."""
        ...
