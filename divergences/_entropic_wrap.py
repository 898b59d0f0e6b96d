"""Shared by the entropic entry points: the iteration budget, the convergence warning, the
options and the wrapping of raw solver fields into :class:`~divergences.result.TransportResult`.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._validation import check_positive_int, check_positive_real
from ._warnings import ConvergenceWarning
from .result import TransportResult

#: default iteration budget (all epsilon stages together).
MAX_ITER = 10_000


def _warn(fields, tol, max_iter, what="sinkhorn"):
    if not fields["converged"]:
        warnings.warn(
            f"{what} did not reach tol={tol:g} in max_iter={max_iter} iterations (marginal "
            f"error {fields['marginal_error']:.3g}); raise max_iter, raise reg or loosen tol",
            ConvergenceWarning, stacklevel=3)


def _wrap(fields, reg, p, batched=False, plan=None, reg_m=None):
    if batched:
        keys = ("cost", "objective", "converged", "n_iter", "marginal_error")
        vals = {k: np.array([fl[k] for fl in fields]) for k in keys}
        pots = (np.stack([fl["f"] for fl in fields], axis=1),
                np.stack([fl["g"] for fl in fields], axis=1))
        status = "converged" if vals["converged"].all() else "max_iter"
        dist = vals["cost"] if p == 1 else np.maximum(vals["cost"], 0.0) ** (1.0 / p)
        return TransportResult(cost=vals["cost"], distance=dist, plan=plan, potentials=pots,
                               converged=vals["converged"], n_iter=vals["n_iter"],
                               status=status, marginal_error=vals["marginal_error"], p=p,
                               objective=vals["objective"], reg=reg, reg_m=reg_m)
    cost = fields["cost"]
    return TransportResult(
        cost=cost, distance=cost if p == 1 else max(cost, 0.0) ** (1.0 / p),
        plan=fields["plan"], potentials=(fields["f"], fields["g"]),
        converged=fields["converged"], n_iter=fields["n_iter"],
        status="converged" if fields["converged"] else "max_iter",
        marginal_error=fields["marginal_error"], p=p, objective=fields["objective"], reg=reg,
        reg_m=reg_m)


def _options(options, allowed):
    unknown = set(options) - set(allowed)
    if unknown:
        raise TypeError(f"unexpected option(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    tol = check_positive_real(options.get("tol", 1e-9), "tol")
    max_iter = check_positive_int(options.get("max_iter", MAX_ITER), "max_iter")
    # the kernels count in int64: a larger budget is unlimited anyway
    return tol, min(int(max_iter), 2**62)
