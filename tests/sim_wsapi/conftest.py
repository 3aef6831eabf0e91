"""tests/sim_wsapi uses ccxt for the REST side (not a declared dependency): skipped without it."""

import importlib.util

import pytest

HAVE_CCXT = importlib.util.find_spec("ccxt") is not None

if not HAVE_CCXT:
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say so in the header when the directory is skipped."""
    if not HAVE_CCXT:
        return "tests/sim_wsapi: ccxt is not installed, not collected (pip install ccxt)"
    return None
