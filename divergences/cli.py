"""Command line: ``divergences demo`` (the default) and ``divergences compare A B``.

``compare`` reads two data files (CSV, ``.npy``, ``.npz``, Parquet; see
:mod:`divergences.evaluation.tables`; CSV and Parquet files larger than
:data:`MAX_FILE_BYTES` through dask.dataframe, and on a dask cluster with ``--scheduler``)
and prints :func:`divergences.compare`'s report as
text or JSON (schema in ``docs/compare.rst``). Every user error is one line
``divergences: error: ...`` on stderr with exit status 2; Ctrl-C ends with status 130.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .evaluation import tables as _tables
from .evaluation.comparison import BIN_RULES, METHODS, check_fd_bins
from .evaluation.two_sample import STATISTICS

__all__ = ["main", "load_table", "read_bounded"]

#: the most bytes read from one input file; also bounds the numbers kept (8 bytes each)
MAX_FILE_BYTES = _tables.MAX_FILE_BYTES

#: the most histogram bins per column (p, q and the edges take 8 bytes per bin each)
MAX_BINS = 10**6


class CliError(Exception):
    """A user error: printed as ``divergences: error: ...`` with exit status 2."""


def read_bounded(path, limit=None):
    """The bytes of the regular file ``path``, at most ``limit`` (default
    :data:`MAX_FILE_BYTES`); see :func:`divergences.evaluation.tables.read_bounded`."""
    try:
        return _tables.read_bounded(path, MAX_FILE_BYTES if limit is None else limit)
    except _tables.TableError as exc:
        raise CliError(str(exc)) from None


def load_table(path):
    """A file whose columns are all numeric and finite, as (column names, 2-D floats).

    Only regular files are read, at most :data:`MAX_FILE_BYTES` bytes each; every problem
    with a file raises :class:`CliError`.
    """
    try:
        table = _tables.read_table(path, limit=MAX_FILE_BYTES)
    except _tables.TableError as exc:
        raise CliError(str(exc)) from None
    for name, col in table.columns.items():
        if col.dtype == object:
            raise CliError(f"{path}: column {name!r} is non-numeric text "
                           f"(e.g. {table.text_examples.get(name, '')!r})")
        if not np.isfinite(col).all():
            raise CliError(f"{path}: column {name!r} contains NaN (missing) or infinite "
                           "values")
    return table.names, np.column_stack(list(table.columns.values()))


def _check_fd_bins(x, y, name):
    """:func:`divergences.evaluation.compare.check_fd_bins` with :data:`MAX_BINS`."""
    check_fd_bins(x, y, name, MAX_BINS)


class _Progress:
    """One status line on stderr, rewritten in place (only when stderr is a terminal)."""

    def __init__(self, enabled):
        self.enabled, self.width = enabled, 0

    def __call__(self, message):
        if self.enabled:
            text = message[:100]
            sys.stderr.write("\r" + text.ljust(self.width))
            sys.stderr.flush()
            self.width = len(text)

    def done(self):
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _compare(args):
    from .evaluation.comparison import compare_report
    from .evaluation.report import format_text, to_json

    progress = _Progress(args.progress if args.progress is not None
                         else (not args.json and sys.stderr.isatty()))
    header = {"yes": True, "no": False, "auto": None}[args.header]
    progress("reading the files (a first run also compiles the kernels, up to a minute; "
             "later runs load them from the cache)")
    try:
        report = compare_report(
            args.a, args.b, columns=args.columns, by=args.by, bins=args.bins,
            base=args.base, pseudocount=args.pseudocount, standardize=args.standardize,
            method=args.method, test=args.test, n_permutations=args.permutations,
            n_projections=args.projections, reg=args.reg, dropna=args.dropna,
            seed=args.seed, sep=args.sep, header=header, progress=progress,
            multivariate=not args.no_multivariate, limit=MAX_FILE_BYTES,
            scheduler=args.scheduler, scheduler_timeout=args.scheduler_timeout)
    except _tables.TableError as exc:
        raise CliError(str(exc)) from None
    finally:
        progress.done()
    from . import __version__

    report["divergences_version"] = __version__
    if args.json:
        print(json.dumps(to_json(report), indent=2, allow_nan=False))
    else:
        print(format_text(report))
    return 0


def _bins(text):
    """``--bins``: a number of bins in 1..MAX_BINS or the name of a NumPy rule."""
    if text in BIN_RULES:
        return text
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of bins or one of {', '.join(BIN_RULES)}, got {text!r}"
        ) from None
    if not 1 <= count <= MAX_BINS:
        raise argparse.ArgumentTypeError(
            f"between 1 and {MAX_BINS} bins per column, got {count}")
    return count


def _number(kind, low, what, strict=False):
    """A parser of finite numbers ``>= low`` (``> low`` with ``strict``)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if (not value >= low or (strict and value == low) or value != value
                or value in (float("inf"),)):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


def _sep(text):
    text = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(text, text)
    if len(text) != 1 or text in "\"\r\n":
        raise argparse.ArgumentTypeError(f"expected one character (or 'tab'), got {text!r}")
    return text


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`CliError` instead of exiting, so that
    :func:`main` reports every user error in one way."""

    def error(self, message):
        raise CliError(message, self.format_usage())


def _parser():
    parser = _Parser(
        prog="divergences", description="Distances between probability distributions.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"divergences {__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="the parallel-segments example of the WGAN paper "
                                       "(the default)")
    demo.add_argument("--out", default="divergences-demo.png",
                      help="where to save the plot ('' for none)")
    demo.add_argument("--learn", action="store_true",
                      help="print gradient descent on theta with W1 and with JS instead")
    cmp_ = sub.add_parser(
        "compare", help="every distance between two data files (CSV, .npy, .npz, Parquet)",
        description="W1, W2 (closed form) and KL(a||b), JS, TV, Hellinger (histograms on "
                    "shared bins) per column, and W1 over all columns (exact when it fits, "
                    "else sliced with its Monte Carlo error). Columns are matched by name.")
    cmp_.add_argument("a", help="a regular file: CSV (UTF-8, header row), .npy, .npz, or "
                                ".parquet (needs pyarrow)")
    cmp_.add_argument("b", help="the same for the second sample")
    cmp_.add_argument("--json", action="store_true",
                      help="machine-readable output (schema divergences-compare/1)")
    cmp_.add_argument("--bins", default="auto", type=_bins,
                      help=f"histogram bins per column: a number up to {MAX_BINS} or a rule "
                           f"of numpy.histogram_bin_edges ({', '.join(BIN_RULES)})")
    cmp_.add_argument("--columns", help="comma-separated column names to compare "
                                        "(default: the numeric columns of both)")
    cmp_.add_argument("--by", help="a column of both files: compare per group / time window")
    cmp_.add_argument("--sep", type=_sep, help="CSV delimiter (default: detected among "
                                               "',', ';', tab, '|')")
    cmp_.add_argument("--header", choices=("auto", "yes", "no"), default="auto",
                      help="whether the first CSV line holds the column names (default: "
                           "yes unless it holds only numbers)")
    cmp_.add_argument("--dropna", action="store_true",
                      help="drop rows with missing values (empty cells, NA, NaN) instead of "
                           "refusing them")
    cmp_.add_argument("--pseudocount", type=_number(float, 0.0, "a number >= 0"),
                      default=0.0, help="added to every histogram bin count (additive "
                                        "smoothing; makes KL finite)")
    cmp_.add_argument("--base", type=_number(float, 0.0, "a logarithm base > 0", strict=True),
                      help="logarithm base of KL and JS (default e: nats; 2: bits)")
    cmp_.add_argument("--standardize", action="store_true",
                      help="scale every column by its pooled mean and standard deviation")
    cmp_.add_argument("--method", choices=METHODS, default="auto",
                      help="multivariate W1: exact when the cost matrix fits (auto), "
                           "sliced, or sinkhorn")
    cmp_.add_argument("--reg", type=_number(float, 0.0, "a number > 0", strict=True),
                      help="entropic regularisation for --method sinkhorn")
    cmp_.add_argument("--projections", type=_number(int, 1, "an integer >= 1"), default=200,
                      help="directions of the sliced W1 (default 200)")
    cmp_.add_argument("--no-multivariate", action="store_true",
                      help="skip the multivariate W1")
    cmp_.add_argument("--test", choices=STATISTICS,
                      help="add a permutation-test p-value per column with this statistic")
    cmp_.add_argument("--permutations", type=_number(int, 1, "an integer >= 1"), default=999,
                      help="permutations of --test (default 999)")
    cmp_.add_argument("--seed", type=_number(int, 0, "an integer >= 0"),
                      help="seed of the tests and of the sliced directions")
    cmp_.add_argument("--scheduler", metavar="ADDRESS",
                      help="run on the dask cluster of this scheduler (e.g. "
                           "tcp://host:8786; needs dask.distributed): the files are read by "
                           "dask.dataframe on its workers. Files larger than "
                           f"{MAX_FILE_BYTES >> 20} MiB are read through dask.dataframe in "
                           "any case, one column at a time")
    cmp_.add_argument("--scheduler-timeout", type=_number(float, 0.0, "seconds > 0", strict=True),
                      default=10.0, metavar="SECONDS",
                      help="how long to try to connect to --scheduler (default 10)")
    progress = cmp_.add_mutually_exclusive_group()
    progress.add_argument("--progress", action="store_true", default=None,
                          help="show progress on stderr (default: when it is a terminal)")
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    return parser


def main(argv=None):
    """Run the command line; returns the exit status.

    Every error caused by the arguments or the input files is printed as one line
    ``divergences: error: ...`` on stderr (after the usage, for a bad argument) with exit
    status 2, as argparse does; never a traceback. Ctrl-C (SIGINT) ends with status 130
    (128 + SIGINT, as shells report it) and one line on stderr.
    """
    try:
        try:
            args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
        except SystemExit as exc:  # --help
            return exc.code
        if args.command == "compare":
            return _compare(args)
        from .demo import run_demo, run_learning_demo

        if getattr(args, "learn", False):
            return run_learning_demo()
        return run_demo(out=getattr(args, "out", "divergences-demo.png"))
    except (CliError, ValueError, TypeError) as exc:
        if isinstance(exc, CliError) and len(exc.args) > 1:
            sys.stderr.write(exc.args[1])
        print(f"divergences: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("divergences: error: out of memory; use smaller files or fewer bins",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ndivergences: interrupted", file=sys.stderr)
        return 130
