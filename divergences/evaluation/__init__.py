"""Evaluation: two-sample tests, bootstrap intervals and comparisons of data sets."""

from .bootstrap import BootstrapResult, ConfidenceInterval, wasserstein_ci
from .comparison import compare
from .report import ComparisonTable
from .two_sample import TwoSampleTestResult, two_sample_test

__all__ = [
    "BootstrapResult",
    "ComparisonTable",
    "ConfidenceInterval",
    "TwoSampleTestResult",
    "compare",
    "two_sample_test",
    "wasserstein_ci",
]
