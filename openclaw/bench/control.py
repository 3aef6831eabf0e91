"""Does serving the control API move the trading path? ``python -m openclaw.bench.control``.

Runs ``openclaw-trading run`` on the simulators (nine markets, the example file) for
``--seconds`` twice per round: once left alone (``quiet``), once while this process asks it
``GET /v1/status`` ``--rate`` times a second (``polled``; 50/s by default, as an agent or a
dashboard never would). Each run's own stage latency report (its summary on stdout) gives the
percentiles of every book event from receipt to the detector's verdict (``end_to_end``, and
``book``/``signal``; ``submit`` when orders went out). Rounds alternate quiet and polled so that
drift of the machine hits both. On a shared 2-core VM the spread between two quiet runs is the
yardstick: the verdict compares the polled p99 with it.

``--json`` prints one JSON object; otherwise a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "triarb.toml"
STAGES = ("end_to_end", "book", "signal", "submit")


def _config(tmp: Path) -> Path:
    text = EXAMPLE.read_text()
    text = text.replace('path = "openclaw-journal.sqlite"', f'path = "{tmp / "j.sqlite"}"')
    text += (f'\n[control]\ntoken_file = "{tmp / "t.token"}"\nstate_file = "{tmp / "s.json"}"\n'
             f'approval_file = "{tmp / "a.txt"}"\n')
    path = tmp / "run.toml"
    path.write_text(text)
    return path


async def _poll(state: Path, rate: float, stop: asyncio.Event) -> dict[str, Any]:
    """GET /v1/status at ``rate``/s until ``stop``; counts and the answer times (ms)."""
    while not state.exists() and not stop.is_set():
        await asyncio.sleep(0.05)
    if stop.is_set():
        return {"requests": 0}
    st = orjson.loads(state.read_bytes())
    token = Path(st["token_file"]).read_text().strip()
    headers = {"Authorization": f"Bearer {token}"}
    times: list[float] = []
    errors = 0
    period = 1.0 / rate
    async with aiohttp.ClientSession() as http:
        nxt = time.monotonic()
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                async with http.get(st["url"] + "/v1/status", headers=headers) as r:
                    await r.read()
                    if r.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            times.append((time.perf_counter() - t0) * 1e3)
            nxt += period
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))
    times.sort()
    return {"requests": len(times), "errors": errors,
            "answer_ms_p50": times[len(times) // 2] if times else None,
            "answer_ms_p99": times[int(len(times) * 0.99)] if times else None}


async def _one(seconds: float, rate: float, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="openclaw-bench-control-") as d:
        tmp = Path(d)
        cfg = _config(tmp)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "openclaw", "run", str(cfg), "--seconds", str(seconds),
            "--seed", str(seed), "--log-format", "json",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        stop = asyncio.Event()
        poller = asyncio.create_task(_poll(tmp / "s.json", rate, stop)) if rate else None
        out, _ = await proc.communicate()
        stop.set()
        polled = await poller if poller is not None else {"requests": 0}
        summary = json.loads(out.decode().strip().splitlines()[-1])
        lat = summary["latency"]
        row: dict[str, Any] = {"rate": rate, "events": lat["events"], **polled}
        for name in STAGES:
            s = lat["end_to_end"] if name == "end_to_end" else lat["stages"].get(name, {})
            row[name] = {k: s.get(k) for k in ("count", "p50", "p99", "p99.9")}
        return row


async def bench(seconds: float, rate: float, rounds: int, seed: int) -> dict[str, Any]:
    """``rounds`` of (quiet, polled) runs; the per-run rows and a verdict on the p99s."""
    runs = []
    for _ in range(rounds):
        runs.append(await _one(seconds, 0.0, seed))
        runs.append(await _one(seconds, rate, seed))
    quiet = [r["end_to_end"]["p99"] for r in runs if not r["rate"] and r["end_to_end"]["p99"]]
    polled = [r["end_to_end"]["p99"] for r in runs if r["rate"] and r["end_to_end"]["p99"]]
    verdict: dict[str, Any] = {"quiet_p99_us": quiet, "polled_p99_us": polled}
    if quiet and polled:
        spread = max(quiet) - min(quiet) if len(quiet) > 1 else 0.0
        worst = max(polled) - max(quiet)
        verdict.update(quiet_spread_us=spread, polled_minus_worst_quiet_us=worst,
                       within_noise=worst <= max(spread, 0.1 * max(quiet)))
    return {"bench": "control", "seconds": seconds, "rate": rate, "rounds": rounds,
            "runs": runs, "verdict": verdict}


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit 0 (the numbers are for reading, not a pass/fail gate)."""
    ap = argparse.ArgumentParser(prog="python -m openclaw.bench.control", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    report = asyncio.run(bench(a.seconds, a.rate, a.rounds, a.seed))
    if a.json:
        print(json.dumps(report, default=str))
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"tick -> verdict latency (us), {a.seconds:g} s runs, status at "
                    f"{a.rate:g}/s when polled")
    for col in ("run", "status req", "events", "e2e p50", "e2e p99", "e2e p99.9",
                "signal p99", "submit n", "submit p99"):
        t.add_column(col, justify="right")
    for r in report["runs"]:
        e, s, sub = r["end_to_end"], r["signal"], r["submit"]
        t.add_row("polled" if r["rate"] else "quiet", str(r["requests"]), str(r["events"]),
                  *(f"{x:,.1f}" if x is not None else "-" for x in (e["p50"], e["p99"],
                                                                     e["p99.9"], s["p99"])),
                  str(sub.get("count") or 0),
                  f"{sub['p99']:,.1f}" if sub.get("p99") is not None else "-")
    console = Console()
    console.print(t)
    console.print(report["verdict"])
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
