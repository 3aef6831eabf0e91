"""The fronts over the control API, each a real process against a real engine:

* ``openclaw-trading ctl ...`` and ``alerts drain`` (subprocesses) against an engine running in
  this process: JSON keys, exit codes (0 ok, 1 refused, 2 no engine, 3 approval needed), human
  tables, the drain's ``NO_REPLY``;
* ``openclaw-trading mcp`` over stdio with the official ``mcp`` client against
  ``openclaw-trading run`` (a subprocess) whose approval codes go to the operator's Telegram
  chat (the fake Bot API server this test owns): tools listed with schemas, ``status``,
  ``halt``, ``resume`` refused without a code and accepted with the one the chat received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

from support.aio import deadline, until
from support.control_engine import in_process, run_file

from openclaw.sim.telegram import TelegramSim

run = deadline(240.0)
TG_TOKEN = "424242:AAcontrolTestTokenForTheFakeTelegram0001"


async def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "openclaw", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_ctl_commands_against_a_running_engine(tmp_path: Path) -> None:
    """Every ctl command, --json and human, and alerts drain."""

    async def body() -> None:
        async with in_process(tmp_path) as e:
            st = ["--state", str(tmp_path / "control.json")]
            code, out, err = await _cli("ctl", "status", "--json", *st)
            assert code == 0, err
            status = json.loads(out)
            assert {"ok", "halted", "halt_reason", "strategies", "books", "balances",
                    "positions", "pnl", "open_orders", "latency_us", "ready"} <= status.keys()
            code, out, _ = await _cli("ctl", "status", *st)
            assert code == 0 and "strategies" in out and "books" in out and "balances" in out
            assert "binance" in out and "trading" in out

            other = tmp_path / "copy.token"          # another user's copy: a wrong one here
            other.write_text("y" * 43)
            other.chmod(0o600)
            code, out, _ = await _cli("ctl", "status", "--json", *st, env={
                **os.environ, "OPENCLAW_TRADING_TOKEN_FILE": str(other)})
            assert code == 1 and json.loads(out)["error"] == "unauthorized"

            code, out, _ = await _cli("ctl", "halt", "--reason", "cli test", "--json", *st)
            assert code == 0 and json.loads(out)["halted"] is True
            code, out, _ = await _cli("ctl", "resume", "--json", *st)
            need = json.loads(out)
            assert code == 3 and need["error"] == "approval_required"
            code, out, _ = await _cli("ctl", "resume", "--code", "00000000", "--json", *st)
            assert code == 1 and json.loads(out)["error"] == "approval_refused"
            code, out, _ = await _cli("ctl", "resume", *st)
            assert code == 3
            code, out, err = await _cli("ctl", "resume", "--code", e.approval_codes()[-1], *st)
            assert code == 0 and "action=resume" in out and "halted=False" in out, err

            for what in ("orders", "fills", "alerts"):
                code, out, _ = await _cli("ctl", what, "--cursor", "0", "--json", *st)
                got = json.loads(out)
                assert code == 0 and got["ok"] and isinstance(got[what], list)
                assert isinstance(got["cursor"], int)
            code, out, _ = await _cli("ctl", "alerts", *st)
            assert code == 0 and "halt" in out.lower()
            code, out, _ = await _cli("ctl", "flatten", "--json", *st)
            assert code == 3 and json.loads(out)["action"] == "flatten"
            code, out, _ = await _cli("ctl", "reload-risk", "--json", *st)
            assert code == 1 and json.loads(out)["error"] == "not_available"

            code, out, _ = await _cli("alerts", "drain", *st)
            assert code == 0 and "trading halted" in out and "cli test" in out
            code, out, _ = await _cli("alerts", "drain", *st)
            assert (code, out.strip()) == (0, "NO_REPLY")
            for c in e.approval_codes():
                assert c not in out

        missing = ["--state", str(tmp_path / "nothing.json")]
        code, out, err = await _cli("ctl", "status", "--json", *missing)
        assert code == 2 and json.loads(out)["error"] == "state_file"
        code, out, err = await _cli("alerts", "drain", *missing)
        assert code == 2 and "state file" in err

    run(body)


def _result(res: Any) -> dict[str, Any]:
    if res.structured_content is not None:
        return dict(res.structured_content)
    return json.loads(res.content[0].text)


def test_mcp_over_stdio_with_the_official_client(tmp_path: Path) -> None:
    """tools listed, status, halt, resume refused without a code and accepted with the code
    the operator's (fake) Telegram chat received."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    async def body() -> None:
        tg = await TelegramSim(TG_TOKEN).start()
        cfg = run_file(tmp_path, approval_file=False, telegram_url=tg.url)
        env = {**os.environ, "OPENCLAW_TELEGRAM_TOKEN": TG_TOKEN,
               "OPENCLAW_TELEGRAM_CHAT": "777"}
        engine = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "openclaw", "run", str(cfg), "--log-format", "json",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            state = tmp_path / "control.json"
            await until(lambda: state.exists() or engine.returncode is not None, 90,
                        "the engine's state file")
            assert engine.returncode is None
            params = StdioServerParameters(
                command=sys.executable, args=["-m", "openclaw", "mcp", "--state", str(state)],
                env={"PATH": os.environ.get("PATH", "")})
            with open(tmp_path / "mcp.err", "w") as errlog:
                async with stdio_client(params, errlog=errlog) as (read, write), \
                        ClientSession(read, write) as session:
                    await session.initialize()
                    tools = {t.name: t for t in (await session.list_tools()).tools}
                    assert set(tools) == {"status", "orders", "fills", "alerts", "halt",
                                          "resume", "flatten", "reload_risk"}
                    assert tools["halt"].input_schema["required"] == ["reason"]
                    assert "code" in tools["resume"].input_schema["properties"]
                    assert tools["status"].annotations.read_only_hint is True

                    status = _result(await session.call_tool("status", {}))
                    assert status["ok"] and status["halted"] is False
                    assert len(status["books"]) == 9
                    halted = _result(await session.call_tool("halt", {"reason": "mcp test"}))
                    assert halted["ok"] and halted["halted"]
                    refused = _result(await session.call_tool("resume", {}))
                    assert refused["error"] == "approval_required"
                    assert "Telegram" in refused["channel"]
                    await until(lambda: any("approval code" in m["text"]
                                            for m in tg.messages), 30, "the code in the chat")
                    text = next(m["text"] for m in tg.messages if "approval code" in m["text"])
                    code = re.search(r"approval code (\d{8})", text).group(1)  # type: ignore[union-attr]
                    assert code not in json.dumps(refused)
                    wrong = _result(await session.call_tool("resume", {"code": "12345678"}
                                                            if code != "12345678" else
                                                            {"code": "87654321"}))
                    assert wrong["error"] == "approval_refused"
                    _result(await session.call_tool("resume", {}))
                    await until(lambda: sum("approval code" in m["text"]
                                            for m in tg.messages) == 2, 30, "a second code")
                    text = [m["text"] for m in tg.messages if "approval code" in m["text"]][-1]
                    code = re.search(r"approval code (\d{8})", text).group(1)  # type: ignore[union-attr]
                    resumed = _result(await session.call_tool("resume", {"code": code}))
                    assert resumed["ok"] and resumed["halted"] is False, resumed
                    alerts = _result(await session.call_tool("alerts", {"cursor": 0}))
                    assert code not in json.dumps(alerts)
                    assert any("mcp test" in a["text"] for a in alerts["alerts"])
            engine.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(engine.communicate(), 90)
            assert code not in err.decode() and TG_TOKEN not in err.decode()
            assert not state.exists()           # removed at shutdown
            assert any("mcp test" in m["text"] for m in tg.messages)   # the HIGH halt alert
        finally:
            if engine.returncode is None:
                engine.kill()
                with contextlib.suppress(Exception):
                    await engine.wait()
            await tg.stop()

    run(body)


def test_mcp_over_streamable_http(tmp_path: Path) -> None:
    """``openclaw-trading mcp --http``: the same tools over streamable HTTP (loopback)."""
    import socket

    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def body() -> None:
        async with in_process(tmp_path):
            server = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "openclaw", "mcp", "--http", "--port", str(port),
                "--state", str(tmp_path / "control.json"),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            try:
                for _ in range(200):
                    with contextlib.suppress(OSError):
                        _, w = await asyncio.open_connection("127.0.0.1", port)
                        w.close()
                        break
                    await asyncio.sleep(0.05)
                async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (r, w), \
                        ClientSession(r, w) as session:
                    await session.initialize()
                    names = {t.name for t in (await session.list_tools()).tools}
                    assert {"status", "halt", "resume"} <= names
                    status = _result(await session.call_tool("status", {}))
                    assert status["ok"] and len(status["books"]) == 9
            finally:
                server.terminate()
                await asyncio.wait_for(server.wait(), 20)

    run(body)
