"""``python -m openclaw.cli``: the ``openclaw-trading`` command."""

from openclaw.cli import main

if __name__ == "__main__":
    main()
