"""Process and disk faults (layer "process"): the engine in a child process
(``openclaw/app/chaos/proc_child.py``) against the simulators of this process, so that the
venues' records survive whatever happens to the engine.

Evidence per row: the child's own lines and exit code, the venues' order lists
(``GET /_sim/orders``) and the journal after a restart (a new journal handle, new ccxt routes and
``Router.recover`` in this process: what the next engine start does before it trades).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from openclaw.app.chaos.runner import VENUES, Fault, FaultRow
from openclaw.execution.audit import audit_orders
from openclaw.model.orders import OrderStatus

__all__ = ["PROCESS", "PROCESS_FAULTS", "Child", "ProcTrial"]

PROCESS = "process"
CHILD = "openclaw.app.chaos.proc_child"


class Child:
    """The engine process: its lines as they come, its exit code."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.stderr = b""
        self._new = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            self._new.set()
        self._new.set()

    async def line(self, *starts: str, timeout: float = 30.0) -> str | None:
        """The first line starting with one of ``starts`` (None: timeout or exit without)."""
        end = time.monotonic() + timeout
        while True:
            for ln in self.lines:
                if ln.startswith(starts):
                    return ln
            if self._reader.done() or time.monotonic() > end:
                return None
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), max(0.0, end - time.monotonic()))

    async def kill9(self) -> int:
        """SIGKILL; the exit code (-9)."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        return await self.wait()

    async def wait(self, timeout: float = 30.0) -> int:
        """The exit code (killed after ``timeout``)."""
        try:
            rc = await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            rc = await self.proc.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 5)
        if self.proc.stderr is not None:
            with contextlib.suppress(Exception):
                self.stderr = await asyncio.wait_for(self.proc.stderr.read(), 5)
        return rc


class ProcTrial:
    """One process fault's run: simulators here, children, the journal, the evidence."""

    def __init__(self, fault: Fault, sims: Any, http: aiohttp.ClientSession, tmp: Path) -> None:
        self.fault = fault
        self.sims = sims
        self.http = http
        self.journal_path = tmp / "journal.sqlite"
        self.row = FaultRow(fault.name, fault.layer, fault.venue, books_ok=None)
        self.prefix = ""
        self.children: list[Child] = []

    def expect(self, cond: bool, why: str) -> bool:
        """A check of this fault; a false one fails the row."""
        if not cond:
            self.row.why.append(why)
        return cond

    def urls(self) -> dict[str, str]:
        return {v: str(self.sims.servers[v].url) for v in VENUES}

    async def control(self, venue: str, method: str, path: str,
                      body: dict[str, Any] | None = None) -> Any:
        """One call of a simulator's ``/_sim/`` API."""
        async with self.http.request(method, self.urls()[venue] + path, json=body) as resp:
            got = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"{method} {path}: {resp.status} {got}")
            return got

    async def venue_orders(self, venue: str) -> list[dict[str, Any]]:
        return list((await self.control(venue, "GET", "/_sim/orders"))["orders"])

    async def all_venue_orders(self) -> int:
        n = 0
        for v in VENUES:
            n += len(await self.venue_orders(v))
        return n

    async def spawn(self, mode: str, **extra: Any) -> Child:
        """Start the engine child in ``mode`` (``as_user``: it drops to this uid before it
        opens the journal)."""
        spec = {"journal": str(self.journal_path), "urls": self.urls(), "mode": mode, **extra}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", CHILD, json.dumps(spec), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        child = Child(proc)
        self.children.append(child)
        return child

    async def ready(self, child: Child) -> bool:
        got = await child.line("READY", "ERROR", timeout=60)
        if got is None or not got.startswith("READY"):
            self.expect(False, f"the engine did not start: {got or child.stderr[-300:]!r}")
            return False
        self.prefix = got.split()[1]
        return True

    def journal_rows(self) -> list[tuple[str, str]]:
        """(client id, status) of every order in the journal (read-only, while it runs)."""
        if not self.journal_path.exists():
            return []
        con = sqlite3.connect(f"file:{self.journal_path}?mode=ro", uri=True)
        try:
            return con.execute("SELECT client_id, status FROM orders").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            con.close()

    async def until(self, pred: Callable[[], Awaitable[bool]], timeout: float,
                    what: str) -> bool:
        end = time.monotonic() + timeout
        while not await pred():
            if time.monotonic() > end:
                return self.expect(False, f"timed out after {timeout:g}s waiting for {what}")
            await asyncio.sleep(0.02)
        return True

    async def restart(self, timed: bool = True) -> list[Any]:
        """The next engine start on this journal (here): recover every order in doubt by
        client id; then the row's orders, fills, lost and duplicates from the evidence."""
        from openclaw.execution.router import Router, VenueRoute
        from openclaw.execution.venues import Credentials, make_client
        from openclaw.journal import Journal
        from openclaw.journal.lock import lock_journal

        lock = lock_journal(self.journal_path)   # the killed engine's lock went with it
        journal = await Journal.open(self.journal_path, synchronous="NORMAL")
        routes = {v: VenueRoute(v, make_client(v, Credentials.simulator(), u))
                  for v, u in self.urls().items()}
        try:
            for r in routes.values():
                await r.start()
            router = Router(routes, journal, visibility_window_s=0.5)
            t0 = time.monotonic()
            await router.recover()
            if timed:
                self.row.recovery_ms = round((time.monotonic() - t0) * 1e3, 1)
            await router.aclose()
            self.expect(await journal.open_orders() == [], "orders still open after recovery")
            problems = await journal.consistency_check()
            self.expect(not problems, f"journal inconsistent: {problems[:2]}")
            await self.evidence(journal)
            return await journal.orders_by_prefix(self.prefix) if self.prefix else []
        finally:
            for r in routes.values():
                await r.close()
            await journal.close()
            lock.release()

    async def evidence(self, journal: Any) -> None:
        """orders, fills, lost and duplicates: the journal against the venues' records."""
        def owns(cid: str) -> bool:
            return bool(self.prefix) and cid.startswith(self.prefix)
        orders = await journal.orders_by_prefix(self.prefix) if self.prefix else []
        self.row.orders = len(orders)
        self.row.fills = sum(1 for f in await journal.fills() if owns(f.client_id))
        at_venue = {v: [{"clientOrderId": o.get("client_id") or "", "filled": o.get("filled")}
                        for o in await self.venue_orders(v)] for v in VENUES}
        rep = audit_orders(orders, at_venue, owns)
        self.row.lost = sum(len(x) for x in rep.lost.values())
        self.row.duplicates = sum(len(x) for x in rep.duplicates.values())
        self.row.why += [f"lost at {v}: {', '.join(x)}" for v, x in rep.lost.items() if x]
        self.row.why += [f"duplicated at {v}: {', '.join(x)}"
                         for v, x in rep.duplicates.items() if x]

    async def close(self) -> None:
        for c in self.children:
            if c.proc.returncode is None:
                await c.kill9()


ProcAct = Callable[[ProcTrial], Awaitable[None]]


def proc_run(act: ProcAct) -> Callable[[Fault, int], Awaitable[FaultRow]]:
    """A process fault's run: simulators in this process, a temporary journal, ``act``."""
    async def run(fault: Fault, seed: int) -> FaultRow:
        from openclaw.app.runner import start_run_simulators

        sims = await start_run_simulators(seed)
        try:
            with tempfile.TemporaryDirectory(prefix="openclaw-chaos-") as tmp:
                os.chmod(tmp, 0o755)    # the unprivileged child of the unwritable row reads it
                async with aiohttp.ClientSession() as http:
                    t = ProcTrial(fault, sims, http, Path(tmp))
                    try:
                        await act(t)
                    finally:
                        await t.close()
                    return t.row
        finally:
            await sims.aclose()
    return run


async def _by_client(t: ProcTrial) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for v in VENUES:
        for o in await t.venue_orders(v):
            if str(o.get("client_id", "")).startswith(t.prefix):
                out.setdefault(str(o["client_id"]), []).append(o)
    return out


def kill9(step: str) -> ProcAct:
    """kill -9 of the engine at ``step`` of a 3-leg list, then a restart on its journal:
    every leg final, once at most at its venue, the journal's fills equal to the venue's."""
    async def act(t: ProcTrial) -> None:
        if step in ("in-flight", "part-answered"):
            # the venue executes the leg but holds its reply back: the leg stays in flight
            held = VENUES if step == "in-flight" else ("okx",)
            for v in held:
                await t.control(v, "POST", "/_sim/fault",
                                {"kind": "order_timeout", "seconds": 3600})
        child = await t.spawn("journaled" if step == "journaled" else "send")
        if not await t.ready(child):
            return
        if step == "journaled":
            ok = await child.line("STEP journaled") is not None
            t.expect(ok, "the list was never journaled")
        elif step == "answered":
            t.expect(await child.line("STEP answered") is not None, "the list never ended")
        else:
            want_final = 0 if step == "in-flight" else 2

            async def in_flight() -> bool:
                rows = t.journal_rows()
                final = sum(s not in ("new", "sent", "unknown") for _, s in rows)
                return len(await _by_client(t)) == 3 and final >= want_final
            await t.until(in_flight, 30, f"3 legs at the venues, {want_final} answered")
        rows_before = t.journal_rows()
        t.expect(await child.kill9() == -signal.SIGKILL, "the engine was not killed by SIGKILL")
        orders = await t.restart()
        t.expect(len(orders) == 3 and len(rows_before) == 3,
                 f"{len(orders)} legs in the journal after the restart, 3 sent")
        at = await _by_client(t)
        for o in orders:
            recs = at.get(o.client_id, [])
            if step == "journaled":
                t.expect(not recs, f"{o.venue} leg reached the venue although never sent")
                t.expect(o.status is OrderStatus.REJECTED, f"{o.venue} leg {o.status.value}")
            else:
                t.expect(len(recs) == 1, f"{o.venue} leg {len(recs)} times at the venue")
                t.expect(o.status is OrderStatus.FILLED, f"{o.venue} leg {o.status.value}")
    return act


async def _unwritable(t: ProcTrial) -> None:
    """The journal's directory is read-only for the engine (root drops to nobody: root
    ignores permissions): the start is refused with a typed error naming the file; nothing
    reaches a venue."""
    jdir = t.journal_path.parent / "ro"
    jdir.mkdir()
    os.chmod(jdir, 0o555)
    t.journal_path = jdir / "journal.sqlite"
    t0 = time.monotonic()
    child = await t.spawn("send", as_user=65534 if os.geteuid() == 0 else None)
    got = await child.line("ERROR", "READY", timeout=60)
    rc = await child.wait(30) if got and got.startswith("ERROR") else await child.kill9()
    t.row.recovery_ms = round((time.monotonic() - t0) * 1e3, 1)
    t.expect(got is not None and got.startswith("ERROR") and "JournalError" in got
             and str(jdir) in got, f"the start was not refused with a typed error: {got!r} "
             f"{child.stderr[-200:]!r}")
    t.expect(rc == 2, f"exit code {rc}, expected 2")
    t.expect(await t.all_venue_orders() == 0, "an order reached a venue")


async def _disk_full(t: ProcTrial) -> None:
    """A file-size limit (``RLIMIT_FSIZE``) once the engine runs: the journal's writes fail
    (EFBIG) while it trades; the engine halts with a typed error, every order a venue holds is
    in the journal, the restart settles the rest."""
    child = await t.spawn("disk_full", fsize=400_000, lists=60)
    if not await t.ready(child):
        return
    got = await child.line("HALT", "DONE", timeout=60)
    rc = await child.wait(30)
    t.expect(got is not None and got.startswith("HALT"),
             f"the engine did not halt on the full disk: {got!r} rc {rc} "
             f"{child.stderr[-300:]!r}")
    lists = sum(ln.startswith("LIST") for ln in child.lines)
    t.expect(lists >= 1, "the limit hit before any list: nothing journaled to test")
    await t.restart()


async def _second_engine(t: ProcTrial) -> None:
    """A second engine on the journal of a running one: refused at start with a typed error
    naming the holder; it sends nothing and the first one is untouched."""
    first = await t.spawn("hold")
    if not await t.ready(first):
        return
    t0 = time.monotonic()
    second = await t.spawn("send")
    got = await second.line("ERROR", "READY", timeout=60)
    rc = await second.wait(30) if got and got.startswith("ERROR") else await second.kill9()
    t.row.recovery_ms = round((time.monotonic() - t0) * 1e3, 1)
    t.expect(got is not None and got.startswith("ERROR JournalLockedError")
             and f"pid {first.proc.pid}" in got, f"the second engine was not refused: {got!r}")
    t.expect(rc == 2, f"second engine exit code {rc}, expected 2")
    t.expect(first.proc.returncode is None, "the first engine died")
    t.expect(await t.all_venue_orders() == 0, "an order reached a venue")
    await first.kill9()
    await t.restart(timed=False)


async def _clock_back(t: ProcTrial) -> None:
    """The wall clock steps one hour back between two lists. Measured: the first list fills;
    the venues refuse every signed request of the second (timestamp outside the recvWindow:
    Binance -1021, OKX 50102, Bybit 10002), so its legs end REJECTED and absent at the venues:
    safe (nothing placed unjournaled or twice, client ids do not come from the clock, the
    journal stays consistent) but no trading until the clock is right. Timeouts, deadlines and
    latencies use the monotonic clock, which never steps."""
    child = await t.spawn("clock_back", step_s=-3600)
    if not await t.ready(child):
        return
    got = await child.line("DONE", "HALT", timeout=60)
    rc = await child.wait(30)
    t.expect(got is not None and got.startswith("DONE") and rc == 0,
             f"the engine failed across the clock step: {got!r} rc {rc} "
             f"{child.stderr[-300:]!r}")
    await t.restart()
    if not (got and got.startswith("DONE")):
        return
    done = json.loads(got[5:])
    statuses, cids = done["statuses"], done["client_ids"]
    t.expect(statuses[:3] == ["filled"] * 3, f"the list before the step: {statuses[:3]}")
    t.expect(len(set(cids)) == 6, "a client id repeated after the step")
    at = await _by_client(t)
    for cid, status, why in zip(cids[3:], statuses[3:], done["reasons"], strict=True):
        n = len(at.get(cid, []))
        if status == "rejected":
            t.expect(n == 0, f"{cid} refused ({why}) but {n} at the venue")
        else:
            t.expect(status == "filled" and n == 1, f"{cid} {status}, {n} at the venue")


def _pf(name: str, injects: str, checks: str, act: ProcAct, quick: bool = False) -> Fault:
    return Fault(name, PROCESS, "all", injects, checks, _standalone, quick=quick,
                 run=proc_run(act))


async def _standalone(t: Any) -> None:
    raise RuntimeError("a process fault runs through Fault.run")


PROCESS_FAULTS: tuple[Fault, ...] = (
    _pf("proc-kill9-journaled", "kill -9 after the list is journaled, before it is sent",
        "restart: the 3 legs settled as never placed, none at a venue", kill9("journaled")),
    _pf("proc-kill9-in-flight", "kill -9 with the 3 legs executed, every reply held back",
        "restart: each leg FILLED once, resolved by client id", kill9("in-flight"), quick=True),
    _pf("proc-kill9-part-answered", "kill -9 with 2 legs answered, the OKX reply held back",
        "restart: each leg FILLED once", kill9("part-answered")),
    _pf("proc-kill9-answered", "kill -9 after every leg is answered and journaled",
        "restart: nothing to recover, nothing re-sent", kill9("answered")),
    _pf("proc-journal-unwritable", "the journal's directory read-only for the engine",
        "start refused, typed JournalError naming the path, exit 2, no order sent", _unwritable),
    _pf("proc-disk-full", "RLIMIT_FSIZE 400 kB while journaling lists (EFBIG)",
        "engine halts with a typed error; nothing at a venue unjournaled; restart settles",
        _disk_full),
    _pf("proc-second-engine", "a second engine started on the journal of a running one",
        "refused: JournalLockedError naming the holder's pid, exit 2, nothing sent",
        _second_engine),
    _pf("proc-clock-back", "the wall clock steps 1 h back between two lists",
        "1st list FILLED; 2nd: each leg FILLED once or refused by the venue (timestamp) and "
        "absent there; distinct client ids; journal consistent", _clock_back),
)
