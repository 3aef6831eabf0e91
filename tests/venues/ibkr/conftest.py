"""tests/venues/ibkr: the IBKR session against the TWS simulator (real ib_async) on loopback;
its helpers are in support/ibkr.py."""

import pytest

pytest.importorskip("ib_async")
