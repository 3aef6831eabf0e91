"""``openclaw-trading chaos``: the fault catalogue against the simulators, one row per fault
(docs/chaos.md); exit 1 when a row fails, 2 on an unknown fault name."""

from __future__ import annotations

import typer

from openclaw.cli.render import echo_json, print_chaos_progress, print_chaos_table
from openclaw.cli.root import app


@app.command("chaos")
def chaos_cmd(
    json_out: bool = typer.Option(
        False, "--json", help='Print {"faults": [row, ...], "ok"} as one JSON object.'),
    only: list[str] = typer.Option(  # noqa: B008
        [], "--only", help="Run only this fault (repeatable; --list shows the names)."),
    quick: bool = typer.Option(
        False, "--quick", help="The quick subset (every layer, well under a minute)."),
    list_only: bool = typer.Option(False, "--list", help="List the catalogue and exit."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market."),
) -> None:
    """Run each fault of the catalogue in a fresh system on the simulators with the real
    clients; the verdicts come from the venues' order records, the journal and the books."""
    import asyncio
    import logging

    from openclaw.app.chaos import CATALOGUE, by_name, run_catalogue
    from openclaw.app.chaos import quick as quick_set
    from openclaw.logs import setup_logging

    if list_only:
        for f in CATALOGUE:
            typer.echo(f"{f.name:28} {f.layer:11} {f.venue:8} {'quick ' if f.quick else ''}"
                       f"{f.injects}")
        return
    names = by_name()
    unknown = [n for n in only if n not in names]
    if unknown:
        typer.echo(f"unknown fault {', '.join(unknown)}; one of: {', '.join(names)}", err=True)
        raise typer.Exit(code=2)
    faults = [names[n] for n in only] if only else (quick_set() if quick else list(CATALOGUE))
    if only and quick:
        faults = [f for f in faults if f.quick]
    # the faults make the system log warnings on purpose (that is their point): errors only
    setup_logging("human", level=logging.ERROR)
    typer.echo(f"chaos: {len(faults)} faults, each in a fresh system", err=True)
    result = asyncio.run(run_catalogue(faults, seed=seed, on_row=print_chaos_progress))
    if json_out:
        echo_json({"faults": [r.as_json() for r in result["faults"]], "ok": result["ok"]})
    else:
        print_chaos_table(result)
    if not result["ok"]:
        raise typer.Exit(code=1)
