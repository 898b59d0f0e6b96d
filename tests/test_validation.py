"""The shared validators: each bad input gets a named ValueError or TypeError."""

import numpy as np
import pytest

from divergences import _validation as v


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        ("abc", TypeError, "real numbers"),
        ([1 + 2j], TypeError, "complex"),
        (np.array(["a"]), TypeError, "dtype"),
        ([[1, 2], [3]], TypeError, "real numbers"),
        ([], ValueError, "empty"),
    ],
)
def test_as_real_array_rejects(bad, exc, words):
    with pytest.raises(exc, match=rf"^w .*{words}|^w {words}|^w is {words}"):
        v.as_real_array(bad, "w")


def test_as_real_array_accepts_ints_bools_float32():
    assert v.as_real_array([1, 2], "w").dtype == np.float64
    assert v.as_real_array(np.array([True, False]), "w").dtype == np.float64
    assert v.as_real_array(np.ones(3, np.float32), "w").dtype == np.float64


@pytest.mark.parametrize("value, kind",
                         [(np.nan, "NaN"), (np.inf, "infinite"), (-np.inf, "infinite")])
def test_check_finite(value, kind):
    with pytest.raises(ValueError, match=f"^a contains {kind}"):
        v.check_finite(np.array([1.0, value]), "a")


def test_weights_checks():
    with pytest.raises(ValueError, match="^a has negative"):
        v.check_weights([1.0, -1.0], 2, "a")
    with pytest.raises(ValueError, match="^a has zero total mass"):
        v.check_weights([0.0, 0.0], 2, "a")
    with pytest.raises(ValueError, match="^a has 3 weights but there are 2 points"):
        v.check_weights([1.0, 1.0, 1.0], 2, "a")
    with pytest.raises(ValueError, match="^a must be 1-D"):
        v.check_weights([[1.0, 1.0]], 2, "a")
    np.testing.assert_array_equal(v.check_weights(None, 4, "a"), np.full(4, 0.25))


@pytest.mark.parametrize("base", [0, -1, 1, np.inf, np.nan])
def test_check_base_values(base):
    with pytest.raises(ValueError, match="^base must be"):
        v.check_base(base)


def test_check_base_type():
    with pytest.raises(TypeError, match="^base must be a real number"):
        v.check_base("2")
    assert v.check_base(None) is None
    assert v.check_base(2) == 2.0


@pytest.mark.parametrize("p", [0.5, 0, -1, np.nan])
def test_check_p(p):
    with pytest.raises(ValueError, match="^p must be"):
        v.check_p(p)


@pytest.mark.parametrize("reg", [0, -1e-3, np.inf, None])
def test_check_reg(reg):
    with pytest.raises(ValueError, match="^reg "):
        v.check_reg(reg)


def test_points_and_cost():
    assert v.check_points([1.0, 2.0], "x").shape == (2, 1)
    with pytest.raises(ValueError, match=r"^x must have shape \(n,\) or \(n, d\)"):
        v.check_points(np.zeros((2, 2, 2)), "x")
    with pytest.raises(ValueError, match="^x is empty"):
        v.check_points(np.zeros((3, 0)), "x")
    with pytest.raises(ValueError, match="^x and y must have the same dimension"):
        v.check_same_dimension(np.zeros((2, 1)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^cost must have shape \(2, 3\)"):
        v.check_cost(np.zeros((3, 2)), 2, 3)
    with pytest.raises(ValueError, match="^cost contains NaN"):
        v.check_cost([[np.nan]], 1, 1)


def test_axis_and_choice():
    assert v.check_axis(-1, 3) == 2
    with pytest.raises(ValueError, match="^axis=3 is out of range"):
        v.check_axis(3, 2)
    with pytest.raises(TypeError, match="^axis must be an integer"):
        v.check_axis(1.0, 2)
    with pytest.raises(ValueError, match="^metric='foo' is not one of"):
        v.check_choice("foo", "metric", {"euclidean"})
