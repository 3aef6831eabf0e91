"""tests/sim/tws: the TWS simulator driven by the real ib_async client over loopback.

Without ib_async installed nothing here is collected (it is in the ``test`` extra).
"""

import importlib.util

import pytest

HAVE_IB_ASYNC = importlib.util.find_spec("ib_async") is not None

if not HAVE_IB_ASYNC:
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say so in the header when the directory is skipped."""
    if not HAVE_IB_ASYNC:
        return "tests/sim/tws: ib_async is not installed, not collected (pip install ib_async)"
    return None
