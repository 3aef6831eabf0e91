"""Alerter + TelegramSink against the fake Bot API: delivery, batching, limits, retries, drops."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from openclaw.alerts import Alerter, AlertKind, Priority, TelegramSink
from openclaw.model.errors import AlertConfigError
from openclaw.sim.telegram import TelegramSim

from .helpers import CHAT, TOKEN, run, wait_for


def sink_for(sim: TelegramSim, min_interval: float = 0.0, timeout: float = 5.0) -> TelegramSink:
    return TelegramSink(TOKEN, CHAT, base_url=sim.url, min_interval=min_interval, timeout=timeout)


def test_delivery() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            alerter = Alerter([sink_for(sim)], batch_window=0.01)
            async with alerter:
                assert alerter.fill("binance", "BTCUSDT", "buy", "0.5", "65000.1", "Cabc")
                await wait_for(lambda: len(sim.messages) == 1)
            (msg,) = sim.messages
            assert msg["chat_id"] == CHAT
            assert msg["text"].endswith("FILL: binance BTCUSDT buy 0.5 @ 65000.1 (Cabc)")
            st = alerter.stats()["telegram"]
            assert (st.sent_messages, st.sent_alerts, st.queued) == (1, 1, 0)

    run(body)


def test_batching_within_the_window() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            async with Alerter([sink_for(sim)], batch_window=0.3) as alerter:
                for i in range(10):
                    alerter.disconnect("okx", f"socket {i} closed")
                    await asyncio.sleep(0.005)
                await wait_for(lambda: len(sim.messages) == 1)
                await asyncio.sleep(0.4)  # nothing else arrives
                assert len(sim.messages) == 1
                lines = sim.messages[0]["text"].splitlines()
                assert lines[0] == "openclaw: 10 alerts"
                assert [ln.split("DISCONNECT: ")[1] for ln in lines[1:]] == [
                    f"okx: socket {i} closed" for i in range(10)
                ]
                alerter.halt("risk limit")  # after the batch: a message of its own
                await wait_for(lambda: len(sim.messages) == 2)
                assert "HALT: trading halted: risk limit" in sim.messages[1]["text"]

    run(body)


def test_rate_limit_spaces_messages() -> None:
    """One message per min_interval: the server's flood control never has to say 429."""

    async def body() -> None:
        async with TelegramSim(TOKEN, min_interval=0.25) as sim:
            sink = sink_for(sim, min_interval=0.3)
            async with Alerter([sink], batch_window=0.0, max_batch=1) as alerter:
                for i in range(4):
                    alerter.notify(AlertKind.INFO, f"m{i}")
                await wait_for(lambda: len(sim.messages) == 4, timeout=5)
            times = [m["received"] for m in sim.messages]
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            assert min(gaps) >= 0.28, gaps
            assert sim.outcomes() == [200] * 4
            assert [m["text"].rsplit(": ", 1)[1] for m in sim.messages] == ["m0", "m1", "m2", "m3"]

    run(body)


def test_429_retry_after_is_honoured() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            sim.inject_fault("429", retry_after=1)
            async with Alerter([sink_for(sim)], batch_window=0.0, backoff_base=0.01) as alerter:
                alerter.halt("test")
                await wait_for(lambda: len(sim.messages) == 1, timeout=5)
                st = alerter.stats()["telegram"]
            assert sim.outcomes() == [429, 200]
            gap = sim.requests[1]["received"] - sim.requests[0]["received"]
            assert gap >= 0.95, gap  # waited retry_after, not the 10 ms backoff
            assert (st.rate_limited, st.retries, st.sent_messages) == (1, 1, 1)

    run(body)


def test_5xx_is_retried_with_backoff() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            sim.inject_fault("500", count=2)
            sim.inject_fault("502")
            alerter = Alerter([sink_for(sim)], batch_window=0.0, backoff_base=0.05)
            async with alerter:
                alerter.unwind(17, "leg 2 rejected")
                await wait_for(lambda: len(sim.messages) == 1, timeout=5)
            assert sim.outcomes() == [500, 500, 502, 200]
            times = [r["received"] for r in sim.requests]
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            # backoff doubles: >= base/2, base, 2*base (jitter in [cap/2, cap])
            assert gaps[0] >= 0.025 and gaps[1] >= 0.05 and gaps[2] >= 0.1, gaps
            st = alerter.stats()["telegram"]
            assert (st.retries, st.sent_messages, st.failed_alerts) == (3, 1, 0)
            assert "UNWIND: opportunity 17: leg 2 rejected" in sim.messages[0]["text"]

    run(body)


def test_gives_up_after_max_attempts_and_keeps_going(caplog: pytest.LogCaptureFixture) -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            sim.inject_fault("500", count=2)
            alerter = Alerter([sink_for(sim)], batch_window=0.0, max_attempts=2, backoff_base=0.01)
            async with alerter:
                alerter.notify(AlertKind.INFO, "lost")
                await wait_for(lambda: alerter.stats()["telegram"].failed_alerts == 1)
                alerter.notify(AlertKind.INFO, "after")
                await wait_for(lambda: len(sim.messages) == 1)
            assert sim.outcomes() == [500, 500, 200]
            assert sim.messages[0]["text"].endswith("INFO: after")

    with caplog.at_level(logging.WARNING, logger="openclaw.alerts"):
        run(body)
    assert "gave up on 1 alert(s) (2 attempts)" in caplog.text


def test_client_errors_are_not_retried() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN, chats={"1"}) as sim:  # our chat does not exist
            alerter = Alerter([sink_for(sim)], batch_window=0.0, backoff_base=0.01)
            async with alerter:
                alerter.notify(AlertKind.INFO, "x")
                await wait_for(lambda: alerter.stats()["telegram"].failed_alerts == 1)
                await asyncio.sleep(0.1)
            assert sim.outcomes() == [400]
            assert "chat not found" in (alerter.stats()["telegram"].last_error or "")

    run(body)


def test_full_queue_drops_oldest_low_first() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            alerter = Alerter([sink_for(sim)], maxsize=3, batch_window=0.0)
            # not started yet: alerts only queue
            assert alerter.notify(AlertKind.FILL, "L1")
            assert alerter.notify(AlertKind.FILL, "L2")
            assert alerter.notify(AlertKind.FILL, "L3")
            assert alerter.notify(AlertKind.HALT, "H1")  # drops L1
            assert alerter.notify(AlertKind.FILL, "L4")  # drops L2
            st = alerter.stats()["telegram"]
            assert (st.queued, st.dropped_low, st.dropped_high) == (3, 2, 0)
            async with alerter:
                await wait_for(lambda: len(sim.messages) == 1)
            text = sim.messages[0]["text"]
            assert text.splitlines()[0] == "(2 alert(s) dropped: queue full)"
            bodies = [ln.split(": ", 1)[1] for ln in text.splitlines()[2:]]
            assert bodies == ["L3", "H1", "L4"]  # arrival order within the batch

            only_high = Alerter([sink_for(sim)], maxsize=2)
            assert only_high.notify(AlertKind.HALT, "H1")
            assert only_high.notify(AlertKind.UNWIND, "H2")
            assert not only_high.notify(AlertKind.FILL, "L")  # nothing LOW to drop: itself
            assert only_high.notify(AlertKind.HALT, "H3")  # drops the oldest HIGH
            st = only_high.stats()["telegram"]
            assert (st.queued, st.dropped_low, st.dropped_high) == (2, 1, 1)
            assert only_high.notify(AlertKind.FILL, "urgent", priority=Priority.HIGH)
            assert only_high.stats()["telegram"].dropped_high == 2

    run(body)


def test_notify_never_blocks_while_the_server_is_slow() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            sim.inject_fault("slow", seconds=1.0)
            alerter = Alerter([sink_for(sim)], maxsize=200, batch_window=0.0, max_batch=50)
            async with alerter:
                alerter.notify(AlertKind.INFO, "first")  # this send hangs for 1 s
                await asyncio.sleep(0.05)
                loop = asyncio.get_running_loop()
                gaps: list[float] = []
                stop = False

                async def ticker() -> None:
                    last = loop.time()
                    while not stop:
                        await asyncio.sleep(0.002)
                        now = loop.time()
                        gaps.append(now - last)
                        last = now

                tick = asyncio.create_task(ticker())
                worst = 0
                t0 = time.perf_counter_ns()
                for i in range(20_000):
                    c0 = time.perf_counter_ns()
                    if i % 1000 == 0:
                        alerter.halt(f"h{i}")
                    else:
                        alerter.fill("okx", "BTC-USDT", "buy", "1", "2", f"C{i}")
                    worst = max(worst, time.perf_counter_ns() - c0)
                total_ms = (time.perf_counter_ns() - t0) / 1e6
                st = alerter.stats()["telegram"]
                assert st.queued == 200 and st.sent_messages == 0  # still stuck on "first"
                await asyncio.sleep(0.3)
                stop = True
                await tick
                assert await alerter.flush(5)
            st = alerter.stats()["telegram"]
            assert total_ms < 1000, total_ms  # ~50 ms here: 20k O(1) puts
            assert worst < 20e6, worst
            assert max(gaps) < 0.1, max(gaps)
            assert st.dropped_high == 0 and st.dropped_low == 20_000 - 200
            delivered = "\n".join(m["text"] for m in sim.messages)
            assert all(f"HALT: trading halted: h{i}" in delivered for i in range(0, 20_000, 1000))
            assert st.sent_alerts == 201

    run(body)


def test_aclose_delivers_what_is_queued() -> None:
    async def body() -> None:
        async with TelegramSim(TOKEN) as sim:
            alerter = await Alerter([sink_for(sim)], batch_window=10.0).start()
            alerter.halt("shutting down")
            await alerter.aclose(timeout=3)  # does not wait out the 10 s window
            assert len(sim.messages) == 1
            assert not alerter.notify(AlertKind.INFO, "too late")
            assert alerter.stats()["telegram"].dropped_closed == 1

    run(body)


def test_config_errors() -> None:
    with pytest.raises(AlertConfigError):
        Alerter([])
    with pytest.raises(AlertConfigError):
        TelegramSink(TOKEN, "not a chat")
    with pytest.raises(AlertConfigError):
        TelegramSink(TOKEN, CHAT, base_url="ftp://example.org")
