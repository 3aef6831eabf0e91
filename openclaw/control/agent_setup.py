"""``openclaw-trading agent-setup``: the OpenClaw-side commands that let the agent see this
engine, as a plan of argv lists for the ``openclaw`` CLI (printed; run only on ``--apply``).

The plan: load the skills of the repository's ``skills/`` folder (OpenClaw's
``skills.load.extraDirs``, set through ``openclaw config set``), check them, register the MCP
server (``openclaw mcp set``: stdio, ``openclaw-trading mcp --state FILE``), create the alerts
automation (``openclaw cron create`` with an exact argv running ``openclaw-trading alerts
drain`` every minute, announced to a channel when one is given), put ``exec`` in allowlist mode
(asking on anything else) and allowlist only the read-only commands and ``ctl halt``.

Nothing here reads or writes OpenClaw's files, and no secret is ever part of a command: the
MCP server and the automation find the engine through its state file, whose token stays in the
engine's 0600 file (docs/openclaw.md).
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from openclaw.control.state import state_path

__all__ = [
    "AGENT_BIN",
    "READ_ONLY_COMMANDS",
    "AgentNotFoundError",
    "Step",
    "apply_plan",
    "default_skills_dir",
    "plan",
]

#: the OpenClaw agent's command (never installed by this project)
AGENT_BIN = "openclaw"
SERVER_NAME = "openclaw-trading"
#: what the agent's ``exec`` may run without asking: reads, and halting (always allowed)
READ_ONLY_COMMANDS = (
    "ctl status", "ctl orders", "ctl fills", "ctl alerts", "alerts drain", "report", "ctl halt",
)


class AgentNotFoundError(RuntimeError):
    """``--apply`` without the ``openclaw`` command on PATH."""


@dataclass(frozen=True, slots=True)
class Step:
    """One command of the plan: why, and the exact argv (``argv[0]`` is ``openclaw``)."""

    what: str
    argv: tuple[str, ...]

    @property
    def shell(self) -> str:
        """The argv as one shell-quoted line (what is printed)."""
        return shlex.join(self.argv)


def default_skills_dir() -> Path | None:
    """The repository's ``skills/`` folder beside the package, or None (installed wheel)."""
    d = Path(__file__).resolve().parents[2] / "skills"
    return d if d.is_dir() else None


def plan(skills_dir: Path, state: str | Path | None = None, *, channel: str = "",
         to: str = "", engine_bin: str = "openclaw-trading") -> list[Step]:
    """The OpenClaw-side commands, in order. ``state``: the engine's state file (default
    ``$OPENCLAW_TRADING_STATE`` or ``./openclaw-control.json``, made absolute); ``channel``/
    ``to``: where the alerts automation announces (OpenClaw's default delivery without)."""
    skills = Path(skills_dir).expanduser().resolve()
    st = str(state_path(state).resolve())
    server = {"command": engine_bin, "args": ["mcp", "--state", st]}
    cron = [AGENT_BIN, "cron", "create", "* * * * *", "--name", "openclaw-trading alerts",
            "--command-argv", json.dumps([engine_bin, "alerts", "drain", "--state", st]),
            "--announce"]
    if channel:
        cron += ["--channel", channel]
    if to:
        cron += ["--to", to]
    steps = [
        Step("load the skills in " + str(skills),
             (AGENT_BIN, "config", "set", "skills.load.extraDirs", json.dumps([str(skills)]))),
        Step("check that they are eligible (openclaw-trading on PATH)",
             (AGENT_BIN, "skills", "check")),
        Step("register the MCP server (stdio; the token stays in the engine's 0600 file)",
             (AGENT_BIN, "mcp", "set", SERVER_NAME, json.dumps(server))),
        Step("alerts into your channels every minute, no model in the loop "
             "(NO_REPLY: nothing to say; a failed run raises OpenClaw's failure alert)",
             tuple(cron)),
        Step("exec: allowlist mode, ask for anything not on the list",
             (AGENT_BIN, "exec-policy", "set", "--host", "gateway", "--security", "allowlist",
              "--ask", "on-miss")),
    ]
    for cmd in READ_ONLY_COMMANDS:
        steps.append(Step(f"allow `{engine_bin} {cmd}`",
                          (AGENT_BIN, "approvals", "allowlist", "add", "--agent", "*",
                           f"{engine_bin} {cmd}*")))
    return steps


def apply_plan(steps: list[Step]) -> list[tuple[Step, int]]:
    """Run each step with the ``openclaw`` found on PATH, in order, stopping at the first that
    fails; returns (step, exit code) for every step run. ``AgentNotFoundError`` when there is
    no ``openclaw`` command."""
    agent = shutil.which(AGENT_BIN)
    if agent is None:
        raise AgentNotFoundError("openclaw (the agent) not found on PATH: install OpenClaw "
                                 "first, or run the printed commands where it is installed")
    done: list[tuple[Step, int]] = []
    for step in steps:
        rc = subprocess.run([agent, *step.argv[1:]], check=False).returncode
        done.append((step, rc))
        if rc != 0:
            break
    return done
