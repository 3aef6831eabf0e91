"""Fuzzing the depth decoders and book syncs of every crypto venue with mutated real frames
(the repository's recordings, through ``openclaw-trading replay``'s path): no exception escapes
but the typed ``ReplayError``, and no LIVE book is crossed afterwards. Bounded examples (seconds);
the mutations: bytes flipped, a frame truncated, a frame duplicated, two frames swapped. It found
two untyped errors (a line that is not UTF-8, a damaged bookTicker line), now a ``ReplayError``
naming the file and a counted ``bookticker_malformed``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openclaw.feeds.replay import ReplayError
from openclaw.feeds.state import BookState
from openclaw.venues.registry import replay

DATA = Path(__file__).resolve().parents[1] / "data" / "venues"
RECORDINGS = {
    "binance": ["binance/binance_spot_depth_2021.ws", "binance/binance_spot_depth_2021.http"],
    "okx": ["okx/okx_books_BTC-USDT_2022.ws"],
    "bybit": ["bybit/bybit_orderbook200_2026.jsonl"],
}
HEAD = 400      # the first frames of each recording: enough for snapshots and updates

Mutation = tuple[str, int, int]
mutations = st.lists(st.tuples(st.sampled_from(["flip", "truncate", "duplicate", "swap"]),
                               st.integers(0, HEAD - 1), st.integers(0, 10_000)),
                     min_size=1, max_size=6)


def _mutate(lines: list[bytes], muts: list[Mutation]) -> list[bytes]:
    out = list(lines)
    for kind, i, k in muts:
        i %= len(out)
        line = out[i]
        if kind == "flip" and line:
            j = k % len(line)
            out[i] = line[:j] + bytes([line[j] ^ (1 + k % 255)]) + line[j + 1:]
        elif kind == "truncate" and len(line) > 2:
            out[i] = line[: 1 + k % (len(line) - 1)]
        elif kind == "duplicate":
            out.insert(i, line)
        elif kind == "swap" and i + 1 < len(out):
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


def _fuzz(venue: str, muts: list[Mutation]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for k, rel in enumerate(RECORDINGS[venue]):
            lines = (DATA / rel).read_bytes().splitlines(keepends=True)
            if k == 0:
                lines = _mutate(lines[:HEAD], muts)
            p = Path(tmp) / Path(rel).name
            p.write_bytes(b"".join(lines))
            paths.append(p)
        try:
            result = replay(venue, paths)
        except ReplayError:
            return      # the typed error (the file or line named): refused, nothing applied
        for sync in result.syncs:
            for book_id in sync.instruments:
                if sync.bookset.state(book_id) == BookState.LIVE:
                    assert not sync.bookset.book(book_id).is_crossed(), (venue, muts)


FUZZ = settings(max_examples=15, deadline=None, derandomize=True, report_multiple_bugs=False,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(mutations)
def test_binance_mutated_frames(muts: list[Mutation]) -> None:
    _fuzz("binance", muts)


@FUZZ
@given(mutations)
def test_okx_mutated_frames(muts: list[Mutation]) -> None:
    _fuzz("okx", muts)


@FUZZ
@given(mutations)
def test_bybit_mutated_frames(muts: list[Mutation]) -> None:
    _fuzz("bybit", muts)


def test_the_two_errors_fuzzing_found_are_typed_or_counted(tmp_path: Path) -> None:
    """A recording line that is not UTF-8 is a ``ReplayError`` naming the file; a damaged
    Binance bookTicker line is counted (``bookticker_malformed``) and the replay goes on."""
    lines = (DATA / RECORDINGS["binance"][0]).read_bytes().splitlines(keepends=True)[:HEAD]
    bad = tmp_path / "bad.ws"
    bad.write_bytes(b"".join(lines[:5] + [b"\xff\xfe\n"] + lines[5:]))
    with pytest.raises(ReplayError, match="bad.ws: not UTF-8"):
        replay("binance", [bad, DATA / RECORDINGS["binance"][1]])
    k = next(i for i, ln in enumerate(lines) if i and b"@bookTicker\"" in ln[:200])
    head, _, body = lines[k].partition(b": ")
    lines[k] = head + b": " + body[: len(body) // 2] + b"\n"       # the frame cut in half
    cut = tmp_path / "cut.ws"
    cut.write_bytes(b"".join(lines))
    got = replay("binance", [cut, DATA / RECORDINGS["binance"][1]]).as_dict()
    assert got["bookticker_malformed"] == 1, got
