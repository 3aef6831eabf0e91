"""Make the plain-Python references in tests/reference importable (``import refbook``)."""

import sys
from pathlib import Path

_REFERENCE = str(Path(__file__).resolve().parent.parent / "reference")
if _REFERENCE not in sys.path:
    sys.path.insert(0, _REFERENCE)
