r"""``compare``: every distance between two data sets, column by column and over all columns.

Per column: :math:`W_1`, :math:`W_2` (the exact 1-D closed form) and KL, JS, TV,
Hellinger between histograms of the two columns on shared bins (edges from the pooled
column); over all columns: :math:`W_1` between the rows as points of :math:`R^d`, exact
when its cost matrix fits :data:`EXACT_MAX_BYTES`, else the sliced :math:`W_1` with its
Monte Carlo standard error (or Sinkhorn on request, with its convergence): the method
and its status are always reported, never a silent approximation. ``by=`` repeats all of
it per group (a time window, a site...). The tables come from
:mod:`divergences.evaluation.tables`; the output is built by
:mod:`divergences.evaluation.report`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_base, check_choice, check_positive_int, check_seed
from .._validation_evaluation import check_bins_spec, check_pseudocount
from . import tables as _tables
from .inputs import as_table, needs_dask, numeric_rows, select_columns
from .multivariate import multivariate_w1
from .tables import TableError
from .two_sample import STATISTICS, two_sample_test

__all__ = ["compare", "compare_report", "EXACT_MAX_BYTES"]

#: the largest cost matrix (8 n m bytes) for which method="auto" uses the exact solver
EXACT_MAX_BYTES = 1 << 28
#: the most histogram bins per column
MAX_BINS = 10**6
BIN_RULES = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")
METHODS = ("auto", "exact", "sliced", "sinkhorn")
METRICS = ("W1", "W2", "KL", "JS", "TV", "Hellinger")


def check_fd_bins(x, y, name, limit=MAX_BINS):
    """Refuse a column for which the Freedman-Diaconis rule asks for more than ``limit``
    bins: its width is 2 IQR / n^(1/3), so a narrow interquartile range and far outliers
    give billions of bins (the other rules give at most about one bin per point)."""
    pooled = np.concatenate([x, y])
    with np.errstate(all="ignore"):
        q75, q25 = np.percentile(pooled, [75, 25])
        width = 2.0 * float(q75 - q25) * pooled.size ** (-1.0 / 3.0)
    span = float(pooled.max()) - float(pooled.min())
    if width > 0 and span / width > limit:
        count = f"{span / width:.3g}" if math.isfinite(span / width) else "too many"
        raise ValueError(f"bins: the rule 'fd' gives {count} bins for column {name!r} (its "
                         f"interquartile range is narrow for its span); at most {limit} "
                         "are allowed: pass a number or another rule such as 'auto'")


def histogram_metrics(counts_a, counts_b, edges, opts):
    """KL, JS, TV, Hellinger of two histograms on the same ``edges`` (``pseudocount``
    added to every bin), the bins, and a note when KL is infinite."""
    from .. import hellinger, js, kl, tv

    alpha = opts["pseudocount"]
    p, q = counts_a + alpha, counts_b + alpha
    base = opts["base"]
    row = {"KL": kl(p, q, base=base), "JS": js(p, q, base=base), "TV": tv(p, q),
           "Hellinger": hellinger(p, q), "bins": int(edges.size - 1),
           "bin_range": [float(edges[0]), float(edges[-1])], "notes": []}
    if math.isinf(row["KL"]):
        empty = np.flatnonzero((q == 0) & (p > 0))
        k = int(empty[0])
        row["notes"].append(
            f"KL(a||b) is infinite: {empty.size} of {row['bins']} bins hold values of a but "
            f"none of b (the first: [{edges[k]:.6g}, {edges[k + 1]:.6g})); pass "
            "pseudocount > 0 (additive smoothing, e.g. 0.5) for a finite estimate")
    return row


def _column(x, y, name, opts):
    """The metrics of one column pair, with bins, notes and the test's p-value."""
    from .. import aligned_histograms, wasserstein

    if opts["bins"] == "fd":
        check_fd_bins(x, y, name)
    counts_a, counts_b, edges = aligned_histograms(x, y, bins=opts["bins"])
    row = {"W1": wasserstein(x, y, p=1), "W2": wasserstein(x, y, p=2)}
    row.update(histogram_metrics(counts_a, counts_b, edges, opts))
    row.update(n=[x.size, y.size], method="closed_form", status="optimal")
    if opts["test"] is not None:
        res = two_sample_test(x, y, statistic=opts["test"], n_permutations=opts["n_perm"],
                              seed=opts["rng"], bins=opts["bins"], base=opts["base"])
        row["pvalue"], row["test_statistic"] = res.pvalue, res.statistic
    return row


def _groups(ga, gb):
    values = set(ga.tolist()) | set(gb.tolist())
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def compare_options(bins, base, pseudocount, method, test, n_permutations, n_projections,
                    reg, seed):
    """The validated options of :func:`compare` as the dict its helpers take."""
    bins = check_bins_spec(bins, BIN_RULES)
    if not isinstance(bins, str) and bins > MAX_BINS:
        raise ValueError(f"bins: between 1 and {MAX_BINS} bins per column, got {bins}")
    return {"bins": bins, "base": check_base(base),
            "pseudocount": check_pseudocount(pseudocount),
            "method": check_choice(method, "method", METHODS),
            "test": None if test is None else check_choice(test, "test", STATISTICS),
            "n_perm": check_positive_int(n_permutations, "n_permutations"),
            "n_projections": check_positive_int(n_projections, "n_projections"),
            "reg": reg, "seed": seed, "rng": check_seed(seed)}


def report_head(opts, names, by, standardize, inputs, notes):
    """The report's metadata: schema, direction, units, inputs, options, notes."""
    base = opts["base"]
    units = "nats" if base is None else ("bits" if base == 2 else f"log base {base:g}")
    w_units = "pooled standard deviations" if standardize else "data units"
    return {
        "schema": "divergences-compare/1",
        "direction": "a||b",
        "units": {"W1": w_units, "W2": w_units, "KL": units, "JS": units,
                  "TV": "probability", "Hellinger": "unitless"},
        "inputs": inputs,
        "options": {"columns": names, "by": by, "bins": opts["bins"], "base": base,
                    "pseudocount": opts["pseudocount"], "standardize": bool(standardize),
                    "method": opts["method"], "test": opts["test"],
                    "n_permutations": opts["n_perm"] if opts["test"] is not None else None},
        "notes": notes,
    }


def group_entries(groups, counts, sources, run):
    """The per-group blocks of a report with ``by``: ``run(g, k)`` computes a group that
    has rows on both sides; ``counts(g)`` gives its rows ``(n_a, n_b)``."""
    entries = []
    for k, g in enumerate(groups, start=1):
        n_a, n_b = counts(g)
        entry = {"group": g, "n": [int(n_a), int(n_b)]}
        if not n_a or not n_b:
            side = sources[0] if not n_a else sources[1]
            entry.update(columns=None, multivariate=None,
                         notes=[f"group {g!r} has no rows in {side}: not compared"])
        else:
            entry.update(run(g, k))
        entries.append(entry)
    return entries


def compare_report(a, b, *, columns=None, by=None, bins="auto", base=None, pseudocount=0.0,
                   standardize=False, method="auto", test=None, n_permutations=999,
                   n_projections=200, reg=None, dropna=False, seed=None, sep=None,
                   header=None, multivariate=True, progress=None, limit=None,
                   scheduler=None, scheduler_timeout=10.0):
    """The computation of :func:`compare` as a plain dict (the JSON report of the command
    line before its infinities are encoded); see :func:`compare` for the parameters.
    ``limit`` is the memory limit (default :data:`tables.MAX_FILE_BYTES`); dask inputs,
    files above it and a ``scheduler`` take the path of
    :mod:`divergences.distributed._compare`."""
    opts = compare_options(bins, base, pseudocount, method, test, n_permutations,
                           n_projections, reg, seed)
    limit = _tables.MAX_FILE_BYTES if limit is None else int(limit)
    if scheduler is not None or needs_dask(a, limit) or needs_dask(b, limit):
        from ..distributed._compare import dask_compare_report

        return dask_compare_report(
            a, b, opts, columns=columns, by=by, standardize=standardize, dropna=dropna,
            sep=sep, header=header, multivariate=multivariate, progress=progress,
            limit=limit, scheduler=scheduler, timeout=scheduler_timeout)
    notes = []
    ta = as_table(a, "a", sep=sep, header=header, limit=limit)
    tb = as_table(b, "b", sep=sep, header=header, limit=limit)
    notes += ta.notes + tb.notes
    names = select_columns(ta, tb, columns, by, notes)
    A, ga, drop_a = numeric_rows(ta, names, by, dropna, notes)
    B, gb, drop_b = numeric_rows(tb, names, by, dropna, notes)
    if standardize:
        pooled = np.vstack([A, B])
        mean, std = pooled.mean(axis=0), pooled.std(axis=0)
        flat = [c for c, s in zip(names, std, strict=True) if s == 0]
        if flat:
            notes.append(f"standardize: columns {flat} are constant; left unscaled")
        std[std == 0] = 1.0
        A, B = (A - mean) / std, (B - mean) / std
    inputs = {"a": {"source": ta.source, "rows": ta.n_rows, "rows_dropped": drop_a},
              "b": {"source": tb.source, "rows": tb.n_rows, "rows_dropped": drop_b}}
    report = report_head(opts, names, by, standardize, inputs, notes)
    if by is None:
        report.update(_one_group(A, B, names, opts, multivariate, progress, ""))
    else:
        groups = _groups(ga, gb)
        masks = {g: (ga == g, gb == g) for g in groups}  # once per group, used twice
        report["columns"], report["multivariate"] = None, None
        report["groups"] = group_entries(
            groups, lambda g: (int(masks[g][0].sum()), int(masks[g][1].sum())),
            (ta.source, tb.source),
            lambda g, k: _one_group(A[masks[g][0]], B[masks[g][1]], names, opts,
                                    multivariate, progress,
                                    f"{by}={g} ({k}/{len(groups)}) "))
    return report


def _one_group(A, B, names, opts, multivariate, progress, prefix):
    cols = {}
    for k, name in enumerate(names, start=1):
        if progress is not None:
            progress(f"{prefix}column {k}/{len(names)}: {name}")
        cols[name] = _column(A[:, k - 1], B[:, k - 1], name, opts)
    multi = None
    if multivariate and len(names) > 1:
        multi = multivariate_w1(A, B, opts, progress, f"{prefix}all {len(names)} columns",
                                EXACT_MAX_BYTES)
    return {"columns": cols, "multivariate": multi}


def compare(a: Any, b: Any, *, columns: Sequence[str] | None = None, by: str | None = None,
            bins: int | str = "auto", base: float | None = None, pseudocount: float = 0.0,
            standardize: bool = False, method: str = "auto", test: str | None = None,
            n_permutations: int = 999, n_projections: int = 200, reg: float | None = None,
            dropna: bool = False, seed: int | np.random.Generator | None = None,
            multivariate: bool = True, scheduler: Any = None,
            memory_limit: int | None = None) -> Any:
    r"""Distances between two data sets, per column and over all columns, as a table.

    Per column :math:`c`: :math:`W_1` and :math:`W_2` between the two columns' empirical
    distributions (exact 1-D closed form), and between their histograms on shared bins
    (edges of :func:`numpy.histogram_bin_edges` on the pooled column; ``pseudocount``
    :math:`\alpha` added to every bin before normalising):

    .. math:: \mathrm{KL}(a\,\|\,b) = \sum_k \hat a_k \log\frac{\hat a_k}{\hat b_k}, \quad
              \hat a_k = \frac{n_k + \alpha}{n + K\alpha},

    and JS, TV, Hellinger. Over all the compared columns: :math:`W_1` between the rows of
    ``a`` and ``b`` as points of :math:`R^d` (Euclidean ground metric).

    Parameters
    ----------
    a, b : str, os.PathLike, pandas.DataFrame, dask.dataframe.DataFrame or array_like
        The two data sets. Paths: CSV, ``.npy``, ``.npz``, Parquet (see
        :func:`divergences.evaluation.tables.read_table`). Arrays get columns ``col0,
        col1, ...``. Columns are matched by name.
    columns : list of str or str, optional
        The columns to compare (a comma-separated string is split). Default: every column
        of ``a`` except ``by`` (both must have the same names), text columns skipped.
    by : str, optional
        A column of both (a time window, a group); everything is computed per value.
    bins : int or str, default "auto"
        Bins per column, a number or a rule of :func:`numpy.histogram_bin_edges`.
    base : float, optional
        Logarithm base of KL and JS (default e: nats; 2: bits).
    pseudocount : float, default 0
        Added to every bin count of both histograms (additive smoothing): KL is finite.
    standardize : bool, default False
        Centre and scale every column by the mean and standard deviation of the *pooled*
        column (the same map for ``a`` and ``b``), so that no column dominates the
        multivariate :math:`W_1`; W1 and W2 are then in pooled standard deviations.
    method : {"auto", "exact", "sliced", "sinkhorn"}, default "auto"
        The multivariate :math:`W_1`: ``"auto"`` is exact when the cost matrix
        (``8 n m`` bytes) is at most :data:`EXACT_MAX_BYTES`, else sliced.
    test : {"wasserstein", "sliced", "energy", "js"}, optional
        Add the p-value of :func:`two_sample_test` per column.
    n_permutations : int, default 999
        Permutations of each test.
    n_projections : int, default 200
        Directions of the sliced :math:`W_1`.
    reg : float, optional
        Entropic regularisation of ``method="sinkhorn"`` (default 5% of the mean cost).
    dropna : bool, default False
        Drop the rows with a missing value in a compared column (or in ``by``); otherwise
        missing values are an error that says how many and where.
    seed : None, int or numpy.random.Generator
        Seeds the tests and the sliced directions.
    multivariate : bool, default True
        Whether to compute the multivariate :math:`W_1`.
    scheduler : str or distributed.Client, optional
        Run on this dask cluster (a scheduler address such as ``"tcp://host:8786"``, or a
        client): CSV and Parquet paths are then read by ``dask.dataframe`` on its workers.
    memory_limit : int, optional
        The most bytes of one input held in memory (default
        :data:`divergences.evaluation.tables.MAX_FILE_BYTES`, 1 GiB). Dask DataFrames,
        and CSV/Parquet files larger than this, are read through ``dask.dataframe``
        one column at a time: the numbers are those of the in-memory path while the pair
        of columns (``8 (n_a + n_b)`` bytes) fits; a larger column gets ``method
        "binned"`` (histograms summed over partitions; W1, W2 between the histograms of
        ``2**16`` bins, within the reported ``W_error_bound``), never silently.

    Returns
    -------
    pandas.DataFrame or ComparisonTable
        One row per column (index ``column``, or ``(group, column)`` with ``by``) and one
        row ``"(all columns)"`` for the multivariate :math:`W_1`, with columns ``W1, W2,
        KL, JS, TV, Hellinger, bins, method, status, converged, W1_stderr, note`` (and
        ``pvalue`` with ``test``). ``attrs`` holds the units, the direction ``a||b``, the
        options and the notes. Without pandas, a :class:`ComparisonTable` with the same
        rows (``to_dict()``).

    Raises
    ------
    ValueError
        Unreadable files, columns that differ or are not numeric, missing values without
        ``dropna``, bad options, ``method="exact"`` above the size limit.

    See Also
    --------
    two_sample_test, wasserstein, sliced_wasserstein, aligned_histograms

    Examples
    --------
    >>> import numpy as np
    >>> from divergences import compare
    >>> a = np.column_stack([np.arange(10.0), np.zeros(10)])
    >>> table = compare(a, a + [2.0, 0.0], bins=4)
    >>> table.loc["col0", ["W1", "W2", "bins"]].tolist()
    [2.0, 2.0, 4.0]
    >>> round(float(table.loc["col0", "TV"]), 12)  # counts (3, 3, 3, 1) vs (1, 3, 3, 3)
    0.2
    >>> row = table.loc["(all columns)"]
    >>> float(row["W1"]), row["method"], row["status"]
    (2.0, 'exact', 'optimal')
    """
    from .report import to_table

    report = compare_report(a, b, columns=columns, by=by, bins=bins, base=base,
                            pseudocount=pseudocount, standardize=standardize, method=method,
                            test=test, n_permutations=n_permutations,
                            n_projections=n_projections, reg=reg, dropna=dropna, seed=seed,
                            multivariate=multivariate, scheduler=scheduler,
                            limit=memory_limit)
    return to_table(report)


__all__ += ["as_table", "check_fd_bins", "TableError"]
