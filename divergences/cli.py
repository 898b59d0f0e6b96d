"""Command line: ``divergences demo`` (the default) and ``divergences compare A B``."""

from __future__ import annotations

import argparse
import array
import io
import json
import math
import numbers
import os
import stat
import sys

import numpy as np

__all__ = ["main", "load_table", "compare_tables"]

#: above this many pairs of points the multivariate W uses Sinkhorn instead of the exact LP
EXACT_MAX_PAIRS = 3000 * 3000


#: the most bytes read from one input file; also bounds the numbers kept (8 bytes each)
MAX_FILE_BYTES = 1 << 30

#: the most histogram bins per column (p, q and the edges take 8 bytes per bin each)
MAX_BINS = 10**6

#: the rules of :func:`numpy.histogram_bin_edges` that ``--bins`` accepts besides a number
BIN_RULES = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


class CliError(Exception):
    """A user error: printed as ``divergences: error: ...`` with exit status 2."""


def _file_kind(mode):
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def read_bounded(path, limit=None):
    """The bytes of the regular file ``path``, at most ``limit`` (default
    :data:`MAX_FILE_BYTES`) of them; the one place where the command line opens files.

    The file is opened without blocking (a FIFO with no writer would block ``open``) and
    checked with ``fstat`` on the open descriptor: directories, devices (``/dev/zero``),
    FIFOs and sockets are refused before anything is read. A file larger than the limit
    (even one growing while it is read) is refused after reading ``limit + 1`` bytes.
    """
    limit = MAX_FILE_BYTES if limit is None else limit
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise CliError(f"file not found: {path}") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CliError(f"{path}: not a regular file ({_file_kind(info.st_mode)})")
        if info.st_size > limit:
            raise CliError(f"{path}: {info.st_size} bytes, more than the limit of {limit}")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 24, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise CliError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise CliError(f"{path}: more than the limit of {limit} bytes (the file grew)")
    return b"".join(chunks)


def _check_values(path, count):
    if count * 8 > MAX_FILE_BYTES:
        raise CliError(f"{path}: {count} numbers ({count * 8} bytes as float64), more than "
                       f"the limit of {MAX_FILE_BYTES // 8}")


def _parse_npy(path, blob):
    """A 1-D or 2-D real array from the bytes of a ``.npy`` file, its header checked
    against the size of the data before anything is allocated."""
    fh = io.BytesIO(blob)
    if not blob.startswith(_NPY_MAGIC):
        what = "a .npz (zip) archive" if blob.startswith(_ZIP_MAGIC) else "no NumPy header"
        raise CliError(f"{path}: not a .npy file ({what}); save one array with numpy.save")
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:  # 3.0 is only written for structured dtypes with non-latin-1 field names
            raise ValueError(f"format version {version} is not supported")
    except (ValueError, TypeError, SyntaxError, EOFError, OverflowError) as exc:
        raise CliError(f"{path}: not a valid .npy file: {exc}") from None
    if dtype.hasobject or not np.issubdtype(dtype, np.number):
        raise CliError(f"{path}: non-numeric data (dtype {dtype})")
    if np.issubdtype(dtype, np.complexfloating):
        raise CliError(f"{path}: complex data (dtype {dtype}); save the real part, the "
                       "imaginary part or the modulus (numpy.abs) instead")
    if len(shape) not in (1, 2):
        raise CliError(f"{path}: expected a 1-D or 2-D array, got shape {shape}")
    count = math.prod(shape)
    expected, found = count * dtype.itemsize, len(blob) - fh.tell()
    if expected != found:
        raise CliError(f"{path}: the header announces shape {shape} of {dtype} "
                       f"({expected} bytes of data) but the file holds {found} bytes")
    _check_values(path, count)
    data = np.frombuffer(blob, dtype=dtype, count=count, offset=fh.tell())
    data = data.reshape(shape, order="F" if fortran else "C")
    if data.ndim == 1:
        data = data[:, None]
    return [f"col{i}" for i in range(data.shape[1])], data.astype(np.float64)


def _parse_header(path, line):
    names = [h.strip() for h in line.split(",")]
    seen = {}
    for k, name in enumerate(names, start=1):
        if not name:
            raise CliError(f"{path}:1: column {k} has no name")
        if name in seen:
            raise CliError(f"{path}:1: duplicate column name {name!r} "
                           f"(columns {seen[name]} and {k})")
        seen[name] = k
    return names


def _parse_csv(path, blob):
    """Column names and rows of a UTF-8 CSV file with a header row (blank lines skipped)."""
    if blob.startswith(_NPY_MAGIC):
        raise CliError(f"{path}: a NumPy .npy file; give it the .npy extension")
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text (byte {blob[exc.start]:#04x} at offset "
                       f"{exc.start}); a CSV file must be UTF-8 text") from None
    del blob
    lines = io.StringIO(text, newline=None)  # universal newlines, as open() reads text
    header = lines.readline().strip()
    if not header:
        raise CliError(f"{path}: empty file (a CSV needs a header row)")
    names = _parse_header(path, header)
    values = array.array("d")
    max_values = MAX_FILE_BYTES // 8
    for lineno, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        cells = line.strip().split(",")
        if len(cells) != len(names):
            raise CliError(f"{path}:{lineno}: {len(cells)} values for {len(names)} columns")
        try:
            values.extend([float(c) for c in cells])
        except ValueError:
            raise CliError(
                f"{path}:{lineno}: non-numeric value in {line.strip()!r}") from None
        if len(values) > max_values:
            _check_values(path, len(values))
    return names, np.frombuffer(values, dtype=np.float64).reshape(-1, len(names))


def load_table(path):
    """Read a CSV file with a header row, or a ``.npy`` file, as (column names, 2-D floats).

    Only regular files are read, at most :data:`MAX_FILE_BYTES` bytes each (see
    :func:`read_bounded`); every problem with a file raises :class:`CliError`.
    """
    blob = read_bounded(path)
    if path.endswith(".npy"):
        names, data = _parse_npy(path, blob)
    else:
        names, data = _parse_csv(path, blob)
    if data.shape[0] == 0:
        raise CliError(f"{path}: no data rows")
    if data.shape[1] == 0:
        raise CliError(f"{path}: no columns (shape {data.shape})")
    if not np.isfinite(data).all():
        raise CliError(f"{path}: contains NaN or infinite values")
    return names, data


def _progress(step, total, label, enabled):
    if enabled:
        width = 30
        done = int(width * step / total)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {step}/{total} {label:<24}")
        if step == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _check_fd_bins(x, y, name):
    """Refuse a column for which the Freedman-Diaconis rule asks for more than MAX_BINS bins.

    The rule's width is 2 IQR / n^(1/3) (Freedman and Diaconis, 1981): data with a narrow
    interquartile range and far outliers get billions of bins. The other rules of
    :func:`numpy.histogram_bin_edges` give at most about as many bins as data points
    (``auto`` at most about ``2 sqrt(n)``).
    """
    pooled = np.concatenate([x, y])
    with np.errstate(all="ignore"):
        q75, q25 = np.percentile(pooled, [75, 25])
        width = 2.0 * float(q75 - q25) * pooled.size ** (-1.0 / 3.0)
    span = float(pooled.max()) - float(pooled.min())
    if width > 0 and span / width > MAX_BINS:
        count = f"{span / width:.3g}" if math.isfinite(span / width) else "too many"
        raise ValueError(f"bins: the rule 'fd' gives {count} bins for column {name!r} (its "
                         f"interquartile range is narrow for its span); at most {MAX_BINS} "
                         "are allowed: pass a number or another rule such as 'auto'")


def compare_tables(a, b, names, *, bins="auto", progress=False):
    """Every distance between two tables with the same columns.

    Per column: W1 and W2 (1-D closed form) and JS, KL, TV, Hellinger on histograms with
    shared bins; over all columns: W1 between the rows as points in R^d, exact when
    ``n*m <= EXACT_MAX_PAIRS`` and Sinkhorn (reg = 1e-3 of the largest cost) beyond.
    """
    from . import aligned_histograms, hellinger, js, kl, tv, wasserstein

    if len(set(names)) != len(names):
        raise ValueError(f"names: duplicate column names in {names}")
    if isinstance(bins, str) and bins.isdigit():
        bins = int(bins)
    if isinstance(bins, numbers.Integral) and not 1 <= bins <= MAX_BINS:
        raise ValueError(f"bins: between 1 and {MAX_BINS} bins per column, got {bins}")
    total = len(names) + 1
    columns = {}
    for k, name in enumerate(names):
        _progress(k, total, name, progress)
        x, y = a[:, k], b[:, k]
        if bins == "fd":
            _check_fd_bins(x, y, name)
        p, q = aligned_histograms(x, y, bins=bins)[:2]
        columns[name] = {
            "W1": wasserstein(x, y, p=1),
            "W2": wasserstein(x, y, p=2),
            "JS": js(p, q),
            "KL": kl(p, q),
            "TV": tv(p, q),
            "Hellinger": hellinger(p, q),
        }
    _progress(len(names), total, "multivariate W1", progress)
    if a.shape[0] * b.shape[0] <= EXACT_MAX_PAIRS:
        method, options = "exact", {}
    else:
        scale = max(np.ptp(np.vstack([a, b]), axis=0).max(), 1e-300)
        method, options = "sinkhorn", {"reg": 1e-3 * scale}
    multi = {"method": method, "W1": wasserstein(a, b, method=method, **options)}
    _progress(total, total, "done", progress)
    return {"columns": columns, "multivariate": multi, "n_rows": [a.shape[0], b.shape[0]]}


def _json_safe(obj):
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, float) and math.isinf(obj):
        return "inf"
    return obj


def _format_report(report):
    keys = ["W1", "W2", "JS", "KL", "TV", "Hellinger"]
    width = max([6] + [len(n) for n in report["columns"]])
    lines = [f"{'column':<{width}} " + " ".join(f"{k:>10}" for k in keys)]
    for name, values in report["columns"].items():
        lines.append(f"{name:<{width}} " + " ".join(f"{values[k]:>10.4g}" for k in keys))
    multi = report["multivariate"]
    n, m = report["n_rows"]
    lines.append(f"\nmultivariate W1 over all columns ({n} vs {m} rows, {multi['method']}): "
                 f"{multi['W1']:.6g}")
    return "\n".join(lines)


def _compare(args):
    names_a, a = load_table(args.a)
    names_b, b = load_table(args.b)
    if a.shape[1] != b.shape[1]:
        raise CliError(f"{args.a} has {a.shape[1]} columns but {args.b} has {b.shape[1]}")
    if names_a != names_b and not args.b.endswith(".npy") and not args.a.endswith(".npy"):
        raise CliError(f"column names differ: {names_a} vs {names_b}")
    progress = not args.json and sys.stderr.isatty()
    report = compare_tables(a, b, names_a, bins=args.bins, progress=progress)
    print(json.dumps(_json_safe(report), indent=2) if args.json else _format_report(report))
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


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`CliError` instead of exiting, so that
    :func:`main` reports every user error in one way."""

    def error(self, message):
        raise CliError(message, self.format_usage())


def _parser():
    parser = _Parser(
        prog="divergences", description="Distances between probability distributions.")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="the parallel-segments example of the WGAN paper "
                                       "(the default)")
    demo.add_argument("--out", default="divergences-demo.png",
                      help="where to save the plot ('' for none)")
    demo.add_argument("--learn", action="store_true",
                      help="print gradient descent on theta with W1 and with JS instead")
    cmp_ = sub.add_parser("compare", help="every distance between two data files "
                                          "(CSV with a header, or .npy)")
    cmp_.add_argument("a", help="a regular file: CSV (UTF-8, header row) or .npy")
    cmp_.add_argument("b", help="the same for the second sample")
    cmp_.add_argument("--json", action="store_true", help="machine-readable output")
    cmp_.add_argument("--bins", default="auto", type=_bins,
                      help=f"histogram bins per column: a number up to {MAX_BINS} or a rule "
                           f"of numpy.histogram_bin_edges ({', '.join(BIN_RULES)})")
    return parser


def main(argv=None):
    """Run the command line; returns the exit status.

    Every error caused by the arguments or the input files is printed as one line
    ``divergences: error: ...`` on stderr (after the usage, for a bad argument) with exit
    status 2, as argparse does; never a traceback.
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
