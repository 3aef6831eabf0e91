"""The control API's HTTP server: loopback only, bearer token, on the engine's own loop.

Routes (JSON; every one but ``/health`` needs ``Authorization: Bearer <token>``)::

    GET  /v1/status                    strategies, books, balances, positions, P&L, open
                                       orders, halted and why, latency summary
    GET  /v1/orders?cursor=N&limit=M   orders changed after a journal cursor
    GET  /v1/fills?cursor=N&limit=M    fills after a journal cursor
    GET  /v1/alerts?cursor=N&limit=M   alerts after a cursor
    POST /v1/halt        {"reason"}    always allowed
    POST /v1/resume      {"code"?}     one-time code (out of band) needed
    POST /v1/flatten     {"code"?}     idem
    POST /v1/reload-risk {"code"?}     idem
    GET  /metrics                      Prometheus text exposition
    GET  /health                       200 while the process serves (no token: liveness)
    GET  /ready                        200 when every book is LIVE and nothing is halted

A request without the token or with a wrong one gets 401 and is counted (``refusals``); the
token is compared in constant time and never logged (no access log is kept). Handlers do no
blocking work (journal reads go to its writer thread), so serving them on the trading loop
costs the hot path only the time slices they take; ``bench`` measures it.

``start_control(cfg, r, source=...)`` is the one call the runner makes; it writes the state
file (URL, pid, token file) that ``openclaw-trading ctl`` and ``openclaw-trading mcp`` read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from openclaw.control.engine import ControlOps, OutOfBand
from openclaw.control.errors import BadRequest, ControlError, Unauthorized
from openclaw.control.metrics import metrics_text
from openclaw.control.secrets import Approvals, ensure_token_file, token_matches
from openclaw.control.state import remove_state, write_state

log = logging.getLogger("openclaw.control")

MAX_BODY = 16 * 1024
STATUS_MAX_AGE_S = 0.25
OPEN_PATHS = frozenset({"/health"})


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body, default=str), status=status,
                        content_type="application/json")


def _int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        v = int(raw)
    except ValueError:
        raise BadRequest(name, raw, "not an integer") from None
    if not lo <= v <= hi:
        raise BadRequest(name, v, f"must be in {lo}..{hi}")
    return v


class ControlServer:
    """The aiohttp app over ``ControlOps`` (``start``/``stop``; ``url`` once started)."""

    def __init__(self, ops: ControlOps, token: str, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise BadRequest("control.host", host, "the control API listens on loopback only")
        self.ops = ops
        self._token = token
        self.host = host
        self.port = port
        self.url = ""
        self.state_file: Path | None = None
        self._runner: web.AppRunner | None = None
        self._status_cache: tuple[float, bytes | None] = (0.0, None)
        self._warned = -1e9                       # time.monotonic() of the last 401 logged
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_BODY)
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/v1/status", self._status)
        app.router.add_get("/v1/orders", self._orders)
        app.router.add_get("/v1/fills", self._fills)
        app.router.add_get("/v1/alerts", self._alerts)
        app.router.add_post("/v1/halt", self._halt)
        for action in ("resume", "flatten", "reload-risk"):
            app.router.add_post(f"/v1/{action}", self._approved)
        self.app = app

    def __repr__(self) -> str:            # never the token
        return f"ControlServer(url={self.url!r})"

    async def start(self) -> ControlServer:
        """Listen (port 0: a free one) and set ``url``."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        port = self._runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        """Stop serving; remove the state file this server wrote."""
        if self.state_file is not None:
            await asyncio.to_thread(remove_state, self.state_file, os.getpid())
            self.state_file = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- middleware -------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        op = request.path.removeprefix("/v1/")
        if request.path not in OPEN_PATHS and not token_matches(
                self._token, request.headers.get("Authorization")):
            self.ops.refusals["unauthorized"] += 1
            now = time.monotonic()
            if now - self._warned >= 10.0:       # one line per 10 s: no log flood on the loop
                self._warned = now
                log.warning("control: request without a valid token refused",
                            extra={"path": request.path, "peer": request.remote,
                                   "refused_total": self.ops.refusals["unauthorized"]})
            return _json(Unauthorized("missing or wrong bearer token").to_json(), 401)
        if request.match_info.http_exception is None:   # a route, not a 404: bounded labels
            self.ops.requests[op] += 1
        try:
            return await handler(request)
        except ControlError as e:
            if e.status >= 400 and e.code not in ("approval_required",):
                self.ops.refusals[e.code] += 1
            return _json(e.to_json(), e.status)
        except web.HTTPException:
            raise
        except Exception as e:  # noqa: BLE001 - the server keeps serving; the log has it all
            log.exception("control: %s failed", request.path)
            return _json({"ok": False, "error": "internal", "message": type(e).__name__}, 500)

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        try:
            data = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            raise BadRequest("body", "(not shown)", "not JSON") from None
        if not isinstance(data, dict):
            raise BadRequest("body", type(data).__name__, "must be a JSON object")
        return data

    @staticmethod
    def _actor(request: web.Request, body: dict[str, Any]) -> str:
        actor = body.get("actor") or request.headers.get("X-Openclaw-Actor") or "api"
        return str(actor)[:64]

    # ---- handlers ---------------------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.Response:
        return _json({"ok": True, "uptime_s": round(time.time_ns() / 1e9
                                                    - self.ops.started_ns / 1e9, 3)})

    async def _ready(self, request: web.Request) -> web.Response:
        halted, why = self.ops.halted()
        live = self.ops.books_live()
        ready = live and not halted
        return _json({"ok": ready, "ready": ready, "books_live": live, "halted": halted,
                      "halt_reason": why}, 200 if ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        await self.ops.refresh_latency()
        body, ctype = metrics_text(self.ops)
        return web.Response(body=body, headers={"Content-Type": ctype})

    async def _status(self, request: web.Request) -> web.Response:
        # built at most every STATUS_MAX_AGE_S (and after every action): a dashboard or an
        # agent polling fast costs the trading loop one build per period, not one per request
        now = time.monotonic()
        at, body = self._status_cache
        if body is None or now - at >= STATUS_MAX_AGE_S or at < self.ops.changed:
            body = orjson.dumps(await self.ops.status(), default=str)
            self._status_cache = (now, body)
        return web.Response(body=body, content_type="application/json")

    async def _orders(self, request: web.Request) -> web.Response:
        return _json(await self.ops.orders(_int(request, "cursor", 0, 0, 2**62),
                                           _int(request, "limit", 100, 1, 1000)))

    async def _fills(self, request: web.Request) -> web.Response:
        return _json(await self.ops.fills(_int(request, "cursor", 0, 0, 2**62),
                                          _int(request, "limit", 100, 1, 1000)))

    async def _alerts(self, request: web.Request) -> web.Response:
        return _json(self.ops.alerts_since(_int(request, "cursor", 0, 0, 2**62),
                                           _int(request, "limit", 100, 1, 1000)))

    async def _halt(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        return _json(await self.ops.halt(body.get("reason", ""), self._actor(request, body)))

    async def _approved(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        code = body.get("code")
        if code is not None and not isinstance(code, str):
            raise BadRequest("code", "(not shown)", "must be a string")
        action = request.path.removeprefix("/v1/")
        actor = self._actor(request, body)
        fn = {"resume": self.ops.resume, "flatten": self.ops.flatten,
              "reload-risk": self.ops.reload_risk}[action]
        return _json(await fn(code or None, actor))


def default_paths(cfg: Any) -> tuple[Path, Path]:
    """(token file, state file): the configured ones, or beside the journal."""
    c = cfg.control
    base = Path(cfg.journal.path).expanduser().resolve().parent
    token = Path(c.token_file).expanduser() if c.token_file else base / "openclaw-control.token"
    state = Path(c.state_file).expanduser() if c.state_file else base / "openclaw-control.json"
    return token, state


def _telegram_sink(r: Any) -> Any:
    """The engine's real Telegram sink, if any (not the simulated runs' local fake server)."""
    from openclaw.alerts import TelegramSink

    alerter = getattr(r, "alerter", None)
    if alerter is None:
        return None
    fake = getattr(getattr(r, "telegram", None), "url", None)
    for sink in alerter.sinks():
        if isinstance(sink, TelegramSink) and (fake is None
                                               or not sink.base_url.startswith(str(fake))):
            return sink
    return None


async def start_control(cfg: Any, r: Any, *, source: str = "", paper: bool = False
                        ) -> ControlServer | None:
    """Start the control API of the running system ``r`` as ``cfg.control`` says (None when
    disabled): token file, server on loopback, state file. Raises TokenFileError on a token
    file with group/other bits."""
    c = getattr(cfg, "control", None)
    if c is None or not c.enabled:
        return None
    token_path, state_path = default_paths(cfg)
    token = await asyncio.to_thread(ensure_token_file, token_path)
    oob = OutOfBand(_telegram_sink(r), c.approval_file)
    ops = ControlOps(r, source=source, approvals=Approvals(c.approval_ttl_s), oob=oob,
                     paper=paper)
    server = await ControlServer(ops, token, host=c.host, port=c.port).start()
    try:
        await asyncio.to_thread(write_state, state_path, {
            "url": server.url, "pid": os.getpid(), "token_file": str(token_path.resolve()),
            "config": source, "started_ns": time.time_ns()})
    except OSError:
        await server.stop()
        raise
    server.state_file = state_path
    log.info("control API listening", extra={"url": server.url, "state_file": str(state_path),
                                             "approvals_to": oob.channel})
    return server


async def stop_control(server: ControlServer | None) -> None:
    """Stop a server ``start_control`` started (None: nothing); never raises."""
    if server is None:
        return
    with contextlib.suppress(Exception):
        await server.stop()
