"""The ``openclaw`` command line: benchmarks now; simulators, replay and the runner as they land."""

from __future__ import annotations

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


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
