"""A plain reference of the bus's book message (docs/bus.md), written from the layout table
only; it never imports ``openclaw``. One ``struct`` call per field, levels as lists of pairs,
and a side as a ``dict`` price -> size."""

from __future__ import annotations

import struct

FIELDS = [("version", "B"), ("kind", "B"), ("state", "B"), ("flags", "B"), ("n_bids", "H"),
          ("n_asks", "H"), ("epoch", "q"), ("seq", "q"), ("venue_seq", "q"), ("exch_ts", "q"),
          ("recv_ts", "q"), ("pub_ts", "q")]
HEADER_SIZE = 56


def encode(msg: dict) -> bytes:
    """``msg``: the header fields by name (n_bids/n_asks, version, flags implied), ``bids``
    and ``asks`` as lists of (ticks, lots)."""
    values = dict(msg, version=1, flags=0, n_bids=len(msg["bids"]), n_asks=len(msg["asks"]))
    out = b"".join(struct.pack("<" + fmt, values[name]) for name, fmt in FIELDS)
    for px, qty in list(msg["bids"]) + list(msg["asks"]):
        out += struct.pack("<q", px) + struct.pack("<q", qty)
    return out


def decode(data: bytes) -> dict:
    """The fields of a message, levels as lists of (ticks, lots) tuples."""
    out: dict = {}
    off = 0
    for name, fmt in FIELDS:
        (out[name],) = struct.unpack_from("<" + fmt, data, off)
        off += struct.calcsize(fmt)
    assert off == HEADER_SIZE
    levels = []
    for _ in range(out["n_bids"] + out["n_asks"]):
        levels.append(struct.unpack_from("<qq", data, off))
        off += 16
    assert off == len(data)
    out["bids"], out["asks"] = levels[: out["n_bids"]], levels[out["n_bids"]:]
    return out


def apply_changes(side: dict[int, int], changes: list[tuple[int, int]]) -> dict[int, int]:
    """``side`` after ``changes`` (size 0 removes the price)."""
    out = dict(side)
    for px, qty in changes:
        if qty == 0:
            out.pop(px, None)
        else:
            out[px] = qty
    return out
