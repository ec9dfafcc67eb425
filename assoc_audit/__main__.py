"""``python -m assoc_audit`` runs the CLI."""

import sys

from .cli import main

sys.exit(main())
