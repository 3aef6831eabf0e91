"""A local fake of the Telegram Bot API (``sendMessage``, ``getMe``) for alert tests.

Serves on 127.0.0.1 (port 0 = ephemeral) with the real request and response shapes::

    POST /bot<token>/sendMessage   JSON, form or query: chat_id, text, ...
      200 {"ok": true, "result": {"message_id", "from", "chat", "date", "text"}}
      4xx/5xx {"ok": false, "error_code": N, "description": "...", "parameters"?: {...}}

It checks the token (401 ``Unauthorized`` on a mismatch, as the real API answers a
well-formed but wrong token), records every delivered message, optionally enforces a per-chat
minimum interval (429 with ``parameters.retry_after`` like the real flood control), and injects
faults: ``429`` (``retry_after`` seconds), ``500``, ``502`` (an HTML body, as Telegram's front
proxy sends) and ``slow`` (answer after ``seconds``).

Control API: ``GET /_sim/messages``, ``GET /_sim/requests``, ``POST /_sim/fault {"kind",
"count"?, "retry_after"?, "seconds"?}``, ``POST /_sim/config {"min_interval"}``,
``POST /_sim/reset``. The same from Python: ``sim.messages``, ``sim.inject_fault(...)``.

An independent peer of the alert client: nothing here imports ``openclaw.alerts``. No access log
is kept (the request path carries the token).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from aiohttp import web

__all__ = ["TELEGRAM_FAULTS", "TelegramFault", "TelegramSim"]

#: Fault kinds ``inject_fault`` accepts.
TELEGRAM_FAULTS: tuple[str, ...] = ("429", "500", "502", "slow")
MAX_TEXT = 4096  # Telegram's limit on a message text, in characters


@dataclass
class TelegramFault:
    """A fault armed for the next ``count`` sendMessage requests."""

    kind: str
    count: int = 1
    retry_after: int = 1  # 429: seconds, an integer as Telegram sends it
    seconds: float = 1.0  # slow: delay before answering


def _json(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _error(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return _json(status, body)


class TelegramSim:
    """The fake Bot API server for one bot token."""

    def __init__(
        self,
        token: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        chats: set[str] | None = None,
        min_interval: float | None = None,
    ) -> None:
        """``chats``: chat ids that exist (None: any); ``min_interval``: per-chat flood limit."""
        self._token = token
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.host = host
        self.port = port
        self.chats = chats
        self.min_interval = min_interval
        self.messages: list[dict[str, Any]] = []  # delivered, oldest first
        self.requests: list[dict[str, Any]] = []  # every sendMessage request and its outcome
        self.faults: deque[TelegramFault] = deque()
        self._last_by_chat: dict[str, float] = {}
        self._next_id = 1
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        self.app.router.add_route("*", "/bot{token}/{method}", self._bot_method)
        self.app.router.add_get("/_sim/messages", self._get_messages)
        self.app.router.add_get("/_sim/requests", self._get_requests)
        self.app.router.add_post("/_sim/fault", self._post_fault)
        self.app.router.add_post("/_sim/config", self._post_config)
        self.app.router.add_post("/_sim/reset", self._post_reset)

    def __repr__(self) -> str:
        return f"TelegramSim({self.url!r}, messages={len(self.messages)})"

    @property
    def url(self) -> str:
        """``http://host:port``: the base URL to give the client instead of api.telegram.org."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> TelegramSim:
        """Bind and serve."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramSim:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- Python control API ---------------------------------------------------------------

    def inject_fault(
        self, kind: str, count: int = 1, retry_after: int = 1, seconds: float = 1.0
    ) -> None:
        """Arm a fault for the next ``count`` sendMessage requests (faults queue up in order)."""
        if kind not in TELEGRAM_FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {TELEGRAM_FAULTS}")
        if count < 1 or retry_after < 0 or seconds < 0:
            raise ValueError("count must be >= 1, retry_after and seconds >= 0")
        self.faults.append(TelegramFault(kind, count, int(retry_after), float(seconds)))

    def reset(self) -> None:
        """Forget messages, requests, faults and flood-control state."""
        self.messages.clear()
        self.requests.clear()
        self.faults.clear()
        self._last_by_chat.clear()

    def outcomes(self) -> list[int]:
        """HTTP status of every sendMessage request so far, in order."""
        return [r["status"] for r in self.requests]

    # ---- Bot API --------------------------------------------------------------------------

    async def _bot_method(self, request: web.Request) -> web.Response:
        received = time.monotonic()
        if request.match_info["token"] != self._token:
            return self._log(request, received, None, _error(401, "Unauthorized"))
        method = request.match_info["method"]
        params = await _params(request)
        if params is None:
            return self._log(request, received, None, _error(400, "Bad Request: invalid JSON"))
        if method.lower() == "getme":
            return _json(200, {"ok": True, "result": self._bot_user()})
        if method.lower() != "sendmessage":
            return _error(404, "Not Found")
        if request.method not in ("GET", "POST"):
            return _error(405, "Method Not Allowed")
        fault = self._take_fault()
        if fault is not None:
            if fault.kind == "429":
                return self._log(
                    request,
                    received,
                    params,
                    _error(
                        429,
                        f"Too Many Requests: retry after {fault.retry_after}",
                        retry_after=fault.retry_after,
                    ),
                )
            if fault.kind == "500":
                return self._log(request, received, params, _error(500, "Internal Server Error"))
            if fault.kind == "502":
                html = "<html><head><title>502 Bad Gateway</title></head></html>"
                return self._log(
                    request,
                    received,
                    params,
                    web.Response(status=502, text=html, content_type="text/html"),
                )
            await asyncio.sleep(fault.seconds)  # slow: then answer normally
        chat = params.get("chat_id")
        text = params.get("text")
        if chat is None or str(chat) == "":
            return self._log(
                request, received, params, _error(400, "Bad Request: chat_id is empty")
            )
        chat_key = str(chat)
        if self.chats is not None and chat_key not in self.chats:
            return self._log(request, received, params, _error(400, "Bad Request: chat not found"))
        if not isinstance(text, str) or not text.strip():
            return self._log(
                request, received, params, _error(400, "Bad Request: message text is empty")
            )
        if len(text) > MAX_TEXT:
            return self._log(
                request, received, params, _error(400, "Bad Request: message is too long")
            )
        if self.min_interval is not None:
            last = self._last_by_chat.get(chat_key)
            if last is not None and received - last < self.min_interval:
                wait = max(1, math.ceil(self.min_interval - (received - last)))
                return self._log(
                    request,
                    received,
                    params,
                    _error(429, f"Too Many Requests: retry after {wait}", retry_after=wait),
                )
            self._last_by_chat[chat_key] = received
        message = {
            "message_id": self._next_id,
            "from": self._bot_user(),
            "chat": _chat(chat),
            "date": int(time.time()),
            "text": text,
        }
        self._next_id += 1
        self.messages.append(
            {
                "chat_id": chat_key,
                "text": text,
                "received": received,
                "message_id": message["message_id"],
            }
        )
        return self._log(request, received, params, _json(200, {"ok": True, "result": message}))

    def _take_fault(self) -> TelegramFault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.count -= 1
        if fault.count <= 0:
            self.faults.popleft()
        return fault

    def _log(
        self,
        request: web.Request,
        received: float,
        params: dict[str, Any] | None,
        response: web.Response,
    ) -> web.Response:
        self.requests.append(
            {
                "status": response.status,
                "received": received,
                "chat_id": None if params is None else params.get("chat_id"),
                "text": None if params is None else params.get("text"),
                "token_ok": request.match_info.get("token") == self._token,
            }
        )
        return response

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "openclaw-trading sim",
            "username": "openclaw_sim_bot",
        }

    # ---- control API ----------------------------------------------------------------------

    async def _get_messages(self, request: web.Request) -> web.Response:
        return _json(200, {"messages": self.messages})

    async def _get_requests(self, request: web.Request) -> web.Response:
        return _json(200, {"requests": self.requests})

    async def _post_fault(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            self.inject_fault(
                str(body["kind"]),
                int(body.get("count", 1)),
                int(body.get("retry_after", 1)),
                float(body.get("seconds", 1.0)),
            )
        except (ValueError, KeyError, TypeError) as e:
            return _json(400, {"error": str(e)})
        return _json(200, {"faults": [asdict(f) for f in self.faults]})

    async def _post_config(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if "min_interval" in body:
                mi = body["min_interval"]
                self.min_interval = None if mi is None else float(mi)
        except (ValueError, TypeError) as e:
            return _json(400, {"error": str(e)})
        return _json(200, {"min_interval": self.min_interval})

    async def _post_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return _json(200, {"ok": True})


async def _params(request: web.Request) -> dict[str, Any] | None:
    """Bot API parameters from the query string, a JSON body or a form body (as Telegram)."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            with contextlib.suppress(ValueError):
                body = orjson.loads(await request.read())
                if isinstance(body, dict):
                    params.update(body)
                    return params
            return None
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params.update(dict(await request.post()))
    return params


def _chat(chat_id: Any) -> dict[str, Any]:
    """The ``chat`` object of a message, shaped by the kind of id (user, group, channel)."""
    key = str(chat_id)
    if key.startswith("@"):
        return {"id": -1001000000000, "title": key[1:], "username": key[1:], "type": "channel"}
    try:
        num = int(key)
    except ValueError:
        return {"id": key, "type": "private", "first_name": "sim"}
    if num > 0:
        return {"id": num, "type": "private", "first_name": "sim"}
    if key.startswith("-100"):
        return {"id": num, "title": "sim supergroup", "type": "supergroup"}
    return {"id": num, "title": "sim group", "type": "group"}
