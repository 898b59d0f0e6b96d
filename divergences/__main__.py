"""``python -m divergences``: the demo (default) or ``compare``; see :mod:`divergences.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
