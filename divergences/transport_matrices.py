r"""Wasserstein distance matrices: the plans behind ``pairwise(metric="wasserstein"|"sliced")``.

A *plan* holds what every pair shares (the sorted support and its gaps, the projections
and their sorting orders, the ground cost matrix, the power-of-two scale) and computes
blocks of the matrix: ``plan.rows(X, "X")`` validates and prepares one side,
``plan.block(PX, x0, PY, y0, mode)`` returns the ``W_p`` between the rows of a block.
Modes: ``"full"`` (every pair), ``"symmetric"`` (``PY`` is ``PX``: the upper triangle,
mirrored, zero diagonal) and ``"canonical"`` (``PX``, ``PY`` are rows ``x0..``, ``y0..``
of one array: the pair of rows ``g > h`` is computed as ``(h, g)`` and a row with itself
is 0, so any block equals the same block of the symmetric matrix, bit for bit). The
k-nearest reduction and the Dask adapter are built on these blocks.

* :class:`Support1D`: histograms on a 1-D support, closed form
  (:mod:`divergences._kernels.pairwise_sliced`);
* :class:`SupportSliced`: sliced :math:`W_p` of histograms on a d-D support (same kernel);
* :class:`SupportExact`: exact :math:`W_p` on a d-D support, one network simplex per pair,
  the cost matrix computed once: dense (:mod:`divergences._kernels.pairwise_exact`) below
  :data:`~divergences.pairwise_local.LOCAL_MIN_BINS` bins or for few rows
  (:data:`~divergences.pairwise_local.LOCAL_MIN_WORK`), otherwise on local arcs from a
  coarse start, certified over all pairs (:mod:`divergences._kernels.pairwise_local`);
* :class:`PointSets`: measures with supports of their own (sequences of point sets).

Pairs that the fast kernels cannot certify (a cost that underflowed, a cost within rounding
of 0 with weights far below eps of the others, an exact cost far below the largest cost of
its problem, a solve that stopped at ``max_iter``) are solved
again by the one-problem functions, so every entry equals :func:`divergences.wasserstein`
(resp. :func:`divergences.sliced_wasserstein`) for that pair.
"""

from __future__ import annotations

import time

import numpy as np

from . import pairwise_local
from ._kernels import pairwise_exact as _exact
from ._kernels import pairwise_local as _local
from ._kernels.cost import MINKOWSKI, SQEUCLIDEAN
from ._kernels.network_simplex import OPTIMAL
from ._kernels.pairwise_sliced import sliced_matrix, sliced_matrix_serial
from ._metrics import ground_costs
from ._scaling import half_range, normalise, power_of_two_scale
from ._thread_ranges import run_in_ranges
from ._univariate_exact import has_tiny_weights
from ._validation_pairwise import check_histogram_matrix, check_point_set_sequence
from .pairwise_local import LOCAL_MIN_BINS, local_plan

__all__ = ["PointSets", "Support1D", "SupportExact", "SupportSliced"]

#: W_p^p below this (in the scaled units) may have lost terms to underflow: solved again
UNDERFLOW_COST = 2.0**-900
#: a pair with tiny weights (:func:`~divergences._univariate_exact.has_tiny_weights`) whose
#: fast W_p^p is below this many times the fast walks' rounding bound, ``n_bins eps
#: span^p`` (the scaled support's span), is solved again by the one-problem function (the
#: exact walk): the fast walks lose a weight far below ``eps`` of the others to the
#: rounding of the normalised weights (a sliced ``W_1`` of ``[1, 1e-16]`` against ``[1, 0]``
#: came out half the true value), an absolute error that matters only for such small costs
TRUST_FACTOR = 2.0**30
#: an exact cost below this fraction of its largest cost is solved again (see exact.py)
RELATIVE_COST = 2.0**-30
#: pairs computed by the serial kernels below this many (no threads to start)
PARALLEL_PAIRS = 64
#: target duration of one batch of exact problems (Ctrl-C is checked between batches)
BATCH_SECONDS = 0.1


def _roots(costs, scale, exponent, p):
    """``W_p`` from ``W_p^p`` in units of ``scale`` (costs scale as ``scale^exponent``)."""
    with np.errstate(under="ignore"):
        roots = costs if p == 1.0 else costs ** (1.0 / p)
    if scale == 1.0:
        return roots
    e = float(np.log2(scale)) * exponent / p
    n = np.floor(e)
    mant, k = np.frexp(roots)
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(mant * 2.0 ** (e - n), np.clip(k + int(n), -4000, 4000))


def _fill(out, ia, jb, values, mode):
    out[ia, jb] = values
    if mode == "symmetric":
        out[jb, ia] = values


class _Histograms:
    """Rows of histograms on the plan's support: validated, normalised."""

    n_bins = 0

    def rows(self, X, name):
        arr, _ = check_histogram_matrix(X, name, self.n_bins)
        return self._prepare(np.ascontiguousarray(normalise(arr, axis=1)))

    def _prepare(self, W):
        return (W,)

    @staticmethod
    def take(P, r0, r1):
        return tuple(v[r0:r1] for v in P)

    @staticmethod
    def count(P):
        return P[0].shape[0]

    def fit(self, PX, PY):
        """Nothing is learnt from the rows (the scale comes from the support)."""


def _off_diagonal(shape, mode, x0, y0):
    """Mask of the entries that are a pair of distinct rows (all but the diagonal)."""
    if mode == "full":
        return np.ones(shape, bool)
    g = x0 + np.arange(shape[0])[:, None]
    h = y0 + np.arange(shape[1])[None, :]
    return g != h


class _SlicedKernel(_Histograms):
    """Shared by the 1-D closed form and the sliced distance: one kernel over blocks."""

    cdf = False

    def _matrix(self, A, x0, B, y0, mode):
        out = np.zeros((A.shape[0], B.shape[0]))
        work = A.shape[0] * B.shape[0] * self.P.size
        kern = sliced_matrix if work >= (1 << 20) else sliced_matrix_serial
        kern(self.cdf, self.P, self.G, self.orders, A, B, float(self.exponent),
             mode == "symmetric", mode == "canonical", np.int64(x0), np.int64(y0), out)
        return out

    def block(self, PX, x0, PY, y0, mode):
        costs = self._matrix(PX[0], x0, PY[0], y0, mode)
        out = _roots(costs, self.scale, self.exponent, self.p)
        off = _off_diagonal(costs.shape, mode, x0, y0)
        bad = (costs < UNDERFLOW_COST) & off
        self._untrusted(PX[-1], PY[-1], costs, off, bad)
        if bad.any():  # solved again one by one (the diagonal is 0 exactly)
            ia, jb = np.nonzero(np.triu(bad, 1) if mode == "symmetric" else bad)
            WX, WY = PX[-1], PY[-1]
            for i, j in zip(ia.tolist(), jb.tolist(), strict=True):
                mirrored = mode == "canonical" and x0 + i > y0 + j
                out[i, j] = self._one(WY[j], WX[i]) if mirrored else self._one(WX[i], WY[j])
                if mode == "symmetric":
                    out[j, i] = out[i, j]
        return out

    def _untrusted(self, WX, WY, costs, candidates, bad):
        """Mark in ``bad`` the pairs among ``candidates`` whose rows (normalised weights
        ``WX``, ``WY``) have tiny weights and whose fast cost is within
        :data:`TRUST_FACTOR` of the fast walks' rounding bound (few pairs: the rule is
        evaluated on those only)."""
        bound = TRUST_FACTOR * self.n_bins * np.finfo(float).eps * self.span ** self.exponent
        small = costs < bound
        small &= candidates
        if small.any():
            ia, jb = np.nonzero(small)
            tiny = np.atleast_1d(has_tiny_weights(WX[ia], WY[jb]))
            bad[ia[tiny], jb[tiny]] = True


class Support1D(_SlicedKernel):
    """``W_p`` of histograms on a 1-D support by the closed form (support sorted once)."""

    def __init__(self, support, p, metric_code):
        from .univariate import _wasserstein_1d_distance

        s = support[:, 0]
        self.n_bins = s.shape[0]
        self.p = p
        self.code = metric_code
        self.exponent = 2.0 * p if metric_code == SQEUCLIDEAN else p
        self.order = np.argsort(s, kind="stable")
        self.sorted = np.ascontiguousarray(s[self.order])
        self.scale = power_of_two_scale(half_range(support), self.exponent)
        ss = self.sorted / self.scale
        self.P = ss[None, :].copy()
        self.G = np.diff(ss)[None, :].copy()
        self.span = float(ss[-1] - ss[0])
        self.orders = np.arange(self.n_bins, dtype=np.int64)[None, :]
        self.cdf = self.exponent == 1.0
        self._distance = _wasserstein_1d_distance

    def _prepare(self, W):
        Ws = np.ascontiguousarray(W[:, self.order])  # bins in sorted order
        if self.cdf:
            return (np.cumsum(Ws, axis=1), Ws)
        return (Ws,)

    def _one(self, a, b):
        return self._distance(self.sorted, self.sorted, a, b, self.p, self.code)


class SupportSliced(_SlicedKernel):
    """Sliced ``W_p`` of histograms on a d-D support: the support projected on ``L``
    directions (drawn once, as :func:`divergences.sliced_wasserstein` draws them) and
    each projection sorted once."""

    def __init__(self, support, p, n_projections, rng):
        from .sliced import _directions

        self.support = support
        self.n_bins, d = support.shape
        self.p = self.exponent = p
        self.theta = _directions(rng, n_projections, d)
        self.scale = power_of_two_scale(half_range(support), p, np.sqrt(d))
        proj = self.theta @ (support / self.scale).T
        self.orders = np.ascontiguousarray(np.argsort(proj, axis=1, kind="stable"))
        self.P = np.ascontiguousarray(np.take_along_axis(proj, self.orders, axis=1))
        self.G = np.ascontiguousarray(np.diff(self.P, axis=1))
        self.span = float((self.P[:, -1] - self.P[:, 0]).max())

    def _one(self, a, b):
        """One pair without underflow: the 1-D problems of each projection solved by
        the robust batch of :func:`divergences.wasserstein_1d`, then averaged in the
        units of the largest (as :func:`divergences.sliced_wasserstein`)."""
        from .univariate import _distances

        X = np.ascontiguousarray(self.theta @ (self.support / self.scale).T)
        dist = _distances(X, a, X.copy(), b, self.p, X.shape[0])
        top = float(dist.max())
        if top == 0.0:
            return 0.0
        with np.errstate(under="ignore"):
            mean = float(np.mean((dist / top) ** self.p))
        return self.scale * top * mean ** (1.0 / self.p)


# --- exact problems, in batches of pairs ---


def _triangle_starts(n):
    i = np.arange(n, dtype=np.int64)
    return i * (2 * n - i - 1) // 2


def _pairs(nx, ny, mode, x0, y0, lo, hi, starts):
    """Pairs ``lo..hi`` (a linear numbering) of a block: ``(ia, jb, mirror)``, ``mirror``
    marking the pairs solved mirrored (``"canonical"``), the diagonal left out."""
    k = np.arange(lo, hi, dtype=np.int64)
    if mode == "symmetric":
        ia = np.searchsorted(starts, k, side="right") - 1
        jb = ia + 1 + (k - starts[ia])
        return ia, jb, np.zeros(k.shape[0], np.int64)
    ia, jb = k // ny, k % ny
    if mode == "canonical":
        g, h = x0 + ia, y0 + jb
        keep = g != h
        ia, jb, g, h = ia[keep], jb[keep], g[keep], h[keep]
        return ia, jb, (g > h).astype(np.int64)
    return ia, jb, np.zeros(k.shape[0], np.int64)


def _batched(nx, ny, mode, x0, y0, solve):
    """Every pair of a block in batches that last about :data:`BATCH_SECONDS`: ``solve(ia,
    jb, mirror, parallel)`` per batch (Python runs between batches: Ctrl-C stops the matrix)."""
    total = nx * (nx - 1) // 2 if mode == "symmetric" else nx * ny
    starts = _triangle_starts(nx) if mode == "symmetric" else None
    parallel = total >= PARALLEL_PAIRS
    size = 4 * PARALLEL_PAIRS
    lo = 0
    while lo < total:
        hi = min(total, lo + size)
        start = time.perf_counter()
        solve(*_pairs(nx, ny, mode, x0, y0, lo, hi, starts), parallel)
        seconds = time.perf_counter() - start
        size = max(PARALLEL_PAIRS, int(size * (4.0 if seconds <= 0 else
                                               min(4.0, BATCH_SECONDS / seconds))))
        lo = hi


class _Exact:
    """The batch loop, the checks and the fallbacks of the exact plans."""

    def block(self, PX, x0, PY, y0, mode):
        nx, ny = self.count(PX), self.count(PY)
        costs = np.zeros((nx, ny))
        redo = []
        shared = self._arguments(PX, PY)

        def solve(ia, jb, mirror, parallel):
            cost, status, top = (np.empty(ia.shape[0]), np.empty(ia.shape[0], np.int64),
                                 np.empty(ia.shape[0]))
            run_in_ranges(self._kernel, (*shared(ia, jb, mirror), cost, status, top),
                          ia.shape[0], None if parallel else 1)
            _fill(costs, ia, jb, cost, mode)
            if self.closed:
                bad = cost < UNDERFLOW_COST
            else:
                bad = (status != OPTIMAL) | (cost < np.maximum(UNDERFLOW_COST,
                                                               RELATIVE_COST * top))
            if bad.any():
                redo.append((ia[bad], jb[bad], mirror[bad]))

        _batched(nx, ny, mode, x0, y0, solve)
        out = _roots(costs, self.scale, self.exponent, self.p)
        for ia, jb, mirror in redo:
            for i, j, mirrored in zip(ia.tolist(), jb.tolist(), mirror.tolist(), strict=True):
                v = self._one(PY, j, PX, i) if mirrored else self._one(PX, i, PY, j)
                out[i, j] = v
                if mode == "symmetric":
                    out[j, i] = v
        return out


class SupportExact(_Exact, _Histograms):
    """Exact ``W_p`` of histograms on a d-D support: cost matrix computed once."""

    closed = False

    def __init__(self, support, p, metric_code, q, max_iter, n_rows=None):
        self.support = support
        self.n_bins, d = support.shape
        self.p, self.code, self.q, self.max_iter = p, metric_code, q, max_iter
        self.exponent = 2.0 * p if metric_code == SQEUCLIDEAN else p
        self.scale = power_of_two_scale(half_range(support), self.exponent, d)
        s = support / self.scale
        self.C = np.ascontiguousarray(ground_costs(s, s, metric_code, q, p))
        # local arcs first, certified over all pairs (pairwise_local); dense when the
        # support is small, or when the rows (n_rows, None: unknown) are too few for the
        # local kernel's compile time to pay (LOCAL_MIN_WORK)
        large = self.n_bins >= LOCAL_MIN_BINS and (
            n_rows is None or n_rows * self.n_bins ** 2 >= pairwise_local.LOCAL_MIN_WORK)
        self.local = local_plan(s, self.C, metric_code, q, p) if large else None

    @property
    def _kernel(self):
        return _exact.support_pairs if self.local is None else _local.local_pairs

    def _arguments(self, PX, PY):
        if self.local is not None:
            return lambda ia, jb, mirror: (*self.local, PX[0], PY[0], ia, jb, mirror,
                                           self.max_iter)
        return lambda ia, jb, mirror: (self.C, PX[0], PY[0], ia, jb, mirror, self.max_iter)

    def _one(self, PA, i, PB, j):
        from .exact import _transport_exact

        return _transport_exact(self.support, self.support, PA[0][i], PB[0][j], self.p,
                                self.code, q=_q_option(self.code, self.q),
                                max_iter=self.max_iter).distance


class PointSets(_Exact):
    """``W_p`` between measures with supports of their own (sequences of point sets):
    the closed form in 1-D (each set sorted once), the network simplex otherwise."""

    def __init__(self, p, metric_code, q, max_iter):
        self.p, self.code, self.q, self.max_iter = p, metric_code, q, max_iter
        self.exponent = 2.0 * p if metric_code == SQEUCLIDEAN else p
        self.scale = 1.0
        self.closed = False

    def rows(self, X, name, weights=None):
        points, w = check_point_set_sequence(X, weights, name)
        sizes = np.array([pt.shape[0] for pt in points], np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        if points[0].shape[1] == 1:  # sorted within each set, for the closed form
            order = [np.argsort(pt[:, 0], kind="stable") for pt in points]
            points = [pt[o] for pt, o in zip(points, order, strict=True)]
            w = [wk[o] for wk, o in zip(w, order, strict=True)]
        P = np.ascontiguousarray(np.concatenate(points))
        W = np.concatenate([normalise(wk) for wk in w])
        return (P, W, offsets, points, [normalise(wk) for wk in w])

    @staticmethod
    def take(P, r0, r1):
        pts, W, off = P[0], P[1], P[2]
        a, b = off[r0], off[r1]
        return (pts[a:b], W[a:b], off[r0:r1 + 1] - a, P[3][r0:r1], P[4][r0:r1])

    @staticmethod
    def count(P):
        return P[2].shape[0] - 1

    def fit(self, PX, PY):
        """The power-of-two scale of all the points, and the solver: the closed form in
        1-D (as :func:`divergences.wasserstein` with ``method="auto"``)."""
        d = PX[0].shape[1]
        if PY[0].shape[1] != d:
            raise ValueError(f"the point sets of X and Y must have the same dimension, got "
                             f"{d} and {PY[0].shape[1]}")
        self.closed = d == 1
        self.scale = power_of_two_scale(half_range(PX[0], PY[0]), self.exponent,
                                        1.0 if self.closed else d)

    @property
    def _kernel(self):
        return _exact.point_set_pairs

    def _arguments(self, PX, PY):
        s = self.scale
        P, Q = (PX[0], PY[0]) if s == 1.0 else (PX[0] / s, PY[0] / s)
        code, q, p = np.int64(self.code), float(self.q), float(self.p)
        return lambda ia, jb, mirror: (P, PX[1], PX[2], Q, PY[1], PY[2], ia, jb, mirror,
                                       code, q, p, self.closed, self.max_iter)

    def _one(self, PA, i, PB, j):
        from .transport import wasserstein

        options = {} if self.closed else {"max_iter": self.max_iter}
        return wasserstein(PA[3][i], PB[3][j], PA[4][i], PB[4][j], p=self.p,
                           metric=_metric_name(self.code), q=_q_option(self.code, self.q),
                           **options)


def _q_option(code, q):
    """The ``q`` option of the one-problem functions (only for the Minkowski metric)."""
    return q if code == MINKOWSKI else None


def _metric_name(code):
    from ._metrics import METRICS

    return next(name for name, c in METRICS.items() if c == code)
