"""The public face of results and warnings: a compact repr, warning classes at top level."""

import importlib
import pkgutil
import re
import warnings

import numpy as np
import pytest

import divergences
from divergences import emd, sinkhorn, transport


@pytest.fixture(scope="module")
def clouds():
    rng = np.random.default_rng(0)
    return rng.normal(size=(500, 2)), rng.normal(size=(500, 2)) + 0.5


def _field(text, name):
    match = re.search(rf"\b{name}=([^,)]+)", text)
    assert match, f"{name} missing from {text!r}"
    return match.group(1)


def test_repr_exact_n500_is_one_short_line(clouds):
    x, y = clouds
    res = transport(x, y, p=2)
    text = repr(res)
    assert len(text) < 300 and "\n" not in text
    assert "<500x500 dense>" in text
    assert float(_field(text, "cost")) == pytest.approx(res.cost, rel=1e-5)
    assert float(_field(text, "distance")) == pytest.approx(res.distance, rel=1e-5)
    assert _field(text, "status") == repr(res.status)
    assert _field(text, "converged") == "True"
    assert int(_field(text, "n_iter")) == res.n_iter
    assert _field(text, "p") == "2"
    assert "reg=" not in text  # exact: no regularisation to show
    assert str(res) == text


def test_repr_sinkhorn_shows_reg_and_1d_shows_sparse(clouds):
    x, y = clouds
    res = transport(x, y, method="sinkhorn", reg=0.5)
    assert float(_field(repr(res), "reg")) == 0.5
    assert len(repr(res)) < 300
    res1 = transport(x[:, 0], y[:, 0])
    assert re.search(r"plan=<500x500 sparse \w+>", repr(res1))


def test_repr_batched_summarises_arrays():
    rng = np.random.default_rng(1)
    cost = rng.random((30, 30))
    a = np.full(30, 1 / 30)
    targets = rng.random((30, 8))
    res = sinkhorn(a, targets, cost, reg=0.2)
    text = repr(res)
    assert "<8x30x30 dense>" in text
    assert f"<{int(np.sum(res.converged))} of 8 True>" in text
    low, high = (float(v) for v in re.search(r"cost=<8 values in \[([^,]+), ([^]]+)\]>",
                                              text).groups())
    assert low == pytest.approx(res.cost.min(), rel=1e-5)
    assert high == pytest.approx(res.cost.max(), rel=1e-5)
    two = sinkhorn(a, targets[:, :2], cost, reg=0.2)
    assert _field(repr(two), "n_iter").startswith("[")


def _warning_classes():
    """Every Warning subclass defined in a module of the package."""
    found = {}
    for info in pkgutil.iter_modules(divergences.__path__, "divergences."):
        if info.name.endswith(("__main__", ".cli", ".demo")):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Warning)
                    and value.__module__.startswith("divergences")):
                found[value.__name__] = value
    return found


def test_every_warning_class_is_public():
    classes = _warning_classes()
    assert {"ConvergenceWarning", "CacheWarning"} <= set(classes)
    for name, cls in classes.items():
        assert name in divergences.__all__
        assert getattr(divergences, name) is cls


def test_convergence_warning_caught_by_its_public_name():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(2, 40, 2))
    cost = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    a = np.full(40, 1 / 40)
    with pytest.warns(divergences.ConvergenceWarning, match="max_iter"):
        res = sinkhorn(a, a, cost, reg=1e-3, max_iter=2)
    assert not res.converged
    assert _field(repr(res), "converged") == "False"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert emd(a, a, cost).converged
