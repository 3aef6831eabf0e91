"""``openclaw-trading agent-setup [--apply]``: the OpenClaw-side commands (skills, MCP server,
alerts automation, exec allowlist), printed; run through the ``openclaw`` CLI only with
``--apply``. OpenClaw's config files are never edited here."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.render import echo_json
from openclaw.cli.root import app


@app.command("agent-setup")
def agent_setup_cmd(
    apply: bool = typer.Option(False, "--apply", help="Run the commands with the `openclaw` "
                               "CLI found on PATH (else only print them)."),
    state: Path | None = typer.Option(  # noqa: B008
        None, "--state", help="The engine's state file (default $OPENCLAW_TRADING_STATE or "
                              "./openclaw-control.json)."),
    skills: Path | None = typer.Option(  # noqa: B008
        None, "--skills", help="The skills folder (default: the repository's skills/)."),
    channel: str = typer.Option("", "--channel", help="Alerts: the channel to announce to "
                                "(e.g. telegram)."),
    to: str = typer.Option("", "--to", help="Alerts: the chat/target on that channel."),
    json_out: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Print (or with --apply run) the OpenClaw commands that let the agent see this engine."""
    from openclaw.control.agent_setup import (
        AgentNotFoundError,
        apply_plan,
        default_skills_dir,
        plan,
    )

    skills_dir = skills or default_skills_dir()
    if skills_dir is None or not Path(skills_dir).is_dir():
        typer.echo("error: no skills folder found; pass --skills DIR (the repository's "
                   "skills/)", err=True)
        raise typer.Exit(code=2)
    steps = plan(skills_dir, state, channel=channel, to=to)
    if json_out:
        echo_json({"apply": apply, "steps": [{"what": s.what, "argv": list(s.argv),
                                              "shell": s.shell} for s in steps]})
    else:
        typer.echo("# OpenClaw-side setup" + ("" if apply else
                                               " (printed only; --apply runs it)"))
        for s in steps:
            typer.echo(f"# {s.what}\n{s.shell}")
    if not apply:
        return
    try:
        done = apply_plan(steps)
    except AgentNotFoundError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    step, rc = done[-1]
    if rc != 0:
        typer.echo(f"error: `{step.shell}` exited {rc}; stopped ({len(done) - 1} of "
                   f"{len(steps)} applied)", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"# applied {len(done)} commands", err=True)
