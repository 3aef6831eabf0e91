"""``openclaw-trading mcp``: the MCP server over the running engine's control API (stdio, or
streamable HTTP with ``--http``)."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.root import app


@app.command("mcp")
def mcp_cmd(
    state: Path | None = typer.Option(None, "--state", help="The engine's state file "  # noqa: B008
                                      "(default $OPENCLAW_TRADING_STATE or "
                                      "./openclaw-control.json)."),
    http: bool = typer.Option(False, "--http", help="Serve streamable HTTP instead of stdio."),
    host: str = typer.Option("127.0.0.1", "--host", help="--http: the address to listen on."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="--http: the port."),
) -> None:
    """Serve a running engine's control operations as MCP tools (approvals stay human)."""
    from openclaw.control.mcp_server import build_server

    server = build_server(str(state) if state else None)
    if http:
        server.run("streamable-http", host=host, port=port)
    else:
        server.run("stdio")
