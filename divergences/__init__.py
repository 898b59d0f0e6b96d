"""divergences: exact, fast distances between probability distributions.

KL, Jensen–Shannon, total variation and other f-divergences between histograms, and
Wasserstein-p between point sets (1-D closed form, exact network simplex, Sinkhorn),
with numba-compiled kernels. ``import divergences`` compiles nothing.
"""

from .entropic import sinkhorn, sinkhorn_divergence
from .evaluation import compare, two_sample_test, wasserstein_ci
from .exact import emd
from .information import chi2, hellinger, js, js_distance, kl, renyi, tv
from .matrices import pairwise
from .result import TransportResult
from .samples import aligned_histograms, kl_knn
from .sliced import sliced_wasserstein
from .transport import transport, wasserstein
from .univariate import wasserstein_1d

__version__ = "0.1.0"

__all__ = [
    "TransportResult",
    "aligned_histograms",
    "chi2",
    "compare",
    "emd",
    "hellinger",
    "js",
    "js_distance",
    "kl",
    "kl_knn",
    "pairwise",
    "renyi",
    "sinkhorn",
    "sinkhorn_divergence",
    "sliced_wasserstein",
    "transport",
    "tv",
    "two_sample_test",
    "wasserstein",
    "wasserstein_1d",
    "wasserstein_ci",
]
