"""Command line: ``divergences demo`` (the default) and ``divergences compare A B``."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

__all__ = ["main", "load_table", "compare_tables"]

#: above this many pairs of points the multivariate W uses Sinkhorn instead of the exact LP
EXACT_MAX_PAIRS = 3000 * 3000


class CliError(Exception):
    """A user error: printed as ``error: ...`` with exit status 2."""


def load_table(path):
    """Read a CSV file with a header row, or a ``.npy`` file, as (column names, 2-D floats)."""
    if not os.path.exists(path):
        raise CliError(f"file not found: {path}")
    if path.endswith(".npy"):
        data = np.load(path, allow_pickle=False)
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2:
            raise CliError(f"{path}: expected a 1-D or 2-D array, got shape {data.shape}")
        if not np.issubdtype(data.dtype, np.number):
            raise CliError(f"{path}: non-numeric data (dtype {data.dtype})")
        names = [f"col{i}" for i in range(data.shape[1])]
    else:
        with open(path, encoding="utf-8") as fh:
            header = fh.readline().strip()
            if not header:
                raise CliError(f"{path}: empty file (a CSV needs a header row)")
            names = [h.strip() for h in header.split(",")]
            rows = []
            for lineno, line in enumerate(fh, start=2):
                if not line.strip():
                    continue
                cells = line.strip().split(",")
                if len(cells) != len(names):
                    raise CliError(
                        f"{path}:{lineno}: {len(cells)} values for {len(names)} columns")
                try:
                    rows.append([float(c) for c in cells])
                except ValueError:
                    raise CliError(
                        f"{path}:{lineno}: non-numeric value in {line.strip()!r}") from None
        data = np.array(rows, dtype=float).reshape(-1, len(names))
    data = data.astype(float)
    if data.shape[0] == 0:
        raise CliError(f"{path}: no data rows")
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


def compare_tables(a, b, names, *, bins="auto", progress=False):
    """Every distance between two tables with the same columns.

    Per column: W1 and W2 (1-D closed form) and JS, KL, TV, Hellinger on histograms with
    shared bins; over all columns: W1 between the rows as points in R^d, exact when
    ``n*m <= EXACT_MAX_PAIRS`` and Sinkhorn (reg = 1e-3 of the largest cost) beyond.
    """
    from . import aligned_histograms, hellinger, js, kl, tv, wasserstein

    total = len(names) + 1
    columns = {}
    for k, name in enumerate(names):
        _progress(k, total, name, progress)
        x, y = a[:, k], b[:, k]
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


def _parser():
    parser = argparse.ArgumentParser(
        prog="divergences", description="Distances between probability distributions.")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="the parallel-segments example of the WGAN paper "
                                       "(the default)")
    demo.add_argument("--out", default="divergences-demo.png",
                      help="where to save the plot ('' for none)")
    cmp_ = sub.add_parser("compare", help="every distance between two data files "
                                          "(CSV with a header, or .npy)")
    cmp_.add_argument("a")
    cmp_.add_argument("b")
    cmp_.add_argument("--json", action="store_true", help="machine-readable output")
    cmp_.add_argument("--bins", default="auto",
                      help="histogram bins per column, as numpy.histogram_bin_edges")
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "compare":
            if isinstance(args.bins, str) and args.bins.isdigit():
                args.bins = int(args.bins)
            return _compare(args)
        from .demo import run_demo

        return run_demo(out=getattr(args, "out", "divergences-demo.png"))
    except (CliError, ValueError, TypeError) as exc:
        print(f"divergences: error: {exc}", file=sys.stderr)
        return 2
