"""Checks of the inputs of the sparse exact solver: a ``scipy.sparse`` cost, warm starts.

Same rules as :mod:`divergences._validation` (whose helpers these reuse): a
``TypeError`` or ``ValueError`` whose message starts with the argument's name; no
computation beyond putting the input in the form the solver expects.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from ._validation import as_real_array, check_finite, check_nonnegative

__all__ = ["check_sparse_cost", "check_init"]


def _real_data(data, name):
    if data.dtype == object or not (np.issubdtype(data.dtype, np.number)
                                    or np.issubdtype(data.dtype, np.bool_)):
        raise TypeError(f"{name} must hold real numbers, got dtype {data.dtype}")
    if np.issubdtype(data.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex dtype {data.dtype}")
    return check_finite(np.ascontiguousarray(data, dtype=np.float64), name)


def check_sparse_cost(cost, n, m, name="cost"):
    """A ``scipy.sparse`` cost of shape ``(n, m)`` (any format) as arcs ``(rows, cols,
    vals)``: int64, int64, finite float64, row-major, one entry per stored position
    (duplicates summed, as SciPy does; a stored zero stays an arc of cost 0)."""
    if cost.ndim != 2 or cost.shape != (n, m):
        raise ValueError(
            f"{name} must have shape ({n}, {m}) to match the weights, got {cost.shape}")
    csr = scipy.sparse.csr_array(cost, copy=True)
    csr.sum_duplicates()  # also sorts the indices
    vals = _real_data(csr.data, name)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
    cols = np.ascontiguousarray(csr.indices, dtype=np.int64)
    return rows, cols, vals


def _plan_entries(plan, n, m, name):
    """Non-negative finite plan entries ``(rows, cols, vals)`` of a dense or sparse plan."""
    if scipy.sparse.issparse(plan):
        if plan.ndim != 2 or plan.shape != (n, m):
            raise ValueError(f"{name} must be a plan of shape ({n}, {m}), got {plan.shape}")
        coo = scipy.sparse.coo_array(plan)
        vals = _real_data(coo.data, name)
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
    else:
        arr = as_real_array(plan, name)
        if arr.shape != (n, m):
            raise ValueError(f"{name} must be a plan of shape ({n}, {m}), got {arr.shape}")
        check_finite(arr, name)
        rows, cols = np.nonzero(arr)
        vals = arr[rows, cols]
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)
    check_nonnegative(vals, name)
    return rows, cols, vals


def check_init(init, n, m, name="init"):
    """A warm start: ``None``, a plan (dense or sparse ``(n, m)``), potentials
    ``(f, g)`` of shapes ``(n,)``, ``(m,)``, or a :class:`TransportResult` (its plan;
    its potentials when it has no plan). Returns ``None``, ``("plan", rows, cols,
    vals)`` or ``("potentials", f, g)``."""
    if init is None:
        return None
    if hasattr(init, "potentials") and hasattr(init, "plan"):  # a TransportResult
        init = init.plan if init.plan is not None else tuple(init.potentials)
    if isinstance(init, tuple):
        if len(init) != 2:
            raise ValueError(f"{name} must be a plan or a pair of potentials (f, g), got a "
                             f"tuple of {len(init)}")
        f = check_finite(as_real_array(init[0], f"{name}[0]"), f"{name}[0]")
        g = check_finite(as_real_array(init[1], f"{name}[1]"), f"{name}[1]")
        if f.shape != (n,) or g.shape != (m,):
            raise ValueError(f"{name} potentials must have shapes ({n},) and ({m},), got "
                             f"{f.shape} and {g.shape}")
        return ("potentials", f, g)
    return ("plan", *_plan_entries(init, n, m, name))
