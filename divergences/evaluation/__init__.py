"""Evaluation: two-sample tests, bootstrap intervals and comparisons of data sets."""

from .comparison import compare
from .report import ComparisonTable
from .two_sample import (
    BootstrapResult,
    ConfidenceInterval,
    TwoSampleTestResult,
    two_sample_test,
    wasserstein_ci,
)

__all__ = [
    "BootstrapResult",
    "ComparisonTable",
    "ConfidenceInterval",
    "TwoSampleTestResult",
    "compare",
    "two_sample_test",
    "wasserstein_ci",
]
