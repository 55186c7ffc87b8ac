"""``python -m tskew`` runs the command line."""

import sys

from tskew.cli import main

sys.exit(main())
