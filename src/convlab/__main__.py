"""``python -m convlab`` runs the ``convlab`` command."""

import sys

from .cli import main

sys.exit(main())
