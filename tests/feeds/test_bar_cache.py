"""On-disk daily bars: atomic files, typed corruption errors, refetch, incremental update."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from openclaw.feeds.bar_cache import (
    BarCache,
    BarDataError,
    CachedBars,
    CloseMatrix,
    CorruptBarCacheError,
    DailyBars,
)

D0 = np.datetime64("2026-01-01")


def bars(symbol: str, n: int, start: int = 0, base: float = 100.0) -> DailyBars:
    d = D0 + np.arange(start, start + n)
    return DailyBars(symbol, d, base + np.arange(start, start + n, dtype=np.float64))


class Fetcher:
    """A BarFetcher over an in-memory history (the IBKR session in production)."""

    def __init__(self, history: dict[str, DailyBars]) -> None:
        self.history = history
        self.calls: list[tuple[str, int]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def fetch_daily_bars(self, symbol: str, days: int) -> DailyBars:
        self.calls.append((symbol, days))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.005)
        self.in_flight -= 1
        h = self.history[symbol]
        return DailyBars(symbol, h.dates[-days:], h.closes[-days:])


def test_daily_bars_validation() -> None:
    with pytest.raises(BarDataError, match="not a positive number"):
        DailyBars("A", D0 + np.arange(3), np.array([1.0, 0.0, 2.0]))
    with pytest.raises(BarDataError, match="not a positive number"):
        DailyBars("A", D0 + np.arange(2), np.array([1.0, np.nan]))
    with pytest.raises(BarDataError, match="increasing"):
        DailyBars("A", np.array([D0, D0]), np.array([1.0, 2.0]))
    with pytest.raises(BarDataError, match="differ"):
        DailyBars("A", D0 + np.arange(2), np.array([1.0]))
    m = bars("A", 5).merged(bars("A", 5, start=3, base=500))
    assert m.dates.size == 8 and m.closes[3] == 503.0 and m.closes[2] == 102.0


def test_store_load_round_trip_is_atomic(tmp_path: Path) -> None:
    cache = BarCache(tmp_path)
    b = bars("BRK B", 10)
    cache.store(b, date(2026, 1, 10))
    loaded = cache.load("BRK B")
    assert loaded is not None
    got, checked = loaded
    np.testing.assert_array_equal(got.dates, b.dates)
    np.testing.assert_array_equal(got.closes, b.closes)
    assert checked == date(2026, 1, 10)
    assert cache.load("MSFT") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BRK%20B.npz"]  # no temp files left


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "empty"])
def test_corrupt_files_raise_typed_errors(tmp_path: Path, damage: str) -> None:
    cache = BarCache(tmp_path)
    cache.store(bars("AAPL", 300), date(2026, 10, 27))
    p = cache.path("AAPL")
    raw = bytearray(p.read_bytes())
    if damage == "truncate":
        p.write_bytes(bytes(raw[: len(raw) // 2]))
    elif damage == "garbage":
        p.write_bytes(b"not a zip file at all")
    elif damage == "flip":
        k = raw.find(b"closes") + 200  # inside the closes array's data
        raw[k] ^= 0xFF
        p.write_bytes(bytes(raw))
    else:
        p.write_bytes(b"")
    with pytest.raises(CorruptBarCacheError) as e:
        cache.load("AAPL")
    assert e.value.path == p


def test_cached_bars_fetch_once_then_hit(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                         ) -> None:
    history = {s: bars(s, 300, base=10.0 * (i + 1)) for i, s in enumerate("ABCDEFGH")}
    history["NEW"] = bars("NEW", 40, start=260)
    fetcher = Fetcher(history)
    through = date(2026, 10, 27)  # D0 + 299 days
    cb = CachedBars(BarCache(tmp_path), fetcher, concurrency=3, through=lambda: through)
    syms = [*"ABCDEFGH", "NEW"]

    async def body() -> tuple[CloseMatrix, CloseMatrix]:
        m1 = await cb.daily_closes(syms, 253)
        m2 = await cb.daily_closes(syms, 253)
        return m1, m2

    m1, m2 = asyncio.run(body())
    assert len(fetcher.calls) == 9 and fetcher.max_in_flight <= 3
    assert m1.closes.shape == (9, 253)
    assert m1.dates[-1] == np.datetime64(through)
    np.testing.assert_array_equal(m1.closes[0], history["A"].closes[-253:])
    assert np.isnan(m1.closes[8, :213]).all() and not np.isnan(m1.closes[8, 213:]).any()
    np.testing.assert_array_equal(m1.closes, m2.closes)
    assert cb.stats.matrix_hits == 1

    # the matrix file is corrupt: rebuilt from the per-symbol files, logged, counted
    key = next(tmp_path.glob("matrix-*.bin"))
    key.write_bytes(b"junk")
    # and one symbol file too: refetched
    cb.cache.path("C").write_bytes(b"junk")
    with caplog.at_level(logging.WARNING, logger="openclaw.feeds.bar_cache"):
        m3 = asyncio.run(cb.daily_closes(syms, 253))
    np.testing.assert_array_equal(m3.closes, m1.closes)
    assert cb.stats.corrupt == 2
    assert fetcher.calls[9:] == [("C", 253)]
    assert sum("corrupt bar cache file" in r.message for r in caplog.records) == 2


def test_stale_symbols_are_updated_incrementally(tmp_path: Path) -> None:
    history = {"A": bars("A", 300)}
    fetcher = Fetcher(history)
    old = DailyBars("A", history["A"].dates[:-3], history["A"].closes[:-3])
    cache = BarCache(tmp_path)
    cache.store(old, old.last_date)
    through = history["A"].last_date
    cb = CachedBars(cache, fetcher, through=lambda: through)
    m = asyncio.run(cb.daily_closes(["A"], 253))
    assert len(fetcher.calls) == 1 and fetcher.calls[0][1] < 20  # only the recent sessions
    np.testing.assert_array_equal(m.closes[0], history["A"].closes[-253:])
    got, checked = cache.load("A")
    assert got.dates.size == 300 and checked == through


def test_close_matrix_alignment(tmp_path: Path) -> None:
    a = bars("A", 5)
    b = DailyBars("B", a.dates[[0, 2, 4]], np.array([1.0, 2.0, 3.0]))
    m = CloseMatrix.from_bars([a, b], 4)
    assert m.symbols == ("A", "B")
    np.testing.assert_array_equal(m.dates, a.dates[1:])
    np.testing.assert_array_equal(m.closes[1], [np.nan, 2.0, np.nan, 3.0])
    with pytest.raises(BarDataError):
        CloseMatrix(("A",), a.dates, np.ones((2, 5)))
    with pytest.raises(BarDataError, match="duplicate"):
        asyncio.run(CachedBars(BarCache(tmp_path), Fetcher({})).daily_closes(["A", "A"], 3))


@pytest.mark.parametrize("damage", ["truncate", "flip", "magic", "header", "bad_close"])
def test_corrupt_matrix_files_raise_typed_errors(tmp_path: Path, damage: str) -> None:
    cache = BarCache(tmp_path)
    m = CloseMatrix.from_bars([bars("A", 30), bars("B", 20, start=10)], 25)
    cache.store_matrix("k", m)
    back = cache.load_matrix("k")
    assert back is not None and back.symbols == ("A", "B")
    np.testing.assert_array_equal(back.closes, m.closes)
    np.testing.assert_array_equal(back.dates, m.dates)
    assert not back.closes.flags.writeable
    p = cache.matrix_path("k")
    raw = bytearray(p.read_bytes())
    if damage == "truncate":
        raw = raw[:-8]
    elif damage == "flip":
        raw[-3] ^= 0x01
    elif damage == "magic":
        raw[0:4] = b"NOPE"
    elif damage == "header":
        raw[10] = ord("}")
    else:  # a negative close with a matching CRC: written by something else than store_matrix
        import zlib

        hlen = int.from_bytes(raw[4:8], "little")
        body = bytearray(raw[8 + hlen:])
        body[-8:] = np.float64(-1.0).tobytes()
        head = raw[8:8 + hlen].decode().replace(
            str(zlib.crc32(bytes(raw[8 + hlen:]))), str(zlib.crc32(bytes(body))))
        raw = bytearray(raw[:4] + len(head).to_bytes(4, "little") + head.encode() + body)
    p.write_bytes(bytes(raw))
    with pytest.raises(CorruptBarCacheError) as e:
        cache.load_matrix("k")
    assert e.value.path == p
    assert cache.load_matrix("absent") is None
