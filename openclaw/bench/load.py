"""Feed load test: the simulators in another process, one client process running the Aggregator.

``openclaw-trading bench feed --load [--seconds 60] [--rate 20000] [--json]``

1. spawn ``python -m openclaw.sim --paused --rate S`` and read its JSON line of URLs;
2. run ``openclaw.feeds.aggregator.Aggregator`` in this process over every simulated instrument
   (3 Binance + 3 OKX + 3 Bybit spot + 2 Bybit linear books), with one subscriber that stores
   ``time.monotonic_ns() - recv_ts`` (socket frame handed over -> book applied and merged ->
   subscriber notified) in a preallocated numpy array;
3. step the paused market until every book is LIVE, measure depth messages per market step, then
   set the step rate to ``rate / msgs_per_step`` and resume for ``seconds``;
4. pause, wait until the client has read everything, and check: every book equals the
   simulator's true book, its sequence id equals the simulator's (an unbroken chain: no message
   lost), Bybit message counts match the simulator's ``u`` counters exactly, no resync, no
   reconnect, no "client too slow" drop on the simulator side.

Reported: messages/s achieved vs target, latency p50/p99/max, the simulator stamp -> book lag
(ms resolution, includes the simulator's own send queue), RSS of this process at start and end
(``/proc/self/status``), CPU of both processes, resyncs, reconnects. A target that was not met is
printed in red and ``targets_met`` is false; ``--strict`` turns that into exit code 3. A
correctness failure (book mismatch, lost message, resync) is exit code 1.

The simulators serve no tick/lot sizes over HTTP, so the instruments come from the simulator's
default market definition (``openclaw.sim.engine.market.default_instruments``), imported here only.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openclaw.bench.simproc import SimProcess as _Child
from openclaw.bench.simproc import SimProcessError, module_args
from openclaw.feeds.aggregator import Aggregator, VenueEndpoints
from openclaw.feeds.state import BookState
from openclaw.model.instrument import Instrument
from openclaw.venues.registry import FEEDS

TARGET_RATE = 20_000.0        # depth messages per second, all venues together
TARGET_P99_US = 200.0
RSS_FLAT_KB = 5 * 1024        # growth allowed between start and end to call memory flat
RATE_TOLERANCE = 0.98         # achieved >= 98 % of the target counts as met
CALIBRATION_STEPS = 50
SIM_START_TIMEOUT = 20.0
BYBIT_DEPTH = 50
OKX_DEPTH = 400


class LoadTestError(RuntimeError):
    """The load test could not run (simulator did not start, books never went LIVE)."""


# --------------------------------------------------------------------------- process stats


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size in KiB from ``/proc/<pid>/status`` (VmRSS); 0 if unavailable."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process from ``/proc/<pid>/stat``; 0.0 if unavailable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # fields after "(comm)": state is [0], utime [11], stime [12]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sched_ns(pid: int | str = "self") -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for a CPU) of a process's main thread, from
    ``/proc/<pid>/schedstat``; (0, 0) if unavailable. The wait time shows CPU starvation (other
    processes on the machine), which CPU time alone cannot tell from an idle process."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            run_ns, wait_ns = f.read().split()[:2]
    except (OSError, ValueError):
        return 0, 0
    return int(run_ns), int(wait_ns)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies over every CPU from ``/proc/stat`` (busy excludes idle, iowait)."""
    try:
        with open("/proc/stat") as f:
            values = [float(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    total = sum(values[:8])          # user nice system idle iowait irq softirq steal
    return total - values[3] - values[4], total


# --------------------------------------------------------------------------- simulator process


class SimProcess(_Child):
    """``python -m openclaw.sim`` as a subprocess (``openclaw.bench.simproc``): start, read
    URLs, keep stderr, stop."""

    def __init__(self, *, seed: int = 1, rate: float = 10.0, paused: bool = True,
                 extra_args: tuple[str, ...] = ()) -> None:
        super().__init__(module_args("openclaw.sim", "--seed", str(seed), "--rate", str(rate),
                                     *(["--paused"] if paused else []), *extra_args),
                         start_timeout=SIM_START_TIMEOUT)
        self.urls: dict[str, dict[str, str]] = {}

    async def start(self) -> dict[str, Any]:
        """Spawn the simulators and return their URLs (the ``{"urls": ...}`` line)."""
        try:
            info = await super().start()
        except SimProcessError as e:
            raise LoadTestError(str(e)) from None
        urls = info.get("urls")
        if not isinstance(urls, dict):
            await self.stop()
            raise LoadTestError(f"the simulators printed no URLs: {info}")
        self.urls = urls
        return self.urls


# --------------------------------------------------------------------------- client set-up


def sim_instruments() -> list[Instrument]:
    """Every instrument of the simulators' default market, as a user would configure it.

    Tick and lot sizes are not served by the simulators' HTTP API, so they come from the
    simulator's own market definition (imported here only, never by ``openclaw.feeds``).
    """
    from openclaw.sim.engine.market import default_instruments

    out = []
    for spec in default_instruments():
        base, quote = spec.symbol.split("/")
        out.append(Instrument(spec.venue, spec.venue_symbol, spec.tick, spec.lot,
                              category=spec.category, base=base, quote=quote))
    return out


def endpoints_from_urls(urls: dict[str, dict[str, str]]) -> dict[str, VenueEndpoints]:
    """Aggregator endpoints from the URLs ``python -m openclaw.sim`` prints."""
    bybit_ws = urls["bybit"]["ws_spot"]
    suffix = "/v5/public/spot"
    if not bybit_ws.endswith(suffix):
        raise LoadTestError(f"unexpected Bybit URL {bybit_ws!r}")
    return {
        "binance": VenueEndpoints(ws=urls["binance"]["ws"], rest=urls["binance"]["rest"]),
        "okx": VenueEndpoints(ws=urls["okx"]["ws"], rest=urls["okx"]["rest"]),
        "bybit": VenueEndpoints(ws=bybit_ws[: -len(suffix)], rest=urls["bybit"]["rest"]),
    }


class LatencyRecorder:
    """Aggregator subscriber: receive -> notification latency (and simulator-stamp lag) into
    preallocated arrays while ``recording``. The arrays are written once at allocation so that
    filling them later does not show up as RSS growth."""

    def __init__(self, agg: Aggregator, capacity: int) -> None:
        self.lat_ns = np.empty(capacity, dtype=np.int64)
        self.lag_ns = np.empty(capacity, dtype=np.int64)
        self.lat_ns.fill(0)
        self.lag_ns.fill(0)
        self.n = 0
        self.overflow = 0
        self.recording = False
        self.last_ns = 0          # monotonic time of the last notification
        self._books = [agg.bookset.book(i) for i in range(agg.bookset.n_books)]

    def __call__(self, book_id: int, recv_ts: int) -> None:
        """Called by the Aggregator after every book change."""
        now = time.monotonic_ns()
        self.last_ns = now
        if not self.recording:
            return
        i = self.n
        if i >= len(self.lat_ns):
            self.overflow += 1
            return
        self.lat_ns[i] = now - recv_ts
        self.lag_ns[i] = time.time_ns() - self._books[book_id].exch_ts
        self.n = i + 1

    def summary(self) -> dict[str, Any]:
        """p50/p99/max of the latency (us) and of the simulator-stamp lag (ms)."""
        lat = self.lat_ns[: self.n]
        lag = self.lag_ns[: self.n]
        if not self.n:
            return {"samples": 0, "overflow": self.overflow}
        return {
            "samples": int(self.n),
            "overflow": self.overflow,
            "recv_to_book_us": {
                "p50": round(float(np.percentile(lat, 50)) / 1e3, 2),
                "p99": round(float(np.percentile(lat, 99)) / 1e3, 2),
                "p999": round(float(np.percentile(lat, 99.9)) / 1e3, 2),
                "max": round(float(lat.max()) / 1e3, 2),
            },
            "sim_stamp_to_book_ms": {
                "p50": round(float(np.percentile(lag, 50)) / 1e6, 2),
                "p99": round(float(np.percentile(lag, 99)) / 1e6, 2),
                "max": round(float(lag.max()) / 1e6, 2),
            },
        }


# --------------------------------------------------------------------------- control helpers


class SimControl:
    """The simulators' HTTP control API (one shared clock behind every venue's endpoint)."""

    def __init__(self, urls: dict[str, dict[str, str]]) -> None:
        import aiohttp

        self.urls = urls
        self.session = aiohttp.ClientSession()

    async def get(self, venue: str, path: str) -> Any:
        """GET ``/_sim/...`` on a venue's control server."""
        async with self.session.get(self.urls[venue]["control"] + path) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise LoadTestError(f"GET {path} -> HTTP {resp.status}: {body[:200]!r}")
            return json.loads(body)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST ``/_sim/...`` (clock calls: any venue's server will do)."""
        async with self.session.post(self.urls["binance"]["control"] + path,
                                     json=body or {}) as resp:
            data = await resp.read()
            if resp.status != 200:
                raise LoadTestError(f"POST {path} -> HTTP {resp.status}: {data[:200]!r}")
            return json.loads(data)

    async def statuses(self) -> dict[str, Any]:
        """``/_sim/status`` of every venue server."""
        venues = ("binance", "okx", "bybit")
        got = await asyncio.gather(*(self.get(v, "/_sim/status") for v in venues))
        return dict(zip(venues, got, strict=True))

    async def true_book(self, inst: Instrument) -> Any:
        """The simulator's true book of an instrument, windowed as the client subscribes."""
        depth = {"okx": f"&depth={OKX_DEPTH}", "bybit": f"&depth={BYBIT_DEPTH}"}.get(inst.venue, "")
        return await self.get(inst.venue, f"/_sim/book?symbol={inst.symbol}"
                                          f"&category={inst.category}{depth}")

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.session.close()


def _sim_seq(inst: Instrument, true: dict[str, Any]) -> int:
    if inst.venue == "binance":
        return int(true["lastUpdateId"])
    if inst.venue == "okx":
        return int(true["seqId"])
    return int(true["u"][str(BYBIT_DEPTH)])


def _client_messages(agg: Aggregator) -> dict[str, int]:
    return {name: c.depth_messages for name, c in agg.counters.items()}


async def _quiesce(agg: Aggregator, ctl: SimControl, quiet: float = 0.3,
                   timeout: float = 120.0) -> float:
    """With the market paused, wait until the simulators' send queues are empty and the
    client's counters stop moving; returns how long that took."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    last = -1
    while True:
        await asyncio.sleep(quiet)
        seen = sum(_client_messages(agg).values())
        queued = sum(s["queued"] for s in (await ctl.statuses()).values())
        if seen == last and queued == 0:
            return loop.time() - t0
        if loop.time() - t0 > timeout:
            raise LoadTestError(f"client still reading after {timeout}s ({queued} queued)")
        last = seen


# --------------------------------------------------------------------------- the run


@dataclass
class Progress:
    """One status line on stderr per second (overwritten on a terminal)."""

    enabled: bool = True
    tty: bool = field(default_factory=lambda: sys.stderr.isatty())
    last_plain: float = 0.0

    def line(self, text: str, final: bool = False) -> None:
        """Show ``text`` (plain lines every 5 s when stderr is not a terminal)."""
        if not self.enabled:
            return
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + text + ("\n" if final else ""))
            sys.stderr.flush()
            return
        now = time.monotonic()
        if final or now - self.last_plain >= 5.0:
            self.last_plain = now
            print(text, file=sys.stderr, flush=True)

    def log(self, text: str) -> None:
        """A plain message line."""
        if self.enabled:
            if self.tty:
                sys.stderr.write("\r\x1b[2K")
            print(text, file=sys.stderr, flush=True)


async def run_load_async(seconds: float = 60.0, rate: float = TARGET_RATE, *, seed: int = 1,
                         progress: Progress | None = None) -> dict[str, Any]:
    """Run the load test and return the report dict (see the module docstring)."""
    if seconds <= 0 or rate <= 0:
        raise ValueError("seconds and rate must be > 0")
    progress = progress or Progress()
    sim = SimProcess(seed=seed, rate=10.0, paused=True)
    progress.log(f"starting simulators: {' '.join(sim.args[1:])}")
    ctl: SimControl | None = None
    agg: Aggregator | None = None
    try:
        urls = await sim.start()
        ctl = SimControl(urls)
        instruments = sim_instruments()
        agg = Aggregator(instruments, endpoints_from_urls(urls), feeds=FEEDS)
        capacity = int(seconds * rate * 1.5) + 200_000
        rec = LatencyRecorder(agg, capacity)
        agg.subscribe(rec)
        await agg.start()
        # Binance books go LIVE on their first stream event after the snapshot: step a little
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20.0
        while not all(agg.state(b) == BookState.LIVE for b in agg.instrument_of):
            if loop.time() > deadline:
                await agg.wait_live(0.01)         # raises with the books still waiting
            await ctl.post("/_sim/step", {"n": 1})
            await asyncio.sleep(0.1)
        await _quiesce(agg, ctl)
        # calibrate: depth messages per market step over all subscribed books
        before = sum(_client_messages(agg).values())
        await ctl.post("/_sim/step", {"n": CALIBRATION_STEPS})
        await _quiesce(agg, ctl)
        per_step = (sum(_client_messages(agg).values()) - before) / CALIBRATION_STEPS
        if per_step <= 0:
            raise LoadTestError("no depth message during calibration")
        step_rate = rate / per_step
        progress.log(f"{len(instruments)} books LIVE; {per_step:.2f} depth msgs per market "
                     f"step -> {step_rate:,.0f} steps/s for {rate:,.0f} msgs/s")

        # ---- start of the measured window
        start_true = {b: await ctl.true_book(i) for b, i in agg.instrument_of.items()}
        start_off = [f"{i.venue}:{i.key}" for b, i in agg.instrument_of.items()
                     if agg.bookset.book(b).seq != _sim_seq(i, start_true[b])]
        if start_off:
            raise LoadTestError(f"books behind the simulator before the run: {start_off}")
        start_msgs = _client_messages(agg)
        start_counters = {n: (c.total_resyncs, c.reconnects) for n, c in agg.counters.items()}
        start_status = await ctl.statuses()
        rss_start = rss_kb()
        sim_rss_start = rss_kb(sim.pid)
        cpu0, sim_cpu0 = cpu_seconds(), cpu_seconds(sim.pid)
        sched0, sim_sched0, mach0 = sched_ns(), sched_ns(sim.pid), machine_cpu()
        await ctl.post("/_sim/rate", {"rate": step_rate})
        rec.recording = True
        t0 = time.monotonic()
        await ctl.post("/_sim/resume")
        rss_peak = rss_start
        prev_t, prev_msgs = t0, sum(start_msgs.values())
        prev_cpu, prev_wait, prev_mach = sim_cpu0, sim_sched0[1], mach0
        while (now := time.monotonic()) - t0 < seconds:
            await asyncio.sleep(min(1.0, max(0.01, seconds - (now - t0))))
            now = time.monotonic()
            msgs = sum(_client_messages(agg).values())
            scpu = cpu_seconds(sim.pid)
            rss_peak = max(rss_peak, rss_kb())
            n_resyncs = sum(c.total_resyncs for c in agg.counters.values())
            n_reconnects = sum(c.reconnects for c in agg.counters.values())
            swait, mach = sched_ns(sim.pid)[1], machine_cpu()
            dt = max(1e-9, now - prev_t)
            busy = 100 * (mach[0] - prev_mach[0]) / max(1.0, mach[1] - prev_mach[1])
            progress.line(
                f"[{now - t0:5.1f}/{seconds:g}s] {(msgs - prev_msgs) / dt:8,.0f} msgs/s "
                f"(target {rate:,.0f}) | sim CPU {100 * (scpu - prev_cpu) / dt:3.0f}%, "
                f"waiting {(swait - prev_wait) / dt / 1e7:3.0f}% | machine {busy:3.0f}% busy"
                f" | resyncs {n_resyncs} | reconnects {n_reconnects}"
                f" | RSS {rss_kb() / 1024:.1f} MiB")
            prev_t, prev_msgs, prev_cpu, prev_wait, prev_mach = now, msgs, scpu, swait, mach
        paused = await ctl.post("/_sim/pause")
        t1 = time.monotonic()
        window = t1 - t0
        cpu1, sim_cpu1 = cpu_seconds(), cpu_seconds(sim.pid)
        sched1, sim_sched1, mach1 = sched_ns(), sched_ns(sim.pid), machine_cpu()
        queued_at_pause = sum(s["queued"] for s in (await ctl.statuses()).values())
        await _quiesce(agg, ctl)
        rec.recording = False
        drain = max(0.0, rec.last_ns / 1e9 - t1)   # last book change after the pause
        progress.line(f"[{window:5.1f}s] done; client drained the backlog in {drain:.2f}s",
                      final=True)
        rss_end = rss_kb()
        sim_rss_end = rss_kb(sim.pid)

        # ---- checks
        end_msgs = _client_messages(agg)
        problems: list[str] = []
        books: dict[str, Any] = {}
        bybit_expected: dict[str, int] = {}
        for book_id, inst in agg.instrument_of.items():
            name = f"{inst.venue}:{inst.key}"
            true = await ctl.true_book(inst)
            book = agg.bookset.book(book_id)
            state = agg.state(book_id)
            sim_seq = _sim_seq(inst, true)
            bids, asks = book.top(100_000)
            ok_levels = (bids.tolist() == [[float(p), float(q)] for p, q in true["bids"]]
                         and asks.tolist() == [[float(p), float(q)] for p, q in true["asks"]])
            books[name] = {"state": state.name, "seq": book.seq, "sim_seq": sim_seq,
                           "levels": [len(bids), len(asks)], "equal": ok_levels}
            if state not in (BookState.LIVE, BookState.STALE):
                problems.append(f"{name} is {state.name}")
            if book.seq != sim_seq:
                problems.append(f"{name}: seq {book.seq} != simulator {sim_seq}")
            if not ok_levels:
                problems.append(f"{name}: levels differ from the simulator's true book")
            if inst.venue == "bybit":
                feed = f"bybit:{inst.category}"
                sent = sim_seq - _sim_seq(inst, start_true[book_id])
                bybit_expected[feed] = bybit_expected.get(feed, 0) + sent
        counts: dict[str, Any] = {}
        for feed, end in end_msgs.items():
            got = end - start_msgs.get(feed, 0)
            counts[feed] = {"received": got}
            if feed in bybit_expected:
                counts[feed]["sent"] = bybit_expected[feed]
                if got != bybit_expected[feed]:
                    problems.append(f"{feed}: received {got} depth messages, simulator sent "
                                    f"{bybit_expected[feed]}")
        resyncs = {n: c.total_resyncs - start_counters[n][0] for n, c in agg.counters.items()}
        reconnects = {n: c.reconnects - start_counters[n][1] for n, c in agg.counters.items()}
        errors = {n: c.parse_errors + c.unknown_symbol for n, c in agg.counters.items()}
        if any(resyncs.values()):
            problems.append(f"resyncs during the run: {resyncs}")
        if any(reconnects.values()):
            problems.append(f"reconnects during the run: {reconnects}")
        if any(errors.values()):
            problems.append(f"parse errors / unknown symbols: {errors}")
        slow = [ln for ln in sim.stderr_lines if "too slow" in ln]
        if slow:
            problems.append(f"simulator dropped a slow client: {slow[0]}")
        if rec.overflow:
            problems.append(f"latency array overflowed ({rec.overflow} samples lost)")

        total = sum(end_msgs.values()) - sum(start_msgs.values())
        achieved = total / window
        steps = paused["step"] - start_status["binance"]["step"]
        ncpu = os.cpu_count() or 1
        machine_pct = 100 * ncpu * (mach1[0] - mach0[0]) / max(1.0, mach1[1] - mach0[1])
        lat = rec.summary()
        p99 = lat.get("recv_to_book_us", {}).get("p99", float("inf"))
        targets = {
            "rate": achieved >= RATE_TOLERANCE * rate,
            "p99": p99 < TARGET_P99_US,
            "no_drop": not problems,
            "flat_memory": rss_end - rss_start <= RSS_FLAT_KB,
        }
        return {
            "ok": not problems,
            "problems": problems,
            "targets_met": all(targets.values()),
            "targets": targets,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_1m_end": round(os.getloadavg()[0], 2),
            "seconds": round(window, 3),
            "target_rate": rate,
            "target_p99_us": TARGET_P99_US,
            "msgs_per_step": round(per_step, 3),
            "requested_steps_per_s": round(step_rate, 1),
            "achieved_steps_per_s": round(steps / window, 1),
            "messages": total,
            "msgs_per_s": round(achieved, 1),
            "rate_ratio": round(achieved / rate, 4),
            "drain_s": round(drain, 3),
            "sim_queued_at_pause": queued_at_pause,
            "latency": lat,
            "rss_kb": {"start": rss_start, "end": rss_end, "peak": rss_peak,
                       "growth": rss_end - rss_start},
            "sim_rss_kb": {"start": sim_rss_start, "end": sim_rss_end},
            "cpu_pct": {"client": round(100 * (cpu1 - cpu0) / window, 1),
                        "sim": round(100 * (sim_cpu1 - sim_cpu0) / window, 1),
                        "machine": round(machine_pct, 1),
                        "others": round(machine_pct - 100 * (cpu1 - cpu0 + sim_cpu1 - sim_cpu0)
                                        / window, 1)},
            "cpu_wait_pct": {"client": round((sched1[1] - sched0[1]) / window / 1e7, 1),
                             "sim": round((sim_sched1[1] - sim_sched0[1]) / window / 1e7, 1)},
            "resyncs": sum(resyncs.values()),
            "reconnects": sum(reconnects.values()),
            "by_feed": {
                feed: {**counts[feed], "resyncs": resyncs[feed], "reconnects": reconnects[feed]}
                for feed in counts
            },
            "books": books,
            "sim_warnings": [ln for ln in sim.stderr_lines
                             if "WARNING" in ln or "ERROR" in ln][:20],
        }
    finally:
        if agg is not None:
            await agg.stop()
        if ctl is not None:
            await ctl.close()
        code = await sim.stop()
        if code not in (0, None, -signal.SIGTERM):
            progress.log(f"simulator exited with code {code}")


def run_load(seconds: float = 60.0, rate: float = TARGET_RATE, json_out: bool = False, *,
             seed: int = 1, show_progress: bool = True) -> dict[str, Any]:
    """Run the load test, print the report (or one JSON object) and return it."""
    progress = Progress(enabled=show_progress)
    try:
        result = asyncio.run(run_load_async(seconds, rate, seed=seed, progress=progress))
    except (LoadTestError, KeyboardInterrupt) as exc:
        text = str(exc) or "interrupted"
        result = {"ok": False, "targets_met": False, "problems": [text], "error": text}
        _print_error(text)
        if json_out:
            print(json.dumps(result))
        return result
    if json_out:
        print(json.dumps(result))
    else:
        print_report(result)
    return result


def _print_error(text: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False).print(f"LOAD TEST FAILED: {text}", style="bold red",
                                                markup=False)


def print_report(r: dict[str, Any]) -> None:
    """Human report on stdout, targets in green (met) or red (missed)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)

    def mark(ok: bool) -> str:
        return "[green]met[/]" if ok else "[bold red]NOT MET[/]"

    lat = r["latency"].get("recv_to_book_us", {})
    lag = r["latency"].get("sim_stamp_to_book_ms", {})
    t = r["targets"]
    table = Table(title=f"feed load test: simulators in a subprocess, Aggregator here, "
                        f"{r['seconds']:.1f}s, Python {r['python']}, {r['cpus']} CPUs")
    for col in ("measure", "value", "target", ""):
        table.add_column(col)
    table.add_row("depth msgs/s (all venues)",
                  f"{r['msgs_per_s']:,.0f} ({100 * r['rate_ratio']:.1f}% of target)",
                  f">= {r['target_rate']:,.0f}", mark(t["rate"]))
    table.add_row("market steps/s", f"{r['achieved_steps_per_s']:,.1f} of "
                  f"{r['requested_steps_per_s']:,.1f} requested ({r['msgs_per_step']} msgs/step)",
                  "", "")
    table.add_row("recv -> book p50 / p99 / max",
                  f"{lat.get('p50', '-')} / {lat.get('p99', '-')} / {lat.get('max', '-')} us",
                  f"p99 < {r['target_p99_us']:g} us", mark(t["p99"]))
    table.add_row("sim stamp -> book p50 / p99 / max",
                  f"{lag.get('p50', '-')} / {lag.get('p99', '-')} / {lag.get('max', '-')} ms",
                  "(info: ms stamps, includes sim queue)", "")
    table.add_row("messages (lost / resyncs / reconnects)",
                  f"{r['messages']:,} ({'0' if t['no_drop'] else '?'} / {r['resyncs']} / "
                  f"{r['reconnects']})", "0 / 0 / 0", mark(t["no_drop"]))
    rss = r["rss_kb"]
    table.add_row("client RSS start / end / peak",
                  f"{rss['start'] / 1024:.1f} / {rss['end'] / 1024:.1f} / "
                  f"{rss['peak'] / 1024:.1f} MiB",
                  f"growth <= {RSS_FLAT_KB / 1024:g} MiB", mark(t["flat_memory"]))
    cpu, wait = r["cpu_pct"], r["cpu_wait_pct"]
    table.add_row("CPU client / simulator / other processes",
                  f"{cpu['client']}% / {cpu['sim']}% / {cpu['others']}% of one core "
                  f"({r['cpus']} CPUs)", "", "")
    table.add_row("waiting for a CPU: client / simulator",
                  f"{wait['client']}% / {wait['sim']}% of the time", "(CPU starvation)", "")
    table.add_row("backlog at pause", f"{r['sim_queued_at_pause']:,} frames queued in the "
                  f"simulator; last book change {r['drain_s']:.3f} s after the pause", "", "")
    console.print(table)
    for feed, c in r["by_feed"].items():
        sent = f", simulator sent {c['sent']:,}" if "sent" in c else ""
        console.print(f"  {feed}: received {c['received']:,}{sent}, resyncs {c['resyncs']},"
                      f" reconnects {c['reconnects']}")
    console.print(f"  books: {sum(b['equal'] for b in r['books'].values())}/{len(r['books'])} "
                  "equal to the simulator's true book, sequence ids equal")
    for p in r["problems"]:
        console.print(f"[bold red]PROBLEM[/]: {p}")
    if not r["targets_met"]:
        missed = ", ".join(k for k, v in t.items() if not v)
        console.print(f"[bold red]TARGETS NOT MET: {missed}[/]")
        if not t["rate"]:
            console.print(
                f"[red]the simulators reached {r['msgs_per_s']:,.0f} msgs/s, not "
                f"{r['target_rate']:,.0f}: simulator CPU {cpu['sim']}% of one core, waiting "
                f"for a CPU {wait['sim']}% of the time, other processes {cpu['others']}%[/]")


def main(argv: list[str] | None = None) -> int:
    """``python -m openclaw.bench.load [--seconds S] [--rate N] [--json] [--strict]``."""
    import argparse

    p = argparse.ArgumentParser(prog="openclaw-trading bench feed --load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=TARGET_RATE,
                   help="target depth messages per second, all venues together")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true")
    p.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    args = p.parse_args(argv)
    result = run_load(args.seconds, args.rate, args.json, seed=args.seed)
    return exit_code(result, args.strict)


def exit_code(result: dict[str, Any], strict: bool = False) -> int:
    """1: correctness failure; 3: a target missed under ``strict``; else 0."""
    if not result["ok"]:
        return 1
    if strict and not result["targets_met"]:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
