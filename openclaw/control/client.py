"""The control API's client (``openclaw-trading ctl`` and the MCP server use it).

Finds the engine through the state file (``state.state_path``), reads the token from the
token file the state names, or from ``$OPENCLAW_TRADING_TOKEN_FILE`` (a copy for another OS
user; either checked 0600 and owned by the reader), and returns each answer's
JSON. An error answer is returned as it is (``ok`` false, ``error``, ``message``): the fronts
print it verbatim; only transport problems raise (``EngineUnreachable``)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from openclaw.control.errors import EngineUnreachable
from openclaw.control.secrets import read_token_file
from openclaw.control.state import read_state, state_path

OPERATIONS = ("status", "orders", "fills", "alerts", "halt", "resume", "flatten", "reload-risk")
GETS = {"status", "orders", "fills", "alerts"}
#: a copy of the token for a client running as another OS user than the engine (mode 0600)
TOKEN_FILE_ENV = "OPENCLAW_TRADING_TOKEN_FILE"


class ControlClient:
    """One engine's control API (``await client.call("status")``)."""

    def __init__(self, state: str | Path | None = None, *, timeout: float = 30.0,
                 actor: str = "cli") -> None:
        self.state_file = state_path(state)
        self.timeout = timeout
        self.actor = actor

    def _target(self) -> tuple[str, str]:
        """(url, token) from the state and token files (read again at each call: an engine
        restarted on another port is found)."""
        st = read_state(self.state_file)
        return str(st["url"]), read_token_file(os.environ.get(TOKEN_FILE_ENV)
                                               or st["token_file"])

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        """Run ``op`` (one of ``OPERATIONS``) with its arguments; the answer's JSON (with
        ``http_status``)."""
        if op not in OPERATIONS:
            raise ValueError(f"unknown operation {op!r}; one of {', '.join(OPERATIONS)}")
        url, token = await asyncio.to_thread(self._target)
        headers = {"Authorization": f"Bearer {token}", "X-Openclaw-Actor": self.actor}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        params = {k: str(v) for k, v in args.items() if v is not None}
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:
                if op in GETS:
                    req = http.get(f"{url}/v1/{op}", params=params, headers=headers)
                else:
                    req = http.post(f"{url}/v1/{op}", data=orjson.dumps(params),
                                    headers={**headers, "Content-Type": "application/json"})
                async with req as resp:
                    raw = await resp.read()
                    status = resp.status
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise EngineUnreachable(url, type(e).__name__) from None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = {"ok": False, "error": "bad_answer",
                    "message": raw[:200].decode(errors="replace")}
        if not isinstance(data, dict):
            data = {"ok": False, "error": "bad_answer", "message": "not a JSON object"}
        data["http_status"] = status
        return data

    async def get_text(self, path: str) -> tuple[int, str]:
        """A plain GET (``/metrics``, ``/ready``, ``/health``): (status, body)."""
        url, token = await asyncio.to_thread(self._target)
        try:
            async with aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=self.timeout)) as http, \
                    http.get(f"{url}{path}", headers={"Authorization": f"Bearer {token}"}) as r:
                return r.status, await r.text()
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise EngineUnreachable(url, type(e).__name__) from None
