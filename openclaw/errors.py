"""The public name of openclaw's typed errors: everything in ``openclaw.model.errors``.

User code catches ``openclaw.errors.X``; inside the package the errors live with the domain model
(``openclaw/model/errors.py``), the hot-path ones in ``openclaw/_core/errors.py``.
"""

from openclaw.model.errors import *  # noqa: F403 - the public face of one module
from openclaw.model.errors import __all__ as __all__  # noqa: PLE0605
