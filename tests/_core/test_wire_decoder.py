"""The venues' depth decoders (``venues/<venue>/depth.pyx`` on ``_core/wire``): their formats,
bad frames, the recordings, and the base class that decodes nothing by itself."""

from pathlib import Path

import orjson
import pytest

from openclaw import BookSet
from openclaw._core.wire import DepthDecoder
from openclaw.model.errors import MessageFormatError, PriceParseError
from openclaw.venues.binance.depth import BinanceDepthDecoder, apply_binance_depth
from openclaw.venues.bybit.depth import BybitDepthDecoder
from openclaw.venues.okx.depth import OkxDepthDecoder
from openclaw.venues.registry import KITS


def test_binance_combined_frame_routes_and_applies() -> None:
    bs = BookSet(2, 100)
    btc = bs.add("0.01", "0.00001")
    dec = BinanceDepthDecoder(bs)
    dec.register("BTCUSDT", btc)
    raw = (b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1700000000123,'
           b'"s":"BTCUSDT","U":10,"u":12,"b":[["65000.01000000","1.50000000"]],'
           b'"a":[["65000.02000000","0.25000000"],["65001.00000000","0.00000000"]]}}')
    assert dec.decode(raw) == 2
    assert (dec.book_id, dec.first_id, dec.last_id, dec.n_levels) == (btc, 10, 12, 3)
    assert dec.exch_ts == 1700000000123 * 1_000_000
    assert bs.book(btc).best_bid() is None      # nothing applied before commit
    dec.commit()
    assert bs.book(btc).best_bid() == (65000.01, 1.5)
    assert bs.book(btc).best_ask() == (65000.02, 0.25)
    assert bs.book(btc).seq == 12


def test_unknown_symbol_is_reported_not_applied() -> None:
    bs = BookSet(1, 10)
    bs.add("0.01", "0.001")
    dec = BinanceDepthDecoder(bs)
    kind = dec.decode(b'{"e":"depthUpdate","E":1,"s":"XYZ","U":1,"u":1,"b":[],"a":[]}')
    assert kind == 2 and dec.book_id == -1 and dec.symbol == b"XYZ"
    with pytest.raises(RuntimeError):
        dec.commit()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["1.00","1"]',
        b'{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[["1.00"]],"a":[]}',
        b'not json',
        b'{"e":"depthUpdate","s":"BTCUSDT","U":"x","u":2,"b":[],"a":[]}',
        b'{"e":"depthUpdate","s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]} trailing',
    ],
)
def test_malformed_frames_raise_typed_errors(raw: bytes) -> None:
    bs = BookSet(1, 10)
    b = bs.add("0.01", "0.001")
    dec = BinanceDepthDecoder(bs)
    dec.register("BTCUSDT", b)
    with pytest.raises(MessageFormatError):
        dec.decode(raw)


def test_bad_number_names_field_and_leaves_book() -> None:
    bs = BookSet(1, 10)
    b = bs.add("0.01", "0.001")
    bs.book(b).apply_snapshot([("1.00", "1")], [("1.01", "1")])
    dec = BybitDepthDecoder(bs)
    dec.register("BTCUSDT", b)
    raw = (b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT",'
           b'"b":[["1.00","0"]],"a":[["NaN","1"]],"u":5,"seq":9},"cts":1}')
    with pytest.raises(PriceParseError) as err:
        dec.decode(raw)
    assert err.value.field == "price" and err.value.reason == "nonfinite"
    assert bs.book(b).best_bid() == (1.0, 1.0)


def test_apply_binance_depth_one_book() -> None:
    from openclaw import OrderBook

    book = OrderBook("0.01", "0.00001")
    apply_binance_depth(book, b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":1,'
                              b'"b":[["10.00","1"]],"a":[["10.01","2"]]}')
    assert book.best_bid() == (10.0, 1.0) and book.best_ask() == (10.01, 2.0)


def _frames(path: Path) -> list[str]:
    out = []
    for line in path.read_text().splitlines():
        head, _, body = line.partition(": ")
        if not body or "<-" in head:
            continue
        out.append(body)
    return out


def test_okx_recording_checksums_all_match(venue_data: Path) -> None:
    path = venue_data / "okx" / "okx_books_BTC-USDT_2022.ws"
    bs = BookSet(1, 1000)
    b = bs.add("0.1", "0.00000001")
    dec = OkxDepthDecoder(bs)
    dec.register("BTC-USDT", b)
    checked = 0
    for raw in _frames(path):
        if '"channel":"books"' not in raw or dec.decode(raw) == 0 or dec.book_id < 0:
            continue
        dec.commit()
        assert dec.has_checksum
        assert dec.okx_checksum(b) == dec.checksum
        checked += 1
    assert checked == 98
    assert bs.book(b).depth() == (400, 400)


def test_binance_recording_matches_book_tickers(venue_data: Path) -> None:
    """REST snapshot + diffs per the documented sync; every bookTicker with a known u matches."""
    ws = _frames(venue_data / "binance" / "binance_spot_depth_2021.ws")
    http = _frames(venue_data / "binance" / "binance_spot_depth_2021.http")
    bs = BookSet(8, 5000)
    dec = BinanceDepthDecoder(bs)
    ids: dict[str, int] = {}
    last: dict[str, int] = {}
    http_text = (venue_data / "binance" / "binance_spot_depth_2021.http").read_text()
    head_lines = [ln for ln in http_text.splitlines() if ln]
    for line, body in zip(head_lines, http, strict=True):
        sym = line.split("symbol=")[1].split("&")[0]
        ids[sym] = bs.add("0.00000001", "0.00000001")
        dec.register(sym, ids[sym])
        dec.decode_snapshot(body.encode(), ids[sym])
        dec.commit()
        last[sym] = dec.last_id
    tickers: dict[tuple[str, int], dict] = {}
    matched = 0
    synced: set[str] = set()
    for raw in ws:
        msg = orjson.loads(raw)
        data = msg.get("data", msg)
        if data.get("e") == "depthUpdate":
            sym = data["s"]
            assert dec.decode(raw) == 2
            if dec.last_id <= last[sym] and sym not in synced:
                dec.discard()
                continue
            if sym not in synced:
                assert dec.first_id <= last[sym] + 1 <= dec.last_id
                synced.add(sym)
            else:
                assert dec.first_id == last[sym] + 1
            dec.commit()
            last[sym] = dec.last_id
            ticker = tickers.pop((sym, dec.last_id), None)
            if ticker is not None:     # a bookTicker stamped with this u arrived earlier
                book = bs.book(ids[sym])
                assert book.best_bid() == (float(ticker["b"]), float(ticker["B"]))
                assert book.best_ask() == (float(ticker["a"]), float(ticker["A"]))
                matched += 1
        elif "stream" in msg and msg["stream"].endswith("@bookTicker"):
            tickers[(data["s"], data["u"])] = data
    assert synced == set(ids)
    assert matched > 0


def test_the_base_decoder_decodes_no_venue() -> None:
    """``_core`` names no venue: the base class has no frame layout to fall back on."""
    bs = BookSet(1, 10)
    dec = DepthDecoder(bs, "nowhere")
    with pytest.raises(NotImplementedError):
        dec.decode(b'{"e":"depthUpdate","s":"X","U":1,"u":1,"b":[],"a":[]}')
    with pytest.raises(NotImplementedError):
        dec.decode_snapshot(b'{"lastUpdateId":1,"bids":[],"asks":[]}', bs.add("1", "1"))


@pytest.mark.parametrize("venue", sorted(KITS))
def test_every_venue_decoder_is_a_depth_decoder_named_after_it(venue: str) -> None:
    cls = KITS[venue].depth
    assert issubclass(cls, DepthDecoder) and cls.__module__ == f"openclaw.venues.{venue}.depth"
    assert KITS[venue].feed.replay_sync(BookSet(1, 10), None, category="spot",
                                        auto_units=("1", "1")).decoder.venue == venue
    bs = BookSet(1, 10)
    dec = cls(bs)
    assert dec.venue == venue
    with pytest.raises(MessageFormatError):
        dec.decode(b"not json")
