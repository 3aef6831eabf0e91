"""``openclaw-trading doctor [FILE] [--json]``: the preflight of every venue a run file names
(reachable, clock offset, REST and WebSocket round trips, key permissions, balances,
instruments against the venues' metadata); exit 0 when every venue passes, 1 when one has a
problem, 2 on a bad file. Without FILE: the bundled example (examples/triarb.toml, all
simulated) when it is there."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.render import echo_json, print_doctor
from openclaw.cli.root import app


@app.command("doctor")
def doctor_cmd(
    path: Path | None = typer.Argument(None, help="a TOML run file"),  # noqa: B008
    as_json: bool = typer.Option(False, "--json", help="One line of JSON."),
    paper: bool = typer.Option(False, "--paper", help="Check as `run --paper` would."),
    samples: int = typer.Option(10, "--samples", min=1, max=1000,
                                help="REST round trips per venue (p50/p99)."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market (sim venues)."),
) -> None:
    """Check every venue before trading; refuses skewed clocks, keys that can withdraw, markets
    that are halted or whose hand-written sizes disagree with the venue's."""
    import asyncio

    from openclaw.app.config import ConfigError
    from openclaw.app.doctor import doctor_file

    if path is None:
        path = Path(__file__).resolve().parents[2] / "examples" / "triarb.toml"
        if not path.is_file():
            typer.echo("error: give a run file (no bundled example found)", err=True)
            raise typer.Exit(code=2)
    try:
        report = asyncio.run(doctor_file(str(path), paper=paper, seed=seed, samples=samples))
    except ConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        echo_json(report)
    else:
        print_doctor(str(path), report)
    if not report["ok"]:
        raise typer.Exit(code=1)
