"""The book message against the plain reference (tests/reference/refbuscodec.py)."""

import numpy as np
import pytest
import refbuscodec as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from openclaw.bus.codec import (
    DELTA,
    HEADER,
    HEARTBEAT,
    SNAPSHOT,
    CodecError,
    decode,
    encode,
    side_changes,
)

i64 = st.integers(-(2**63), 2**63 - 1)
level = st.tuples(st.integers(1, 2**62), st.integers(0, 2**62))
levels = st.lists(level, max_size=40)


def _arr(pairs: list[tuple[int, int]]) -> np.ndarray:
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from([DELTA, SNAPSHOT, HEARTBEAT]), state=st.integers(0, 3),
       epoch=i64, seq=i64, venue_seq=i64, exch_ts=i64, recv_ts=i64, pub_ts=i64,
       bids=levels, asks=levels)
def test_encode_equals_the_reference_and_decodes_back(kind, state, epoch, seq, venue_seq,
                                                     exch_ts, recv_ts, pub_ts, bids, asks):
    fields = {"kind": kind, "state": state, "epoch": epoch, "seq": seq, "venue_seq": venue_seq,
              "exch_ts": exch_ts, "recv_ts": recv_ts, "pub_ts": pub_ts}
    data = encode(kind, state, epoch, seq, venue_seq, exch_ts, recv_ts, pub_ts,
                  _arr(bids), _arr(asks))
    assert data == ref.encode({**fields, "bids": bids, "asks": asks})
    assert len(data) == HEADER.size + 16 * (len(bids) + len(asks)) == 56 + 16 * len(bids + asks)
    m = decode(data)
    got = {k: getattr(m, k) for k in fields}
    assert got == fields
    assert [tuple(x) for x in m.bids.tolist()] == bids
    assert [tuple(x) for x in m.asks.tolist()] == asks
    assert ref.decode(data)["bids"] == bids


side = st.dictionaries(st.integers(1, 10**9), st.integers(1, 10**9), max_size=60)


@settings(max_examples=150, deadline=None)
@given(old=side, new=side)
def test_side_changes_turn_the_old_side_into_the_new(old, new):
    ch = side_changes(_arr(sorted(old.items())), _arr(sorted(new.items(), reverse=True)))
    assert ref.apply_changes(old, [tuple(x) for x in ch.tolist()]) == new
    unchanged = {p for p in old if new.get(p) == old[p]}
    assert not unchanged & {p for p, _ in ch.tolist()}      # only what changed travels


def test_malformed_messages_are_refused():
    good = encode(DELTA, 1, 1, 1, 0, 0, 0, 0, _arr([(5, 1)]), _arr([]))
    with pytest.raises(CodecError, match="shorter"):
        decode(good[:10])
    with pytest.raises(CodecError, match="levels"):
        decode(good[:-1])
    with pytest.raises(CodecError, match="version"):
        decode(b"\x02" + good[1:])
