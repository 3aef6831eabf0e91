"""``openclaw-trading bench ...``: benchmarks against named baselines, in one process."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.root import app

bench_app = typer.Typer(
    no_args_is_help=True, help="Benchmarks against named baselines, in the same process."
)


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
    from openclaw.cli.ibkr import ibkr_bench

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


@bench_app.command("orders")
def bench_orders(
    lists: int = typer.Option(200, "--lists", help="3-leg order lists per route."),
    warmup: int = typer.Option(20, "--warmup", help="Warm-up lists per route (not counted)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 if a latency target is missed."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market."),
    intent_log: bool = typer.Option(True, "--intent-log/--no-intent-log",
                                    help="Journal the send path through the intent log."),
) -> None:
    """Order entry: the same 3-leg lists through ccxt and the fast WebSocket routes,
    interleaved, simulators in another process; p50/p99 and the ratio."""
    from openclaw.bench.orders import run_orders_bench

    if lists < 1 or warmup < 0:
        typer.echo("error: --lists must be >= 1 and --warmup >= 0", err=True)
        raise typer.Exit(code=2)
    result = run_orders_bench(lists=lists, warmup=warmup, json_out=json_out, seed=seed,
                              intent_log=intent_log)
    if not result["ok"]:
        raise typer.Exit(code=1)
    if strict and not all(result["targets"].values()):
        raise typer.Exit(code=3)


@bench_app.command("bus")
def bench_bus(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Fewer messages per case."),
    url: str | None = typer.Option(None, "--url", help="A nats:// server (default: start one)."),
) -> None:
    """The bus on loopback: book hop, throughput (1 and 2 subscribers), intent, JetStream ack."""
    from openclaw.bench.bus import run_bus_bench

    run_bus_bench(url=url, quick=quick, json_out=json_out)


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


@bench_app.command("record")
def bench_record(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Fewer frames, repetitions, a shorter demo."),
    reps: int = typer.Option(0, "--reps", help="Repetitions (0 = default)."),
    messages: int = typer.Option(0, "--messages", help="Hook: frames per venue (0 = default)."),
    recording: Path | None = typer.Option(  # noqa: B008
        None, "--recording", help="Replay this recording (default: record a short demo)."),
    profile: bool = typer.Option(False, "--profile", help="Add a cProfile of one replay."),
) -> None:
    """Recorder hook cost per frame (with vs without, same frames) and replay frames/s through
    decode -> book -> detect."""
    from openclaw.bench.record import run_record_bench

    result = run_record_bench(quick=quick, json_out=json_out, reps=reps or None,
                              messages=messages or None, recording=recording, profile=profile)
    if not result["ok"]:
        raise typer.Exit(code=1)


app.add_typer(bench_app, name="bench")
