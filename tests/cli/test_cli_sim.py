"""``openclaw-trading sim``: the simulators as a standalone process, driven by a real client."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
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
        assert set(urls) == {"binance", "okx", "bybit", "tws", "telegram"}
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
        assert [ln.split()[0] for ln in lines[:-1]] == [
            "binance", "okx", "bybit", "tws", "telegram"]
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


def test_sim_selection_port_and_credentials() -> None:
    """``openclaw-trading sim okx --port P --key K --secret S --passphrase X``: only OKX, on port P,
    accepting K/S/X and refusing the default test key (OKX's 50113-family auth errors)."""
    import ccxt.async_support as ccxt_async  # noqa: F401  (ccxt is a test dependency)
    from support.ccxtclient import make_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = _start("okx", "--port", str(port), "--key", "k-cli", "--secret", "s-cli",
                  "--passphrase", "p-cli", "--json")
    try:
        urls, _ = _read_urls(proc)
        assert set(urls) == {"okx"}
        assert urls["okx"]["rest"] == f"http://127.0.0.1:{port}"

        async def balances() -> tuple[Any, str]:
            good = make_client("okx", urls["okx"]["rest"], api_key="k-cli", secret="s-cli",
                               password="p-cli")
            bad = make_client("okx", urls["okx"]["rest"])  # the default test credentials
            try:
                bal = await good.fetch_balance()
                try:
                    await bad.fetch_balance()
                    refused = ""
                except Exception as e:  # noqa: BLE001 - the class is checked below
                    refused = type(e).__name__
                return bal, refused
            finally:
                await good.close()
                await bad.close()

        bal, refused = asyncio.run(balances())
        assert bal["total"]["USDT"] > 0
        assert refused in {"AuthenticationError", "PermissionDenied"}, refused
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_sim_tws_and_telegram_serve_real_clients() -> None:
    """``openclaw-trading sim tws telegram``: ib_async connects to the gateway; the Bot API fake
    answers sendMessage for the test token."""
    import aiohttp
    from ib_async import IB

    proc = _start("tws", "telegram", "--universe", "20", "--json")
    try:
        urls, _ = _read_urls(proc)
        assert set(urls) == {"tws", "telegram"}

        async def clients() -> tuple[list[str], dict[str, Any]]:
            ib = IB()
            await ib.connectAsync(urls["tws"]["host"], urls["tws"]["port"], clientId=9,
                                  timeout=10)
            try:
                accounts = ib.managedAccounts()
            finally:
                ib.disconnect()
            token = "123456789:openclaw-test-token"
            async with aiohttp.ClientSession() as http:
                r = await http.post(f"{urls['telegram']['api']}/bot{token}/sendMessage",
                                    json={"chat_id": "42", "text": "hello"})
                return accounts, await r.json()

        accounts, reply = asyncio.run(clients())
        assert accounts and accounts[0].startswith("DU")
        assert reply["ok"] is True and reply["result"]["text"] == "hello"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert proc.returncode == 0


@pytest.mark.parametrize("args", [["nosuch"], ["okx", "bybit", "--port", "1234"],
                                  ["tws", "--universe", "0"]])
def test_sim_bad_selection_is_refused(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "openclaw.cli", "sim", *args],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr
