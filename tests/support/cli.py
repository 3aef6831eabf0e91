"""The command line in a subprocess, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def cli(*args: str, timeout: float = 120.0, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m openclaw.cli ARGS``; output captured as text; killed after ``timeout`` s."""
    return subprocess.run([sys.executable, "-m", "openclaw.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=cwd)
