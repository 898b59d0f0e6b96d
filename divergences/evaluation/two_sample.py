r"""Two-sample permutation tests on distances between samples, and bootstrap intervals.

A permutation test of :math:`H_0: P = Q` from samples :math:`x_1..x_n \sim P` and
:math:`y_1..y_m \sim Q`: the statistic :math:`T` (a distance between the two empirical
measures) is computed for the observed split of the pooled sample and for ``B`` random
relabellings of it; under :math:`H_0` every split is equally likely, so

.. math:: \hat p = \frac{1 + \#\{b : T_b \ge T_{obs}\}}{1 + B}

is a valid p-value (Phipson and Smyth, 2010), the convention of
:func:`scipy.stats.permutation_test` for randomized tests.

The permutations reuse what does not depend on the labels: for 1-D data the pooled sample
is sorted once and a compiled kernel walks it once per relabelling, the two groups coming
out sorted (no new sort, no copy: :mod:`divergences._kernels.permutation`); the sliced
statistic projects and sorts once per direction; the energy statistic in d-D uses one
pooled distance matrix and one matrix product per block of permutations; JS bins the
pooled sample once; exact d-D Wasserstein solves each split on the one pooled cost matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._kernels.cost import EUCLIDEAN
from .._kernels.permutation import split_costs
from .._metrics import ground_costs
from .._scaling import power_of_two_scale
from .._validation import check_base, check_choice, check_n_projections, check_p, check_seed
from .._validation_evaluation import (
    check_bins_spec,
    check_n_resamples,
    check_samples,
)

__all__ = ["TwoSampleTestResult", "two_sample_test"]

STATISTICS = ("wasserstein", "sliced", "energy", "js")
#: the rules of :func:`numpy.histogram_bin_edges` accepted as ``bins``
BIN_RULES = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")
#: the most bins per dimension for ``statistic="js"``
MAX_BINS = 2**26

#: bytes of label masks and split samples held per block of permutations or resamples
_BLOCK_BYTES = 1 << 26
#: elementary steps (points x directions, or matrix entries) per block: a block takes
#: ~0.1 s, so Ctrl-C is honoured within about that
_BLOCK_WORK = 1 << 24
#: the largest pooled distance matrix built (energy and exact W in d-D), in bytes
MAX_MATRIX_BYTES = 1 << 29

@dataclass(frozen=True, eq=False)
class TwoSampleTestResult:
    """The result of :func:`two_sample_test` (the fields of SciPy's
    ``PermutationTestResult``, plus what was computed).

    Attributes
    ----------
    statistic : float
        The statistic between the observed samples.
    pvalue : float
        :math:`(1 + \\#\\{T_b \\ge T_{obs}\\}) / (1 + B)`.
    null_distribution : ndarray, shape (B,)
        The statistic for each random relabelling of the pooled sample.
    statistic_name : str
        ``"wasserstein"``, ``"sliced"``, ``"energy"`` or ``"js"``.
    """

    statistic: float
    pvalue: float
    null_distribution: np.ndarray
    statistic_name: str

    def __repr__(self):
        return (f"TwoSampleTestResult(statistic={self.statistic!r}, pvalue={self.pvalue!r}, "
                f"statistic_name={self.statistic_name!r}, "
                f"n_permutations={self.null_distribution.size})")


def _block(total, row_bytes, row_work=1):
    """How many permutations (rows of ``row_bytes`` bytes and ``row_work`` steps each) one
    block holds."""
    most = min(_BLOCK_BYTES // max(row_bytes, 1), _BLOCK_WORK // max(row_work, 1))
    return int(max(1, min(total, most)))


def _masks(rng, n, size, count):
    """``count`` rows of ``size`` booleans, each with ``n`` True at uniformly random places."""
    rows = np.zeros((count, size), dtype=bool)
    rows[:, :n] = True
    return rng.permuted(rows, axis=1)


def _check_matrix(size_a, size_b, what):
    need = 8 * size_a * size_b
    if need > MAX_MATRIX_BYTES:
        raise ValueError(
            f"x, y: {what} needs a {size_a} x {size_b} distance matrix ({need} bytes), more "
            f"than the limit of {MAX_MATRIX_BYTES}; use statistic='sliced' or subsample")


class _Statistic:
    """What a statistic precomputes from the pooled sample, then its value for blocks of
    relabellings. ``masks`` rows mark the points of the first sample among the pooled
    ones (``concatenate([x, y])``, in that order)."""

    def __init__(self, kind, x, y, *, p, n_projections, bins, base, rng):
        self.n, self.m = x.shape[0], y.shape[0]
        pooled = np.concatenate([x, y])
        size, d = pooled.shape
        self.kind, self.p = kind, p
        self.row_bytes, self.row_work = size, size
        if kind == "sliced" or (kind in ("wasserstein", "energy") and d == 1):
            if kind == "sliced":
                from ..sliced import _directions

                theta = _directions(rng, n_projections, d)
                proj = np.ascontiguousarray((pooled @ theta.T).T)
            else:
                proj = np.ascontiguousarray(pooled.T)
            self.row_bytes = size * (1 if kind != "energy" else 33)
            self.row_work = size * proj.shape[0]
            self.orders = np.argsort(proj, axis=1, kind="stable")
            self.zs = np.take_along_axis(proj, self.orders, axis=1)
            half = float(np.max(self.zs[:, -1] / 2 - self.zs[:, 0] / 2))
            self.scale = power_of_two_scale(half, p if kind != "energy" else 2.0)
            self.zs = self.zs / self.scale
            self.ones = np.ones((1, size), dtype=np.int64)
            self.mode = "sorted"
        elif kind == "energy":
            _check_matrix(size, size, "the energy statistic in d > 1")
            self.D = ground_costs(pooled, pooled, EUCLIDEAN, 2.0, 1.0)
            self.rowsum = self.D.sum(axis=1)
            self.total = float(self.rowsum.sum())
            self.row_bytes, self.row_work = 24 * size, size * size
            self.mode = "matrix"
        elif kind == "wasserstein":
            _check_matrix(size, size, "exact W_p in d > 1")
            self.C = ground_costs(pooled, pooled, EUCLIDEAN, 2.0, p)
            self.mode = "exact"
        else:  # js
            self.codes, self.n_bins = _bin_codes(pooled, bins)
            self.counts = np.bincount(self.codes, minlength=self.n_bins).astype(np.float64)
            self.base = base
            self.row_bytes = 9 * size
            self.mode = "js"

    def observed_mask(self):
        labels = np.zeros((1, self.n + self.m), dtype=bool)
        labels[0, : self.n] = True
        return labels

    def values(self, masks):
        if self.mode == "sorted":
            if self.kind == "energy":
                return _energy_1d(self.zs[0], masks[:, self.orders[0]], self.n,
                                  self.m) * np.sqrt(self.scale)
            costs = split_costs(self.zs, self.orders, masks.view(np.uint8), self.ones,
                                self.n, self.m, self.p)
            with np.errstate(under="ignore"):
                return self.scale * costs ** (1.0 / self.p)
        if self.mode == "matrix":
            return _energy_matrix(self, masks)
        if self.mode == "exact":
            return _exact_splits(self.C, masks, self.p)
        return _js_splits(self, masks)


def _energy_1d(zs, masks, n, m):
    r"""Energy distance :math:`\sqrt{2\int (F - G)^2}` of each split of the sorted ``zs``."""
    size = zs.shape[0]
    below_x = np.cumsum(masks, axis=1, dtype=np.float64)[:, :-1]
    below_y = np.arange(1.0, size) - below_x
    gap = below_x / n - below_y / m
    return np.sqrt(2.0 * ((gap * gap) @ np.diff(zs)))


def _energy_matrix(stat, masks):
    """Energy distance of each split from the pooled distance matrix: the within- and
    between-sample sums of one split are quadratic forms of its label vector."""
    labels = masks.astype(np.float64)
    within_x = np.einsum("bi,bi->b", labels @ stat.D, labels)
    between = labels @ stat.rowsum - within_x
    within_y = stat.total - 2.0 * between - within_x
    n, m = float(stat.n), float(stat.m)
    e = 2.0 * between / (n * m) - within_x / (n * n) - within_y / (m * m)
    return np.sqrt(np.maximum(e, 0.0))


def _exact_splits(C, masks, p):
    """Exact :math:`W_p` of each split, on sub-matrices of the one pooled cost matrix."""
    from ..exact import emd

    out = np.empty(masks.shape[0])
    n = int(masks[0].sum())
    a, b = np.full(n, 1.0 / n), np.full(masks.shape[1] - n, 1.0 / (masks.shape[1] - n))
    for k, row in enumerate(masks):
        cost = emd(a, b, C[np.ix_(row, ~row)]).cost
        out[k] = max(cost, 0.0) ** (1.0 / p)
    return out


def _bin_codes(pooled, bins):
    """The bin of each pooled point (edges per dimension from the pooled sample, as in
    :func:`divergences.aligned_histograms`), numbered over the occupied bins only."""
    cells = np.empty(pooled.shape, dtype=np.int64)
    sizes = []
    for k in range(pooled.shape[1]):
        edges = np.histogram_bin_edges(pooled[:, k], bins=bins)
        inner = edges[1:-1]
        cells[:, k] = np.searchsorted(inner, pooled[:, k], side="right")
        sizes.append(len(edges) - 1)
    if len(sizes) == 1:
        _, codes = np.unique(cells[:, 0], return_inverse=True)
    else:
        _, codes = np.unique(cells, axis=0, return_inverse=True)
    codes = codes.reshape(-1)
    return codes, int(codes.max()) + 1


def _js_splits(stat, masks):
    from ..information import js

    count = masks.shape[0]
    offsets = stat.codes[None, :] + stat.n_bins * np.arange(count)[:, None]
    px = np.bincount(offsets[masks], minlength=count * stat.n_bins).astype(np.float64)
    px = px.reshape(count, stat.n_bins)
    return np.atleast_1d(js(px, stat.counts - px, base=stat.base))


def two_sample_test(x: ArrayLike, y: ArrayLike, *, statistic: str = "wasserstein",
                    n_permutations: int = 9999, seed: int | np.random.Generator | None = None,
                    p: float = 1, n_projections: int = 50, bins: int | str = "auto",
                    base: float | None = None) -> TwoSampleTestResult:
    r"""Permutation test of :math:`P = Q` from two samples, with a distance as statistic.

    .. math:: \hat p = \frac{1 + \#\{b \le B : T(\sigma_b) \ge T_{obs}\}}{1 + B},

    where :math:`\sigma_1..\sigma_B` are uniformly random relabellings of the pooled
    sample into groups of sizes ``n`` and ``m`` and :math:`T` is the statistic.

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d) and (m,) or (m, d)
        The two samples, in the same dimension.
    statistic : {"wasserstein", "sliced", "energy", "js"}, default "wasserstein"
        ``"wasserstein"``: :math:`W_p` between the empirical measures (the 1-D closed
        form; in d > 1 the exact solver on the pooled cost matrix, one LP per
        permutation). ``"sliced"``: the sliced :math:`W_p` over ``n_projections`` random
        directions drawn once. ``"energy"``: the energy distance (SciPy's
        ``energy_distance`` in 1-D: :math:`\sqrt{2 E|X-Y| - E|X-X'| - E|Y-Y'|}`).
        ``"js"``: Jensen-Shannon divergence between histograms on bins of the pooled
        sample (``bins`` per dimension).
    n_permutations : int, default 9999
        Number ``B`` of random relabellings (SciPy's default ``n_resamples``).
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The same seed gives the same result (directions and permutations).
    p : float, default 1
        Order of :math:`W_p` for ``"wasserstein"`` and ``"sliced"``.
    n_projections : int, default 50
        Directions of the sliced statistic.
    bins : int or str, default "auto"
        Bins per dimension for ``"js"`` (see :func:`numpy.histogram_bin_edges`).
    base : float, optional
        Logarithm base of ``"js"`` (default natural log, nats).

    Returns
    -------
    TwoSampleTestResult
        ``statistic``, ``pvalue``, ``null_distribution`` (the names of
        :func:`scipy.stats.permutation_test`'s result) and ``statistic_name``.

    Raises
    ------
    ValueError
        Empty, NaN or infinite samples, different dimensions, an unknown statistic, a
        pooled distance matrix (energy or exact W in d > 1) above
        :data:`MAX_MATRIX_BYTES`.

    See Also
    --------
    scipy.stats.permutation_test : the generic (slower) version of this test.
    divergences.wasserstein_ci : a bootstrap confidence interval for :math:`W_p`.

    Notes
    -----
    Statistics are compared with SciPy's relative tolerance (``1e-14``) so that
    relabellings giving the observed value up to rounding count as ties. The test is
    one-sided (large distances reject). With few distinct relabellings (tiny samples) the
    p-value cannot go below ``1 / binom(n + m, n)`` anyway; the randomized p-value stays
    valid.

    References
    ----------
    .. [1] B. Phipson and G. K. Smyth, "Permutation p-values should never be zero",
       Statistical Applications in Genetics and Molecular Biology 9(1), 2010.
    .. [2] G. J. Székely and M. L. Rizzo, "Energy statistics: A class of statistics based
       on distances", J. Stat. Plan. Inference 143(8), 2013.
    .. [3] A. Ramdas, N. García Trillos and M. Cuturi, "On Wasserstein two-sample testing
       and related families of nonparametric tests", Entropy 19(2), 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from divergences import two_sample_test
    >>> x = np.arange(10.0)
    >>> res = two_sample_test(x, x + 100.0, n_permutations=999, seed=1)
    >>> res.statistic, res.pvalue
    (100.0, 0.001)
    >>> two_sample_test(x, x, n_permutations=99, seed=0).pvalue
    1.0
    """
    x, y = check_samples(x, y)
    statistic = check_choice(statistic, "statistic", STATISTICS)
    n_permutations = check_n_resamples(n_permutations, "n_permutations")
    rng = check_seed(seed)
    p = check_p(p)
    n_projections = check_n_projections(n_projections)
    base = check_base(base)
    bins = check_bins_spec(bins, BIN_RULES)
    if not isinstance(bins, str) and bins > MAX_BINS:
        raise ValueError(f"bins: at most {MAX_BINS} bins per dimension, got {bins}")
    stat = _Statistic(statistic, x, y, p=p, n_projections=n_projections, bins=bins,
                      base=base, rng=rng)
    observed = float(stat.values(stat.observed_mask())[0])
    null = np.empty(n_permutations)
    size = x.shape[0] + y.shape[0]
    step = _block(n_permutations, stat.row_bytes, stat.row_work)
    for lo in range(0, n_permutations, step):
        count = min(step, n_permutations - lo)
        null[lo:lo + count] = stat.values(_masks(rng, x.shape[0], size, count))
    tolerance = abs(observed) * 1e-14
    pvalue = (1.0 + np.count_nonzero(null >= observed - tolerance)) / (1.0 + n_permutations)
    return TwoSampleTestResult(statistic=observed, pvalue=float(pvalue),
                               null_distribution=null, statistic_name=statistic)
