"""``openclaw-trading mcp``: the control API as MCP tools (official ``mcp`` package, MCPServer).

One tool per operation, with JSON schemas from the signatures: ``status``, ``orders``,
``fills``, ``alerts`` (read-only), ``halt`` (always allowed), ``resume``, ``flatten``,
``reload_risk`` (each needs a one-time code the engine sends to the operator out of band:
called without ``code`` they answer ``approval_required`` and the code goes to the human,
never to this server's answers). Each tool returns the engine's JSON answer as it is (``ok``,
``error``, ``message``...): an agent reports it verbatim. There is no tool that places an order.

The server holds no secret of its own: it reads the engine's state and token files at each call
(``ControlClient``), like the CLI.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from openclaw.control.client import ControlClient
from openclaw.control.errors import ControlError

INSTRUCTIONS = (
    "Tools of a running openclaw-trading engine (a low-latency trading engine that trades on its "
    "own). Read with status/orders/fills/alerts; halt is always allowed. resume, flatten and "
    "reload_risk need a one-time code that the engine sends to the human operator out of band: "
    "call them without a code, tell the user a code was sent, and pass only a code the user "
    "typed. Never invent, guess or relay codes. Report errors verbatim.")

Cursor = Annotated[int, Field(ge=0, description="only rows after this cursor (0: from the start)")]
Limit = Annotated[int, Field(ge=1, le=1000, description="at most this many rows")]
Code = Annotated[str | None, Field(description="the one-time approval code the human operator "
                                   "received out of band and typed; omit to request one")]


def build_server(state: str | None = None, *, name: str = "openclaw-trading") -> Any:
    """The MCPServer with one tool per control operation, talking to the engine that the state
    file ``state`` names (None: ``$OPENCLAW_TRADING_STATE`` or ``./openclaw-control.json``)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    server = MCPServer(name, instructions=INSTRUCTIONS)
    client = ControlClient(state, actor="mcp")

    async def call(op: str, **args: Any) -> dict[str, Any]:
        try:
            answer = await client.call(op, **args)
        except ControlError as e:
            return e.to_json()
        answer.pop("http_status", None)
        return answer

    read = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
    act = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                          open_world_hint=False)
    risky = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)

    @server.tool(annotations=read)
    async def status() -> dict[str, Any]:
        """The engine now: strategies and their state, books and their states, balances,
        positions, P&L, open orders, halted and why, latency summary (microseconds)."""
        return await call("status")

    @server.tool(annotations=read)
    async def orders(cursor: Cursor = 0, limit: Limit = 100) -> dict[str, Any]:
        """Orders that changed after a journal cursor; pass back the answer's cursor next time."""
        return await call("orders", cursor=cursor, limit=limit)

    @server.tool(annotations=read)
    async def fills(cursor: Cursor = 0, limit: Limit = 100) -> dict[str, Any]:
        """Fills journaled after a cursor; pass back the answer's cursor next time."""
        return await call("fills", cursor=cursor, limit=limit)

    @server.tool(annotations=read)
    async def alerts(cursor: Cursor = 0, limit: Limit = 100) -> dict[str, Any]:
        """Alerts (fills, unwinds, halts, disconnects) after a cursor."""
        return await call("alerts", cursor=cursor, limit=limit)

    @server.tool(annotations=act)
    async def halt(reason: Annotated[str, Field(min_length=1, max_length=500,
                                                description="why (journaled and alerted)")]
                   ) -> dict[str, Any]:
        """Halt trading now (always allowed): the risk gate refuses every new order and the
        strategies start nothing new. Undoing it needs the human's approval."""
        return await call("halt", reason=reason)

    @server.tool(annotations=risky)
    async def resume(code: Code = None) -> dict[str, Any]:
        """Resume trading after a halt. Needs a one-time code sent to the human out of band;
        without ``code`` the engine sends one and answers approval_required."""
        return await call("resume", code=code)

    @server.tool(annotations=risky)
    async def flatten(code: Code = None) -> dict[str, Any]:
        """Halt, settle open orders and report what is left (refused, naming it, when positions
        cannot be unwound). Needs a one-time code sent to the human out of band."""
        return await call("flatten", code=code)

    @server.tool(annotations=risky)
    async def reload_risk(code: Code = None) -> dict[str, Any]:
        """Load the run file's [risk] limits again (validated, applied atomically, journaled).
        Needs a one-time code sent to the human out of band."""
        return await call("reload-risk", code=code)

    return server
