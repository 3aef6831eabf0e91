"""``python -m openclaw.sim.tws``: the TWS simulator standalone."""

import sys

from openclaw.sim.tws.server import main

if __name__ == "__main__":
    sys.exit(main())
