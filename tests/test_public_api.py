"""The public API's surface: annotations, docstring sections, the demo's compile note."""

import inspect
import re

import pytest

import divergences
from divergences.demo import COMPILE_NOTE, run_demo

#: Public functions exempted from the checks below (none: every one is annotated and has
#: its sections).
PENDING: set[str] = set()


def _public_callables():
    out = []
    for name in divergences.__all__:
        obj = getattr(divergences, name)
        if isinstance(obj, type):
            if issubclass(obj, Warning):
                continue
            out += [(f"{name}.{m}", getattr(obj, m)) for m, v in vars(obj).items()
                    if inspect.isfunction(v) and not m.startswith("_")]
        elif callable(obj):
            out.append((name, obj))
    return out


PUBLIC = _public_callables()


def _skip_pending(name):
    if name in PENDING:
        pytest.skip(f"{name}: signature being changed on another branch; annotate after merge")


def _section(doc, title):
    return re.search(rf"^\s*{title}\n\s*{'-' * len(title)}\n", doc, re.MULTILINE) is not None


def test_the_list_covers_the_package():
    names = {name for name, _ in PUBLIC}
    assert {"kl", "tv", "wasserstein_1d", "TransportResult.critic"} <= names
    assert PENDING <= names


@pytest.mark.parametrize("name, func", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_every_parameter_and_return_is_annotated(name, func):
    _skip_pending(name)
    sig = inspect.signature(func)
    missing = [p.name for p in sig.parameters.values()
               if p.annotation is inspect.Parameter.empty and p.name != "self"]
    assert not missing, f"{name}: parameters without annotation: {missing}"
    assert sig.return_annotation is not inspect.Signature.empty, f"{name}: no return type"


@pytest.mark.parametrize("name, func", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_every_docstring_has_parameters_returns_see_also(name, func):
    _skip_pending(name)
    doc = func.__doc__ or ""
    for title in ("Parameters", "Returns", "See Also", "Examples"):
        assert _section(doc, title), f"{name}: no {title} section"


def test_result_and_warning_classes_are_documented():
    assert _section(divergences.TransportResult.__doc__, "See Also")
    assert _section(divergences.TransportResult.__doc__, "Attributes")
    for cls in (divergences.ConvergenceWarning, divergences.CacheWarning):
        assert len(cls.__doc__.strip()) > 40


def test_demo_says_that_the_first_run_compiles(capsys):
    assert run_demo(table_thetas=(0.0, 1.0), out=None) == 0
    text = capsys.readouterr().out
    assert COMPILE_NOTE in text
    assert text.index(COMPILE_NOTE) < text.index("  theta ")  # before the silent part
    assert "cached on disk" in text and re.search(r"computed in \d+\.\d s", text)
