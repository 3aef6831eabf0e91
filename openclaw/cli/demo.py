"""``openclaw-trading demo`` and ``openclaw-trading replay``: the pipeline on the simulators,
and recorded frames through the live depth sync."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.render import echo_json
from openclaw.cli.root import app


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
        echo_json(summary)
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

    from openclaw.feeds.replay import ReplayError
    from openclaw.venues.registry import replay

    try:
        result = replay(venue, files, category=category).as_dict()
    except ReplayError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    if json_out:
        echo_json(result)
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
