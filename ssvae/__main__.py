"""``python -m ssvae`` runs the console script."""
import sys

from ssvae.cli import main

sys.exit(main())
