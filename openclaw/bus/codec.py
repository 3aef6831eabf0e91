"""The book message on the bus: a fixed 56-byte header and int64 (ticks, lots) levels.

Layout (little-endian, docs/bus.md)::

    off size field
      0    1 version (1)
      1    1 kind: 0 delta, 1 snapshot, 2 heartbeat
      2    1 the publisher's book state (BookState)
      3    1 flags (0)
      4    2 n_bids (u16)
      6    2 n_asks (u16)
      8    8 epoch: the publisher's start (wall-clock ns); a new publisher, a new epoch
     16    8 seq: per book, +1 per delta; a snapshot or heartbeat carries the last one
     24    8 the venue's sequence id of the book
     32    8 the venue's timestamp (ns)
     40    8 the feed's receive time (CLOCK_MONOTONIC ns)
     48    8 publish time (CLOCK_MONOTONIC ns)
     56   16 per level: price in ticks (i64), size in lots (i64; 0 removes); bids then asks

No JSON, no float: the subscriber hands the two level arrays to ``OrderBook.apply_ticks``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openclaw.model.errors import OpenclawError

__all__ = ["DELTA", "HEADER", "HEARTBEAT", "LEVEL", "SNAPSHOT", "VERSION", "BookMessage",
           "CodecError", "decode", "encode", "side_changes"]

VERSION = 1
DELTA, SNAPSHOT, HEARTBEAT = 0, 1, 2
HEADER = struct.Struct("<BBBBHHqqqqqq")
LEVEL = np.dtype("<i8")
_EMPTY = np.zeros((0, 2), dtype=np.int64)
MAX_LEVELS = 0xFFFF

Levels = npt.NDArray[np.int64]


class CodecError(OpenclawError):
    """A book message that is not one (short, wrong version, wrong length)."""


@dataclass(slots=True)
class BookMessage:
    """One decoded book message; ``bids``/``asks`` are (k, 2) int64 views of the payload."""

    kind: int
    state: int
    epoch: int
    seq: int
    venue_seq: int
    exch_ts: int
    recv_ts: int
    pub_ts: int
    bids: Levels
    asks: Levels


def encode(kind: int, state: int, epoch: int, seq: int, venue_seq: int, exch_ts: int,
           recv_ts: int, pub_ts: int, bids: Levels = _EMPTY, asks: Levels = _EMPTY) -> bytes:
    """One message; ``bids``/``asks``: (k, 2) int64 arrays of (ticks, lots)."""
    nb, na = len(bids), len(asks)
    if nb > MAX_LEVELS or na > MAX_LEVELS:
        raise CodecError(f"too many levels for one message: {nb} bids, {na} asks")
    head = HEADER.pack(VERSION, kind, state, 0, nb, na, epoch, seq, venue_seq, exch_ts,
                       recv_ts, pub_ts)
    if not nb and not na:
        return head
    return b"".join((head, np.ascontiguousarray(bids, dtype=LEVEL).tobytes(),
                     np.ascontiguousarray(asks, dtype=LEVEL).tobytes()))


def decode(data: bytes) -> BookMessage:
    """The message in ``data`` (levels are read-only views, no copy)."""
    if len(data) < HEADER.size:
        raise CodecError(f"book message of {len(data)} bytes, shorter than its header")
    (version, kind, state, _flags, nb, na, epoch, seq, vseq, exch_ts, recv_ts,
     pub_ts) = HEADER.unpack_from(data)
    if version != VERSION:
        raise CodecError(f"book message version {version}, expected {VERSION}")
    if len(data) != HEADER.size + 16 * (nb + na):
        raise CodecError(f"book message of {len(data)} bytes for {nb}+{na} levels")
    if nb + na:
        lv = np.frombuffer(data, dtype=LEVEL, offset=HEADER.size).reshape(-1, 2)
        bids, asks = lv[:nb], lv[nb:]
    else:
        bids = asks = _EMPTY
    return BookMessage(kind, state, epoch, seq, vseq, exch_ts, recv_ts, pub_ts, bids, asks)


def side_changes(old: Levels, new: Levels) -> Levels:
    """What turns side ``old`` into side ``new`` (both (k, 2) of distinct prices): the levels
    of ``new`` that differ from ``old``, then the prices only ``old`` has, with size 0."""
    if not len(old):
        return new
    if not len(new):
        gone = old.copy()
        gone[:, 1] = 0
        return gone
    order = np.argsort(old[:, 0], kind="stable")
    op, oq = old[order, 0], old[order, 1]
    i = np.minimum(np.searchsorted(op, new[:, 0]), len(op) - 1)
    same = (op[i] == new[:, 0]) & (oq[i] == new[:, 1])
    changed = new[~same]
    np_sorted = np.sort(new[:, 0])
    j = np.minimum(np.searchsorted(np_sorted, op), len(np_sorted) - 1)
    gone_px = op[np_sorted[j] != op]
    if not len(gone_px):
        return changed
    gone = np.zeros((len(gone_px), 2), dtype=np.int64)
    gone[:, 0] = gone_px
    return np.concatenate((changed, gone))
