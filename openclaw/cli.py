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


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
