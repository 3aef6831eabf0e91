"""Daily bars cached on disk, so a weekly scan of 500 stocks does not refetch years of history.

Layout under ``root``: one ``<symbol>.npz`` per symbol (dates as int64 days since 1970-01-01,
float64 closes, and ``checked_through``: the last session the symbol was fetched for, so a stock
without a bar that day (halted) is not refetched at every call), plus ``matrix-<key>.bin``: the
assembled close matrix of one (universe, days, last session), which makes a repeated scan one
file read (about a millisecond for 500 x 253).

Writes are atomic (temporary file in the same directory, fsync, ``os.replace``), so a crash
leaves the old file or the new one. A file that cannot be read back exactly (truncated, bad zip
CRC, wrong arrays, dates not increasing, a non-positive close) raises ``CorruptBarCacheError``;
``CachedBars`` then logs it, counts it, deletes the file and refetches: never a silent fallback.

``CachedBars`` is the ``BarsProvider`` the momentum strategy reads; the network side is a
``BarFetcher`` (the IBKR session, which owns the pacing rules); at most ``concurrency`` fetches
run at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from openclaw.model.bars import BarDataError, BarFetcher, BarsProvider, CloseMatrix, DailyBars
from openclaw.model.errors import OpenclawError

__all__ = [
    "BarCache",
    "BarDataError",
    "BarFetcher",
    "BarsProvider",
    "CachedBars",
    "CloseMatrix",
    "CorruptBarCacheError",
    "DailyBars",
    "last_completed_session",
]

log = logging.getLogger("openclaw.feeds.bar_cache")

_EPOCH = np.datetime64("1970-01-01", "D")
_SAFE = re.compile(r"[A-Za-z0-9._-]")
_FORMAT = 1
_MAGIC = b"OCMX"


class CorruptBarCacheError(OpenclawError):
    """A cache file that cannot be read back exactly; the caller refetches."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"corrupt bar cache file {path}: {reason}")


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def last_completed_session(now: datetime | None = None, calendar: str = "XNYS") -> date:
    """The last session of ``calendar`` whose close is at or before ``now`` (default: now)."""
    from openclaw.schedule import exchange_calendar

    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    cal = exchange_calendar(calendar, now.date() - timedelta(days=30), now.date())
    sessions = cal.sessions[cal.sessions <= np.datetime64(now.date(), "D")]
    for s in sessions[::-1]:
        if cal.session_close(s).to_pydatetime() <= now:
            return s.date()
    raise BarDataError(f"no completed {calendar} session in the 30 days before {now}")


def _safe_name(symbol: str) -> str:
    return "".join(c if _SAFE.fullmatch(c) else f"%{ord(c):02X}" for c in symbol)


def _atomic_write(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    with contextlib.suppress(OSError):  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _npz_bytes(**arrays: Any) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _read_npz(path: Path, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Every array of the file, fully read (zip CRCs checked); corrupt -> typed error."""
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                raise CorruptBarCacheError(path, f"missing arrays {missing}")
            return {k: z[k] for k in keys}
    except CorruptBarCacheError:
        raise
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise CorruptBarCacheError(path, f"{type(e).__name__}: {e}") from None


class BarCache:
    """The files: per-symbol bars and assembled matrices (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, symbol: str) -> Path:
        return self.root / f"{_safe_name(symbol)}.npz"

    def load(self, symbol: str) -> tuple[DailyBars, date] | None:
        """(bars, checked_through) of a symbol, None if not cached; corrupt -> typed error."""
        p = self.path(symbol)
        try:
            z = _read_npz(p, ("format", "symbol", "dates", "closes", "checked_through"))
        except FileNotFoundError:
            return None
        try:
            if int(z["format"]) != _FORMAT or str(z["symbol"]) != symbol:
                raise CorruptBarCacheError(p, f"format {z['format']} / symbol {z['symbol']}")
            if z["dates"].dtype != np.int64 or z["closes"].dtype != np.float64:
                raise CorruptBarCacheError(p, "unexpected array types")
            bars = DailyBars(symbol, _EPOCH + z["dates"], z["closes"])
            checked = (_EPOCH + np.int64(z["checked_through"])).astype(object)
        except BarDataError as e:
            raise CorruptBarCacheError(p, str(e)) from None
        except (TypeError, ValueError) as e:
            raise CorruptBarCacheError(p, f"{type(e).__name__}: {e}") from None
        return bars, checked

    def store(self, bars: DailyBars, checked_through: date) -> None:
        """Write a symbol's bars atomically."""
        payload = _npz_bytes(
            format=np.int64(_FORMAT),
            symbol=np.str_(bars.symbol),
            dates=(bars.dates - _EPOCH).astype(np.int64),
            closes=bars.closes,
            checked_through=np.int64(_days(checked_through)),
        )
        _atomic_write(self.path(bars.symbol), payload)

    def discard(self, symbol: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(symbol).unlink()

    @staticmethod
    def matrix_key(symbols: Sequence[str], days: int, through: date) -> str:
        h = hashlib.blake2b("\x00".join(symbols).encode(), digest_size=8).hexdigest()
        return f"{h}-{days}-{through.isoformat()}"

    def matrix_path(self, key: str) -> Path:
        return self.root / f"matrix-{key}.bin"

    def load_matrix(self, key: str) -> CloseMatrix | None:
        """An assembled matrix, None if absent; corrupt -> typed error.

        Format: ``OCMX`` magic, header length (u32), JSON header (symbols, days, CRC-32 of the
        data), then int64 dates and float64 closes, raw: one read, one CRC, zero-copy arrays
        (a zip member is several times slower to read back).
        """
        p = self.matrix_path(key)
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise CorruptBarCacheError(p, f"{type(e).__name__}: {e}") from None
        if len(raw) < 8 or raw[:4] != _MAGIC:
            raise CorruptBarCacheError(p, "not a matrix file (bad magic)")
        hlen = int.from_bytes(raw[4:8], "little")
        try:
            head = orjson.loads(raw[8 : 8 + hlen])
            symbols = tuple(str(x) for x in head["symbols"])
            days, crc, fmt = int(head["days"]), int(head["crc32"]), int(head["format"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise CorruptBarCacheError(p, f"bad header: {e}") from None
        body = memoryview(raw)[8 + hlen :]
        want = 8 * days * (1 + len(symbols))
        if fmt != _FORMAT or len(body) != want:
            raise CorruptBarCacheError(p, f"format {fmt}, {len(body)} data bytes, want {want}")
        if zlib.crc32(body) != crc:
            raise CorruptBarCacheError(p, "CRC-32 mismatch")
        dates = _EPOCH + np.frombuffer(body, dtype="<i8", count=days)
        closes = np.frombuffer(body, dtype="<f8", offset=8 * days).reshape(len(symbols), days)
        ok = np.isnan(closes) | ((closes > 0) & (closes < np.inf))
        if not ok.all():
            raise CorruptBarCacheError(p, "a close is not a positive number")
        try:
            return CloseMatrix(symbols, dates, closes)
        except BarDataError as e:
            raise CorruptBarCacheError(p, str(e)) from None

    def store_matrix(self, key: str, m: CloseMatrix) -> None:
        """Write an assembled matrix atomically (format in ``load_matrix``)."""
        body = (np.ascontiguousarray((m.dates - _EPOCH).astype("<i8")).tobytes()
                + np.ascontiguousarray(m.closes, dtype="<f8").tobytes())
        head = orjson.dumps({"format": _FORMAT, "symbols": list(m.symbols),
                             "days": int(m.dates.size), "crc32": zlib.crc32(body)})
        _atomic_write(self.matrix_path(key), _MAGIC + len(head).to_bytes(4, "little") + head
                      + body)

    def discard_matrix(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.matrix_path(key).unlink()


@dataclass
class CacheStats:
    """What ``CachedBars`` did (for logs and tests)."""

    hits: int = 0
    fetched: int = 0
    corrupt: int = 0
    matrix_hits: int = 0


@dataclass
class CachedBars:
    """A ``BarsProvider``: the cache first, the fetcher for what is missing or stale.

    ``through`` gives the last session whose bar must be present (default: the last completed
    XNYS session now). A symbol is fresh when it was fetched for that session or later.
    Blocking file I/O runs in a worker thread, never on the event loop.
    """

    cache: BarCache
    fetcher: BarFetcher
    concurrency: int = 4
    through: Callable[[], date] = field(default=last_completed_session)
    stats: CacheStats = field(default_factory=CacheStats)

    async def daily_closes(self, symbols: Sequence[str], days: int) -> CloseMatrix:
        """The last ``days`` closes of ``symbols``, fetching only what the cache lacks."""
        syms = tuple(symbols)
        if len(set(syms)) != len(syms):
            raise BarDataError("duplicate symbols in the universe")
        if days < 1:
            raise BarDataError(f"days must be >= 1, not {days}")

        def first_look() -> tuple[date, str, CloseMatrix | None]:
            through = self.through()
            key = BarCache.matrix_key(syms, days, through)
            return through, key, self.cache.load_matrix(key)

        try:
            through, key, m = await asyncio.to_thread(first_look)
        except CorruptBarCacheError as e:
            through = await asyncio.to_thread(self.through)
            key = BarCache.matrix_key(syms, days, through)
            self.stats.corrupt += 1
            log.warning("%s: rebuilding it", e)
            await asyncio.to_thread(self.cache.discard_matrix, key)
            m = None
        if m is not None:
            self.stats.matrix_hits += 1
            return m
        sem = asyncio.Semaphore(max(1, self.concurrency))
        bars = await asyncio.gather(*(self._one(s, days, through, sem) for s in syms))
        m = CloseMatrix.from_bars(bars, days)
        await asyncio.to_thread(self.cache.store_matrix, key, m)
        return m

    async def _one(
        self, symbol: str, days: int, through: date, sem: asyncio.Semaphore
    ) -> DailyBars:
        try:
            cached = await asyncio.to_thread(self.cache.load, symbol)
        except CorruptBarCacheError as e:
            self.stats.corrupt += 1
            log.warning("%s: refetching %s", e, symbol)
            await asyncio.to_thread(self.cache.discard, symbol)
            cached = None
        if cached is not None:
            bars, checked = cached
            if checked >= through and bars.dates.size >= min(days, 1):
                self.stats.hits += 1
                return bars
        want = days
        if cached is not None and cached[0].dates.size >= days and cached[0].last_date:
            # only the sessions since the last cached bar (+ a margin), merged on top
            gap = int(np.busday_count(cached[0].last_date, through)) + 5
            want = min(days, max(gap, 5))
        async with sem:
            fresh = await self.fetcher.fetch_daily_bars(symbol, want)
        if not isinstance(fresh, DailyBars) or fresh.symbol != symbol:
            raise BarDataError(f"fetcher returned {fresh!r} for {symbol}")
        self.stats.fetched += 1
        bars = cached[0].merged(fresh) if cached is not None else fresh
        await asyncio.to_thread(self.cache.store, bars, through)
        return bars
