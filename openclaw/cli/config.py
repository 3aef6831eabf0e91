"""``openclaw-trading config check FILE``: every check ``run`` makes, without starting anything."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.root import app

config_app = typer.Typer(no_args_is_help=True, help="Configuration files.")


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
        from openclaw.cli.render import print_metadata

        print_metadata(info.get("metadata", {}))
        typer.echo(f"{path}: ok ({info['venues']} venues, {info['instruments']} instruments, "
                   f"journal {info['journal_synchronous']})")


app.add_typer(config_app, name="config")
