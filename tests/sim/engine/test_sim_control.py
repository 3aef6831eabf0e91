"""Control API, the ``python -m openclaw.sim`` entry point, and a short load run."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from support.simclient import get_json, post_json, recv_json, run
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from openclaw.sim import start_simulators


def test_pause_step_resume_rate_and_book_endpoint() -> None:
    async def body() -> None:
        async with await start_simulators(seed=3, paused=True) as sims:
            ctl = sims.urls["bybit"]["control"]
            _, status = await get_json(ctl + "/_sim/status")
            assert status["paused"] and status["step"] == 0
            assert "reset" in status["fault_kinds"]
            _, stepped = await post_json(ctl + "/_sim/step", {"n": 5})
            assert stepped == {"step": 5, "paused": True}
            _, book = await get_json(ctl + "/_sim/book?symbol=ETHUSDT&category=linear&depth=3")
            assert book["step"] == 5 and book["category"] == "linear"
            assert len(book["bids"]) == len(book["asks"]) == 3
            _, full = await get_json(sims.urls["okx"]["control"] + "/_sim/book?instId=ETH-BTC")
            assert len(full["bids"]) == 250 and "seqId" in full and "checksum" in full
            assert (await get_json(ctl + "/_sim/book?symbol=NOPE"))[0] == 404
            assert (await post_json(ctl + "/_sim/rate", {"rate": 200}))[1] == {"rate": 200.0}
            await post_json(ctl + "/_sim/resume")
            await asyncio.sleep(0.3)
            _, paused = await post_json(sims.urls["binance"]["control"] + "/_sim/pause")
            assert paused["step"] > 20  # one clock for all three venues
            await asyncio.sleep(0.1)
            assert (await get_json(ctl + "/_sim/status"))[1]["step"] == paused["step"]

    run(body)


def test_config_and_dislocate_endpoints() -> None:
    async def body() -> None:
        async with await start_simulators(seed=3, paused=True) as sims:
            okx = sims.urls["okx"]
            _, cfg = await post_json(okx["control"] + "/_sim/config", {"checksum": "real"})
            assert cfg["checksum"] == "real"
            assert (await post_json(okx["control"] + "/_sim/config", {"nope": 1}))[0] == 400
            async with connect(okx["ws"]) as ws:
                await ws.send(
                    json.dumps(
                        {"op": "subscribe", "args": [{"channel": "books", "instId": "ETH-BTC"}]}
                    )
                )
                await recv_json(ws)
                assert (await recv_json(ws))["data"][0]["checksum"] != 0
            before = sims.market.triangular_edges()[0].edge_bps
            status, _ = await post_json(
                okx["control"] + "/_sim/dislocate", {"symbol": "ETH-BTC", "bps": -20}
            )
            assert status == 200
            sims.clock.step(1)
            assert sims.market.triangular_edges()[0].edge_bps > max(before, 8.0)

    run(body)


def test_module_entry_point_runs_standalone() -> None:
    async def body() -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "openclaw.sim",
            "--paused",
            "--okx-checksum",
            "real",
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            urls = None
            while urls is None:
                line = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode()
                assert line, "simulator exited early"
                if line.startswith("{"):
                    urls = json.loads(line)["urls"]
            async with connect(urls["bybit"]["ws_linear"]) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}))
                assert (await recv_json(ws))["success"] is True
                assert (await recv_json(ws))["type"] == "snapshot"
                status, _ = await post_json(
                    urls["bybit"]["control"] + "/_sim/fault", {"kind": "drop"}
                )
                assert status == 200
                try:
                    await asyncio.wait_for(ws.recv(), 3)
                    raise AssertionError("connection should have been dropped")
                except ConnectionClosed:
                    pass
        finally:
            proc.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(proc.wait(), 10) == 0

    run(body, timeout=30)


def test_short_load_run_keeps_every_chain_intact() -> None:
    async def body() -> None:
        async with await start_simulators(seed=9, rate=300) as sims:
            u = sims.urls
            names = ("btcusdt", "ethusdt", "ethbtc")
            streams = "/".join(f"{n}@depth@100ms" for n in names)
            counts = {"binance": 0, "okx": 0, "bybit": 0}
            async with (
                connect(u["binance"]["ws"] + "/stream?streams=" + streams) as b,
                connect(u["okx"]["ws"]) as o,
                connect(u["bybit"]["ws_spot"]) as y,
            ):
                await o.send(
                    json.dumps(
                        {
                            "op": "subscribe",
                            "args": [
                                {"channel": "books", "instId": i}
                                for i in ("BTC-USDT", "ETH-USDT", "ETH-BTC")
                            ],
                        }
                    )
                )
                await y.send(
                    json.dumps(
                        {"op": "subscribe", "args": [f"orderbook.50.{n.upper()}" for n in names]}
                    )
                )
                last: dict[str, int] = {}

                async def read(venue: str, ws: object) -> None:
                    async for raw in ws:  # type: ignore[attr-defined]
                        m = json.loads(raw)
                        if venue == "binance":
                            d = m["data"]
                            key, prev, cur = "b" + d["s"], d["U"] - 1, d["u"]
                        elif venue == "okx" and m.get("action") == "update":
                            d = m["data"][0]
                            key, prev, cur = "o" + m["arg"]["instId"], d["prevSeqId"], d["seqId"]
                        elif venue == "bybit" and m.get("type") == "delta":
                            key, prev, cur = "y" + m["topic"], m["data"]["u"] - 1, m["data"]["u"]
                        else:
                            continue
                        if key in last:
                            assert prev == last[key], (key, prev, last[key])
                        last[key] = cur
                        counts[venue] += 1

                tasks = [
                    asyncio.create_task(read(v, w))
                    for v, w in (("binance", b), ("okx", o), ("bybit", y))
                ]
                await asyncio.sleep(1.5)
                for t in tasks:
                    t.cancel()
                    if t.done() and not t.cancelled() and t.exception():
                        raise t.exception()  # type: ignore[misc]
            total = sum(counts.values())
            assert total > 2000, counts  # ~9 messages per step at 300 steps/s

    run(body)


def test_simulators_never_import_client_code() -> None:
    """The simulators are an independent peer: no openclaw.feeds/execution/_core imports."""
    import ast
    from pathlib import Path

    import openclaw.sim

    forbidden = ("openclaw.feeds", "openclaw.execution", "openclaw._core")
    for path in Path(openclaw.sim.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
