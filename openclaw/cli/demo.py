"""``openclaw-trading demo`` and ``openclaw-trading replay``: the pipeline on the simulators,
and recorded frames through the live depth sync."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from openclaw.cli.render import DemoLive, echo_json, print_demo_summary, print_replay
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
    intent_log: str = typer.Option(
        "auto", "--intent-log",
        help="Send path through the journal's intent log: on, off, or auto (on with normal)."),
    record: str = typer.Option("", "--record", help="Record the run into this directory "
                               "(frames, orders, config, latencies; docs/recording.md)."),
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
    if intent_log not in ("auto", "on", "off"):
        typer.echo(f"--intent-log must be auto, on or off, not {intent_log!r}", err=True)
        raise typer.Exit(code=2)
    view = DemoLive() if sys.stdout.isatty() and not json_out else None   # a log: once, at the end
    summary = asyncio.run(run_demo(seconds, seed, journal or None, view=view,
                                   route=route, journal_sync=journal_sync.upper(),
                                   intent_log=None if intent_log == "auto"
                                   else intent_log == "on",
                                   record=record or None))
    if json_out:
        echo_json(summary)
    else:
        print_demo_summary(summary, route)
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
    print_replay(venue, result)
