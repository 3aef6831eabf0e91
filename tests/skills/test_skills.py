"""The OpenClaw skills in skills/: valid AgentSkills with OpenClaw's gating metadata, and every
``openclaw-trading`` command they show really runs.

* frontmatter: only ``name`` (hyphen-case, 1-64 characters, equal to the folder),
  ``description`` (one line, under 160 characters, a plain YAML scalar) and ``metadata``
  (parsed as JSON5, as OpenClaw does: ``openclaw.requires.bins`` has ``openclaw-trading``,
  ``os``, ``emoji``, an ``install`` entry for the PyPI package); body under 5,000 characters;
  the safety rules present; every ``{baseDir}/references/...`` it names exists, one level deep;
* commands: each line of each ``bash`` block that starts with ``openclaw-trading`` runs as a
  subprocess against an engine on the simulators (placeholders filled: the run file, a cursor,
  a reason, the approval code from the out-of-band file, an IBKR file on the TWS simulator);
  it must succeed, or be refused in a way the skill documents (approval needed, not
  available), with JSON on stdout when it says ``--json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import sys
from pathlib import Path

import json5
import pytest
from support.aio import deadline
from support.control_engine import in_process

ROOT = Path(__file__).resolve().parents[2]
SKILLS = ROOT / "skills"
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
REQUIRED = {"openclaw-trading", "openclaw-trading-arbitrage", "openclaw-trading-ibkr",
            "openclaw-trading-latency"}
RULES = ("never ask for", "background exec", "--json", "verbatim", "approval code")
run = deadline(400.0)


def _skills() -> list[Path]:
    return sorted(p for p in SKILLS.iterdir() if (p / "SKILL.md").is_file())


def _split(path: Path) -> tuple[dict[str, str], str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path}: no frontmatter"
    head, sep, body = text[4:].partition("\n---\n")
    assert sep, f"{path}: frontmatter not closed"
    fields: dict[str, str] = {}
    for line in head.splitlines():
        key, colon, value = line.partition(": ")
        assert colon and NAME_RE.fullmatch(key), f"{path}: not a 'key: value' line: {line!r}"
        assert key not in fields, f"{path}: {key} twice"
        fields[key] = value
    return fields, body


def test_every_required_skill_is_there() -> None:
    assert REQUIRED <= {p.name for p in _skills()}


@pytest.mark.parametrize("skill", _skills(), ids=lambda p: p.name)
def test_skill_is_valid(skill: Path) -> None:
    fields, body = _split(skill / "SKILL.md")
    assert set(fields) == {"name", "description", "metadata"}
    name = fields["name"]
    assert NAME_RE.fullmatch(name) and len(name) <= 64 and name == skill.name
    desc = fields["description"]
    assert 20 <= len(desc) < 160, len(desc)
    # a plain YAML scalar: no ": ", no " #", no leading indicator, no quotes to unescape
    assert ": " not in desc and " #" not in desc and desc[0] not in "-?:,[]{}#&*!|>'\"%@`"
    meta = json5.loads(fields["metadata"])
    oc = meta["openclaw"]
    assert set(meta) == {"openclaw"}
    assert "openclaw-trading" in oc["requires"]["bins"]
    assert set(oc["os"]) <= {"linux", "darwin", "win32"} and oc["os"]
    assert isinstance(oc["emoji"], str) and oc["emoji"]
    assert any(i["package"] == "openclaw-trading" and "openclaw-trading" in i["bins"]
               and i["kind"] in ("uv", "pip") for i in oc["install"])
    assert len(body) < 5000, len(body)
    low = body.lower()
    for rule in RULES:
        assert rule in low, f"{skill.name}: the rule {rule!r} is missing"
    for ref in re.findall(r"\{baseDir\}/([\w./-]+)", body):
        assert ref.startswith("references/") and ref.count("/") == 1, ref
        assert (skill / ref).is_file(), ref
    for p in skill.rglob("*"):
        assert p.is_dir() or p.parent in (skill, skill / "references"), p


def _commands() -> list[tuple[str, str]]:
    out = []
    for skill in _skills():
        _, body = _split(skill / "SKILL.md")
        for block in re.findall(r"```bash\n(.*?)```", body, re.S):
            for line in block.splitlines():
                if line.strip().startswith("openclaw-trading "):
                    out.append((skill.name, line.strip()))
    return out


def test_the_skills_show_commands() -> None:
    cmds = [c for _, c in _commands()]
    assert len(cmds) >= 15
    assert all(not re.search(r"\brun\b", c.split()[1]) for c in cmds), "no engine starts"


IBKR_FILE = """[ibkr]
client_id = 7

[momentum]
lookback_days = 252
skip_days = 21
top_n = 10
max_order_notional = "50000"
max_position_notional = "60000"

[schedule]
weekday = "monday"
at = "09:45"
tz = "America/New_York"
calendar = "XNYS"
grace_minutes = 120

[journal]
path = "{journal}"
"""


def test_every_command_runs_against_an_engine(tmp_path: Path) -> None:
    """Each command of each skill, in the skills' order, against a run on the simulators."""
    ibkr = tmp_path / "ibkr.toml"
    ibkr.write_text(IBKR_FILE.format(journal=tmp_path / "ibkr.sqlite"))
    work = tmp_path / "cwd"
    work.mkdir()

    async def body() -> None:
        async with in_process(tmp_path) as e:
            env = {**os.environ, "OPENCLAW_TRADING_STATE": str(tmp_path / "control.json")}
            env = {k: v for k, v in env.items() if not k.startswith("OPENCLAW_TELEGRAM")}
            fills = {"<RUN_FILE>": str(tmp_path / "run.toml"), "<CURSOR>": "0",
                     "<REASON>": "skill check", "<IBKR_RUN_FILE>": str(ibkr),
                     "<JOURNAL>": str(tmp_path / "j.sqlite")}
            ran = 0
            for skill, line in _commands():
                args = shlex.split(line)
                args = [fills.get(a, a) for a in args]
                if "<CODE>" in args:
                    codes = e.approval_codes()
                    assert codes, f"{skill}: {line}: no code was sent before"
                    args[args.index("<CODE>")] = codes[-1]
                assert not [a for a in args if a.startswith("<")], (skill, line)
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "openclaw", *args[1:], env=env, cwd=work,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
                out, err = await asyncio.wait_for(proc.communicate(), 120)
                where = f"{skill}: {line} -> exit {proc.returncode}: {err.decode()[-800:]}"
                if "--json" in args:
                    answer = json.loads(out.decode().strip().splitlines()[-1]
                                        if "ctl" not in args else out.decode())
                    assert isinstance(answer, dict), where
                if proc.returncode == 3:            # approval needed: a code went out of band
                    assert answer["error"] == "approval_required", where
                elif proc.returncode == 1 and "ctl" in args:
                    assert answer["error"] == "not_available", where   # documented refusal
                else:
                    assert proc.returncode == 0, where
                ran += 1
            assert ran == len(_commands())

    run(body)
