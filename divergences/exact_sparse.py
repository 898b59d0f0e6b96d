r"""Exact transport on a sparse cost (allowed arcs only), and warm starts of :func:`emd`.

:func:`divergences.emd` hands a ``scipy.sparse`` cost to :func:`solve_sparse`: the
network simplex on the stored entries only (:mod:`divergences._kernels.sparse_lp`),
wrapped as a :class:`~divergences.TransportResult` with a ``scipy.sparse.csr_array``
plan. :func:`start_pairs` and :func:`start_arcs` turn ``emd``'s ``init=`` (a plan or
potentials of a related problem) into the arcs the first basis is built from.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse

from ._kernels.network_simplex import INFEASIBLE, MAX_ITER, OPTIMAL
from ._kernels.sparse_lp import solve_sparse_transport
from ._warnings import ConvergenceWarning
from .result import TransportResult

EPS = float(np.finfo(np.float64).eps)
#: a certificate coarser than this fraction of the cost makes an "optimal" basis "imprecise"
IMPRECISE_GAP = 1e-6
#: rows of the dense reduced costs formed at once for a warm start from potentials
_CHUNK = 2**22
_STATUS = {OPTIMAL: "optimal", MAX_ITER: "max_iter"}


def _infeasible(where):
    side = ("row", "a") if where is not None and where[0] == 0 else ("column", "b")
    if where is None:
        detail = ("a group of rows of positive weight has allowed arcs only to columns "
                  "whose total weight is smaller (or the other way round)")
    else:
        detail = (f"{side[0]} {where[1]} has weight {side[1]}[{where[1]}] > 0 but no stored "
                  f"entry in a {'column' if side[0] == 'row' else 'row'} of positive weight")
    return ValueError("cost: no coupling of a and b exists on the stored entries of the "
                      f"sparse cost ({detail}); store more entries (a stored 0 is an "
                      "allowed arc of cost 0) or pass a dense cost")


def solve_sparse(a, b, rows, cols, vals, shape, max_iter, start=None):
    """The exact LP on the arcs ``(rows, cols, vals)`` (from ``check_sparse_cost``);
    ``a``, ``b`` normalised. Raises ValueError (naming ``cost``) when no coupling exists
    on those arcs; ``start``: arc indices (into ``rows``) of a warm start, or ``None``."""
    n, m = shape
    status, out = solve_sparse_transport(rows, cols, vals, a, b, max_iter, start)
    if status == INFEASIBLE:
        raise _infeasible(out)
    r, c, flows, f, g, total, n_iter, left_a, left_b = out
    plan = scipy.sparse.csr_array((flows, (r, c)), shape=(n, m))
    err = (np.abs(np.bincount(r, flows, minlength=n) - a).sum()
           + np.abs(np.bincount(c, flows, minlength=m) - b).sum())
    name = _STATUS.get(status, "infeasible")
    converged = name == "optimal"
    if converged and _imprecise(rows, cols, vals, f, g, a, b, total, float(err)):
        name, converged = "imprecise", False
    if not converged:
        warnings.warn(_MESSAGES[name].format(max_iter=max_iter, left=left_a.sum()),
                      ConvergenceWarning, stacklevel=3)
    shift = 0.5 * (a @ f - b @ g)
    return TransportResult(cost=float(total), distance=float(total), plan=plan,
                           potentials=(f - shift, g + shift), converged=converged,
                           n_iter=int(n_iter), status=name, marginal_error=float(err), p=1.0)


_MESSAGES = {
    "max_iter": "emd: the network simplex stopped after max_iter={max_iter} pivots before "
                "reaching the optimum; on a sparse cost the plan then leaves {left:.3g} of "
                "the mass unrouted (see marginal_error) and is not optimal. Raise max_iter.",
    "imprecise": "emd: the final basis is optimal only up to float64 rounding of the "
                 "largest costs, which here exceeds 1e-6 of the optimal cost: the costs span "
                 "too many orders of magnitude. Compress the costs.",
    "infeasible": "emd: the network simplex found no blocking arc (unbounded pivot); the "
                  "result is not optimal. Please report this problem with its input.",
}


def _imprecise(rows, cols, vals, f, g, a, b, total, err):
    """Whether the certificate of ``(f, g)`` on the allowed arcs between the supports is
    coarser than ``1e-6 |total|`` (as :func:`divergences.exact._imprecise`, on arcs)."""
    live = (a[rows] > 0.0) & (b[cols] > 0.0)
    r, c, v = rows[live], cols[live], vals[live]
    fr, gc = f[r], g[c]
    over = fr + gc - v - 4.0 * EPS * (np.abs(fr) + np.abs(gc) + np.abs(v))
    delta = max(0.0, float(over.max())) if over.size else 0.0
    rowmin = np.full(a.shape[0], np.inf)
    np.minimum.at(rowmin, r, v)
    bound = float(a[a > 0] @ rowmin[a > 0])
    rounding = 4.0 * EPS * (a @ np.abs(f) + b @ np.abs(g))
    tol = IMPRECISE_GAP * abs(total) + err * (np.abs(f).max() + np.abs(g).max()) + rounding
    if total <= bound + tol:
        return False
    return max(delta, abs(a @ f + b @ g - total)) > tol


def _by_preference(init, reduced):
    """Order of preference of candidate arcs: largest flow first for a plan, smallest
    reduced cost first for potentials (``reduced``: their reduced costs)."""
    return np.argsort(-init if reduced is None else reduced, kind="stable")


def _tight(reduced, scale):
    """Candidates from potentials: the arcs whose reduced cost is within ``1e-9`` of the
    scale of the costs and potentials."""
    return reduced <= 1e-9 * scale


def start_pairs(init, cost):
    """Warm-start pairs ``(rows, cols)`` for a dense ``cost`` from ``check_init``'s
    ``init``: the plan's support, or the arcs tight for the potentials plus, in every
    row and column, the arc of least reduced cost (so that every node has one)."""
    if init is None:
        return None
    if init[0] == "plan":
        _, r, c, v = init
        keep = v > 0
        order = _by_preference(v[keep], None)
        return r[keep][order], c[keep][order]
    _, f, g = init
    n, m = cost.shape
    scale = float(np.abs(cost).max() + np.abs(f).max() + np.abs(g).max())
    rs, cs, ds = [], [], []
    colmin = np.full(m, np.inf)
    colarg = np.zeros(m, np.int64)
    step = max(1, _CHUNK // max(m, 1))
    for lo in range(0, n, step):
        red = cost[lo:lo + step] - f[lo:lo + step, None] - g[None, :]
        i, j = np.nonzero(_tight(red, scale))
        arg = red.argmin(axis=1)
        i = np.concatenate([i, np.arange(red.shape[0])])
        j = np.concatenate([j, arg])
        rs.append(i + lo)
        cs.append(j)
        ds.append(red[i, j])
        low = red.min(axis=0)
        better = low < colmin
        colmin[better] = low[better]
        colarg[better] = lo + red.argmin(axis=0)[better]
    rs.append(colarg)
    cs.append(np.arange(m))
    ds.append(colmin)
    r, c, d = (np.concatenate(v) for v in (rs, cs, ds))
    order = _by_preference(None, d)
    return r[order].astype(np.int64), c[order].astype(np.int64)


def start_arcs(init, rows, cols, vals, m):
    """Warm-start arcs (indices into the allowed arcs ``rows``, ``cols``, row-major and
    unique) from ``check_init``'s ``init``: the allowed part of the plan's support, or
    the arcs tight for the potentials plus every row's and column's least reduced cost."""
    if init is None:
        return None
    if init[0] == "plan":
        _, r, c, v = init
        keys = rows * m + cols
        want = r * m + c
        pos = np.minimum(np.searchsorted(keys, want), max(keys.shape[0] - 1, 0))
        ok = (v > 0) & (keys.shape[0] > 0) & (keys[pos] == want) if keys.size else v < 0
        order = _by_preference(v[ok], None)
        return pos[ok][order].astype(np.int64)
    _, f, g = init
    red = vals - f[rows] - g[cols]
    scale = float(np.abs(vals).max(initial=0.0) + np.abs(f).max() + np.abs(g).max())
    pick = _tight(red, scale)
    for own, size in ((rows, f.shape[0]), (cols, g.shape[0])):
        low = np.full(size, np.inf)
        np.minimum.at(low, own, red)
        pick |= red == low[own]
    arcs = np.flatnonzero(pick)
    return arcs[_by_preference(None, red[arcs])].astype(np.int64)
