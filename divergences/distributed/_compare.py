r"""``compare`` on dask DataFrames, on files larger than memory and on a dask cluster.

The inputs become dask DataFrames (``dask.dataframe.read_csv`` / ``read_parquet`` for
paths; pandas frames and arrays in one partition). One pass over the partitions counts
the rows, the missing and infinite values per column, the rows per group and the pooled
moments (for ``standardize``). Then, per column (and per group with ``by``):

* when the pair of columns fits the memory limit (``8 (n_a + n_b)`` bytes, the usual case
  even for a table larger than memory), it is brought into memory and goes through the
  in-memory code: the same numbers as :func:`divergences.compare` on the whole table (bit
  for bit, but for ``standardize``, whose pooled moments are summed per partition);
* otherwise (``method "binned"``, status ``"bounded"``): the histograms on the shared edges
  are computed per partition and summed (KL, JS, TV, Hellinger are then exact for those
  edges; the edges are NumPy's for a number of bins and the rules ``sturges``, ``rice``,
  ``sqrt``; ``scott`` uses the pooled moments; ``fd`` and ``auto`` an interquartile
  range read from a :data:`FINE_BINS`-bin histogram, within one of its bins), and
  :math:`W_1`, :math:`W_2` are those between the two :data:`FINE_BINS`-bin histograms
  (mass at the bin centres): each point moves by at most half a bin width :math:`h`, so
  :math:`|W_p - \hat W_p| \le h` (triangle inequality), reported as ``W_error_bound``.

The multivariate :math:`W_1` is the in-memory one when the rows of the group fit the
limit, else the sliced :math:`W_1` with projections computed on the cluster (said in the
report). dask is imported only here.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager

import numpy as np

from ..evaluation import comparison as cmp
from ..evaluation import tables
from ..evaluation.multivariate import multivariate_w1, sliced_w1

__all__ = ["dask_compare_report", "connect", "FINE_BINS"]

#: bins of the fine histograms of a column too large for memory (W1, W2, quantiles)
FINE_BINS = 1 << 16
#: rules of numpy.histogram_bin_edges computed here from the size and range only
_RANGE_RULES = ("sturges", "rice", "sqrt")
_INSTALL = "pip install 'divergences[dask,data]'"


def _dask():
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise ValueError(f"reading data through dask.dataframe needs dask, pandas and "
                         f"pyarrow: {_INSTALL}") from None
    return dask, dd


@contextmanager
def connect(scheduler, timeout=10.0):
    """A ``distributed.Client`` for ``scheduler`` (an address or a client), or ``None``;
    a client made here is closed on exit. ValueError if it cannot connect."""
    if scheduler is None or not isinstance(scheduler, (str, os.PathLike)):
        yield scheduler
        return
    try:
        from distributed import Client
    except ImportError:
        raise ValueError(f"scheduler: running on a dask cluster needs dask.distributed: "
                         f"{_INSTALL}") from None
    try:
        client = Client(os.fspath(scheduler), timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ValueError(f"scheduler: cannot connect to {scheduler!r} within {timeout:g} s: "
                         f"{exc}") from None
    try:
        yield client
    finally:
        client.close()


def _sniff_csv(path, sep, header):
    """The delimiter and whether the first line is a header, as the in-memory reader
    decides them, from the first 64 KiB."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # possibly a character cut at the end
        text = head[:exc.start].decode("utf-8-sig")
        if exc.start < len(head) - 4:
            raise tables.TableError(f"{path}: not UTF-8 text (byte {head[exc.start]:#04x} at "
                                    f"offset {exc.start})") from None
    if len(head) == 1 << 16 and "\n" in text:
        text = text[:text.rindex("\n")]  # the last line may be cut
    delim = sep if sep is not None else tables._detect_delimiter(text)
    import csv

    first = next((r for r in csv.reader(text.splitlines(), delimiter=delim)
                  if any(c.strip() for c in r)), None)
    if first is None:
        raise tables.TableError(f"{path}: empty file (a CSV needs a header row)")
    values = [tables._number(c) for c in first]
    is_data = all(v is not None for v in values) and any(not math.isnan(v) for v in values)
    if header is None:
        header = not is_data
    return delim, header, len(first)


def read_frame(obj, label, sep, header, limit, notes):
    """A dask DataFrame and its source name from a path, a dask or pandas frame, an array."""
    _, dd = _dask()
    if cmp.is_dask_frame(obj):
        return obj, label
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        suffix = os.path.splitext(path)[1].lower()
        if suffix in (".npy", ".npz"):
            raise tables.TableError(f"{path}: NumPy files are read in memory only (at most "
                                    f"{limit} bytes); save larger tables as Parquet")
        try:
            if suffix in (".parquet", ".pq") or os.path.isdir(path):
                frame = dd.read_parquet(path)
            else:
                delim, has_header, width = _sniff_csv(path, sep, header)
                names = None if has_header else [f"col{i}" for i in range(width)]
                if not has_header and header is None:
                    notes.append(f"{path}: the first line holds only numbers, so it is read as"
                                 f" data and the columns are named col0..col{width - 1}")
                frame = dd.read_csv(path, sep=delim, header=0 if has_header else None,
                                    names=names, encoding="utf-8-sig",
                                    blocksize=int(min(64 << 20, max(limit // 4, 1 << 12))))
                frame = frame.rename(columns={c: str(c).strip() for c in frame.columns})
        except tables.TableError:
            raise
        except FileNotFoundError:
            raise tables.TableError(f"file not found: {path}") from None
        except Exception as exc:  # pandas' and pyarrow's errors
            raise tables.TableError(f"{path}: cannot read through dask.dataframe: "
                                    f"{exc}") from None
        return frame, path
    if not cmp._is_pandas(obj):
        import pandas as pd

        t = cmp.as_table(obj, label)
        obj = pd.DataFrame(t.columns)
    return dd.from_pandas(obj, npartitions=1), label


def _numeric_names(frame):
    return {str(c): frame[c].dtype.kind in "biuf" for c in frame.columns}


def _select(fa, fb, sa, sb, columns, by, notes):
    """:func:`divergences.evaluation.comparison._select` on the frames' dtypes."""
    kinds = [_numeric_names(fa), _numeric_names(fb)]
    fake = [tables.Table(s, {c: np.empty(0, dtype=float if k[c] else object) for c in k},
                         np.empty(0, dtype=np.int64),
                         text_examples={c: f"dtype {f[c].dtype}" for c in k if not k[c]})
            for s, k, f in ((sa, kinds[0], fa), (sb, kinds[1], fb))]
    return cmp._select(fake[0], fake[1], columns, by, notes)


def _partition_stats(frame, names, by):
    """Rows, missing and infinite values per column, rows kept, and per kept rows the
    moments (n, mean, M2) of each column and the rows per group."""
    values = frame[names].to_numpy(dtype=np.float64, na_value=np.nan)
    nan, inf = np.isnan(values), np.isinf(values)
    by_missing = (frame[by].isna().to_numpy() if by is not None
                  else np.zeros(len(frame), dtype=bool))
    keep = ~nan.any(axis=1) & ~by_missing
    kept = values[keep]
    mean = kept.mean(axis=0) if kept.shape[0] else np.zeros(len(names))
    m2 = ((kept - mean) ** 2).sum(axis=0)
    groups = (frame[by][keep].value_counts(sort=False).to_dict() if by is not None else {})
    return {"rows": len(frame), "nan": nan.sum(axis=0), "inf": inf.sum(axis=0),
            "by_missing": int(by_missing.sum()), "kept": int(keep.sum()), "mean": mean,
            "m2": m2, "groups": groups}


def _merge_stats(parts):
    """One record of the partitions' records (Chan's formula for the moments)."""
    out = {"rows": 0, "nan": 0, "inf": 0, "by_missing": 0, "kept": 0, "mean": 0.0, "m2": 0.0,
           "groups": {}}
    for p in parts:
        n, k = out["kept"], p["kept"]
        if k:
            delta = p["mean"] - out["mean"]
            out["mean"] = out["mean"] + delta * (k / (n + k))
            out["m2"] = out["m2"] + p["m2"] + delta ** 2 * (n * k / (n + k))
        for key in ("rows", "nan", "inf", "by_missing", "kept"):
            out[key] = out[key] + p[key]
        for g, c in p["groups"].items():
            out["groups"][g] = out["groups"].get(g, 0) + int(c)
    return out


def _check_values(stats, source, names, by, dropna):
    """The in-memory reader's policy: infinite values refused, missing values refused
    unless ``dropna``; the rows dropped."""
    for k, name in enumerate(names):
        if stats["inf"][k]:
            raise ValueError(f"{source}: {int(stats['inf'][k])} infinite value(s) in column "
                             f"{name!r}")
        if stats["nan"][k] and not dropna:
            raise ValueError(f"{source}: {int(stats['nan'][k])} missing value(s) (NaN or empty"
                             f" cells) in column {name!r}; pass dropna=True (--dropna) to "
                             "drop the rows with missing values")
    if stats["by_missing"] and not dropna:
        raise ValueError(f"{source}: {stats['by_missing']} missing value(s) in the by column "
                         f"{by!r}; pass dropna=True (--dropna) to drop those rows")
    if not stats["kept"]:
        raise ValueError(f"{source}: no rows left after dropping missing values")
    return stats["rows"] - stats["kept"]


def _labels(raw):
    """Group label of each raw value, as the in-memory path gives them: numbers that are
    all integers become ints (they are read as floats there), numpy scalars Python ones."""
    plain = {g: (g.item() if isinstance(g, np.generic) else g) for g in raw}
    if plain and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                     and float(v).is_integer() for v in plain.values()):
        plain = {g: int(v) for g, v in plain.items()}
    return plain


def dask_compare_report(a, b, opts, *, columns, by, standardize, dropna, sep, header,
                        multivariate, progress, limit, scheduler, timeout):
    """:func:`divergences.evaluation.comparison.compare_report` through dask.dataframe."""
    dask, _ = _dask()
    notes = []
    with connect(scheduler, timeout) as client:
        def compute(*objs):
            if client is not None:
                return dask.compute(*objs, scheduler=client)
            return dask.compute(*objs)

        if progress is not None:
            progress("reading through dask.dataframe")
        fa, sa = read_frame(a, "a", sep, header, limit, notes)
        fb, sb = read_frame(b, "b", sep, header, limit, notes)
        names = _select(fa, fb, sa, sb, columns, by, notes)
        keep = names + ([by] if by is not None else [])
        fa, fb = fa[keep], fb[keep]
        from dask import delayed

        parts = [[delayed(_partition_stats)(p, names, by) for p in f.to_delayed()]
                 for f in (fa, fb)]
        st_a, st_b = (_merge_stats(p) for p in compute(*parts))
        drop_a = _check_values(st_a, sa, names, by, dropna)
        drop_b = _check_values(st_b, sb, names, by, dropna)
        for source, dropped in ((sa, drop_a), (sb, drop_b)):
            if dropped:
                notes.append(f"{source}: {dropped} row(s) with missing values dropped")
        if drop_a or drop_b:
            fa, fb = fa.dropna(subset=keep), fb.dropna(subset=keep)
        scale = None
        if standardize:
            n = st_a["kept"] + st_b["kept"]
            merged = _merge_stats([{**st_a, "groups": {}}, {**st_b, "groups": {}}])
            mean, std = merged["mean"], np.sqrt(merged["m2"] / n)
            flat = [c for c, s_ in zip(names, std, strict=True) if s_ == 0]
            if flat:
                notes.append(f"standardize: columns {flat} are constant; left unscaled")
            std = np.where(std == 0, 1.0, std)
            scale = (mean, std)
            notes.append("standardize: the pooled means and standard deviations are summed "
                         "per partition (equal to the in-memory ones to rounding)")
        inputs = {"a": {"source": sa, "rows": st_a["rows"], "rows_dropped": drop_a},
                  "b": {"source": sb, "rows": st_b["rows"], "rows_dropped": drop_b},
                  "engine": "dask.dataframe" + (f" on {client.scheduler.address}"
                                                if client is not None else "")}
        report = cmp.report_head(opts, names, by, standardize, inputs, notes)
        work = _Work(fa, fb, names, by, opts, scale, limit, compute, progress, multivariate)
        if by is None:
            report.update(work.group(None, st_a["kept"], st_b["kept"], ""))
            return report
        raw = set(st_a["groups"]) | set(st_b["groups"])
        labels = _labels(raw)
        by_label = {v: g for g, v in labels.items()}
        groups = cmp._groups(np.array(list(labels.values()), dtype=object),
                             np.array([], dtype=object))
        counts = {v: (st_a["groups"].get(g, 0), st_b["groups"].get(g, 0))
                  for g, v in labels.items()}
        report["columns"], report["multivariate"] = None, None
        report["groups"] = cmp.group_entries(
            groups, counts.__getitem__, (sa, sb),
            lambda g, k: work.group(by_label[g], *counts[g], f"{by}={g} ({k}/{len(groups)}) "))
        return report


class _Work:
    """The per-group computations of one report."""

    def __init__(self, fa, fb, names, by, opts, scale, limit, compute, progress,
                 multivariate):
        self.fa, self.fb, self.names, self.by, self.opts = fa, fb, names, by, opts
        self.scale, self.limit, self.compute = scale, limit, compute
        self.progress, self.multivariate = progress, multivariate

    def _rows(self, frame, group):
        return frame if group is None else frame[frame[self.by] == group]

    def _scaled(self, values, k):
        if self.scale is None:
            return values
        return (values - self.scale[0][k]) / self.scale[1][k]

    def group(self, group, n_a, n_b, prefix):
        fa, fb = self._rows(self.fa, group), self._rows(self.fb, group)
        d = len(self.names)
        fits = 8 * (n_a + n_b) <= self.limit
        table = None
        if 8 * d * (n_a + n_b) <= self.limit:  # the whole group in memory: one pass
            table = [self._scaled(f[self.names].to_numpy(dtype=np.float64), slice(None))
                     for f in self.compute(fa, fb)]
        cols = {}
        for k, name in enumerate(self.names):
            if self.progress is not None:
                self.progress(f"{prefix}column {k + 1}/{d}: {name}")
            if table is not None:
                cols[name] = cmp._column(table[0][:, k], table[1][:, k], name, self.opts)
            elif fits:  # one column at a time
                x, y = self.compute(fa[name], fb[name])
                x = self._scaled(x.to_numpy(dtype=np.float64), k)
                y = self._scaled(y.to_numpy(dtype=np.float64), k)
                cols[name] = cmp._column(x, y, name, self.opts)
            else:
                cols[name] = self._binned(fa[name], fb[name], name, k, n_a, n_b)
        multi = None
        if self.multivariate and d > 1:
            label = f"{prefix}all {d} columns"
            if table is not None:
                multi = multivariate_w1(table[0], table[1], self.opts, self.progress, label,
                                        cmp.EXACT_MAX_BYTES)
            else:
                multi = self._multivariate(fa, fb, n_a, n_b, label)
        return {"columns": cols, "multivariate": multi}

    def _multivariate(self, fa, fb, n_a, n_b, label):
        d = len(self.names)
        size = 8 * d * (n_a + n_b)
        if self.opts["method"] in ("exact", "sinkhorn"):
            raise ValueError(
                f"method={self.opts['method']!r}: the {n_a} + {n_b} rows of {d} columns take "
                f"{size} bytes, more than the memory limit of {self.limit}; use "
                "method='sliced' (projections computed partition by partition)")
        most = self.limit // (8 * (n_a + n_b))
        if most < 1:
            return None
        Xa, Xb = (self._scaled(f[self.names].to_dask_array(lengths=True), slice(None))
                  for f in (fa, fb))
        out = {"method": "sliced", "n": [n_a, n_b], "reg": None,
               "notes": [f"the {n_a} + {n_b} rows of {d} columns ({size} bytes) exceed the "
                         f"memory limit of {self.limit}: the sliced W1 (a different "
                         "quantity, <= W1) is computed from projections made partition by "
                         "partition, with its Monte Carlo standard error"]}
        out.update(sliced_w1(lambda t: self.compute(Xa @ t.T, Xb @ t.T), n_a, n_b, d,
                             self.opts, self.progress, label, most=most))
        return out

    def _binned(self, xs, ys, name, k, n_a, n_b):
        """One column pair too large for memory: histograms summed over partitions."""
        from dask import delayed

        from .. import wasserstein

        opts = self.opts
        if opts["test"] is not None:
            raise ValueError(f"test: the permutation test needs column {name!r} in memory "
                             f"({n_a} + {n_b} values, {8 * (n_a + n_b)} bytes, above the "
                             f"memory limit of {self.limit})")
        if self.scale is not None:
            xs, ys = self._scaled(xs, k), self._scaled(ys, k)
        pa, pb = xs.to_delayed(), ys.to_delayed()
        ranges = self.compute([delayed(_range)(p) for p in pa + pb])[0]
        lo = min(r[0] for r in ranges if r is not None)
        hi = max(r[1] for r in ranges if r is not None)
        fine = np.histogram_bin_edges(np.array([lo, hi]), bins=FINE_BINS)
        edges = _rule_edges(opts["bins"], n_a + n_b, lo, hi, None, name)

        def counts(e, parts):
            return delayed(sum)([delayed(_counts)(p, e) for p in parts])

        jobs = [counts(fine, pa), counts(fine, pb)]
        if edges is not None:
            jobs += [counts(edges, pa), counts(edges, pb)]
        got = self.compute(*jobs)
        ca, cb = got[0], got[1]
        notes = []
        if edges is None:
            edges, note = _edges_from_fine(opts["bins"], ca + cb, fine, lo, hi, name)
            notes.append(note)
            ha, hb = self.compute(counts(edges, pa), counts(edges, pb))
        else:
            ha, hb = got[2], got[3]
        centres = 0.5 * (fine[:-1] + fine[1:])
        sa, sb = ca > 0, cb > 0
        h = float(fine[1] - fine[0])
        row = {"W1": wasserstein(centres[sa], centres[sb], ca[sa], cb[sb], p=1),
               "W2": wasserstein(centres[sa], centres[sb], ca[sa], cb[sb], p=2)}
        row.update(cmp.histogram_metrics(ha.astype(np.float64), hb.astype(np.float64),
                                         edges, opts))
        row.update(n=[int(n_a), int(n_b)], method="binned", status="bounded",
                   W_error_bound=h)
        row["notes"] = notes + row["notes"] + [
            f"the column ({n_a} + {n_b} values) exceeds the memory limit of {self.limit} "
            f"bytes: W1 and W2 are between histograms of {FINE_BINS} bins (width {h:.3g}), "
            f"within {h:.3g} of the exact values; the histograms are summed over partitions"]
        return row


def _range(part):
    values = np.asarray(part, dtype=np.float64)
    return (float(values.min()), float(values.max())) if values.size else None


def _counts(part, edges):
    return np.histogram(np.asarray(part, dtype=np.float64), edges)[0].astype(np.int64)


def _rule_edges(bins, n, lo, hi, iqr, name):
    """NumPy's edges for ``bins`` over ``n`` pooled values in ``[lo, hi]`` (and the
    interquartile range ``iqr`` for ``fd``/``auto``), or None when it needs ``iqr``."""
    if not isinstance(bins, str):
        return np.histogram_bin_edges(np.array([lo, hi]), bins=bins)
    if bins in ("doane", "stone", "scott"):
        raise ValueError(f"bins: the rule {bins!r} needs column {name!r} in memory, and it is "
                         "larger than the memory limit; pass a number of bins or one of "
                         "'auto', 'fd', 'sturges', 'rice', 'sqrt'")
    span = hi - lo
    sturges = span / (np.log2(n) + 1.0)
    widths = {"sturges": sturges, "rice": span / (2.0 * n ** (1.0 / 3)),
              "sqrt": span / np.sqrt(n)}
    if bins in widths:
        width = widths[bins]
    elif iqr is None:
        return None
    else:
        fd = 2.0 * iqr * n ** (-1.0 / 3.0)
        width = (min(fd, sturges) if fd else sturges) if bins == "auto" else fd
    first, last = (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)
    count = int(np.ceil(span / width)) if width else 1
    if count > cmp.MAX_BINS:
        raise ValueError(f"bins: the rule {bins!r} gives {count} bins for column {name!r}; at "
                         f"most {cmp.MAX_BINS} are allowed: pass a number or another rule")
    return np.linspace(first, last, count + 1)


def _edges_from_fine(bins, pooled_counts, fine, lo, hi, name):
    """``fd``/``auto`` edges with the interquartile range read from the fine histogram."""
    n = int(pooled_counts.sum())
    cum = np.cumsum(pooled_counts)

    def quantile(q):  # linear interpolation inside the fine bin holding rank q (n - 1)
        rank = q * (n - 1)
        j = int(np.searchsorted(cum, rank, side="right"))
        before = cum[j - 1] if j else 0
        frac = (rank - before + 0.5) / max(pooled_counts[j], 1)
        return fine[j] + min(max(frac, 0.0), 1.0) * (fine[j + 1] - fine[j])

    iqr = quantile(0.75) - quantile(0.25)
    edges = _rule_edges(bins, n, lo, hi, iqr, name)
    return edges, (f"bins: the interquartile range of rule {bins!r} is read from a "
                   f"{FINE_BINS}-bin histogram (within {2 * (fine[1] - fine[0]):.3g} of the "
                   "exact one)")
