"""The ``openclaw`` command line: benchmarks now; simulators, replay and the runner as they land."""

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


config_app = typer.Typer(no_args_is_help=True, help="Configuration files.")
app.add_typer(config_app, name="config")


@config_app.command("check")
def config_check(path: Path = typer.Argument(..., help="a TOML configuration file")) -> None:  # noqa: B008
    """Validate a configuration file; every error is listed with its path in the file."""
    from openclaw.config import ConfigError, load_config

    try:
        cfg = load_config(path)
    except ConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"{path}: ok ({len(cfg.venues)} venues, {len(cfg.instruments)} instruments)")


@app.command("demo")
def demo_cmd(
    seconds: float = typer.Option(30.0, "--seconds", help="How long the pipeline runs."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market."),
    journal: str = typer.Option("", "--journal", help="Journal file (default: a temp file)."),
) -> None:
    """Triangular arbitrage across Binance, OKX and Bybit on the local simulators, end to end."""
    import asyncio

    import orjson

    from openclaw.demo import run_demo

    summary = asyncio.run(run_demo(seconds, seed, journal or None, show=not json_out))
    if json_out:
        typer.echo(orjson.dumps(summary).decode())
    else:
        from rich.console import Console
        from rich.table import Table

        counts = Table(title=f"demo: {summary['seconds']:g} s on the local simulators")
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

    from openclaw.feeds.replay import ReplayError, replay

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
    json_out: bool = typer.Option(
        False, "--json", help="Print only the JSON line of URLs on stdout."
    ),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Log at INFO level."),
) -> None:
    """Run the Binance/OKX/Bybit simulators on 127.0.0.1 until SIGINT/SIGTERM; print URLs."""
    import contextlib
    import sys

    from openclaw.sim.__main__ import build_parser
    from openclaw.sim.__main__ import main as sim_main

    argv = ["--seed", str(seed), "--rate", str(rate), "--depth", str(depth),
            "--okx-checksum", okx_checksum]
    argv += ["--paused"] * paused + ["--okx-no-snapshot"] * okx_no_snapshot
    argv += ["--verbose"] * verbose
    try:
        build_parser().parse_args(argv)          # same validation as python -m openclaw.sim
    except SystemExit as e:
        raise typer.Exit(code=2) from e
    out = _JsonLinesOnly(sys.stdout) if json_out else sys.stdout
    with contextlib.redirect_stdout(out):  # type: ignore[type-var]
        code = sim_main(argv)
    if code:
        raise typer.Exit(code=code)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
