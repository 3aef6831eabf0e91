"""Shared test fixtures: where the recorded venue data lives; the plain-Python references in
tests/reference importable by their names (``import refbook``, ``import refrisk``)."""

import sys
from pathlib import Path

import pytest
from support.paths import REFERENCE, VENUE_DATA

if str(REFERENCE) not in sys.path:
    sys.path.insert(0, str(REFERENCE))


@pytest.fixture(scope="session")
def venue_data() -> Path:
    """tests/data/venues: the recorded venue data, kept in the repository (see its README.md)."""
    if not VENUE_DATA.is_dir() or not any(VENUE_DATA.iterdir()):
        pytest.fail(f"recorded venue data missing or empty at {VENUE_DATA}", pytrace=False)
    return VENUE_DATA
