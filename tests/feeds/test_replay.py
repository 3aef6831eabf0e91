"""Replay of the shared recordings through the live sync code, and of damaged copies."""

import gzip
import json
import zipfile
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from openclaw.cli import app
from openclaw.feeds.replay import ReplayError
from openclaw.venues.registry import replay


def _clean(result: dict) -> None:
    assert result["checksum_failed"] == 0
    assert result["gaps"] == 0
    assert result["crossed"] == 0
    assert result["parse_errors"] == 0
    assert all(b["state"] == "LIVE" for b in result["books"].values())


def test_binance_recording(venue_data: Path) -> None:
    d = venue_data / "binance"
    r = replay("binance", [d / "binance_spot_depth_2021.ws", d / "binance_spot_depth_2021.http"])
    out = r.as_dict()
    _clean(out)
    assert set(out["books"]) == {"NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"}
    assert out["bookticker_checked"] > 0 and out["bookticker_mismatched"] == 0
    assert out["depth_messages"] == 177


def test_okx_recording_checksums(venue_data: Path) -> None:
    out = replay("okx", [venue_data / "okx" / "okx_books_BTC-USDT_2022.ws"]).as_dict()
    _clean(out)
    assert out["checksum_ok"] == 98
    assert out["books"]["BTC-USDT"]["levels"] == [400, 400]


def test_bybit_recording_keys_by_category(venue_data: Path) -> None:
    out = replay("bybit", [venue_data / "bybit" / "bybit_orderbook200_2026.jsonl"]).as_dict()
    _clean(out)
    assert set(out["books"]) == {
        "spot:BTCUSDT", "spot:ETHUSDT", "linear:BTCUSDT", "linear:ETHUSDT",
        "linear:SOLUSDT", "linear:DOGEUSDT",
    }
    assert all(b["levels"] == [200, 200] for b in out["books"].values())
    assert out["depth_messages"] == 2148
    # spot and linear BTCUSDT are different books
    assert out["books"]["spot:BTCUSDT"]["best_bid"] != out["books"]["linear:BTCUSDT"]["best_bid"]


def _bybit_raw_lines(venue_data: Path, topic: str, conn_addr: str) -> list[str]:
    conns, lines = {}, []
    for line in (venue_data / "bybit" / "bybit_orderbook200_2026.jsonl").read_text().splitlines():
        rec = orjson.loads(line)
        if rec["t"] == "connect":
            conns[rec["conn"]] = rec["addr"]
        elif rec["t"] == "recv" and conns.get(rec["conn"], "").endswith(conn_addr):
            if f'"topic":"{topic}"' in rec["data"]:
                lines.append(rec["data"])
    return lines


def test_raw_lines_gz_and_zip_agree(venue_data: Path, tmp_path: Path) -> None:
    lines = _bybit_raw_lines(venue_data, "orderbook.200.BTCUSDT", "/linear")
    plain = tmp_path / "dump.txt"
    plain.write_text("\n".join(lines) + "\n")
    gz = tmp_path / "dump.txt.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    zp = tmp_path / "dump.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.write(plain, "dump.txt")
    outs = [replay("bybit", [p], category="linear").as_dict() for p in (plain, gz, zp)]
    for out in outs:
        _clean(out)
        assert list(out["books"]) == ["linear:BTCUSDT"]
    assert outs[0]["books"] == outs[1]["books"] == outs[2]["books"]
    full = replay("bybit", [venue_data / "bybit" / "bybit_orderbook200_2026.jsonl"]).as_dict()
    assert outs[0]["books"]["linear:BTCUSDT"] == full["books"]["linear:BTCUSDT"]


def test_dropped_delta_is_a_gap_and_a_resync(venue_data: Path, tmp_path: Path) -> None:
    lines = _bybit_raw_lines(venue_data, "orderbook.200.ETHUSDT", "/spot")
    del lines[10]                                # lose one delta
    damaged = tmp_path / "gap.txt"
    damaged.write_text("\n".join(lines))
    out = replay("bybit", [damaged], category="spot").as_dict()
    assert out["gaps"] == 1 and out["resyncs"] == 1
    # a recording cannot answer the resubscription: the book stays distrusted, not LIVE
    assert out["books"]["spot:ETHUSDT"]["state"] == "RESYNCING"


def test_malformed_line_is_counted_and_skipped(venue_data: Path, tmp_path: Path) -> None:
    lines = _bybit_raw_lines(venue_data, "orderbook.200.ETHUSDT", "/spot")
    lines.insert(5, '{"topic":"orderbook.200.ETHUSDT","type":"delta","data":{"s":"ETHUSDT",')
    damaged = tmp_path / "bad.txt"
    damaged.write_text("\n".join(lines))
    out = replay("bybit", [damaged], category="spot").as_dict()
    assert out["parse_errors"] == 1
    assert out["gaps"] == 0 and out["books"]["spot:ETHUSDT"]["state"] == "LIVE"


def test_okx_corrupted_size_fails_checksum(venue_data: Path, tmp_path: Path) -> None:
    src = (venue_data / "okx" / "okx_books_BTC-USDT_2022.ws").read_text().splitlines()
    idx = next(i for i, ln in enumerate(src) if '"action":"update"' in ln)
    head, body = src[idx].split(": ", 1)
    msg = json.loads(body)
    level = (msg["data"][0]["bids"] or msg["data"][0]["asks"])[0]
    level[1] = "12345"           # a size the checksum does not cover
    src[idx] = head + ": " + json.dumps(msg, separators=(",", ":"))
    damaged = tmp_path / "okx.ws"
    damaged.write_text("\n".join(src))
    out = replay("okx", [damaged]).as_dict()
    assert out["checksum_failed"] == 1
    assert out["resyncs"] >= 1


def test_cli_json_contract(venue_data: Path) -> None:
    res = CliRunner().invoke(
        app, ["replay", "okx", str(venue_data / "okx" / "okx_books_BTC-USDT_2022.ws"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in ("messages", "books", "checksum_ok", "checksum_failed", "gaps", "resyncs",
                "crossed", "parse_errors"):
        assert key in out
    book = out["books"]["BTC-USDT"]
    assert set(book) >= {"best_bid", "best_ask", "levels", "state"}


def test_unknown_venue_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReplayError):
        replay("kraken", [tmp_path])
    with pytest.raises(ReplayError):
        replay("okx", [tmp_path / "nope.ws"])
