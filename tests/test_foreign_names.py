"""POT and SciPy keyword names get a TypeError that names ours."""

import inspect

import numpy as np
import pytest
import scipy.stats

from divergences import kl, wasserstein_1d
from divergences._foreign_names import FOREIGN_NAMES, check_foreign_names, foreign_name_hints


def test_scipy_entropy_names_on_kl():
    with pytest.raises(TypeError, match=r"pk= is SciPy's name; use p= .*qk= is SciPy's name; "
                                        r"use q="):
        kl(pk=[1, 2], qk=[1, 1])
    p, q = [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]
    assert kl(p=p, q=q) == pytest.approx(scipy.stats.entropy(p, q), rel=1e-14)


def test_scipy_wasserstein_names_on_wasserstein_1d():
    with pytest.raises(TypeError, match=r"u_values= is SciPy and POT's name; use x="):
        wasserstein_1d(u_values=[0.0], v_values=[1.0])
    u, v, w = np.array([0.0, 1.0, 3.0]), np.array([2.0, 5.0]), np.array([1.0, 2.0, 1.0])
    assert wasserstein_1d(x=u, y=v, a=w) == pytest.approx(
        scipy.stats.wasserstein_distance(u, v, u_weights=w), rel=1e-12)


def test_pot_names_say_what_to_use_or_why_not():
    with pytest.raises(TypeError, match=r"numItermax= is POT's name for max_iter=, which "
                                        r"wasserstein_1d\(\) does not take"):
        wasserstein_1d([0.0], [1.0], numItermax=10)
    with pytest.raises(TypeError, match=r"log= \(POT\) has no equivalent here: .*TransportResult"):
        wasserstein_1d([0.0], [1.0], log=True)


def test_other_unknown_keywords_keep_pythons_message():
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        kl([1, 1], [1, 1], colour="red")


def test_the_decorator_keeps_signature_doc_and_own_names():
    assert inspect.signature(kl).parameters.keys() == {"p", "q", "base", "axis"}
    assert kl.__doc__.startswith("Kullback-Leibler")

    @foreign_name_hints
    def solver(a, b, M, *, log=False):
        """A function whose own parameters carry foreign names."""
        return M, log

    assert solver(1, 2, M=3, log=True) == (3, True)  # its own names pass through
    with pytest.raises(TypeError, match=r"stopThr= is POT's name for tol="):
        solver(1, 2, 3, stopThr=1e-9)


def test_check_for_functions_taking_options():
    """For a public function with ``**options``, ``accepted`` is the option names."""
    accepted = frozenset({"max_iter", "tol", "online"})
    check_foreign_names("sinkhorn", {"max_iter": 5}, accepted)  # ours: no error
    with pytest.raises(TypeError, match=r"sinkhorn\(\) .*numItermax= is POT's name; use "
                                        r"max_iter= here; stopThr= is POT's name; use tol="):
        check_foreign_names("sinkhorn", {"numItermax": 5, "stopThr": 1e-9}, accepted)
    assert all(origin in {"POT", "SciPy", "SciPy and POT"}
               for _, origin, _ in FOREIGN_NAMES.values())
