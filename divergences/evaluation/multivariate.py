"""The multivariate W1 of :func:`divergences.compare`: exact, sliced or Sinkhorn, always
with the method used and its status, and a progress line inside the long solves."""

from __future__ import annotations

import math
import threading
import time
import warnings

import numpy as np

from .._validation import check_seed

__all__ = ["multivariate_w1"]


class _Ticker:
    """Calls ``progress(label + elapsed)`` every half second from a thread while a long
    step runs (the solvers return to Python often, so the thread gets its turn)."""

    def __init__(self, progress, label):
        self.progress, self.label = progress, label
        self.stop = threading.Event()

    def __enter__(self):
        if self.progress is not None:
            self.start = time.monotonic()
            self.progress(self.label)
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self

    def _run(self):
        while not self.stop.wait(0.5):
            self.progress(f"{self.label} {time.monotonic() - self.start:.0f} s")

    def __exit__(self, *exc):
        self.stop.set()
        if self.progress is not None:
            self.thread.join()
        return False


#: up to this dimension the exact solver needs no dense cost matrix at any size (the
#: multiscale network simplex: memory O(n + m + support), see divergences.multiscale)
MULTISCALE_MAX_DIM = 3


def multivariate_w1(A, B, opts, progress, label, limit):
    """W1 between the rows of ``A`` and ``B``: exact (in up to 3 dimensions at any size,
    by the multiscale solver beyond 10**6 pairs; in more dimensions when the dense cost
    matrix takes at most ``limit`` bytes, for ``method="auto"``), sliced or Sinkhorn,
    with its status."""
    n, m = A.shape[0], B.shape[0]
    need = 0 if A.shape[1] <= MULTISCALE_MAX_DIM else 8 * n * m
    method = opts["method"]
    if method == "auto":
        method = "exact" if need <= limit else "sliced"
    out = {"quantity": "W1", "method": method, "n": [n, m], "W1_stderr": None,
           "reg": None, "notes": []}
    if method == "exact":
        if need > limit:
            raise ValueError(
                f"method='exact': the {n} x {m} cost matrix takes {need} bytes, more than "
                f"the limit of {limit}; use method='sliced' (with its Monte Carlo "
                "error) or 'sinkhorn', or subsample")
        from .. import transport

        with _Ticker(progress, f"{label}: exact W1, {n} x {m}"):
            res = transport(A, B, method="exact")
        out.update(W1=float(res.distance), status=res.status, converged=bool(res.converged),
                   n_iter=int(res.n_iter))
    elif method == "sliced":
        out.update(_sliced(A, B, opts, progress, label))
        if opts["method"] == "auto":
            out["notes"].append(
                f"the exact W1 needs a {n} x {m} cost matrix ({need} bytes, above "
                f"{limit}): the sliced W1 is reported instead (a different "
                "quantity, <= W1), with its Monte Carlo standard error")
    else:
        from .. import transport
        from .._warnings import ConvergenceWarning

        C_mean = float(np.mean(np.abs(A[:200, None, :] - B[None, :200, :]).sum(axis=2)))
        reg = opts["reg"] if opts["reg"] is not None else 0.05 * max(C_mean, 1e-300)
        with warnings.catch_warnings(record=True) as caught, \
                _Ticker(progress, f"{label}: Sinkhorn W1, {n} x {m}"):
            warnings.simplefilter("always", ConvergenceWarning)
            res = transport(A, B, method="sinkhorn", reg=reg)
        out["notes"] += [str(w.message) for w in caught]
        out.update(quantity="W1 (entropic, reg)", W1=float(res.distance), status=res.status,
                   converged=bool(res.converged), n_iter=int(res.n_iter), reg=reg,
                   marginal_error=float(res.marginal_error))
        out["notes"].append(f"Sinkhorn with reg={reg:.6g}: the transport cost of an entropic "
                            "plan, above the exact W1 by an amount that shrinks with reg")
    return out


def _sliced(A, B, opts, progress, label):
    return sliced_w1(lambda t: (A @ t.T, B @ t.T), A.shape[0], B.shape[0], A.shape[1],
                     opts, progress, label)


def sliced_w1(project, n, m, d, opts, progress, label, most=None):
    """The sliced W1 over ``opts["n_projections"]`` directions drawn in blocks (at most
    ``most`` per block); ``project(t)`` gives the projections ``(A t^T, B t^T)`` of the
    two samples on the rows of ``t``, in memory or from a dask cluster."""
    from .. import wasserstein_1d
    from ..sliced import _directions
    from ..univariate import _block_size

    L = opts["n_projections"]
    rng = check_seed(opts["seed"])
    values = np.empty(L)
    block = max(1, min(L, _block_size(n, m, d), most or L))
    for lo in range(0, L, block):
        if progress is not None:
            progress(f"{label}: sliced W1, directions {lo}/{L}")
        t = _directions(rng, min(block, L - lo), d)
        values[lo:lo + t.shape[0]] = np.atleast_1d(wasserstein_1d(*project(t), p=1))
    stderr = float(np.std(values, ddof=1) / math.sqrt(L)) if L > 1 else math.inf
    return {"quantity": "sliced W1", "W1": float(values.mean()), "W1_stderr": stderr,
            "status": "monte_carlo", "converged": True, "n_iter": 0,
            "n_projections": L}
