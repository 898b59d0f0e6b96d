"""divergences: exact, fast distances between probability distributions.

KL, Jensen–Shannon, total variation and other f-divergences between histograms, and
Wasserstein-p between point sets (1-D closed form, exact network simplex, Sinkhorn),
with numba-compiled kernels. ``import divergences`` compiles nothing.
"""

from ._warnings import CacheWarning, ConvergenceWarning
from .entropic import sinkhorn, sinkhorn_divergence
from .evaluation import compare, two_sample_test, wasserstein_ci, wgan_critic
from .exact import emd
from .gaussian import frechet_distance, gaussian_map, gaussian_wasserstein
from .grid import transport_grid, wasserstein_grid
from .information import chi2, hellinger, js, js_distance, kl, renyi, tv
from .matrices import pairwise
from .result import TransportResult
from .samples import aligned_histograms, kl_knn
from .sliced import sliced_wasserstein
from .transport import transport, wasserstein
from .univariate import wasserstein_1d

__version__ = "0.1.0"

__all__ = [
    "CacheWarning",
    "ConvergenceWarning",
    "TransportResult",
    "aligned_histograms",
    "chi2",
    "compare",
    "emd",
    "frechet_distance",
    "gaussian_map",
    "gaussian_wasserstein",
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
    "transport_grid",
    "tv",
    "two_sample_test",
    "wasserstein",
    "wasserstein_1d",
    "wasserstein_ci",
    "wasserstein_grid",
    "wgan_critic",
]
