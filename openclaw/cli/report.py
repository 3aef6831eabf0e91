"""``openclaw-trading report [JOURNAL]``: per arbitrage and in total, what a run's journal says
(legs, P&L per asset, fill rate, incomplete lists and their unwind cost); ``--png DIR`` adds
the P&L-over-time and fill-rate plots (matplotlib, the ``plot`` extra)."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.render import echo_json, print_report
from openclaw.cli.root import app


@app.command("report")
def report_cmd(
    journal: Path = typer.Argument(  # noqa: B008
        Path("openclaw-journal.sqlite"), help="The run's journal ([journal] path)."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
    png: Path | None = typer.Option(  # noqa: B008
        None, "--png", help="Also write pnl.png and fill_rate.png into this folder."),
) -> None:
    """What a run's journal says: each arbitrage's legs, P&L, fill rate, unwinds; totals."""
    from openclaw.app.report import ReportError, plots_available, read_report, save_plots

    if png is not None and not plots_available():
        typer.echo("error: --png needs matplotlib, which is not installed "
                   "(pip install 'openclaw-trading[plot]')", err=True)
        raise typer.Exit(code=2)
    try:
        report = read_report(journal)
    except ReportError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    if png is not None:
        report["png"] = [str(p) for p in save_plots(report, png)]
    if json_out:
        echo_json(report)
    else:
        print_report(report)
        for p in report.get("png", []):
            typer.echo(f"wrote {p}")
