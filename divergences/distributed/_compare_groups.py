r"""The groups and columns of ``compare`` on dask DataFrames (one group without ``by``).

When the rows of the group fit the memory limit they are brought into memory in one
pass; otherwise, per column:

* when the pair of columns fits the memory limit (``8 (n_a + n_b)`` bytes, the usual case
  even for a table larger than memory), it is brought into memory and goes through the
  in-memory code: the same numbers as :func:`divergences.compare` on the whole table (bit
  for bit, but for ``standardize``, whose pooled moments are summed per partition);
* otherwise (``method "binned"``, status ``"bounded"``): the histograms on the shared edges
  are computed per partition and summed (KL, JS, TV, Hellinger are then exact for those
  edges; the edges are NumPy's for a number of bins and the rules ``sturges``, ``rice``,
  ``sqrt``; ``fd`` and ``auto`` use an interquartile range read from a
  :data:`FINE_BINS`-bin histogram, within two of its bins, said in the notes; ``scott``,
  ``doane`` and ``stone`` need the column in memory and are refused), and
  :math:`W_1`, :math:`W_2` are those between the two :data:`FINE_BINS`-bin histograms
  (mass at the bin centres): each point moves by at most half a bin width :math:`h`, so

  .. math:: |W_p(P, Q) - W_p(\hat P, \hat Q)| \le W_p(P, \hat P) + W_p(Q, \hat Q)
            \le h,

  reported as ``W_error_bound`` (the permutation test, ``test=``, is refused there).

The multivariate :math:`W_1` is the in-memory one when the rows of the group fit the
limit, else the sliced :math:`W_1` with projections computed on the cluster (said in the
report).
"""

from __future__ import annotations

import numpy as np

from ..evaluation import comparison as cmp
from ..evaluation.multivariate import multivariate_w1, sliced_w1

__all__ = ["GroupWork", "FINE_BINS"]

#: bins of the fine histograms of a column too large for memory (W1, W2, quantiles)
FINE_BINS = 1 << 16


class GroupWork:
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
