"""Shared test fixtures: where the recorded venue data lives."""

from pathlib import Path

import pytest

VENUE_DATA = Path(__file__).resolve().parent / "data" / "venues"


@pytest.fixture(scope="session")
def venue_data() -> Path:
    """tests/data/venues: the recorded venue data, kept in the repository (see its README.md)."""
    if not VENUE_DATA.is_dir() or not any(VENUE_DATA.iterdir()):
        pytest.fail(f"recorded venue data missing or empty at {VENUE_DATA}", pytrace=False)
    return VENUE_DATA
