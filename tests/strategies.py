"""Shared hypothesis strategies: histograms with zeros, point clouds, weights."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# Non-negative weights, zeros included, a few tiny ones.
weight = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-300, max_value=1e-200),
    st.floats(min_value=1e-6, max_value=1e3),
)


@st.composite
def histograms(draw, min_bins=1, max_bins=30, n=None):
    """A histogram with positive total mass (zeros allowed); ``n`` fixes the bin count."""
    size = n if n is not None else draw(st.integers(min_bins, max_bins))
    h = draw(hnp.arrays(np.float64, size, elements=weight))
    if h.sum() <= 0:
        h[draw(st.integers(0, size - 1))] = 1.0
    return h


@st.composite
def histogram_pairs(draw, min_bins=1, max_bins=30):
    """Two histograms over the same bins."""
    size = draw(st.integers(min_bins, max_bins))
    return draw(histograms(n=size)), draw(histograms(n=size))


@st.composite
def point_clouds(draw, max_points=12, dim=None, scale=10.0):
    """An (n, d) float array of finite points."""
    n = draw(st.integers(1, max_points))
    d = dim if dim is not None else draw(st.integers(1, 3))
    elements = st.floats(-scale, scale, allow_nan=False, allow_infinity=False)
    return draw(hnp.arrays(np.float64, (n, d), elements=elements))
