"""The intent log: an append-only, preallocated file of fixed-size records, one per order list.

The send path's durable record that an order list is about to be sent, written into a shared
memory mapping of the file (stores into the page cache: no system call, no GIL release; plus
one ``msync`` of its page with a FULL journal) instead of a SQLite transaction. The SQLite
rows of the legs are written afterwards by the journal's writer thread; once they are
committed the record is released (its state byte set to DONE). At open, every record still
LIVE whose legs SQLite lacks is restored to SQLite as a NEW order (possibly sent: recovery
queries it by client id at its venue). Layout (little-endian; docs/journal.md):

File header, ``RECORD_SIZE`` bytes at offset 0::

    0  8s  magic b"OCINTLOG"      8  u32 version (1)
    12 u32 record size (1024)     16 u32 slots

Record ``i`` at ``RECORD_SIZE * (1 + i)``::

    0  4s  magic b"OCIR"          4  u8  state (1 LIVE, 2 DONE; outside the CRC)
    5  u8  legs (1..MAX_LEGS)     6  u16 reserved
    8  u32 CRC-32 of bytes [12, 32 + 176 * legs)
    12 u64 sequence number        20 u64 written at (wall clock, ns)   28 u32 reserved
    32 + 176 * k: leg k          (LEG below)

Leg (176 bytes, strings ASCII, NUL-padded)::

    0 client id 32s   32 venue 16s   48 symbol 24s   72 side 8s   80 type 8s
    88 qty 32s (decimal text)   120 price 32s (empty: market)   152 opportunity id i64
    160 created_ns i64   168 leg i32   172 padding
"""

from __future__ import annotations

import mmap
import os
import struct
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openclaw.model.errors import JournalError
from openclaw.model.orders import Order, OrderType, Side

__all__ = [
    "DONE",
    "LIVE",
    "MAX_LEGS",
    "RECORD_SIZE",
    "IntentLog",
    "IntentLogError",
    "IntentLogFull",
    "IntentRecord",
]

MAGIC_FILE = b"OCINTLOG"
MAGIC_REC = b"OCIR"
VERSION = 1
RECORD_SIZE = 1024
HEAD = struct.Struct("<4sBBHIQQI")  # 32 bytes
LEG = struct.Struct("<32s16s24s8s8s32s32sqqi4x")  # 176 bytes
MAX_LEGS = (RECORD_SIZE - HEAD.size) // LEG.size  # 5
LIVE, DONE = 1, 2
_FILE_HEAD = struct.Struct("<8sIII")


class IntentLogError(JournalError):
    """An order list the intent log cannot hold (too many legs, a field too long): nothing
    written; the send path falls back to the SQLite-first write."""


class IntentLogFull(IntentLogError):
    """The next slot still holds a record SQLite has not taken yet: nothing written."""


@dataclass(frozen=True)
class IntentRecord:
    """A LIVE record found at open: its slot, sequence number and the legs as NEW orders."""

    slot: int
    seq: int
    orders: list[Order]


def _b(value: str, width: int, name: str) -> bytes:
    raw = value.encode("ascii")
    if len(raw) > width:
        raise IntentLogError(f"intent log: {name} {value!r} longer than {width} bytes")
    return raw


def _s(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("ascii")


class IntentLog:
    """One preallocated intent file; ``append`` on the loop thread, ``release`` once SQLite
    holds the rows. Not thread-safe: both are called from the journal's loop thread."""

    def __init__(self, path: Path, fd: int, slots: int, fsync: bool) -> None:
        """Use ``IntentLog.open``."""
        self.path = path
        self._fd = fd
        self.slots = slots
        self.fsync = fsync
        self._mm = mmap.mmap(fd, RECORD_SIZE * (1 + slots))
        for off in range(0, RECORD_SIZE * (1 + slots), mmap.PAGESIZE):
            self._mm[off] = self._mm[off]  # write-fault every page now, not on the send path
        self._live = bytearray(slots)  # 1: the slot holds a record not yet released
        self._head = 0
        self._seq = 1
        self.live_count = 0
        self.torn = 0  # records found at open with a bad CRC (never acted on)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, slots: int = 4096,
             fsync: bool = False) -> tuple[IntentLog, list[IntentRecord]]:
        """Open (creating and preallocating with zeros if needed) the log at ``path``; returns
        it and its LIVE records, oldest first. ``fsync``: ``msync`` after every append
        (power-loss safe; a FULL journal). An existing file keeps its own slot count."""
        p = Path(path)
        if slots < 2:
            raise JournalError(f"intent log needs at least 2 slots, not {slots}")
        fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                # real zeros, not a sparse file: an append then never allocates (no metadata
                # for fdatasync to write)
                zero = bytes(RECORD_SIZE * 64)
                total = RECORD_SIZE * (1 + slots)
                off = 0
                while off < total:
                    off += os.pwrite(fd, zero[: min(len(zero), total - off)], off)
                os.pwrite(fd, _FILE_HEAD.pack(MAGIC_FILE, VERSION, RECORD_SIZE, slots), 0)
                os.fsync(fd)
                _fsync_dir(p)
            head = os.pread(fd, _FILE_HEAD.size, 0)
            magic, version, rsize, nslots = _FILE_HEAD.unpack(head)
            if magic != MAGIC_FILE or version != VERSION or rsize != RECORD_SIZE:
                raise JournalError(f"{p}: not an intent log of version {VERSION}")
            if os.fstat(fd).st_size < RECORD_SIZE * (1 + nslots):
                raise JournalError(f"{p}: intent log truncated")
            log = cls(p, fd, nslots, fsync)
            records = log._scan()
        except BaseException:
            os.close(fd)
            raise
        return log, records

    def _scan(self) -> list[IntentRecord]:
        out: list[IntentRecord] = []
        last_seq, last_slot = 0, -1
        data = self._mm[RECORD_SIZE:]
        for slot in range(self.slots):
            off = slot * RECORD_SIZE
            magic, state, nlegs, _, crc, seq, _, _ = HEAD.unpack_from(data, off)
            if magic != MAGIC_REC or not 1 <= nlegs <= MAX_LEGS:
                continue
            end = off + HEAD.size + LEG.size * nlegs
            if zlib.crc32(data[off + 12:end]) != crc:
                self.torn += 1
                continue
            if seq > last_seq:
                last_seq, last_slot = seq, slot
            if state != LIVE:
                continue
            orders = [_leg_order(data, off + HEAD.size + LEG.size * k) for k in range(nlegs)]
            out.append(IntentRecord(slot, seq, orders))
            self._live[slot] = 1
            self.live_count += 1
        self._seq = last_seq + 1
        self._head = (last_slot + 1) % self.slots
        out.sort(key=lambda r: r.seq)
        return out

    def append(self, orders: Sequence[Order]) -> int:
        """Write one record holding ``orders`` (``msync`` of its page too with ``fsync``);
        returns its slot. ``IntentLogFull`` / ``IntentLogError``: nothing written."""
        n = len(orders)
        if not 1 <= n <= MAX_LEGS:
            raise IntentLogError(f"intent log: {n} legs (1..{MAX_LEGS} per record)")
        slot = self._head
        if self._live[slot]:
            raise IntentLogFull(f"intent log full: {self.live_count} records not yet in SQLite")
        # written straight into the shared mapping: a store into the page cache (kill -9
        # safe), no system call, no GIL release on the hot path; the header (with its CRC)
        # last, so a record cut short by a kill is never valid
        mm = self._mm
        pos = RECORD_SIZE * (1 + slot)
        pack = LEG.pack_into
        off = pos + HEAD.size
        for o in orders:
            price = o.price
            pack(mm, off,
                 _b(o.client_id, 32, "client id"), _b(o.venue, 16, "venue"),
                 _b(o.symbol, 24, "symbol"), o.side.value.encode(),
                 o.order_type.value.encode(), _b(str(o.qty), 32, "qty"),
                 b"" if price is None else _b(str(price), 32, "price"),
                 o.opportunity_id, o.created_ns, o.leg)
            off += LEG.size
        seq = self._seq
        wall = time.time_ns()
        body = struct.pack("<QQI", seq, wall, 0)
        crc = zlib.crc32(mm[pos + HEAD.size:off], zlib.crc32(body))
        HEAD.pack_into(mm, pos, MAGIC_REC, LIVE, n, 0, crc, seq, wall, 0)
        if self.fsync:
            page = pos - pos % mmap.PAGESIZE
            mm.flush(page, mmap.PAGESIZE)
        self._live[slot] = 1
        self.live_count += 1
        self._seq = seq + 1
        self._head = slot + 1 if slot + 1 < self.slots else 0
        return slot

    def release(self, slot: int) -> None:
        """Mark the record in ``slot`` DONE (SQLite holds its rows); its slot may be reused.
        Never synced: a DONE lost to a power cut only makes recovery find rows SQLite has."""
        if self._live[slot]:
            self._mm[RECORD_SIZE * (1 + slot) + 4] = DONE
            self._live[slot] = 0
            self.live_count -= 1

    def close(self) -> None:
        """Close the file (LIVE records stay for the next open)."""
        if self._fd >= 0:
            self._mm.close()
            os.close(self._fd)
            self._fd = -1


def _leg_order(data: bytes, off: int) -> Order:
    cid, venue, symbol, side, otype, qty, price, opp, created, leg = LEG.unpack_from(data, off)
    p = _s(price)
    o = Order(_s(cid), _s(venue), _s(symbol), Side(_s(side)), OrderType(_s(otype)),
              Decimal(_s(qty)), Decimal(p) if p else None, opp, leg)
    o.created_ns = o.updated_ns = created
    return o


def _fsync_dir(path: Path) -> None:
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
