"""The inputs of :func:`divergences.compare`: which path reads them (in memory or through
dask.dataframe), tables from paths, pandas frames and arrays, the columns compared
(matched by name, text columns skipped) and the missing-value policy."""

from __future__ import annotations

import math
import os

import numpy as np

from .tables import Table, read_table

__all__ = ["as_table", "is_dask_frame", "needs_dask", "select_columns", "numeric_rows"]


def is_dask_frame(obj):
    """Whether ``obj`` is a dask DataFrame (without importing dask)."""
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "columns")


def needs_dask(obj, limit):
    """Whether ``obj`` goes through dask.dataframe: a dask DataFrame, or a CSV/Parquet
    file of more than ``limit`` bytes, or a directory of Parquet files."""
    if is_dask_frame(obj):
        return True
    if not isinstance(obj, (str, os.PathLike)):
        return False
    path = os.fspath(obj)
    if os.path.splitext(path)[1].lower() in (".npy", ".npz"):
        return False
    try:
        if os.path.isdir(path):  # a Parquet dataset (a directory of Parquet files)
            return any(f.lower().endswith((".parquet", ".pq")) for f in os.listdir(path))
        return os.path.isfile(path) and os.stat(path).st_size > limit
    except OSError:
        return False  # the in-memory reader says what is wrong


def _is_pandas(obj):
    return type(obj).__module__.split(".")[0] == "pandas" and hasattr(obj, "columns")


def as_table(obj, label, *, sep=None, header=None, limit=None):
    """A :class:`Table` from a path, a pandas DataFrame or an array ``(n,)``/``(n, d)``."""
    if isinstance(obj, (str, os.PathLike)):
        kwargs = {} if limit is None else {"limit": limit}
        return read_table(obj, sep=sep, header=header, **kwargs)
    if _is_pandas(obj):
        columns = {}
        for name in obj.columns:
            col = obj[name]
            if col.dtype.kind in "biuf":
                columns[str(name)] = col.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                columns[str(name)] = col.to_numpy(dtype=object)
        if len(columns) != len(obj.columns):
            raise ValueError(f"{label}: duplicate column names {list(obj.columns)}")
        return Table(label, columns, np.arange(1, len(obj) + 1))
    from .._validation import as_real_array

    arr = as_real_array(obj, label)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{label} must have shape (n,) or (n, d), got {arr.shape}")
    arr = arr[:, None] if arr.ndim == 1 else arr
    return Table(label, {f"col{k}": arr[:, k] for k in range(arr.shape[1])},
                 np.arange(1, arr.shape[0] + 1))


def _lines(table, rows, most=5):
    where = ", ".join(str(int(v)) for v in table.lines[rows[:most]])
    return where + (", ..." if rows.size > most else "")


def select_columns(ta, tb, columns, by, notes):
    """The numeric columns compared, matched by name (``columns`` or the shared ones)."""
    for t in (ta, tb):
        if by is not None and by not in t.columns:
            raise ValueError(f"by: no column {by!r} in {t.source} (columns: {t.names})")
    explicit = columns is not None
    if explicit:
        if isinstance(columns, str):
            columns = [c.strip() for c in columns.split(",")]
        columns = [str(c) for c in columns]
        for t in (ta, tb):
            missing = [c for c in columns if c not in t.columns]
            if missing:
                raise ValueError(f"columns: {missing} not in {t.source} (columns: {t.names})")
    else:
        only_a = [c for c in ta.names if c not in tb.columns and c != by]
        only_b = [c for c in tb.names if c not in ta.columns and c != by]
        if only_a or only_b:
            raise ValueError(f"column names differ: only in {ta.source}: {only_a}, only in "
                             f"{tb.source}: {only_b}; pass columns=... (--columns) to choose")
        columns = [c for c in ta.names if c != by]
    chosen = []
    for c in columns:
        text = [t for t in (ta, tb) if t.columns[c].dtype == object]
        if not text:
            chosen.append(c)
            continue
        t = text[0]
        example = t.text_examples.get(c) or next((v for v in t.columns[c] if v), "")
        message = f"column {c!r} of {t.source} is not numeric (e.g. {example!r})"
        if explicit:
            raise ValueError(f"columns: {message}")
        notes.append(f"{message}: skipped")
    if not chosen:
        raise ValueError(f"no numeric column to compare among {columns}")
    return chosen


def numeric_rows(table, names, by, dropna, notes):
    """The selected columns as a float (n, k) array and the ``by`` values, after the
    missing-value policy: rows with NaN dropped (``dropna``) or an error saying where."""
    data = np.column_stack([np.asarray(table.columns[c], dtype=np.float64) for c in names])
    keep = np.ones(data.shape[0], dtype=bool)
    for k, name in enumerate(names):
        col = data[:, k]
        bad = np.flatnonzero(np.isinf(col))
        if bad.size:
            raise ValueError(f"{table.source}: {bad.size} infinite value(s) in column "
                             f"{name!r} (line {_lines(table, bad)})")
        nan = np.isnan(col)
        if nan.any() and not dropna:
            rows = np.flatnonzero(nan)
            raise ValueError(
                f"{table.source}: {rows.size} missing value(s) (NaN or empty cells) in column "
                f"{name!r} (line {_lines(table, rows)}); pass dropna=True (--dropna) to drop "
                "the rows with missing values")
        keep &= ~nan
    groups = None
    if by is not None:
        groups = np.asarray(table.columns[by], dtype=object)
        missing = np.array([g is None or g == "" or (isinstance(g, float) and math.isnan(g))
                            for g in groups], dtype=bool)
        if missing.any() and not dropna:
            rows = np.flatnonzero(missing)
            raise ValueError(f"{table.source}: {rows.size} missing value(s) in the by column "
                             f"{by!r} (line {_lines(table, rows)}); pass dropna=True "
                             "(--dropna) to drop those rows")
        keep &= ~missing
    if groups is not None and all(isinstance(g, float) and g.is_integer()
                                  for g in groups[keep]):
        groups = np.array([int(g) if isinstance(g, float) else g for g in groups],
                          dtype=object)  # integer group labels read as floats
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"{table.source}: {dropped} row(s) with missing values dropped")
    if not keep.any():
        raise ValueError(f"{table.source}: no rows left after dropping missing values")
    return data[keep], (groups[keep] if groups is not None else None), dropped
