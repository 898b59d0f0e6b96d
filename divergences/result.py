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
        :math:`\sum_i a_i f_i + \sum_j b_j g_j = \text{cost}` (exact solvers).
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
    # Support points and metric, kept so that ``critic`` can be evaluated off the support.
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
        if self._support is None:
            raise ValueError(
                "critic: this result has no support points; use transport(x, y, ...) with "
                "p=1 and a metric (not emd on a bare cost matrix)"
            )
        from ._critic import evaluate_critic  # local import: only the exact solver needs it

        return evaluate_critic(self, np.asarray(points))


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
