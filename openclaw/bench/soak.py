"""A long ``run`` as a user going live would, against the simulators in another process, with
random faults on both layers; then the checks a trader wants: still trading, nothing lost.

``python -m openclaw.bench.soak --seconds 300`` starts ``python -m openclaw.sim`` (Binance, OKX,
Bybit) as one process and ``openclaw-trading run`` on a ``mode = "live"`` file pointing at them
(nine markets: BTC/USDT, ETH/USDT, ETH/BTC on each venue) as another. While it runs, the market is
dislocated every 1-2.5 s (a random venue and symbol, 40-80 bps, as the demo does) and, until
``--quiet-tail`` seconds before the end, a random fault is injected every 2-6 s: depth feed
faults (gap, duplicate, reorder, malformed frame, dropped or stalled connection) and trading
REST faults (5xx, 429, a reply held past the client's timeout, a dropped connection after
execution, a partial fill). Afterwards: the run's exit code and summary, orders per 20 s window
(from the venues' own records), refusals by reason, and the venues' balances against the
starting balances plus the journal's fills (exact decimals, the reconciler's tolerance).

The report is one JSON object on stdout (``--json``) or a table; exit 0 when the run exited 0,
kept trading after the last fault, lost nothing and the balances match.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from openclaw.sim.engine.market import default_instruments
from openclaw.sim.engine.trading import DEFAULT_API_KEY, DEFAULT_PASSPHRASE, DEFAULT_SECRET

VENUES = ("binance", "okx", "bybit")
SYMBOLS = ("BTC/USDT", "ETH/USDT", "ETH/BTC")
FEED_FAULTS = (
    {"kind": "gap"}, {"kind": "duplicate"}, {"kind": "reorder"}, {"kind": "malformed"},
    {"kind": "drop"}, {"kind": "stall", "seconds": 0.8},
)
REST_FAULTS = (
    {"kind": "server_error", "status": 503, "scope": "order"},
    {"kind": "server_error", "status": 500, "scope": "all"},
    {"kind": "rate_limit", "status": 429, "scope": "all", "seconds": 1.0},
    {"kind": "order_timeout", "seconds": 5.0},
    {"kind": "drop_conn"},
    {"kind": "partial_fill", "ratio": 0.5},
)
WINDOW_S = 20.0


def live_config(urls: dict[str, dict[str, str]], journal: Path, *, leg_timeout_ms: int = 2000,
                interval_s: float = 2.0) -> str:
    """A ``mode = "live"`` run file for the simulators at ``urls`` (keys from the environment),
    the nine sim markets, triarb on, reconciliation every ``interval_s``."""
    ws = {"binance": urls["binance"]["ws"], "okx": urls["okx"]["ws"],
          "bybit": urls["bybit"]["ws_spot"].removesuffix("/v5/public/spot")}
    fees = {"binance": 10, "okx": 8, "bybit": 10}
    text = ""
    for v in VENUES:
        text += (f'[venues.{v}]\nmode = "live"\nws = "{ws[v]}"\nrest = "{urls[v]["rest"]}"\n'
                 f'taker_fee_bps = {fees[v]}\n'
                 'api_key_env = "SOAK_KEY"\nsecret_env = "SOAK_SECRET"\n'
                 + ('passphrase_env = "SOAK_PASS"\n' if v == "okx" else "") + "\n")
    for spec in default_instruments():
        if spec.category != "spot" or spec.symbol not in SYMBOLS:
            continue
        base, quote = spec.symbol.split("/")
        text += (f'[[instruments]]\nvenue = "{spec.venue}"\nsymbol = "{spec.venue_symbol}"\n'
                 f'base = "{base}"\nquote = "{quote}"\ntick_size = "{spec.tick}"\n'
                 f'lot_size = "{spec.lot}"\n\n')
    text += (f"[strategy.triarb]\nmin_profit_bps = 1\ncooldown_ms = 300\nmax_book_age_ms = 2000\n"
             f"leg_timeout_ms = {leg_timeout_ms}\n\n"
             f"[reconcile]\ninterval_s = {interval_s}\n\n"
             f'[journal]\npath = "{journal}"\nsynchronous = "NORMAL"\n')
    return text


def soak_env() -> dict[str, str]:
    """The environment the engine runs with: the simulators' keys under the file's names."""
    return {**os.environ, "SOAK_KEY": DEFAULT_API_KEY, "SOAK_SECRET": DEFAULT_SECRET,
            "SOAK_PASS": DEFAULT_PASSPHRASE}


async def _start_sims(seed: int) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "openclaw.sim", *VENUES, "--seed", str(seed),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            break
        if line.startswith(b"{"):
            return proc, json.loads(line)["urls"]
    proc.kill()
    raise RuntimeError("the simulators did not print their URLs")


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with http.post(url, json=body) as r:
        return await r.json()


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as r:
        return await r.json()


def _total(amount: Any) -> Decimal:
    if isinstance(amount, dict):
        if "total" in amount:
            return Decimal(str(amount["total"]))
        return Decimal(str(amount.get("free", 0))) + Decimal(str(amount.get("locked", 0)))
    return Decimal(str(amount))


async def soak(seconds: float, *, seed: int = 11, quiet_tail: float = 25.0,
               workdir: Path | None = None, fault_every: tuple[float, float] = (2.0, 6.0),
               engine_cwd: str | None = None, progress: bool = False) -> dict[str, Any]:
    """Run the soak; returns the report (see the module docstring). ``engine_cwd``: run the
    engine from another checkout (a before/after comparison)."""
    from openclaw.execution.reconcile import AssetTolerance, expected_balances
    from openclaw.journal import Journal

    rng = random.Random(seed)
    tmp = Path(workdir or tempfile.mkdtemp(prefix="openclaw-soak-"))
    tmp.mkdir(parents=True, exist_ok=True)
    sims, urls = await _start_sims(seed)
    journal_path = tmp / "journal.sqlite"
    cfg = tmp / "soak.toml"
    cfg.write_text(live_config(urls, journal_path))
    faults: list[dict[str, Any]] = []
    report: dict[str, Any] = {"seconds": seconds, "seed": seed, "quiet_tail_s": quiet_tail,
                              "config": str(cfg)}
    engine: asyncio.subprocess.Process | None = None
    try:
        async with aiohttp.ClientSession() as http:
            start_bal = {v: (await _get(http, f"{urls[v]['rest']}/_sim/balances"))["balances"]
                         for v in VENUES}
            env = soak_env()
            if engine_cwd is not None:
                env["PYTHONPATH"] = engine_cwd
            log_path = tmp / "engine.log"
            with open(log_path, "wb") as log_file:
                engine = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "openclaw.cli", "run", str(cfg),
                    "--seconds", str(seconds), "--log-format", "json",
                    stdout=asyncio.subprocess.PIPE, stderr=log_file, env=env,
                    cwd=engine_cwd or None)
                t0 = time.monotonic()
                next_nudge = t0 + 5.0          # feeds LIVE first
                next_fault = t0 + 8.0
                fault_end = t0 + 5.0 + seconds - quiet_tail
                out_task = asyncio.ensure_future(engine.communicate())
                while not out_task.done():
                    await asyncio.sleep(0.1)
                    now = time.monotonic()
                    if now >= next_nudge and now - t0 < seconds:
                        v, sym = rng.choice(VENUES), rng.choice(SYMBOLS)
                        with contextlib.suppress(aiohttp.ClientError):
                            await _post(http, f"{urls[v]['rest']}/_sim/dislocate",
                                        {"symbol": sym, "bps": rng.choice([-1, 1])
                                         * rng.uniform(40, 80)})
                        next_nudge = now + rng.uniform(1.0, 2.5)
                    if now >= next_fault and now < fault_end:
                        v = rng.choice(VENUES)
                        fault = dict(rng.choice(FEED_FAULTS + REST_FAULTS))
                        if fault["kind"] in ("gap", "duplicate", "reorder", "malformed"):
                            fault["symbol"] = rng.choice(SYMBOLS)
                        got = await _post(http, f"{urls[v]['rest']}/_sim/fault", fault)
                        faults.append({"t": round(now - t0, 1), "venue": v, **fault,
                                       "ok": bool(got.get("ok")), "wall": time.time()})
                        next_fault = now + rng.uniform(*fault_every)
                        if progress:
                            print(f"{now - t0:6.1f}s fault {v} {fault}", file=sys.stderr)
                stdout, _ = out_task.result()
            report["exit_code"] = engine.returncode
            lines = [ln for ln in stdout.decode().splitlines() if ln.startswith("{")]
            summary = json.loads(lines[-1]) if lines else {}
            report["summary"] = {k: summary.get(k) for k in (
                "ok", "opportunities", "arbitrages", "orders", "filled_legs", "incomplete",
                "unwinds", "refused_by_risk", "refusals_by_reason", "legs_refused_locally",
                "lost_orders", "duplicate_orders", "orders_at_venue", "journal_consistent",
                "open_orders", "reconciliations", "halted", "halt_reason", "risk_refreshes",
                "differences_explained", "resolver", "book_states", "resyncs", "last_refusal")
                if k in summary}
            report["faults"] = faults
            report["engine_log"] = str(log_path)
            # orders per window, from the venues' own records
            created: list[float] = []
            for v in VENUES:
                for o in (await _get(http, f"{urls[v]['rest']}/_sim/orders"))["orders"]:
                    ts = o.get("created") or o.get("time") or o.get("ts")
                    if ts:
                        created.append(float(ts) / 1000.0)
            last_fault = max((f["wall"] for f in faults), default=0.0)
            report["orders_after_faults"] = sum(1 for ts in created if ts > last_fault + 1.0)
            if created:
                first = min(created)
                n_windows = max(1, int((max(created) - first) // WINDOW_S) + 1)
                windows = [0] * n_windows
                for ts in created:
                    windows[int((ts - first) // WINDOW_S)] += 1
                report["orders_per_20s"] = windows
            end_bal = {v: (await _get(http, f"{urls[v]['rest']}/_sim/balances"))["balances"]
                       for v in VENUES}
        # the venues' balances against start + the journal's fills
        journal = await Journal.open(journal_path)
        try:
            fills = [(f.venue, f.symbol, f.side, f.fill.qty, f.fill.price, f.fill.fee,
                      f.fill.fee_asset) for f in await journal.fills()]
        finally:
            await journal.close()
        start = {v: {a: _total(x) for a, x in b.items()} for v, b in start_bal.items()}
        want = expected_balances(start, fills)
        tol = AssetTolerance()
        diffs = []
        for v in VENUES:
            got = {a: _total(x) for a, x in end_bal[v].items()}
            for asset in sorted(set(got) | set(want.get(v, {}))):
                e, a = want.get(v, {}).get(asset, Decimal(0)), got.get(asset, Decimal(0))
                if not tol.allows(e, a):
                    diffs.append(f"{v} {asset}: journal {e}, venue {a}")
        report["fills"] = len(fills)
        report["balance_differences"] = diffs
        report["ok"] = (report["exit_code"] == 0 and not diffs and report["orders_after_faults"] > 0
                        and not summary.get("lost_orders") and not summary.get(
                            "duplicate_orders"))
        return report
    finally:
        if engine is not None and engine.returncode is None:
            engine.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(engine.wait(), 30)
        sims.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(sims.wait(), 15)
        except TimeoutError:
            sims.kill()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m openclaw.bench.soak", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--quiet-tail", type=float, default=25.0,
                    help="no fault injected in the last S seconds (default 25)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--engine-cwd", default=None,
                    help="run the engine from another checkout (before/after comparisons)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rep = asyncio.run(soak(args.seconds, seed=args.seed, quiet_tail=args.quiet_tail,
                           workdir=args.workdir, engine_cwd=args.engine_cwd,
                           progress=not args.json))
    if args.json:
        print(json.dumps(rep, default=str))
    else:
        s = rep.get("summary", {})
        print(f"exit code {rep.get('exit_code')}, ok={rep['ok']}")
        print(f"orders per 20 s: {rep.get('orders_per_20s')}; after the last fault: "
              f"{rep.get('orders_after_faults')}")
        print(f"refusals by reason: {s.get('refusals_by_reason', s.get('last_refusal'))}")
        print(f"lost {s.get('lost_orders')}, duplicates {s.get('duplicate_orders')}, "
              f"halted {s.get('halted')} {s.get('halt_reason') or ''}")
        print(f"faults injected: {len(rep.get('faults', []))}; fills {rep.get('fills')}; "
              f"balance differences: {rep.get('balance_differences') or 'none'}")
    return 0 if rep["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
