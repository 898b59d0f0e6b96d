"""Evaluation: two-sample tests, bootstrap intervals, comparisons of data sets, and the WGAN
critic trained in numpy and certified against the exact Wasserstein distance."""

from .bootstrap import BootstrapResult, ConfidenceInterval, wasserstein_ci
from .comparison import compare
from .critic import CriticResult, coupling_upper_bound, lipschitz_constant, wgan_critic
from .report import ComparisonTable
from .two_sample import TwoSampleTestResult, two_sample_test

__all__ = [
    "BootstrapResult",
    "ComparisonTable",
    "ConfidenceInterval",
    "CriticResult",
    "TwoSampleTestResult",
    "compare",
    "coupling_upper_bound",
    "lipschitz_constant",
    "two_sample_test",
    "wasserstein_ci",
    "wgan_critic",
]
