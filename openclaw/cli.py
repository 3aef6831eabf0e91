"""The ``openclaw-trading`` command line (also ``python -m openclaw``): one Typer app."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="openclaw: low-latency trading core"
)
bench_app = typer.Typer(
    no_args_is_help=True, help="Benchmarks against named baselines, in the same process."
)
app.add_typer(bench_app, name="bench")


@bench_app.command("book")
def bench_book(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="A shorter stream and fewer repetitions."),
    reps: int = typer.Option(0, "--reps", help="Repetitions per case (0 = default)."),
) -> None:
    """Order book: openclaw vs order-book (C) vs sortedcontainers on a BTC/USDT-shaped stream."""
    from openclaw.bench.book import run_book_bench

    result = run_book_bench(quick=quick, reps=reps or None, json_out=json_out)
    if not result.get("ok", True):
        raise typer.Exit(code=1)


@bench_app.command("signal")
def bench_signal(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Fewer loops and repetitions."),
) -> None:
    """Arbitrage detection (and pre-trade risk) vs plain-Python implementations, same run."""
    from openclaw.bench.signal import run_signal_bench

    result = run_signal_bench(quick=quick, json_out=json_out)
    if not result.get("ok", True):
        raise typer.Exit(code=1)


@bench_app.command("risk")
def bench_risk(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Fewer lists and repetitions."),
) -> None:
    """Pre-trade risk check (one order, a 3-leg list) vs the plain-Python engine, same run."""
    from openclaw.bench.risk import run_risk_cli

    if not run_risk_cli(quick=quick, json_out=json_out)["ok"]:
        raise typer.Exit(code=1)


@bench_app.command("pipeline")
def bench_pipeline(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Fewer frames and repetitions."),
    reps: int = typer.Option(0, "--reps", help="Repetitions (0 = default)."),
) -> None:
    """Frame -> decode -> book -> detect -> risk -> order list, with and without the recorder."""
    from openclaw.bench.pipeline import run_pipeline_bench

    if not run_pipeline_bench(quick=quick, json_out=json_out, reps=reps or None)["ok"]:
        raise typer.Exit(code=1)


@bench_app.command("all")
def bench_all(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Each section's quick settings."),
    only: str = typer.Option("", "--only", help="Comma-separated sections (default: all)."),
) -> None:
    """Every benchmark section (progress bar); a missing section is reported, not skipped."""
    from openclaw.bench.suite import SECTION_NAMES, run_all

    names = tuple(n.strip() for n in only.split(",") if n.strip()) or SECTION_NAMES
    try:
        doc = run_all(names, quick=quick, json_out=json_out)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    if not doc["ok"]:
        raise typer.Exit(code=1)


@bench_app.command("ibkr")
def bench_ibkr(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Fewer repetitions, shorter FX runs."),
) -> None:
    """The IBKR benchmarks (same as ``openclaw-trading ibkr bench``); exit 1 if a check failed."""
    ibkr_bench(json_out=json_out, quick=quick)


@bench_app.command("compare")
def bench_compare(
    a: Path = typer.Argument(..., help="baseline JSON (bench all --json, or one bench --json)"),  # noqa: B008
    b: Path = typer.Argument(..., help="JSON to compare with the baseline"),  # noqa: B008
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Per-case ratios B/A of two benchmark JSON files."""
    from openclaw.bench.suite import CompareError, compare, print_compare

    try:
        rows = compare(a, b)
    except CompareError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    print_compare(rows, str(a), str(b), json_out)


config_app = typer.Typer(no_args_is_help=True, help="Configuration files.")
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check(
    path: Path = typer.Argument(..., help="a TOML configuration file"),  # noqa: B008
    paper: bool = typer.Option(False, "--paper",
                               help="Check as `openclaw-trading run --paper` would."),
) -> None:
    """Validate a run file exactly as ``openclaw-trading run`` does before it trades (crypto and
    IBKR files); every error is listed with its path in the file; exit 2 on a bad file."""
    import asyncio

    from openclaw.app.config import ConfigError
    from openclaw.app.runner import check_run_file

    try:
        info = asyncio.run(check_run_file(str(path), paper=paper))
    except ConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(code=2) from None
    if info["kind"] == "ibkr":
        typer.echo(f"{path}: ok (IBKR: {', '.join(info['strategies'])}; "
                   f"gateway {info['gateway']})")
    else:
        typer.echo(f"{path}: ok ({info['venues']} venues, {info['instruments']} instruments, "
                   f"journal {info['journal_synchronous']})")


@app.command("demo")
def demo_cmd(
    seconds: float = typer.Option(30.0, "--seconds", help="How long the pipeline runs."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market."),
    journal: str = typer.Option("", "--journal", help="Journal file (default: a temp file)."),
    route: str = typer.Option(
        "ccxt", "--route",
        help="Order entry: ccxt (REST) or ws (the venues' trading WebSockets, ccxt fallback)."),
    journal_sync: str = typer.Option(
        "normal", "--journal-sync",
        help="Journal durability: normal (kill -9 safe; simulators only) or full (also "
             "power-loss safe, an fsync per order list; what live runs use)."),
) -> None:
    """Triangular arbitrage across Binance, OKX and Bybit on the local simulators, end to end."""
    import asyncio

    import orjson

    from openclaw.app.demo import JOURNAL_SYNCS, ROUTES, run_demo

    if route not in ROUTES:
        typer.echo(f"--route must be one of {', '.join(ROUTES)}, not {route!r}", err=True)
        raise typer.Exit(code=2)
    if journal_sync.upper() not in JOURNAL_SYNCS:
        typer.echo(f"--journal-sync must be full or normal, not {journal_sync!r}", err=True)
        raise typer.Exit(code=2)
    summary = asyncio.run(run_demo(seconds, seed, journal or None, show=not json_out,
                                   route=route, journal_sync=journal_sync.upper()))
    if json_out:
        typer.echo(orjson.dumps(summary).decode())
    else:
        from rich.console import Console
        from rich.table import Table

        counts = Table(title=f"demo: {summary['seconds']:g} s on the local simulators, "
                             f"orders via {route}, journal "
                             f"{summary.get('journal_synchronous')}")
        keys = ("opportunities", "arbitrages", "orders", "fills", "incomplete", "unwinds",
                "lost_orders", "duplicate_orders", "journal_consistent", "alerts_delivered")
        for k in keys:
            counts.add_column(k.replace("_", " "))
        counts.add_row(*(str(summary.get(k)) for k in keys))
        lat = Table(title="latency this run (us)")
        for col in ("stage", "p50", "p99", "max", "count"):
            lat.add_column(col, justify="left" if col == "stage" else "right")
        for stage, v in summary["latency_us"].items():
            lat.add_row(stage, *(f"{v[k]:,.1f}" for k in ("p50", "p99", "max")),
                        str(int(v["count"])))
        console = Console()
        console.print(counts)
        console.print(lat)
        console.print({"pnl": summary["pnl"],
                       "pnl_usdt_marked": summary.get("pnl_usdt_marked")})
    if summary.get("lost_orders") or summary.get("duplicate_orders") or summary.get(
            "pipeline_errors") or not summary.get("journal_consistent"):
        raise typer.Exit(code=1)


@app.command("replay")
def replay_cmd(
    venue: str = typer.Argument(..., help="binance, okx or bybit"),
    files: list[Path] = typer.Argument(  # noqa: B008
        ..., help="recordings (.ws, .http, .jsonl, raw lines; .gz/.zip)"
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    category: str = typer.Option(
        "linear", help="Bybit category of plain raw-message files (recordings name their own)."
    ),
) -> None:
    """Replay recorded venue messages through the live feed code; print the books and counters."""
    import orjson

    from openclaw.feeds.replay import ReplayError
    from openclaw.venues.registry import replay

    try:
        result = replay(venue, files, category=category).as_dict()
    except ReplayError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    if json_out:
        typer.echo(orjson.dumps(result).decode())
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"replay {venue}: {result['messages']} messages")
    for col in ("instrument", "best bid", "best ask", "levels", "state"):
        table.add_column(col)
    for key, book in result["books"].items():  # type: ignore[union-attr]
        table.add_row(key, str(book["best_bid"]), str(book["best_ask"]),
                      f"{book['levels'][0]}/{book['levels'][1]}", book["state"])
    console = Console()
    console.print(table)
    counters = {k: v for k, v in result.items() if k not in ("books", "venue")}
    console.print(counters)


@bench_app.command("orders")
def bench_orders(
    lists: int = typer.Option(200, "--lists", help="3-leg order lists per route."),
    warmup: int = typer.Option(20, "--warmup", help="Warm-up lists per route (not counted)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 if a latency target is missed."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market."),
) -> None:
    """Order entry: the same 3-leg lists through ccxt and the fast WebSocket routes,
    interleaved, simulators in another process; p50/p99 and the ratio."""
    from openclaw.bench.orders import run_orders_bench

    if lists < 1 or warmup < 0:
        typer.echo("error: --lists must be >= 1 and --warmup >= 0", err=True)
        raise typer.Exit(code=2)
    result = run_orders_bench(lists=lists, warmup=warmup, json_out=json_out, seed=seed)
    if not result["ok"]:
        raise typer.Exit(code=1)
    if strict and not all(result["targets"].values()):
        raise typer.Exit(code=3)


@bench_app.command("feed")
def bench_feed(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Fewer frames and repetitions."),
    load: bool = typer.Option(
        False, "--load", help="Load test: simulators in a subprocess, the Aggregator here."
    ),
    seconds: float | None = typer.Option(None, "--seconds", help="--load: duration (60)."),
    rate: float | None = typer.Option(
        None, "--rate", help="--load: target depth messages/s, all venues together (20000)."
    ),
    strict: bool = typer.Option(False, "--strict", help="--load: exit 3 if a target is missed."),
    messages: int = typer.Option(0, "--messages", help="Frames per venue (0 = default)."),
    reps: int = typer.Option(0, "--reps", help="Repetitions per case (0 = default)."),
    seed: int = typer.Option(0, "--seed", help="Frame / market seed (0 = default)."),
) -> None:
    """Venue depth message, raw frame -> applied book, via the live BookSync.on_frame path;
    with --load, sustained throughput and latency of the Aggregator against the simulators."""
    if load:
        from openclaw.bench.load import TARGET_RATE, exit_code, run_load

        result = run_load(seconds or 60.0, rate or TARGET_RATE, json_out, seed=seed or 1)
        code = exit_code(result, strict)
        if code:
            raise typer.Exit(code=code)
        return
    if seconds is not None or rate is not None or strict:
        typer.echo("error: --seconds, --rate and --strict need --load", err=True)
        raise typer.Exit(code=2)
    from openclaw.bench.feed import DEFAULT_SEED, run_feed_bench

    result = run_feed_bench(quick, json_out, reps=reps or None, n_messages=messages or None,
                            seed=seed or DEFAULT_SEED)
    if not result.get("ok", True):
        raise typer.Exit(code=1)


class _JsonLinesOnly:
    """A stdout stand-in that lets through only lines starting with ``{`` (``sim --json``)."""

    def __init__(self, out: object) -> None:
        self._out = out
        self._buf = ""

    def write(self, text: str) -> int:
        self._buf += text
        *lines, self._buf = self._buf.split("\n")
        for line in lines:
            if line.startswith("{"):
                self._out.write(line + "\n")  # type: ignore[attr-defined]
        return len(text)

    def flush(self) -> None:
        self._out.flush()  # type: ignore[attr-defined]


@app.command("sim")
def sim_cmd(
    servers: list[str] = typer.Argument(  # noqa: B008
        None, help="binance, okx, bybit, tws, telegram or all (default: all)."
    ),
    port: int | None = typer.Option(None, "--port", help="Port of the one selected server."),
    seed: int = typer.Option(1, "--seed", help="Market seed."),
    rate: float = typer.Option(10.0, "--rate", help="Market steps per second."),
    paused: bool = typer.Option(False, "--paused", help="Start with the market clock paused."),
    okx_checksum: str = typer.Option(
        "zero", "--okx-checksum", help="OKX books checksum: zero (live since 2026-06) or real."
    ),
    okx_no_snapshot: bool = typer.Option(
        False, "--okx-no-snapshot", help="OKX sends no initial WS snapshot (REST-seeded flow)."
    ),
    depth: int = typer.Option(250, "--depth", help="Levels per side."),
    key: str | None = typer.Option(None, "--key", help="API key (default openclaw-test-key)."),
    secret: str | None = typer.Option(
        None, "--secret", help="API secret (default openclaw-test-secret)."
    ),
    passphrase: str | None = typer.Option(
        None, "--passphrase", help="OKX passphrase (default openclaw-test-pass)."
    ),
    universe: int = typer.Option(500, "--universe", help="TWS: number of synthetic stocks."),
    hist_limit: int = typer.Option(
        60, "--hist-limit", help="TWS: historical requests per 10 minutes (IB: 60)."),
    json_out: bool = typer.Option(
        False, "--json", help="Print only the JSON line of URLs on stdout."
    ),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log at INFO level."),
) -> None:
    """Run local simulators on 127.0.0.1 until SIGINT/SIGTERM and print their URLs.

    Crypto venues speak Binance/OKX/Bybit WebSocket + REST (trading balances in
    openclaw/sim/README.md), tws the TWS socket API, telegram the Bot API (token from
    OPENCLAW_TELEGRAM_TOKEN or a test token).
    """
    import contextlib
    import sys

    from openclaw.sim.__main__ import build_parser, selected_servers
    from openclaw.sim.__main__ import main as sim_main

    argv = [*(servers or ["all"]), "--seed", str(seed), "--rate", str(rate), "--depth",
            str(depth), "--okx-checksum", okx_checksum, "--universe", str(universe),
            "--hist-limit", str(hist_limit)]
    argv += ["--paused"] * paused + ["--okx-no-snapshot"] * okx_no_snapshot
    argv += ["--verbose"] * verbose
    if port is not None:
        argv += ["--port", str(port)]
    for flag, value in (("--key", key), ("--secret", secret), ("--passphrase", passphrase)):
        if value is not None:
            argv += [flag, value]
    try:
        selected_servers(build_parser().parse_args(argv))  # same validation as python -m
    except SystemExit as e:
        raise typer.Exit(code=2) from e
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from e
    out = _JsonLinesOnly(sys.stdout) if json_out else sys.stdout
    with contextlib.redirect_stdout(out):  # type: ignore[type-var]
        code = sim_main(argv)
    if code:
        raise typer.Exit(code=code)


@app.command("run")
def run_cmd(
    path: Path = typer.Argument(..., help="a TOML configuration file"),  # noqa: B008
    paper: bool = typer.Option(
        False, "--paper", help="Orders to the local simulators; feeds as configured."
    ),
    log_format: str = typer.Option("human", "--log-format", help="json or human (stderr)."),
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after S seconds."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market (sim venues)."),
    drain: float = typer.Option(
        10.0, "--drain", help="Seconds in-flight order lists get at shutdown."
    ),
) -> None:
    """Start what the config names (feeds, strategies, execution, alerts) until SIGINT/SIGTERM."""
    if log_format not in ("json", "human"):
        typer.echo(f"error: --log-format must be json or human, not {log_format!r}", err=True)
        raise typer.Exit(code=2)
    from openclaw.app.runner import main as run_main

    code = run_main(str(path), paper=paper, log_format=log_format, seconds=seconds, seed=seed,
                    drain_timeout=drain)
    if code:
        raise typer.Exit(code=code)


ibkr_app = typer.Typer(
    no_args_is_help=True,
    help="Interactive Brokers: without --port the built-in TWS simulator runs in-process.",
)
app.add_typer(ibkr_app, name="ibkr")
schedule_app = typer.Typer(no_args_is_help=True, help="Scheduled runs (weekly momentum).")
app.add_typer(schedule_app, name="schedule")


def _tws_sim_starter():  # noqa: ANN202
    """The in-process TWS simulator for ``openclaw-trading ibkr`` runs without --port."""

    async def start(seed: int, universe_size: int, fx_rate: float):  # noqa: ANN202
        from openclaw.sim.tws import start_tws

        return await start_tws(seed=seed, port=0, universe_size=universe_size, fx_rate=fx_rate,
                               hist_pacing_limit=100_000, msg_rate_limit=50)  # IB: ~50 msgs/s

    return start


def _ibkr_fail(e: Exception) -> None:
    typer.echo(f"error: {e}", err=True)
    raise typer.Exit(code=2) from None


@ibkr_app.command("momentum")
def ibkr_momentum(
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan and print; send nothing."),
    execute: bool = typer.Option(False, "--execute", help="Send the orders and track them."),
    top: int | None = typer.Option(None, "--top", help="Hold the top N (default 30 / config)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    host: str | None = typer.Option(None, "--host", help="TWS / IB Gateway host."),
    port: int | None = typer.Option(None, "--port", help="TWS / IB Gateway port (none: sim)."),
    client_id: int | None = typer.Option(None, "--client-id", help="API client id."),
    config: str | None = typer.Option(None, "--config", help="IBKR run file (TOML)."),
    journal: str = typer.Option("", "--journal", help="Journal file (sim: a temp file)."),
    run_id: str | None = typer.Option(None, "--run-id", help="Run id (a rerun resumes it)."),
    seed: int = typer.Option(1, "--seed", help="Simulator seed."),
    universe: int = typer.Option(500, "--universe", help="Simulator universe size."),
) -> None:
    """Momentum rebalance: scan, plan (top N, sells first), risk, send, verify positions."""
    import asyncio

    import orjson

    from openclaw.app.ibkr import cli_momentum, render_momentum
    from openclaw.model.errors import OpenclawError

    if dry_run == execute:
        typer.echo("error: give exactly one of --dry-run and --execute", err=True)
        raise typer.Exit(code=2)
    progress_cb, progress_ctx = None, None
    if not json_out:
        from rich.progress import Progress

        progress_ctx = Progress(transient=True)
        task = progress_ctx.add_task("closes", total=None)

        def progress_cb(done: int, total: int, sym: str) -> None:
            progress_ctx.update(task, completed=done, total=total,
                                description=f"closes {sym}")
        progress_ctx.start()
    try:
        summary = asyncio.run(cli_momentum(
            config_path=config, execute=execute, top=top, host=host, port=port,
            client_id=client_id, journal_path=journal, run_id=run_id, seed=seed,
            universe=universe, start_sim=None if port is not None else _tws_sim_starter(),
            progress=progress_cb))
    except (OpenclawError, OSError, TimeoutError) as e:
        _ibkr_fail(e)
    finally:
        if progress_ctx is not None:
            progress_ctx.stop()
    if json_out:
        typer.echo(orjson.dumps(summary).decode())
    else:
        render_momentum(summary)
    if execute and not (summary.get("positions_match_target") and summary.get("filled")
                        == summary.get("orders")):
        raise typer.Exit(code=1)


@ibkr_app.command("fx")
def ibkr_fx(
    seconds: float = typer.Option(30.0, "--seconds", help="How long the scalper runs."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    ignore_window: bool = typer.Option(
        False, "--ignore-window", help="Trade outside the London/NY overlap (simulator)."),
    host: str | None = typer.Option(None, "--host", help="TWS / IB Gateway host."),
    port: int | None = typer.Option(None, "--port", help="TWS / IB Gateway port (none: sim)."),
    client_id: int | None = typer.Option(None, "--client-id", help="API client id."),
    config: str | None = typer.Option(None, "--config", help="IBKR run file (TOML)."),
    journal: str = typer.Option("", "--journal", help="Journal file (sim: a temp file)."),
    seed: int = typer.Option(1, "--seed", help="Simulator seed."),
) -> None:
    """FX mean-reversion scalper on EUR.USD/GBP.USD with a stage latency report."""
    import asyncio

    import orjson

    from openclaw.app.ibkr import cli_fx, render_fx
    from openclaw.model.errors import OpenclawError

    try:
        summary = asyncio.run(cli_fx(
            config_path=config, seconds=seconds, ignore_window=ignore_window, host=host,
            port=port, client_id=client_id, journal_path=journal, seed=seed,
            start_sim=None if port is not None else _tws_sim_starter()))
    except (OpenclawError, OSError, TimeoutError) as e:
        _ibkr_fail(e)
    if json_out:
        typer.echo(orjson.dumps(summary).decode())
    else:
        render_fx(summary)


@ibkr_app.command("bench")
def ibkr_bench(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Fewer repetitions, shorter FX runs."),
) -> None:
    """30-stock rebalance and FX quote -> socket medians against the simulator (subprocess)."""
    from openclaw.bench.ibkr import run_ibkr_bench

    if not run_ibkr_bench(quick=quick, json_out=json_out)["ok"]:
        raise typer.Exit(code=1)


@schedule_app.command("status")
def schedule_status(
    journal: str = typer.Option("", "--journal", help="Journal file (default: config's)."),
    config: str | None = typer.Option(None, "--config", help="IBKR run file (\\[schedule])."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """The last and the next scheduled momentum runs."""
    import asyncio

    import orjson

    from openclaw.app.ibkr import cli_schedule_status
    from openclaw.model.errors import OpenclawError

    try:
        out = asyncio.run(cli_schedule_status(config, journal))
    except (OpenclawError, OSError) as e:
        _ibkr_fail(e)
    if json_out:
        typer.echo(orjson.dumps(out).decode())
        return
    from rich.console import Console

    Console().print(out)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
