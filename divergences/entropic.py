r"""Entropic optimal transport: Sinkhorn, the Sinkhorn divergence, large point clouds.

The entropic problem, with :math:`\varepsilon` = ``reg``,

.. math:: \mathrm{OT}_\varepsilon(a, b) = \min_{P \in \Pi(a, b)}
          \langle P, C\rangle + \varepsilon\,\mathrm{KL}(P \,\|\, a b^T),

is solved on its dual potentials :math:`(f, g)`, with the plan
:math:`P_{ij} = a_i b_j \exp((f_i + g_j - C_{ij})/\varepsilon)`.

Algorithm (the point-set entry points are in :mod:`divergences._entropic_points`, the solving
layer is :mod:`divergences._entropic_solve`; the kernels are
:mod:`divergences._kernels.sinkhorn`, ``sinkhorn_log`` and ``sinkhorn_scaling``):

* *Stabilised scaling.* The dense solver stores ``K = P`` at the current potentials and runs
  kernel-domain iterations ``u = a / (K v)``, ``v = b / (K^T u)`` in one fused sweep over
  ``K`` (no exponential per iteration); scalings leaving ``[1e-10, 1e10]`` are absorbed into
  the potentials and ``K`` is rebuilt; a row or column that underflows triggers an exact
  log-domain step, and if that happens a third time in a stage the stage goes on with
  log-domain sweeps (max-shifted log-sum-exp, exact for any ``reg``). Hence no overflow and
  no NaN for any ``reg > 0``. Costs of magnitude outside ``[1e-100, 1e100]`` are rescaled.
* *Over-relaxation.* After 10 plain iterations the observed linear rate ``eta`` fixes
  ``omega = 2/(1+sqrt(1-eta)) + 0.05`` (capped at 1.95; 1.5 if ``eta > 0.99``, an early
  plateau of the error rather than its rate) and the updates become
  ``u <- u^(1-omega) (a/Kv)^omega`` (Thibault et al.); every 32 relaxed iterations the
  observed rate is checked against ``omega - 1`` and ``omega`` raised if it is too small;
  plain iterations again if the error blows up or stalls.
* *epsilon-scaling.* When ``reg < range(C) / 100``, stages ``eps = range(C), range(C)/10,
  ...`` (while above ``10 reg``), then ``reg``, warm-start the potentials; the intermediate
  stages stop at a marginal error of ``1e-2``; only the last one uses ``tol``. (Measured on
  uniform clouds of 500-2000 points: above ``range/100`` the stages cost more than they
  save; at ``reg = 1e-4 range`` they cut the iterations about tenfold.)
* *Online mode* (point clouds only): no n x m array at all; every iteration is an exact
  log-domain sweep recomputing ``C_ij = d(x_i, y_j)^p`` on the fly; memory O(n + m) per
  thread. Same iterates in exact arithmetic as the dense mode's, about 1.3x the time per
  iteration at n = m = 3000 in 2-D (one vectorised exponential per entry per iteration).
* *Symmetric problems* ``OT(a, a)`` (the debiasing terms of :func:`sinkhorn_divergence`) use
  the averaged update ``f <- (f + T(f))/2``.
* *Several targets* ``b`` (m, K): one kernel, the plan of the mean target ``bbar`` (at the
  hard-init potentials of ``(a, bbar)`` when ``reg >= range(C)/100``; below that, at the
  potentials of ``(a, bbar)`` solved with epsilon-scaling), scalings ``U`` (K, n), ``V``
  (K, m) updated together by two matrix-matrix products per iteration (BLAS: the kernel is
  streamed once per product for all targets, instead of twice per target), per-target
  over-relaxation, no absorption: a target that leaves ``[1e-10, 1e10]`` or does not
  converge is handed to the single solver.
* Sweeps are row-parallel with per-chunk column buffers, so results are deterministic for a
  given thread count; problems with fewer than ``2**17`` cost entries run on one thread
  (and compile nothing parallel: a cold first call takes seconds).
* Iterations run in compiled blocks of about 0.1 s, the state kept in arrays between blocks
  (same iterates as one loop): Ctrl-C interrupts a long solve within about a second, with
  ``KeyboardInterrupt`` and nothing half-written (the inputs are never modified).
* Constant costs have the exact answer ``P = a b^T`` (any ``reg``, no iteration); a square
  problem ``sinkhorn(a, a, C)`` with ``C = C^T`` is solved by the averaged update of the
  symmetric problems (plain alternating updates crawl there when the plan is nearly
  diagonal), on the stored kernel like the alternating sweeps (balanced: ``u <- sqrt(u a /
  (K u))``, the over-relaxed row update with ``omega = 1/2`` and ``v = u``), in the log
  domain when unbalanced or online.

The dense mode holds two n x m float64 arrays (the cost and the kernel, which becomes the
returned plan).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._entropic_batch import _solve_batch
from ._entropic_points import (  # noqa: F401  (re-exported: transport, tests)
    ONLINE_BYTES,
    _point_problem,
    _transport_sinkhorn,
    sinkhorn_divergence,
)
from ._entropic_solve import _first_kernel, _solve
from ._entropic_wrap import MAX_ITER, _options, _warn, _wrap
from ._foreign_names import foreign_name_hints
from ._kernels.sinkhorn_log import dense_geometry
from ._scaling import normalise
from ._validation import (
    check_cost_range,
    check_cost_shape,
    check_finite,
    check_histogram_batch,
    check_reg,
)
from ._validation_unbalanced import check_hard_masses, check_reg_m
from .result import TransportResult

__all__ = ["sinkhorn", "sinkhorn_divergence"]


@foreign_name_hints
def sinkhorn(a: ArrayLike, b: ArrayLike, cost: ArrayLike, reg: float, *,
             reg_m: float | tuple[float, float] | None = None, tol: float = 1e-9,
             max_iter: int = MAX_ITER) -> TransportResult:
    r"""Entropic optimal transport for a cost matrix (stabilised Sinkhorn), balanced or
    unbalanced.

    .. math:: \min_{P \ge 0,\ P 1 = a,\ P^T 1 = b}
              \langle P, C\rangle + \varepsilon\,\mathrm{KL}(P \,\|\, a b^T),
              \qquad P_{ij} = a_i b_j\, e^{(f_i + g_j - C_{ij})/\varepsilon};

    with ``reg_m`` (:math:`\rho`) the marginals are relaxed by KL penalties
    (generalised KL, :math:`\mathrm{KL}(p\|q) = \sum p\log(p/q) - p + q`):

    .. math:: \min_{P \ge 0} \langle P, C\rangle + \varepsilon\,\mathrm{KL}(P\,\|\,a b^T)
              + \rho_a \mathrm{KL}(P 1 \,\|\, a) + \rho_b \mathrm{KL}(P^T 1 \,\|\, b).

    Parameters
    ----------
    a : array_like, shape (n,)
        Source weights (counts are fine: normalised to sum 1; with ``reg_m`` used as given,
        not normalised). Zeros allowed.
    b : array_like, shape (m,) or (m, K)
        Target weights, or ``K`` target histograms as columns, each normalised to sum 1.
        The ``K`` problems share one stabilised kernel (the plan of the mean target), each
        iteration being two matrix-matrix products; a target whose scalings leave
        ``[1e-10, 1e10]`` on that kernel, or that does not converge there, is re-solved
        alone by the single-problem solver. Either way each target's result equals its own
        single solve (to the stopping tolerance). Below ``range(C) / 100`` the mean
        target's solve (epsilon-scaling) comes first: its iterations count in the
        ``n_iter`` and ``max_iter`` of each target kept on the shared kernel (a target
        re-solved alone reports its own solve).
    cost : array_like, shape (n, m)
        Finite ground costs (any sign).
    reg : float
        :math:`\varepsilon > 0`. Stable down to ``1e-4 * max|C|`` and below: only the
        iteration count grows as ``reg`` shrinks.
    reg_m : float or (float, float), optional
        Unbalanced transport: :math:`\rho > 0`, one for both marginals or a pair
        :math:`(\rho_a, \rho_b)`; ``inf`` keeps that marginal a hard constraint
        (semi-relaxed problem; ``inf`` on both sides needs equal masses). ``a`` and ``b``
        are then used as given (their masses matter). Same algorithm with the potential
        updates damped by :math:`\rho/(\rho + \varepsilon)` (see Notes). POT's
        ``ot.sinkhorn_unbalanced(a, b, M, reg, reg_m)`` solves the same problem.
    tol : float, default 1e-9
        Stopping rule, checked at every iteration:
        :math:`\|P 1 - a\|_1 + \|P^T 1 - b\|_1 \le` ``tol``. With plain iterations the column
        marginal is exact after each ``v``-update and the row marginal is what is measured;
        with over-relaxation both are measured. Cheap: it comes out of the iteration itself.
        With ``reg_m``: ``marginal_error`` (below) :math:`\le` ``tol``.
    max_iter : int, default 10000
        Iteration budget over all epsilon-scaling stages (one iteration = one ``u`` and one
        ``v`` update).

    Returns
    -------
    TransportResult
        ``plan`` (n, m); ``cost`` = :math:`\langle P, C\rangle` (the linear part, as POT's
        ``ot.sinkhorn2``); ``objective`` = :math:`\langle P, C\rangle + \varepsilon
        \mathrm{KL}(P\|ab^T)` computed from the returned plan, equal to
        :math:`\sum_i a_i f_i + \sum_j b_j g_j` at convergence (POT's entropic objective
        :math:`\langle P, C\rangle - \varepsilon H(P)` has the same minimiser and differs by
        the constant :math:`\varepsilon(H(a) + H(b))`); ``potentials`` ``(f, g)``;
        ``converged``, ``n_iter``, ``status`` (``"converged"`` or ``"max_iter"``),
        ``marginal_error`` (as in ``tol``), ``reg``, ``p = 1``, ``distance = cost``.
        For ``b`` of shape ``(m, K)``: ``plan`` has shape ``(K, n, m)``, ``f`` ``(n, K)``,
        ``g`` ``(m, K)`` and the scalar fields are arrays of length ``K``.
        With ``reg_m``: ``objective`` is the whole unbalanced objective above (computed
        from the plan; POT's ``log["total_cost"]`` leaves out the mass terms of the
        generalised KL, :math:`\varepsilon(\sum a\sum b - \sum P) + \rho_a(\sum a - \sum
        P) + \rho_b(\sum b - \sum P)`, and adds ``1e-16`` inside its logarithms);
        ``marginal_error`` is the residual of the first-order conditions
        :math:`(P 1) e^{f/\rho_a} = a`, :math:`(P^T 1) e^{g/\rho_b} = b`, each side relative
        to its mass: :math:`\|(P 1) e^{f/\rho_a} - a\|_1 / \sum a + \|(P^T 1) e^{g/\rho_b}
        - b\|_1 / \sum b` (:math:`e^{f/\rho} = 1` on a side with ``inf``), meaningful for
        any masses; ``distance`` is ``cost`` (not a metric). Several targets are solved
        one by one.

    Notes
    -----
    Zero weights: those rows/columns of the plan are exactly 0; their potentials are the
    soft c-transforms :math:`f_i = -\varepsilon \log \sum_j b_j e^{(g_j - C_{ij})/\varepsilon}`
    (and symmetrically for ``g``), finite, so that ``f`` extends the dual solution. The
    potentials are defined up to ``(f + c, g - c)``. A non-converged solve warns
    :class:`ConvergenceWarning` and returns the last iterate with ``converged=False``, after
    one exact log-domain step at ``reg`` (beyond ``max_iter``): a Sinkhorn iterate at ``reg``
    (columns exact, mass 1) even when the budget ran out in, or just after, a coarser
    epsilon-scaling stage.

    Unbalanced (``reg_m``): every update is the balanced one followed by the damping
    :math:`f \leftarrow \tfrac{\rho_a}{\rho_a + \varepsilon} f` of the new potential
    (Chizat et al.), in the same stabilised kernel domain, log domain, over-relaxation and
    epsilon-scaling, and then a closed-form move of :math:`(f + \tau, g - \tau)` to the
    dual optimum along that direction (Séjourné et al. 2022), without which it converges
    at the rate :math:`\lambda_a \lambda_b`, a crawl for ``reg_m >> reg``. The optimal
    potentials are absolute (not up to a constant): :math:`f = -\rho_a \log(P1 / a)`.
    Potentials of zero weights are the damped soft c-transforms. As :math:`\rho \to
    \infty` the plan tends to the balanced plan of the masses as given (equal masses),
    with a gap :math:`O(1/\rho)`. The objective overflows when ``sum(a) * sum(b)`` does.
    The theory, and when to prefer partial transport: the "Unbalanced transport" page.

    See Also
    --------
    sinkhorn_divergence : the debiased divergence, balanced or unbalanced.
    divergences.transport : the same solver on point sets (``method="sinkhorn"``), online.

    References
    ----------
    M. Cuturi, "Sinkhorn distances", NeurIPS 2013. B. Schmitzer, "Stabilized sparse scaling
    algorithms for entropy regularized transport problems", SIAM J. Sci. Comput. 2019.
    A. Thibault, L. Chizat, C. Dossal, N. Papadakis, "Overrelaxed Sinkhorn-Knopp algorithm
    for regularized optimal transport", Algorithms 2021. L. Chizat, G. Peyré, B. Schmitzer,
    F.-X. Vialard, "Scaling algorithms for unbalanced optimal transport problems", Math.
    Comp. 2018. T. Séjourné, F.-X. Vialard, G. Peyré, "Faster unbalanced optimal transport:
    translation invariant Sinkhorn and 1-D Frank-Wolfe", AISTATS 2022.

    Examples
    --------
    >>> from divergences import sinkhorn
    >>> res = sinkhorn([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]], reg=0.1)
    >>> res.converged, round(res.cost, 8), round(res.objective, 6)
    (True, 4.54e-05, 0.06931)
    >>> res.plan.round(6)
    array([[4.99977e-01, 2.30000e-05],
           [2.30000e-05, 4.99977e-01]])

    Unbalanced, a mass of 2 against a mass of 1: the plan carries a mass in between.

    >>> res = sinkhorn([1.0, 1.0], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]], reg=0.1, reg_m=1.0)
    >>> res.converged, round(float(res.plan.sum()), 5), round(res.objective, 5)
    (True, 1.39107, 0.27876)
    """
    a = check_histogram_batch(a, "a")
    if a.ndim != 1:
        raise ValueError(f"a must be 1-D, got shape {a.shape}")
    b = check_histogram_batch(b, "b")
    C = check_cost_shape(cost, a.shape[0], b.shape[0])
    reg = check_reg(reg)
    rho = check_reg_m(reg_m)
    tol, max_iter = _options({"tol": tol, "max_iter": max_iter}, ("tol", "max_iter"))
    if rho is None:
        a, b = normalise(a), normalise(b, axis=0)  # no overflow for counts near 1e308
    else:
        b = check_hard_masses(a, b, rho)
    symmetric = b.ndim == 1 and (rho is None or rho[0] == rho[1]) and _is_symmetric(a, b, C)
    # large unbalanced problems: the cost check in the pass that builds the first kernel
    first = None if b.ndim != 1 or symmetric else _first_kernel(C, a, b, reg, rho)
    if first is None:
        C, lo, hi = check_cost_range(C, a.shape[0], b.shape[0])
    else:
        first, lo, hi, finite = first
        if not finite:
            check_finite(C, "cost")
    if b.ndim == 1:
        fields = _solve(dense_geometry(C), a, b, reg, tol, max_iter, lo, hi, symmetric, rho,
                        first)
        _warn(fields, tol, max_iter)
        return _wrap(fields, reg, 1.0, reg_m=rho)
    fields, plans = _solve_batch(C, a, b, reg, tol, max_iter, lo, hi, rho)
    for fl in fields:
        _warn(fl, tol, max_iter)
    return _wrap(fields, reg, 1.0, batched=True, plan=plans, reg_m=rho)


def _is_symmetric(a, b, C):
    """Whether ``(a, b, C)`` is a symmetric problem ``OT(a, a)`` with ``C = C^T``, solved by
    the averaged update (plain alternating updates converge slowly on the antisymmetric part
    ``f - g`` of the potentials when the plan is nearly diagonal).

    A 64 x 64 principal submatrix is compared first, then row blocks, stopping at the first
    difference: ``np.array_equal(C, C.T)`` reads C column-wise in full every time (18 ms at
    n = 2000, more than a whole Sinkhorn solve at reg = 0.05)."""
    n = C.shape[0]
    if n != C.shape[1] or not np.array_equal(a, b):
        return False
    idx = np.unique(np.linspace(0, n - 1, min(n, 64)).astype(np.int64))
    sub = C[np.ix_(idx, idx)]
    if not np.array_equal(sub, sub.T):
        return False
    step = 128
    return all(np.array_equal(C[lo:lo + step], C[:, lo:lo + step].T) for lo in range(0, n, step))
