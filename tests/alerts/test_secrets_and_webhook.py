"""The bot token and webhook URLs never leak; the environment config; the webhook sink."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from openclaw.alerts import CHAT_ENV, TOKEN_ENV, Alerter, AlertKind, TelegramSink, WebhookSink
from openclaw.model.errors import AlertConfigError, AlertDeliveryError
from openclaw.sim.telegram import TelegramSim

from .helpers import CHAT, TOKEN, run, wait_for

SECRET_HALF = TOKEN.split(":", 1)[1]


def leaks(text: str, secret: str = SECRET_HALF) -> bool:
    return secret in text


def full_text(e: BaseException) -> str:
    return str(e) + repr(e) + "".join(traceback.format_exception(e))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("failure", ["wrong_token", "refused", "echo"])
def test_token_never_in_logs_or_errors(failure: str, caplog: pytest.LogCaptureFixture) -> None:
    """Force a failure; the token is absent from the exception (with its chain) and the logs."""
    errors: list[AlertDeliveryError] = []
    seen: dict[str, Any] = {}

    async def echo_token(request: web.Request) -> web.Response:
        # a hostile / buggy server that repeats the request path (token included)
        return web.json_response(
            {"ok": False, "error_code": 400, "description": f"bad path {request.path}"},
            status=400,
        )

    async def body() -> None:
        runner = None
        if failure == "wrong_token":
            sim = await TelegramSim("111:" + "Z" * 30).start()
            base = sim.url
        elif failure == "refused":
            sim, base = None, f"http://127.0.0.1:{free_port()}"
        else:
            sim = None
            app = web.Application()
            app.router.add_post("/{tail:.*}", echo_token)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            port = free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            base = f"http://127.0.0.1:{port}"
        try:
            sink = TelegramSink(TOKEN, CHAT, base_url=base, min_interval=0, timeout=2)
            async with aiohttp.ClientSession() as session:
                try:
                    await sink.send(session, "hello", [])
                except AlertDeliveryError as e:
                    errors.append(e)
            alerter = Alerter([sink], batch_window=0.0, max_attempts=2, backoff_base=0.01)
            async with alerter:
                alerter.halt("x")
                await wait_for(lambda: alerter.stats()["telegram"].failed_alerts == 1)
            seen["reprs"] = repr(sink) + repr(alerter) + repr(alerter.stats())
        finally:
            if sim is not None:
                await sim.stop()
            if runner is not None:
                await runner.cleanup()

    with caplog.at_level(logging.DEBUG):
        run(body)
    (err,) = errors
    assert err.__cause__ is None and err.__context__ is None
    assert not leaks(full_text(err)), full_text(err)
    assert not leaks(full_text(err), TOKEN)
    assert not leaks(caplog.text) and caplog.text, caplog.text
    assert "gave up" in caplog.text
    assert not leaks(seen["reprs"])
    if failure == "echo":
        assert "<token>" in str(err)  # the echoed path was redacted, not dropped
    if failure == "wrong_token":
        assert err.status == 401


def test_bad_token_config_error_does_not_show_it() -> None:
    bad = "123:" + SECRET_HALF + "/../x"
    with pytest.raises(AlertConfigError) as info:
        TelegramSink(bad, CHAT)
    assert not leaks(full_text(info.value))


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.setenv(CHAT_ENV, CHAT)
    with pytest.raises(AlertConfigError, match=TOKEN_ENV):
        TelegramSink.from_env()
    monkeypatch.setenv(TOKEN_ENV, TOKEN)

    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            sink = TelegramSink.from_env(base_url=sim.url, min_interval=0)
            assert not leaks(repr(sink))
            async with Alerter([sink], batch_window=0.0) as alerter:
                alerter.resync_storm("bybit", "BTCUSDT", 12, 10)
                await wait_for(lambda: len(sim.messages) == 1)
            assert sim.messages[0]["text"].endswith(
                "RESYNC_STORM: bybit BTCUSDT: 12 resyncs in 10 s"
            )

    run(body)


# ---- webhook --------------------------------------------------------------------------------

HOOK_SECRET = "hookSECRETpath0123456789"


class HookServer:
    """A minimal webhook receiver with scripted answers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answered in order, then 200
        self.headers: dict[str, str] = {}
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        self.headers = dict(request.headers)
        if self.statuses:
            status = self.statuses.pop(0)
            headers = {"Retry-After": "1"} if status == 429 else {}
            # echo the path back, as some servers do in error pages
            return web.Response(status=status, text=f"error at {request.path}", headers=headers)
        body = await request.json()
        body["_received"] = loop.time()
        self.received.append(body)
        return web.Response(status=204)

    async def start(self) -> HookServer:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/hooks/{HOOK_SECRET}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def test_webhook_delivery_retries_and_secrecy(caplog: pytest.LogCaptureFixture) -> None:
    async def body() -> None:
        hook = await HookServer().start()
        try:
            sink = WebhookSink(hook.url, headers={"Authorization": "Bearer hdrSECRET"})
            assert HOOK_SECRET not in repr(sink) and "hdrSECRET" not in repr(sink)
            alerter = Alerter([sink], batch_window=0.0, backoff_base=0.01)
            async with alerter:
                hook.statuses = [503, 429]
                alerter.fill("okx", "ETH-USDT", "sell", "2", "3000", "Cx")
                alerter.notify(AlertKind.INFO, "second")
                await wait_for(lambda: len(hook.received) == 1, timeout=5)
                hook.statuses = [400]
                alerter.notify(AlertKind.INFO, "refused")
                await wait_for(lambda: alerter.stats()["webhook"].failed_alerts == 1)
            (msg,) = hook.received
            assert msg["source"] == "openclaw"
            assert [a["kind"] for a in msg["alerts"]] == ["fill", "info"]
            assert msg["alerts"][0]["text"] == "okx ETH-USDT sell 2 @ 3000 (Cx)"
            assert msg["alerts"][0]["priority"] == "LOW" and "second" in msg["text"]
            assert hook.headers["Authorization"] == "Bearer hdrSECRET"
            st = alerter.stats()["webhook"]
            assert (st.retries, st.rate_limited, st.sent_messages) == (2, 1, 1)
            assert st.last_error is not None and HOOK_SECRET not in st.last_error
            assert "<secret>" in st.last_error  # the echoed path, redacted
        finally:
            await hook.stop()

    with caplog.at_level(logging.DEBUG):
        run(body)
    assert caplog.text and HOOK_SECRET not in caplog.text and "hdrSECRET" not in caplog.text


def test_webhook_bad_url_error_hides_it() -> None:
    with pytest.raises(AlertConfigError) as info:
        WebhookSink(f"ftp://example.org/{HOOK_SECRET}")
    assert HOOK_SECRET not in full_text(info.value)
