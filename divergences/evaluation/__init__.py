"""Evaluation: two-sample tests, bootstrap intervals and comparisons of data sets."""

from .two_sample import (
    BootstrapResult,
    ConfidenceInterval,
    TwoSampleTestResult,
    two_sample_test,
    wasserstein_ci,
)

__all__ = [
    "BootstrapResult",
    "ConfidenceInterval",
    "TwoSampleTestResult",
    "two_sample_test",
    "wasserstein_ci",
]
