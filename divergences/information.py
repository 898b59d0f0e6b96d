r"""Information divergences between histograms: KL, JS, TV, Hellinger, chi^2, Renyi.

(The matrix of them between the rows of two arrays is :func:`divergences.pairwise`, in
:mod:`divergences.matrices`.)

Every function takes two arrays of non-negative weights over the same bins (counts or
probabilities), normalises each histogram along ``axis`` to sum 1 and compares them.

Conventions shared by all functions:

* ``axis=-1``: one histogram per row, the machine-learning convention. **This differs
  from SciPy** (``scipy.stats.entropy`` and ``scipy.spatial.distance.jensenshannon`` use
  ``axis=0``); pass ``axis=0`` to get SciPy's behaviour.
* The other axes broadcast NumPy-style, so one histogram can be compared with many.
  A float is returned for 1-D inputs, an ndarray of the broadcast batch shape otherwise.
* ``0 log 0 = 0`` and ``0 log(0/q) = 0``; a bin with ``p > 0 = q`` makes KL (and chi^2,
  Renyi with alpha >= 1) ``+inf``, without warnings.
* Rejected with ``ValueError``/``TypeError`` naming the argument: NaN, +-inf, negative
  weights, empty arrays, a histogram of zero total mass, shapes that do not broadcast,
  ``base <= 0`` or ``base == 1``, non-numeric dtypes, ``scipy.sparse`` input (convert it
  with ``.toarray()``) and masked arrays with masked entries (the mask would be dropped;
  SciPy's ``entropy`` and ``jensenshannon`` do not support masks either).
* The results are exact where the theory is sharp: 0 for identical histograms, ``log 2``
  (JS) and 1 (TV, Hellinger) on disjoint supports. Elsewhere they agree with SciPy to a
  few ulps (KL and JS use a vectorised logarithm accurate to 1.5 ulp). For nearly equal
  histograms KL and JS sum ``a g(a/b)`` with ``g(r) = log r + (1 - r)/r``, whose terms are
  >= 0 and insensitive to the rounding of ``a/b`` and of the normalisation, so they keep
  a relative accuracy of about ``1e-16 / max|p - q|`` (SciPy: ``1e-16 / max|p - q|**2``).
  :func:`pairwise` does not (it works from per-row logarithms): its KL and JS of nearly
  equal rows are accurate to about ``1e-16`` absolute only.
* Tiny weights (1e-300, subnormals) are fine: no warning, no NaN; a histogram whose total
  is below 2**-900 is rescaled by an exact power of two first, and terms whose normalised
  weight is subnormal are computed from the raw weights (ratios of raw weights, or weights
  rescaled by 2**1000), so they keep their digits.
* The row sums that normalise the histograms are accurate to a few ulps (pairwise
  summation), so proportional histograms are ~1e-16 apart in ``js_distance``, as in SciPy.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._foreign_names import foreign_name_hints
from ._kernels import elementwise as _ew
from ._validation import (
    as_real_array,
    check_alpha,
    check_axis,
    check_base,
    check_histogram_pair,
)

__all__ = ["chi2", "hellinger", "js", "js_distance", "kl", "renyi", "tv"]

#: What every divergence returns: a float for 1-D inputs, an array over the batch otherwise.
Divergence = float | NDArray[np.float64]


def _rows(x, name, axis):
    """``x`` as (rows, bins) C-contiguous float64 and its batch shape (values unchecked)."""
    arr = as_real_array(x, name)  # first: it names the argument when x is ragged
    if np.ndim(x) == 0:  # (as_real_array returns at least 1-D)
        raise ValueError(f"{name} must be an array of bins, got a scalar")
    ax = check_axis(axis, arr.ndim)
    if ax != arr.ndim - 1:
        arr = np.moveaxis(arr, ax, -1)
    n = arr.shape[-1]
    rows = np.ascontiguousarray(arr.reshape(-1, n))
    return rows, arr.shape[:-1]


def _index_map(shape, batch):
    """Row of the (rows, bins) array for each output row after broadcasting ``shape``."""
    if shape == batch:
        return np.arange(math.prod(batch), dtype=np.int64)
    if math.prod(shape) == 1:
        return np.zeros(math.prod(batch), dtype=np.int64)
    # flatten() copies: writable int64 index maps, so the kernels see one signature
    return np.broadcast_to(np.arange(math.prod(shape)).reshape(shape), batch).flatten()


def _divergence(code, p, q, axis, alpha=1.0):
    """Validate, run the row kernel, wrap (natural log)."""
    prows, pbatch = _rows(p, "p", axis)
    qrows, qbatch = _rows(q, "q", axis)
    n = prows.shape[1]
    if n != qrows.shape[1]:
        raise ValueError(
            f"p and q must have the same number of bins along axis, "
            f"got {prows.shape[1]} and {qrows.shape[1]}"
        )
    try:
        batch = np.broadcast_shapes(pbatch, qbatch)
    except ValueError:
        raise ValueError(
            f"p and q batch shapes {pbatch} and {qbatch} (axis removed) do not broadcast"
        ) from None
    ps, qs = check_histogram_pair(prows, qrows)
    prows, ps = _ew.lift_tiny_rows(prows, ps)
    qrows, qs = _ew.lift_tiny_rows(qrows, qs)
    ip = _index_map(pbatch, batch)
    iq = _index_map(qbatch, batch)
    threads = None if ip.size * n >= _ew.PARALLEL_MIN else 1
    out = _ew.rows_kernel(code)(code, alpha, prows, qrows, ps, qs, ip, iq, threads)
    return float(out[0]) if batch == () else out.reshape(batch)


def _in_base(value, base):
    """``value`` (nats) in the already validated ``base``."""
    return value if base is None else value / math.log(base)


def _check_js_distance_base(base):
    """``base`` for ``js_distance``: as :func:`check_base`, and not below 1 (JS < 0)."""
    base = check_base(base)
    if base is not None and base < 1:
        raise ValueError(f"base must be > 1 for js_distance (JS in base {base} is negative)")
    return base


def _renyi_code(alpha):
    """The kernel code of the Renyi divergence of the validated order ``alpha``."""
    if alpha == 1.0:
        return _ew.KL
    if abs(alpha - 1.0) <= _ew.RENYI1_WIDTH:
        return _ew.RENYI1
    return _ew.RENYI0 if alpha == 0.0 else _ew.RENYIINF if alpha == np.inf else _ew.RENYI


@foreign_name_hints
def kl(p: ArrayLike, q: ArrayLike, *, base: float | None = None, axis: int = -1) -> Divergence:
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(p \,\|\, q)`.

    .. math:: \mathrm{KL}(p \,\|\, q) = \sum_i p_i \log \frac{p_i}{q_i}

    after normalising ``p`` and ``q`` to sum 1 along ``axis``.

    Parameters
    ----------
    p, q : array_like
        Non-negative weights (counts or probabilities) over the same bins.
    base : float, optional
        Logarithm base (``None``: natural log, nats; ``2``: bits).
    axis : int, default -1
        The axis of the bins. NOTE: SciPy's ``entropy`` uses ``axis=0``.

    Returns
    -------
    float or ndarray
        ``+inf`` if some bin has ``p > 0`` and ``q = 0``. Terms with ``p = 0`` are 0.

    See Also
    --------
    js : The symmetric, bounded Jensen-Shannon divergence.
    renyi : The Renyi divergences, of which KL is the order 1.
    kl_knn : KL estimated from two continuous samples (k nearest neighbours).
    pairwise : The matrix of KL between the rows of two arrays.
    scipy.stats.entropy : ``entropy(p, q)`` is KL along ``axis=0``.

    References
    ----------
    S. Kullback and R. A. Leibler, "On information and sufficiency", Ann. Math. Statist.
    22(1), 1951.

    Examples
    --------
    >>> from divergences import kl
    >>> kl([1, 1], [1, 1])
    0.0
    >>> kl([1, 0], [1, 1], base=2)
    1.0
    >>> kl([1, 1], [1, 0])
    inf
    """
    base = check_base(base)
    return _in_base(_divergence(_ew.KL, p, q, axis), base)


def js(p: ArrayLike, q: ArrayLike, *, base: float | None = None, axis: int = -1) -> Divergence:
    r"""Jensen-Shannon divergence, with values in :math:`[0, \log 2]`.

    .. math::
        \mathrm{JS}(p, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m),
        \qquad m = \tfrac12 (p + q)

    after normalising ``p`` and ``q`` along ``axis``. It is computed bin by bin on the
    common support plus ``log 2`` times half the mass outside it, so that disjoint
    supports give exactly ``log 2`` (1 with ``base=2``) and identical inputs exactly 0.

    Parameters
    ----------
    p, q : array_like
        Non-negative weights over the same bins.
    base : float, optional
        Logarithm base (``None``: nats).
    axis : int, default -1
        The axis of the bins. NOTE: SciPy's ``jensenshannon`` uses ``axis=0``.

    Returns
    -------
    float or ndarray
        This is the divergence; SciPy's ``jensenshannon`` returns its square root, which is
        :func:`js_distance`.

    See Also
    --------
    js_distance : Its square root, a metric (SciPy's ``jensenshannon``).
    kl : The Kullback-Leibler divergence it averages.
    tv : Total variation, bounded like JS (:math:`JS \le \log 2 \cdot TV`).
    pairwise : The matrix of JS between the rows of two arrays.

    References
    ----------
    J. Lin, "Divergence measures based on the Shannon entropy", IEEE Trans. Inf. Theory
    37(1), 1991.

    Examples
    --------
    >>> from divergences import js
    >>> js([1, 0], [0, 1], base=2)
    1.0
    >>> js([3, 1], [3, 1])
    0.0
    """
    base = check_base(base)
    return _in_base(_divergence(_ew.JS, p, q, axis), base)


def js_distance(
    p: ArrayLike, q: ArrayLike, *, base: float | None = None, axis: int = -1
) -> Divergence:
    r"""Jensen-Shannon distance :math:`\sqrt{\mathrm{JS}(p, q)}`, a metric.

    The same as ``scipy.spatial.distance.jensenshannon`` except that the default
    ``axis=-1`` (SciPy: ``axis=0``) and that a ``base`` below 1, which makes JS negative,
    is rejected. See :func:`js` for the conventions.

    .. math:: d_{\mathrm{JS}}(p, q) = \sqrt{\mathrm{JS}(p, q)}

    Parameters
    ----------
    p, q : array_like
        Non-negative weights (counts or probabilities) over the same bins.
    base : float, optional
        Logarithm base of the JS under the root (``None``: nats; ``2``: the distance is
        in [0, 1]). Must be greater than 1.
    axis : int, default -1
        The axis of the bins. NOTE: SciPy's ``jensenshannon`` uses ``axis=0``.

    Returns
    -------
    float or ndarray
        A float for 1-D inputs, an array of the broadcast batch shape otherwise; in
        :math:`[0, \sqrt{\log 2}]` (nats).

    See Also
    --------
    js : The divergence itself (the square of this distance).
    hellinger : Another bounded metric between histograms.
    scipy.spatial.distance.jensenshannon : The same distance along ``axis=0``.

    References
    ----------
    D. M. Endres and J. E. Schindelin, "A new metric for probability distributions",
    IEEE Trans. Inf. Theory 49(7), 2003.

    Examples
    --------
    >>> from divergences import js_distance
    >>> js_distance([1, 0], [0, 1], base=2)
    1.0
    """
    base = _check_js_distance_base(base)
    value = js(p, q, base=base, axis=axis)
    return math.sqrt(value) if isinstance(value, float) else np.sqrt(value)


def tv(p: ArrayLike, q: ArrayLike, *, axis: int = -1) -> Divergence:
    r"""Total variation distance, with values in :math:`[0, 1]`.

    .. math:: \mathrm{TV}(p, q) = \sup_A |P(A) - Q(A)| = \tfrac12 \sum_i |p_i - q_i|

    after normalising along ``axis`` (NOTE: SciPy-style functions use ``axis=0``). It equals
    ``1 - sum_i min(p_i, q_i)``; the form with the smaller rounding error is used, so
    disjoint supports give exactly 1 and identical inputs exactly 0.

    Parameters
    ----------
    p, q : array_like
        Non-negative weights (counts or probabilities) over the same bins.
    axis : int, default -1
        The axis of the bins. NOTE: SciPy-style functions use ``axis=0``.

    Returns
    -------
    float or ndarray
        A float for 1-D inputs, an array of the broadcast batch shape otherwise; in [0, 1].

    See Also
    --------
    hellinger : :math:`H^2 \le TV \le \sqrt{2} H`.
    js : Jensen-Shannon, which converges exactly when TV does.
    wasserstein : A distance that also sees how far apart the supports are.

    References
    ----------
    A. B. Tsybakov, *Introduction to Nonparametric Estimation*, Springer 2009, sec. 2.4.

    Examples
    --------
    >>> from divergences import tv
    >>> tv([1, 1, 0], [0, 1, 1])
    0.5
    >>> tv([1, 0], [0, 5])
    1.0
    """
    return _divergence(_ew.TV, p, q, axis)


def hellinger(p: ArrayLike, q: ArrayLike, *, axis: int = -1) -> Divergence:
    r"""Hellinger distance, with values in :math:`[0, 1]`.

    .. math::
        H(p, q) = \sqrt{\tfrac12 \sum_i (\sqrt{p_i} - \sqrt{q_i})^2}
                = \sqrt{1 - \sum_i \sqrt{p_i q_i}}

    after normalising along ``axis`` (NOTE: SciPy-style functions use ``axis=0``). The
    first form is used when it is below 1/2 (exact 0 for identical inputs), the second
    otherwise (exact 1 on disjoint supports).

    Parameters
    ----------
    p, q : array_like
        Non-negative weights (counts or probabilities) over the same bins.
    axis : int, default -1
        The axis of the bins. NOTE: SciPy-style functions use ``axis=0``.

    Returns
    -------
    float or ndarray
        A float for 1-D inputs, an array of the broadcast batch shape otherwise; in [0, 1].

    See Also
    --------
    tv : Total variation, :math:`H^2 \le TV \le \sqrt{2} H`.
    renyi : The Renyi divergence of order 1/2 is :math:`-2 \log(1 - H^2)`.
    js_distance : Another bounded metric between histograms.

    References
    ----------
    A. B. Tsybakov, *Introduction to Nonparametric Estimation*, Springer 2009, sec. 2.4.

    Examples
    --------
    >>> from divergences import hellinger
    >>> hellinger([1, 0], [0, 1])
    1.0
    >>> hellinger([1, 1], [2, 2])
    0.0
    """
    return _divergence(_ew.HELLINGER, p, q, axis)


def chi2(p: ArrayLike, q: ArrayLike, *, axis: int = -1) -> Divergence:
    r"""Pearson :math:`\chi^2` divergence :math:`\chi^2(p \,\|\, q)`.

    .. math:: \chi^2(p \,\|\, q) = \sum_i \frac{(p_i - q_i)^2}{q_i}

    after normalising along ``axis`` (NOTE: SciPy-style functions use ``axis=0``). Bins with
    ``p = q = 0`` contribute 0; a bin with ``p > 0 = q`` gives ``+inf``.

    Parameters
    ----------
    p, q : array_like
        Non-negative weights (counts or probabilities) over the same bins.
    axis : int, default -1
        The axis of the bins. NOTE: SciPy-style functions use ``axis=0``.

    Returns
    -------
    float or ndarray
        A float for 1-D inputs, an array of the broadcast batch shape otherwise; ``+inf``
        where some bin has ``p > 0 = q``.

    See Also
    --------
    kl : :math:`KL \le \log(1 + \chi^2)`.
    renyi : The Renyi divergence of order 2 is :math:`\log(1 + \chi^2)`.

    References
    ----------
    K. Pearson, "On the criterion that a given system of deviations ...", Phil. Mag. 50,
    1900.

    Examples
    --------
    >>> from divergences import chi2
    >>> chi2([3, 1], [1, 1])
    0.25
    >>> chi2([1, 1], [1, 0])
    inf
    """
    return _divergence(_ew.CHI2, p, q, axis)


def renyi(
    p: ArrayLike, q: ArrayLike, alpha: float, *, base: float | None = None, axis: int = -1
) -> Divergence:
    r"""Renyi divergence of order ``alpha`` >= 0.

    .. math::
        D_\alpha(p \,\|\, q) = \frac{1}{\alpha - 1} \log \sum_i p_i^\alpha q_i^{1-\alpha}

    after normalising along ``axis`` (NOTE: SciPy-style functions use ``axis=0``), with the
    limits as the definition at the special orders:

    * ``alpha = 0``: :math:`-\log \sum_{i: p_i > 0} q_i` (``+inf`` if ``q`` puts no mass
      on the support of ``p``);
    * ``alpha = 1``: :func:`kl`;
    * ``alpha = inf``: :math:`\log \max_{i: p_i > 0} p_i / q_i`.

    Bins with ``p = 0`` contribute nothing; a bin with ``p > 0 = q`` gives ``+inf`` for
    ``alpha >= 1`` and contributes nothing for ``alpha < 1`` (then disjoint supports give
    ``+inf``). The sum is taken in the log domain, so large ``alpha`` does not overflow.
    Near ``alpha = 1`` (``|alpha - 1| <= 1/8``) it is computed as
    :math:`\log(1 + \sum_i p_i \operatorname{expm1}((1 - \alpha) \log(q_i / p_i)))
    / (\alpha - 1)`, which keeps its digits as ``alpha`` tends to 1 (and tends to KL).

    Parameters
    ----------
    p, q : array_like
        Non-negative weights (counts or probabilities) over the same bins.
    alpha : float
        The order, in :math:`[0, +\infty]` (``float("inf")`` allowed).
    base : float, optional
        Logarithm base (``None``: natural log, nats; ``2``: bits).
    axis : int, default -1
        The axis of the bins. NOTE: SciPy-style functions use ``axis=0``.

    Returns
    -------
    float or ndarray
        A float for 1-D inputs, an array of the broadcast batch shape otherwise; ``+inf``
        in the cases above.

    See Also
    --------
    kl : The order 1.
    hellinger : The order 1/2 is :math:`-2 \log(1 - H^2)`.
    chi2 : The order 2 is :math:`\log(1 + \chi^2)`.

    References
    ----------
    T. van Erven and P. Harremoes, "Renyi divergence and Kullback-Leibler divergence",
    IEEE Trans. Inf. Theory 60(7), 2014.

    Examples
    --------
    >>> from divergences import renyi
    >>> renyi([1, 1], [1, 1], 2.0)
    0.0
    >>> renyi([1, 0], [1, 1], float("inf"), base=2)
    1.0
    """
    alpha = check_alpha(alpha)
    base = check_base(base)
    if alpha == 1.0:
        return kl(p, q, base=base, axis=axis)
    return _in_base(_divergence(_renyi_code(alpha), p, q, axis, alpha), base)
