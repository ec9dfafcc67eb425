"""``python -m assoc_audit`` runs the CLI."""

import sys

from assoc_audit.cli import main

sys.exit(main())
