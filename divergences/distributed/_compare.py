"""``compare`` on dask DataFrames, on files larger than memory and on a dask cluster.

The inputs become dask DataFrames (``dask.dataframe.read_csv`` / ``read_parquet`` for
paths, with the delimiter and header rules of the in-memory reader; pandas frames and
arrays in one partition). One pass over the partitions counts the rows, the missing and
infinite values per column, the rows per group and the pooled moments (for
``standardize``); the groups and columns are then computed by
:mod:`divergences.distributed._compare_groups`. dask is imported only on this path.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager

import numpy as np

from ..evaluation import comparison as cmp
from ..evaluation import inputs, tables
from ._compare_groups import GroupWork

__all__ = ["dask_compare_report", "connect"]

_INSTALL = "pip install 'divergences[dask,data]'"


def _dask(a=None, b=None, limit=None):
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        why = ""
        for obj in (a, b):
            if isinstance(obj, (str, os.PathLike)) and os.path.isfile(obj):
                size = os.stat(obj).st_size
                if size > limit:
                    why = (f"{os.fspath(obj)}: {size} bytes, more than the in-memory limit "
                           f"of {limit}; ")
                    break
        raise tables.TableError(f"{why}reading data through dask.dataframe needs dask, "
                                f"pandas and pyarrow: {_INSTALL}") from None
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
    if inputs.is_dask_frame(obj):
        return obj, label
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        suffix = os.path.splitext(path)[1].lower()
        if suffix in (".npy", ".npz"):  # read in memory (at most ``limit`` bytes)
            import pandas as pd

            return dd.from_pandas(pd.DataFrame(tables.read_table(path, limit=limit).columns),
                                  npartitions=1), path
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
    if not inputs._is_pandas(obj):
        import pandas as pd

        t = inputs.as_table(obj, label)
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
    return inputs.select_columns(fake[0], fake[1], columns, by, notes)


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
    dask, _ = _dask(a, b, limit)
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
        sources = {"a": {"source": sa, "rows": st_a["rows"], "rows_dropped": drop_a},
                  "b": {"source": sb, "rows": st_b["rows"], "rows_dropped": drop_b},
                  "engine": "dask.dataframe" + (f" on {client.scheduler.address}"
                                                if client is not None else "")}
        report = cmp.report_head(opts, names, by, standardize, sources, notes)
        if 8 * len(names) * (st_a["kept"] + st_b["kept"]) <= limit:  # all in memory at once
            fa, fb = compute(fa, fb)
        work = GroupWork(fa, fb, names, by, opts, scale, limit, compute, progress, multivariate)
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
