r"""Unbalanced entropic transport: what the solving layer does differently with ``reg_m``.

The problem, with :math:`\varepsilon` = ``reg`` and :math:`\rho_a, \rho_b` = ``reg_m``,

.. math:: \min_{P \ge 0} \langle P, C\rangle + \varepsilon\,\mathrm{KL}(P \,\|\, a \otimes b)
          + \rho_a \mathrm{KL}(P 1 \,\|\, a) + \rho_b \mathrm{KL}(P^T 1 \,\|\, b),

(generalised KL, :math:`\mathrm{KL}(p\|q) = \sum p \log(p/q) - p + q`) is solved by the
balanced kernels with the potential updates damped by :math:`\lambda = \rho/(\rho +
\varepsilon)`: :math:`f \leftarrow \lambda\, T_\varepsilon(g)` with :math:`T_\varepsilon` the
soft c-transform (Chizat et al. 2018; Séjourné et al. 2019). The plan keeps the form
:math:`P_{ij} = a_i b_j e^{(f_i + g_j - C_{ij})/\varepsilon}` and the optimum is where the
first-order conditions of the relaxed marginals hold,

.. math:: (P 1)\, e^{f/\rho_a} = a, \qquad (P^T 1)\, e^{g/\rho_b} = b,

and the ``marginal_error`` of an unbalanced solve is their residual, each side relative to
its own mass,

.. math:: \frac{\|(P 1)\, e^{f/\rho_a} - a\|_1}{\sum a}
          + \frac{\|(P^T 1)\, e^{g/\rho_b} - b\|_1}{\sum b},

the balanced :math:`\|P 1 - a\|_1 + \|P^T 1 - b\|_1` for :math:`\rho = \infty` and unit
masses. (A residual in absolute units would be meaningless for masses of 1e100 against
1e-3, or for a plan that keeps 1e-30 of the mass.) A side with :math:`\rho = \infty` is a
hard constraint (:math:`\lambda = 1`), as in the balanced solver. ``rho`` below is that
pair, ``None`` for the balanced problem.
"""

from __future__ import annotations

import numpy as np

__all__ = ["constant_cost_solution", "damping", "relaxed_stats", "targets"]


def damping(rho, eps):
    """``(lam_a, lam_b)``, ``lam = rho / (rho + eps)``: 1.0 for a hard side (inf) or the
    balanced problem (``rho=None``)."""
    if rho is None:
        return 1.0, 1.0
    return tuple(1.0 if r == np.inf else r / (r + eps) for r in rho)


def targets(w, pot, rho, out):
    """``out = w exp(-pot / rho)`` (``w`` itself for ``rho = inf``): the marginal that the
    first-order condition asks of the plan, in the kernel-domain sweeps. Returns False if it
    left float64's range on the support of ``w`` (zero or infinite where ``w > 0``): the
    driver then iterates in the log domain, which never forms it."""
    if rho == np.inf:
        out[:] = w
        return True
    pos = w > 0  # zero weights stay 0 (not 0 * inf)
    out[:] = 0.0
    with np.errstate(over="ignore", under="ignore"):
        out[pos] = w[pos] * np.exp(-pot[pos] / rho)
    return bool(np.all(out[pos] > 0) and np.all(out[pos] < np.inf))


#: cap of the exponent in the residual (a weighted mean of terms up to e^600 stays finite).
ZMAX_RESIDUAL = 600.0


def _kl(p, q):
    """Generalised KL ``sum p log(p/q) - p + q``, also where ``p / q`` under/overflows (a plan
    whose sums underflow against masses of 1e100: ``kl_div`` gives -inf there)."""
    from scipy.special import kl_div, xlogy  # not at import: scipy.special takes ~0.15 s

    terms = kl_div(p, q)
    bad = ~np.isfinite(terms) & (p > 0) & (q > 0)
    if bad.any():
        pb, qb = p[bad], q[bad]
        terms[bad] = xlogy(pb, pb) - xlogy(pb, qb) - pb + qb
    return float(terms.sum())


def relaxed_stats(f, g, r, col, a, b, reg, rho):
    r"""``(objective, marginal_error)`` of the plan ``P = a b exp((f + g - C)/reg)`` with row
    sums ``r`` and column sums ``col`` (an unbalanced problem).

    ``objective`` is the primal value :math:`\langle P, C\rangle + \varepsilon
    \mathrm{KL}(P\|a\otimes b) + \rho_a \mathrm{KL}(r\|a) + \rho_b \mathrm{KL}(col\|b)`, the
    first two terms from the potentials (:math:`\sum f r + \sum g\, col - \varepsilon(\sum P -
    \sum a \sum b)` for a plan of that form), a hard side contributing no KL term;
    ``marginal_error`` is the relative residual of the module's docstring.
    """
    pa, pb = a > 0, b > 0
    objective = f[pa] @ r[pa] + g[pb] @ col[pb] - reg * (r.sum() - a.sum() * b.sum())
    err = 0.0
    for pot, marg, w, rh in ((f, r, a, rho[0]), (g, col, b, rho[1])):
        if rh == np.inf:
            err += np.abs(marg - w).sum() / w.sum()
            continue
        # sum_i w_i |exp(log(marg_i / w_i) + pot_i / rh) - 1| / sum w over w > 0 (zero weights
        # carry no mass), the exponent capped: a non-converged iterate, or a plan whose sums
        # underflow, gives a large, finite error
        pos = w > 0
        with np.errstate(divide="ignore"):
            z = np.log(marg[pos]) - np.log(w[pos]) + pot[pos] / rh
        err += (w[pos] / w.sum()) @ np.abs(np.expm1(np.minimum(z, ZMAX_RESIDUAL)))
        objective += rh * _kl(marg, w)
    return float(objective), float(err)


def constant_cost_solution(c, a, b, reg, rho):
    r"""The exact solution for costs all equal to ``c``: ``(s, f, g)`` with the plan
    ``P = s a b^T`` and constant potentials ``f``, ``g`` (no iteration).

    Both sides relaxed: :math:`\log s = -(\rho_a \log m_b + \rho_b \log m_a + c) / (\varepsilon
    + \rho_a + \rho_b)` (``m`` the masses), :math:`f = -\rho_a \log(s\, m_b)`, :math:`g =
    -\rho_b \log(s\, m_a)`; a hard side fixes ``s`` by its own marginal (:math:`s = 1/m_b`
    when the rows are hard) and the potentials satisfy :math:`f + g = c + \varepsilon \log s`.
    """
    ma, mb = float(a.sum()), float(b.sum())
    ra, rb = rho
    lma, lmb = np.log(ma), np.log(mb)
    if ra < np.inf and rb < np.inf:
        # divided through by the largest of (eps, ra, rb): no inf / inf
        top = max(reg, ra, rb)
        ls = -(ra / top * lmb + rb / top * lma + c / top) / (reg / top + ra / top + rb / top)
        return float(np.exp(ls)), -ra * (ls + lmb), -rb * (ls + lma)
    if ra == np.inf and rb < np.inf:
        ls = -lmb
        g = -rb * (ls + lma)
        return float(np.exp(ls)), c + reg * ls - g, g
    ls = -lma
    f = 0.0 if rb == np.inf else -ra * (ls + lmb)
    return float(np.exp(ls)), f, c + reg * ls - f
