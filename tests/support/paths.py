"""Where things are: the repository, the tests folder, the plain references, the recorded data."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
EXAMPLES = ROOT / "examples"
REFERENCE = TESTS / "reference"
VENUE_DATA = TESTS / "data" / "venues"
