"""The one result type shared by every transport solver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["TransportResult"]


@dataclass(frozen=True, eq=False)
class TransportResult:
    r"""Outcome of one optimal transport solve (exact, 1-D closed form or Sinkhorn).

    Field names follow POT's ``OTResult`` where they can. For batched solves (several
    problems at once) the scalar fields are arrays with one entry per problem.
    Results compare (and hash) by identity, as POT's: fields holding arrays have no
    single truth value, so compare ``cost``, ``plan``... explicitly.

    Attributes
    ----------
    cost : float or ndarray
        The transport cost :math:`\langle\gamma, C\rangle = \sum_{ij}\gamma_{ij} C_{ij}`.
        With :math:`C = d^p` this is :math:`W_p^p`. For Sinkhorn it is the linear part
        only; the entropic objective is in ``objective``.
    distance : float or ndarray
        :math:`W_p = \text{cost}^{1/p}` when the cost is a ground distance to the power
        ``p``; equal to ``cost`` for a generic cost matrix (``p=1``).
    plan : ndarray or scipy.sparse matrix
        The coupling :math:`\gamma` of shape ``(n, m)`` (sparse for 1-D and large cases).
        ``None`` for batched solves that do not form the plans.
    potentials : tuple of ndarray
        Dual potentials ``(f, g)`` with :math:`f_i + g_j \le C_{ij}` and, at the optimum,
        :math:`\sum_i a_i f_i + \sum_j b_j g_j = \text{cost}` (exact solvers). Partial
        transport (``mass=m``): :math:`f, g \le 0` and
        :math:`\sum_i a_i f_i + \sum_j b_j g_j + m \lambda = \text{cost}` with
        :math:`\lambda = \min_{ij} (C_{ij} - f_i - g_j)`, the price of one more unit of
        mass (see :func:`emd`).
    converged : bool or ndarray
        Whether the solver met its stopping rule; a non-converged solve also warns.
    n_iter : int or ndarray
        Iterations (pivots for the network simplex, sweeps for Sinkhorn, 0 for closed forms).
    status : str
        ``"optimal"``, ``"max_iter"``, ``"imprecise"``, ``"infeasible"``, ``"converged"``...
    marginal_error : float or ndarray
        :math:`\|\gamma 1 - a\|_1 + \|\gamma^T 1 - b\|_1` at return.
    p : float
        The exponent of the ground cost (1 for a generic cost matrix).
    objective : float or ndarray or None
        The regularised objective for entropic solvers, ``None`` otherwise.
    reg : float or None
        The entropic regularisation, ``None`` for exact solvers.
    reg_m : float, pair of float or None
        The marginal relaxation of an unbalanced Sinkhorn solve (``reg_m`` of
        :func:`sinkhorn`), ``None`` for balanced problems.

    See Also
    --------
    transport : Solve between point sets and return this result.
    emd : The exact solver on a cost matrix.
    sinkhorn : The entropic solver on a cost matrix.
    """

    cost: Any
    distance: Any
    plan: Any
    potentials: tuple
    converged: Any = True
    n_iter: Any = 0
    status: str = "optimal"
    marginal_error: Any = 0.0
    p: float = 1.0
    objective: Any = None
    reg: float | None = None
    reg_m: Any = None
    # Support points and metric ``(x, y, metric_code, q)``, kept so that ``critic`` can be
    # evaluated off the support and ``gradient`` can differentiate the ground cost;
    # Sinkhorn results between points append the normalised weights ``(a, b)`` (an online
    # solve keeps no plan: ``gradient`` rebuilds it from the potentials).
    _support: Any = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        """A one-line summary: plan shape, cost, distance, status, convergence.

        The plan, the potentials and the support points are never printed (at n = 500 the
        whole plan runs to tens of thousands of characters); read the fields for them.
        """
        parts = [f"plan={_brief_plan(self.plan)}", f"cost={_brief(self.cost)}",
                 f"distance={_brief(self.distance)}", f"status={self.status!r}",
                 f"converged={_brief(self.converged)}", f"n_iter={_brief(self.n_iter)}"]
        if self.p != 1.0:
            parts.append(f"p={_brief(self.p)}")
        if self.reg is not None:
            parts.append(f"reg={_brief(self.reg)}")
        if self.reg_m is not None:
            parts.append(f"reg_m={_brief(np.asarray(self.reg_m, dtype=float))}")
        return f"TransportResult({', '.join(parts)})"

    def critic(self, points: ArrayLike) -> NDArray[np.float64]:
        r"""The Kantorovich–Rubinstein critic evaluated at ``points`` (p = 1 only).

        Kantorovich–Rubinstein duality (the WGAN seed documents) reads

        .. math:: W_1(P, Q) = \sup_{\|f\|_L \le 1} \mathbb{E}_{x \sim P} f(x)
                  - \mathbb{E}_{y \sim Q} f(y),

        and the supremum is attained by the c-transform of the target potential ``g``,

        .. math:: f(z) = \min_j \big(d(z, y_j) - g_j\big),

        defined on all of :math:`\mathbb{R}^d`, 1-Lipschitz for the ground metric ``d``,
        with :math:`W_1 = \sum_i a_i f(x_i) - \sum_j b_j f(y_j)`.

        Parameters
        ----------
        points : array_like, shape (k, d) or (k,)
            Where to evaluate the critic, in the dimension of the support points.

        Returns
        -------
        ndarray, shape (k,)

        Raises
        ------
        ValueError
            If the result did not come from ``transport(x, y, ..., method="exact")`` with
            ``p=1`` and a metric (``"sqeuclidean"`` is not one).

        See Also
        --------
        transport : The solve whose dual potentials define the critic.

        Examples
        --------
        >>> from divergences import transport
        >>> x, y = [[0.0, 0.0], [0.0, 1.0]], [[3.0, 0.0], [3.0, 1.0]]
        >>> res = transport(x, y)
        >>> res.critic(x), res.critic(y)
        (array([1.5, 1.5]), array([-1.5, -1.5]))
        >>> float(res.critic(x).mean() - res.critic(y).mean()), res.distance
        (3.0, 3.0)
        """
        if self._support is None or self.reg is not None:
            raise ValueError(
                "critic: this result has no support points or is entropic; use "
                "transport(x, y, ...) with p=1 and a metric (not emd on a bare cost matrix, "
                "not method='sinkhorn')"
            )
        from ._critic import evaluate_critic  # local import: only the exact solver needs it

        return evaluate_critic(self, np.asarray(points))

    def gradient(self, wrt: str) -> NDArray[np.float64]:
        r"""Gradient of ``cost`` (of ``objective`` for Sinkhorn) with respect to the points
        or the weights.

        By the envelope theorem, with the returned plan :math:`P` and potentials
        :math:`(f, g)` held fixed, for the ground cost :math:`c = d^p`:

        .. math:: \nabla_{x_i} W_p^p = \sum_j P_{ij}\, \nabla_1 c(x_i, y_j), \qquad
                  \nabla_{y_j} W_p^p = \sum_i P_{ij}\, \nabla_2 c(x_i, y_j),

        .. math:: \nabla_a W_p^p = f - \tfrac1n \textstyle\sum_i f_i, \qquad
                  \nabla_b W_p^p = g - \tfrac1m \textstyle\sum_j g_j,

        the weights' gradients being the potentials projected onto the tangent space of
        the simplex (the weights are normalised: only changes :math:`v` with
        :math:`\sum_i v_i = 0` keep a probability vector, and the potentials are defined up
        to :math:`(f + t, g - t)` anyway). For Sinkhorn results the same formulas, with the
        entropic plan and potentials, give the gradient of the entropic objective
        :math:`\langle P, C\rangle + \varepsilon\,\mathrm{KL}(P\|ab^T)` (``objective``), not
        of its linear part ``cost``. The gradient of :math:`W_p` itself follows by the chain
        rule,

        .. math:: \nabla W_p = \frac{1}{p}\, W_p^{1-p}\, \nabla W_p^p ,

        i.e. ``res.gradient(wrt) / (p * res.distance**(p - 1))`` for ``res.distance > 0``
        (``p = 1``: the same array; :math:`W_p` is not differentiable where it is 0).

        Parameters
        ----------
        wrt : {"x", "y", "a", "b"}
            The support points of the source or target measure, or their weights.

        Returns
        -------
        ndarray
            Shape ``(n, d)`` / ``(m, d)`` for ``"x"`` / ``"y"`` (``d = 1`` for 1-D data),
            ``(n,)`` / ``(m,)`` for ``"a"`` / ``"b"`` (summing to 0; ``(n, K)`` for ``K``
            batched targets).

        Raises
        ------
        ValueError
            ``wrt`` not one of the four names; ``"x"`` or ``"y"`` for a result without
            support points (:func:`emd` or :func:`sinkhorn` on a cost matrix: there the
            gradient with respect to the cost matrix is the plan).

        Notes
        -----
        Where the cost is not differentiable the returned vector is the gradient at the
        returned plan and potentials, which is a valid one-sided element:

        * *Non-unique plans* (ties in 1-D, e.g. equal points or symmetric
          configurations; the degenerate plans of equal uniform weights): the cost is a
          minimum over plans of smooth functions, and the gradient at the returned plan
          is an element of its Fréchet superdifferential,
          :math:`W(x + h) \le W(x) + \langle \nabla, h\rangle + o(|h|)`. In 1-D the
          plan is the monotone one, tied values being paired in the (deterministic)
          order of the sort.
        * *Non-unique potentials* (degenerate plans, e.g. ``n = m`` with uniform
          weights): the cost is convex in ``(a, b)`` and the centred potentials are a
          subgradient, :math:`W(a + v) \ge W(a) + \langle \nabla_a, v\rangle`.
        * *Kinks of the metric* (:math:`x_i = y_j` carrying mass with ``p = 1``, a zero
          coordinate of the difference for ``"cityblock"``, ties of the largest
          coordinate for ``"chebyshev"``): the element of the metric's subdifferential of
          smallest norm (0 at :math:`x = y`; the midpoint of a ``"cityblock"`` kink; the
          slope shared equally by tied ``"chebyshev"`` coordinates).

        For a non-converged solve (``converged=False``) the formulas are applied to the
        returned iterate. :func:`sliced_wasserstein` and :func:`sinkhorn_divergence`
        return floats: they give their gradients with ``return_gradient=True``, as a
        ``(value, Gradients(x, y, a, b))`` pair with the same conventions.

        See Also
        --------
        critic : the Kantorovich potential of a ``p = 1`` exact result, off the support.
        divergences.sliced_wasserstein : ``return_gradient=True`` for its gradients.
        divergences.sinkhorn_divergence : ``return_gradient=True`` for its gradients.

        Examples
        --------
        >>> from divergences import transport
        >>> res = transport([[0.0, 0.0]], [[3.0, 4.0]], p=2)
        >>> res.cost, res.gradient("x"), res.gradient("y")
        (25.0, array([[-6., -8.]]), array([[6., 8.]]))
        >>> res = transport([0.0, 1.0], [2.0, 3.0], [1, 3], [1, 1])  # W_1 in 1-D
        >>> res.gradient("x")
        array([[-0.25],
               [-0.75]])
        >>> res.gradient("a"), res.gradient("b")
        (array([ 0.5, -0.5]), array([-0.5,  0.5]))
        """
        from ._gradients import result_gradient  # local import: only gradients need it

        return result_gradient(self, wrt)


def _brief(value: Any) -> str:
    """A scalar as Python prints it (``%.6g`` for floats); an array as a few values."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        if value.size <= 4:
            return "[" + ", ".join(_brief(v) for v in value.ravel().tolist()) + "]"
        if value.dtype == bool:
            return f"<{int(value.sum())} of {value.size} True>"
        shape = "x".join(str(n) for n in value.shape)
        return f"<{shape} values in [{_brief(value.min())}, {_brief(value.max())}]>"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _brief_plan(plan: Any) -> str:
    """The plan's shape and kind, never its entries."""
    if plan is None:
        return "None"
    shape = "x".join(str(n) for n in getattr(plan, "shape", ()))
    if isinstance(plan, np.ndarray):
        return f"<{shape} dense>"
    layout = getattr(plan, "format", None)  # scipy.sparse
    return f"<{shape} sparse {layout}>" if layout else f"<{shape} {type(plan).__name__}>"
