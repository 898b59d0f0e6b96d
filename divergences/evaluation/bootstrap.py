r"""Bootstrap confidence intervals for :math:`W_p` between the laws of two samples."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._kernels.cost import EUCLIDEAN
from .._kernels.permutation import split_costs
from .._metrics import ground_costs
from .._scaling import power_of_two_scale
from .._validation import check_choice, check_p, check_seed
from .._validation_evaluation import check_confidence_level, check_n_resamples, check_samples
from .two_sample import _block, _check_matrix

__all__ = ["BootstrapResult", "ConfidenceInterval", "wasserstein_ci"]

CI_METHODS = ("percentile", "basic")

#: the interval of :func:`wasserstein_ci` (the name and fields of SciPy's)
ConfidenceInterval = namedtuple("ConfidenceInterval", ["low", "high"])


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """The result of :func:`wasserstein_ci` (the fields of SciPy's ``BootstrapResult``,
    plus the estimate itself).

    Attributes
    ----------
    confidence_interval : ConfidenceInterval
        ``(low, high)``.
    bootstrap_distribution : ndarray, shape (n_resamples,)
        :math:`W_p` between the resampled samples.
    standard_error : float
        The standard deviation of the bootstrap distribution (``ddof=1``).
    statistic : float
        :math:`W_p` between the observed samples.
    """

    confidence_interval: ConfidenceInterval
    bootstrap_distribution: np.ndarray
    standard_error: float
    statistic: float

    def __repr__(self):
        return (f"BootstrapResult(confidence_interval={self.confidence_interval!r}, "
                f"standard_error={self.standard_error!r}, statistic={self.statistic!r})")


def wasserstein_ci(x: ArrayLike, y: ArrayLike, *, p: float = 1, confidence_level: float = 0.95,
                   n_resamples: int = 9999, method: str = "percentile",
                   seed: int | np.random.Generator | None = None) -> BootstrapResult:
    r"""Bootstrap confidence interval for :math:`W_p` between the laws of two samples.

    Each resample draws ``n`` points of ``x`` and ``m`` of ``y`` with replacement and
    computes :math:`W_p` between them. A resample is a reweighting of the original points
    (multinomial counts), so the 1-D case needs no new sort (the sorted samples carry the
    counts) and the d-D case reuses one cost matrix (one exact LP per resample).

    .. math:: \text{percentile: } [\hat q_{\alpha/2},\ \hat q_{1-\alpha/2}], \qquad
              \text{basic: } [2\hat W - \hat q_{1-\alpha/2},\ 2\hat W - \hat q_{\alpha/2}],

    with :math:`\hat q` the quantiles of the bootstrap distribution and
    :math:`\alpha = 1 - \text{confidence\_level}`.

    Parameters
    ----------
    x, y : array_like, shape (n,) or (n, d) and (m,) or (m, d)
        The two samples, in the same dimension.
    p : float, default 1
        Order of :math:`W_p`.
    confidence_level : float, default 0.95
    n_resamples : int, default 9999
    method : {"percentile", "basic"}, default "percentile"
        As in :func:`scipy.stats.bootstrap` (its ``"BCa"`` is not offered).
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator

    Returns
    -------
    BootstrapResult
        ``confidence_interval`` (``low``, ``high``), ``bootstrap_distribution``,
        ``standard_error`` (SciPy's names) and ``statistic`` (:math:`W_p` of the data).

    See Also
    --------
    scipy.stats.bootstrap : the generic version.
    divergences.two_sample_test : a test of :math:`P = Q`.

    Notes
    -----
    The empirical :math:`W_p` is biased upwards (it is positive between two samples of
    one law and shrinks like :math:`n^{-1/2}` in 1-D, :math:`n^{-1/d}` in d-D); the
    bootstrap reproduces that bias, so an interval for identical laws does not reach 0.
    Use :func:`two_sample_test` to test equality.

    References
    ----------
    .. [1] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman &
       Hall, 1993, Chapters 13 and 14.

    Examples
    --------
    >>> import numpy as np
    >>> from divergences import wasserstein_ci
    >>> x = np.arange(20.0)
    >>> res = wasserstein_ci(x, x + 5.0, n_resamples=999, seed=0)
    >>> res.statistic
    5.0
    >>> bool(res.confidence_interval.low < 5.0 < res.confidence_interval.high)
    True
    """
    x, y = check_samples(x, y)
    p = check_p(p)
    level = check_confidence_level(confidence_level)
    n_resamples = check_n_resamples(n_resamples, "n_resamples")
    method = check_choice(method, "method", CI_METHODS)
    rng = check_seed(seed)
    n, m = x.shape[0], y.shape[0]
    if x.shape[1] == 1:
        # the pooled sample sorted once; a resample is a row of multiplicities of its points
        pooled = np.concatenate([x[:, 0], y[:, 0]])
        order = np.argsort(pooled, kind="stable")[None, :]
        zs = pooled[order]
        scale = power_of_two_scale(float(zs[0, -1] / 2 - zs[0, 0] / 2), p)
        zs = zs / scale
        labels = np.zeros((1, n + m), dtype=np.uint8)
        labels[0, :n] = 1

        def resampled(ca, cb):
            counts = np.ascontiguousarray(np.concatenate([ca, cb], axis=1), dtype=np.int64)
            with np.errstate(under="ignore"):
                return scale * split_costs(zs, order, labels, counts, n, m, p) ** (1.0 / p)
    else:
        _check_matrix(n, m, "exact W_p in d > 1")
        C = ground_costs(x, y, EUCLIDEAN, 2.0, p)

        def resampled(ca, cb):
            from ..exact import emd

            return np.array([max(emd(u, v, C).cost, 0.0) ** (1.0 / p)
                             for u, v in zip(ca, cb, strict=True)])

    estimate = float(resampled(np.ones((1, n), np.int64), np.ones((1, m), np.int64))[0])
    dist = np.empty(n_resamples)
    step = _block(n_resamples, 16 * (n + m), n + m)
    for lo in range(0, n_resamples, step):
        count = min(step, n_resamples - lo)
        ca = rng.multinomial(n, np.full(n, 1.0 / n), size=count)
        cb = rng.multinomial(m, np.full(m, 1.0 / m), size=count)
        dist[lo:lo + count] = resampled(ca, cb)
    alpha = 1.0 - level
    q_low, q_high = np.percentile(dist, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    if method == "basic":
        q_low, q_high = 2 * estimate - q_high, 2 * estimate - q_low
    return BootstrapResult(
        confidence_interval=ConfidenceInterval(float(q_low), float(q_high)),
        bootstrap_distribution=dist, standard_error=float(np.std(dist, ddof=1))
        if n_resamples > 1 else 0.0, statistic=estimate)
