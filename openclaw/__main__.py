"""``python -m openclaw``: the ``openclaw-trading`` command (the name ``openclaw`` is the
agent's)."""

from openclaw.cli import main

if __name__ == "__main__":
    main()
