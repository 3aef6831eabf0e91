"""Client-side helpers for the simulator tests, written independently of ``openclaw.sim``.

Nothing here imports the simulators' book or checksum code: the tests rebuild books and verify
checksums the way a venue client would, so a bug is not mirrored on both sides.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import struct
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp
from websockets.asyncio.client import ClientConnection

from support.aio import deadline

T = TypeVar("T")


run = deadline(20.0)


async def recv_json(ws: ClientConnection, timeout: float = 3.0) -> Any:
    """Next text frame, decoded."""
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def recv_until(
    ws: ClientConnection, pred: Callable[[Any], bool], timeout: float = 3.0, limit: int = 10_000
) -> tuple[Any, list[Any]]:
    """Read frames until ``pred(msg)``; return (that message, every message read before it)."""
    seen: list[Any] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for _ in range(limit):
        msg = await recv_json(ws, max(0.01, deadline - loop.time()))
        if pred(msg):
            return msg, seen
        seen.append(msg)
    raise AssertionError(f"predicate never matched in {limit} messages")


async def drain(ws: ClientConnection, quiet: float = 0.15) -> list[str]:
    """Read raw frames until none arrives for ``quiet`` seconds."""
    out: list[str] = []
    while True:
        try:
            out.append(await asyncio.wait_for(ws.recv(), quiet))
        except TimeoutError:
            return out


async def get_json(url: str) -> tuple[int, Any]:
    """HTTP GET, JSON body."""
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, json.loads(await r.text())


async def post_json(url: str, body: Any = None) -> tuple[int, Any]:
    """HTTP POST with a JSON body, JSON reply."""
    async with aiohttp.ClientSession() as s, s.post(url, json=body or {}) as r:
        return r.status, json.loads(await r.text())


class PlainBook:
    """A client-side price-level book keyed by Decimal (independent of the simulator)."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.raw: dict[str, dict[Decimal, tuple[str, str]]] = {"bids": {}, "asks": {}}

    def load(self, bids: Iterable[list[str]], asks: Iterable[list[str]]) -> None:
        """Replace the book with a snapshot."""
        self.bids.clear()
        self.asks.clear()
        self.raw = {"bids": {}, "asks": {}}
        self.apply(bids, asks)

    def apply(self, bids: Iterable[list[str]], asks: Iterable[list[str]]) -> None:
        """Apply absolute level sizes; size 0 deletes (absent levels: no-op)."""
        for side, levels, name in ((self.bids, bids, "bids"), (self.asks, asks, "asks")):
            for level in levels:
                px, sz = Decimal(level[0]), Decimal(level[1])
                if sz == 0:
                    side.pop(px, None)
                    self.raw[name].pop(px, None)
                else:
                    side[px] = sz
                    self.raw[name][px] = (level[0], level[1])

    def sorted_bids(self) -> list[tuple[Decimal, Decimal]]:
        """Bids best first."""
        return sorted(self.bids.items(), reverse=True)

    def sorted_asks(self) -> list[tuple[Decimal, Decimal]]:
        """Asks best first."""
        return sorted(self.asks.items())

    def crossed(self) -> bool:
        """True if best bid >= best ask."""
        return bool(self.bids and self.asks and max(self.bids) >= min(self.asks))

    def truncate(self, depth: int) -> PlainBook:
        """A copy holding only the top ``depth`` levels a side."""
        out = PlainBook()
        out.bids = dict(self.sorted_bids()[:depth])
        out.asks = dict(self.sorted_asks()[:depth])
        return out


def as_decimal_levels(levels: Iterable[list[str]]) -> list[tuple[Decimal, Decimal]]:
    """[[px, sz], ...] strings -> Decimal pairs."""
    return [(Decimal(p[0]), Decimal(p[1])) for p in levels]


def assert_same_book(client: PlainBook, truth: dict[str, Any], depth: int | None = None) -> None:
    """Level-by-level comparison of a client book with ``GET /_sim/book`` output."""
    want_b = as_decimal_levels(truth["bids"])
    want_a = as_decimal_levels(truth["asks"])
    got_b, got_a = client.sorted_bids(), client.sorted_asks()
    if depth is not None:
        want_b, want_a, got_b, got_a = want_b[:depth], want_a[:depth], got_b[:depth], got_a[:depth]
    assert got_b == want_b, _first_mismatch(got_b, want_b, "bids")
    assert got_a == want_a, _first_mismatch(got_a, want_a, "asks")


def _first_mismatch(got: list[Any], want: list[Any], side: str) -> str:
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            return f"{side}[{i}]: client {g} != true {w}"
    return f"{side}: client has {len(got)} levels, truth {len(want)}"


def okx_crc_signed(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """OKX book checksum computed from the client's own book (docs/venues/okx.md §2.6).

    Written separately from the simulator: binascii + struct for the signed conversion.
    """
    pieces: list[str] = []
    for i in range(25):
        for side in (bids, asks):
            if i < len(side):
                pieces.extend(side[i])
    unsigned = binascii.crc32(":".join(pieces).encode("utf-8")) & 0xFFFFFFFF
    return struct.unpack("<i", struct.pack("<I", unsigned))[0]


def okx_book_crc(book: PlainBook) -> int:
    """CRC of a client book, using the strings as the venue sent them."""
    bids = [book.raw["bids"][p] for p, _ in book.sorted_bids()[:25]]
    asks = [book.raw["asks"][p] for p, _ in book.sorted_asks()[:25]]
    return okx_crc_signed(bids, asks)
