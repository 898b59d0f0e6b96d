"""``python -m divergences``: the demo of the parallel-segments example."""

import sys


def main(argv=None):
    """Entry point of the ``divergences`` console script."""
    from .demo import run_demo

    return run_demo(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
