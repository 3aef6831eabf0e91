"""The fake Telegram Bot API server speaks the real shapes (checked with a plain HTTP client)."""

from __future__ import annotations

from typing import Any

import aiohttp

from openclaw.sim.telegram import TelegramSim

from .helpers import CHAT, TOKEN, run


async def _post(url: str, **kw: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.post(url, **kw) as r:
        ctype = r.headers.get("Content-Type", "")
        return r.status, (await r.json()) if "json" in ctype else await r.text()


def test_send_message_shapes() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            url = f"{sim.url}/bot{TOKEN}/sendMessage"
            status, data = await _post(url, json={"chat_id": CHAT, "text": "hello"})
            assert status == 200 and data["ok"] is True
            msg = data["result"]
            assert msg["text"] == "hello" and msg["message_id"] == 1
            assert msg["chat"] == {"id": int(CHAT), "type": "private", "first_name": "sim"}
            assert msg["from"]["is_bot"] is True and msg["from"]["id"] == 987654321
            assert isinstance(msg["date"], int)
            # form-encoded, as many clients send it
            status, data = await _post(url, data={"chat_id": "-1001234", "text": "form"})
            assert status == 200 and data["result"]["chat"]["type"] == "supergroup"
            status, data = await _post(f"{sim.url}/_sim/messages", json={})
            assert status == 405  # GET only
            async with aiohttp.ClientSession() as s, s.get(f"{sim.url}/_sim/messages") as r:
                got = (await r.json())["messages"]
            assert [m["text"] for m in got] == ["hello", "form"]

    run(body)


def test_errors_have_the_real_shape() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN, chats={CHAT}) as sim:
            good = f"{sim.url}/bot{TOKEN}/sendMessage"
            status, data = await _post(
                f"{sim.url}/bot123:wrong/sendMessage", json={"chat_id": CHAT, "text": "x"}
            )
            assert (status, data) == (
                401,
                {"ok": False, "error_code": 401, "description": "Unauthorized"},
            )
            status, data = await _post(good, json={"chat_id": "7", "text": "x"})
            assert status == 400 and data["description"] == "Bad Request: chat not found"
            status, data = await _post(good, json={"chat_id": CHAT, "text": ""})
            assert status == 400 and data["description"] == "Bad Request: message text is empty"
            status, data = await _post(good, json={"chat_id": CHAT, "text": "x" * 4097})
            assert status == 400 and data["description"] == "Bad Request: message is too long"

            sim.inject_fault("429", retry_after=7)
            sim.inject_fault("500")
            sim.inject_fault("502")
            status, data = await _post(good, json={"chat_id": CHAT, "text": "x"})
            assert status == 429 and data == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            }
            status, data = await _post(good, json={"chat_id": CHAT, "text": "x"})
            assert status == 500 and data["ok"] is False and data["error_code"] == 500
            status, data = await _post(good, json={"chat_id": CHAT, "text": "x"})
            assert status == 502 and "Bad Gateway" in data
            status, data = await _post(good, json={"chat_id": CHAT, "text": "x"})
            assert status == 200
            assert sim.outcomes()[-4:] == [429, 500, 502, 200]

    run(body)


def test_flood_control_and_control_api() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            good = f"{sim.url}/bot{TOKEN}/sendMessage"
            status, _ = await _post(f"{sim.url}/_sim/config", json={"min_interval": 5})
            assert status == 200
            assert (await _post(good, json={"chat_id": CHAT, "text": "a"}))[0] == 200
            status, data = await _post(good, json={"chat_id": CHAT, "text": "b"})
            assert status == 429 and data["parameters"]["retry_after"] >= 4
            assert (await _post(good, json={"chat_id": "1", "text": "c"}))[0] == 200  # per chat
            status, data = await _post(f"{sim.url}/_sim/fault", json={"kind": "nope"})
            assert status == 400
            status, data = await _post(f"{sim.url}/_sim/fault", json={"kind": "500", "count": 2})
            assert status == 200 and data["faults"][0]["count"] == 2
            await _post(f"{sim.url}/_sim/reset", json={})
            assert sim.messages == [] and not sim.faults

    run(body)


def test_independent_peers() -> None:
    """The fake server imports no openclaw client code; production code never imports the sim."""
    import ast
    from pathlib import Path

    import openclaw

    root = Path(openclaw.__file__).parent

    def imports(path: Path) -> list[str]:
        names: list[str] = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
        return names

    assert not [n for n in imports(root / "sim" / "telegram.py") if n.startswith("openclaw")]
    for rel in ("alerts.py", "journal/core.py", "model/orders.py", "model/client_ids.py",
                "execution/__init__.py"):  # fmt: skip
        assert not [n for n in imports(root / rel) if n.startswith("openclaw.sim")], rel
