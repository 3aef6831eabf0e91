"""``openclaw sim``: the simulators as a standalone process, driven by a real client."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from typing import Any

import pytest
from websockets.asyncio.client import connect


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "openclaw.cli", "sim", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _read_urls(proc: subprocess.Popen[str]) -> tuple[dict[str, Any], list[str]]:
    """Lines printed before (and including) the JSON line of URLs."""
    assert proc.stdout is not None
    lines = []
    for _ in range(10):
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("{"):
            return json.loads(line)["urls"], lines
    proc.kill()
    raise AssertionError(f"no URL line; stdout {lines}, stderr {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]


async def _one_depth_message(ws_url: str) -> list[dict[str, Any]]:
    """Subscribe to Bybit spot orderbook.50.BTCUSDT; return the snapshot and the first delta."""
    async with connect(ws_url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"],
                                  "req_id": "t1"}))
        got: list[dict[str, Any]] = []
        while len(got) < 2:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5.0))
            if msg.get("topic") == "orderbook.50.BTCUSDT":
                got.append(msg)
            else:
                assert msg.get("success") is True, msg
        return got


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sim_json_serves_depth_and_stops_cleanly(sig: signal.Signals) -> None:
    proc = _start("--json", "--rate", "50", "--seed", "3")
    try:
        urls, lines = _read_urls(proc)
        assert len(lines) == 1, "--json prints the URL line only"
        assert set(urls) == {"binance", "okx", "bybit"}
        snapshot, delta = asyncio.run(_one_depth_message(urls["bybit"]["ws_spot"]))
        assert snapshot["type"] == "snapshot" and len(snapshot["data"]["b"]) == 50
        assert delta["type"] == "delta"
        assert delta["data"]["u"] == snapshot["data"]["u"] + 1
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    assert out == ""


def test_sim_human_output_lists_every_venue_then_json() -> None:
    proc = _start("--paused", "--okx-checksum", "real")
    try:
        urls, lines = _read_urls(proc)
        assert [ln.split()[0] for ln in lines[:-1]] == ["binance", "okx", "bybit"]
        assert urls["okx"]["ws"] in lines[1]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_sim_rejects_a_bad_option() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "openclaw.cli", "sim", "--okx-checksum", "maybe"],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr
