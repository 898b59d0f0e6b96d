"""Kernels compiled without a Python wrapper (``kernel(inner=True)``, issue 12).

Such a kernel is only callable from compiled code. Called from Python it must raise a
TypeError naming itself (numba's own dispatcher would jump to the missing wrapper: a
segmentation fault), and no Python code of the package may call it.
"""

import ast
import importlib
import pathlib
import pkgutil

import numba
import numpy as np
import pytest

import divergences
import divergences._kernels as kernels_pkg
from divergences._jit import _Inner, serial_twin

ROOT = pathlib.Path(divergences.__file__).parent


def _dispatchers():
    """Every kernel of the package: ``{(module, name): dispatcher}``."""
    found = {}
    for info in pkgutil.iter_modules(kernels_pkg.__path__, kernels_pkg.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if getattr(obj, "py_func", None) is not None and obj.py_func.__module__ == info.name:
                found[(info.name, name)] = obj
    return found


INNER = {key: d for key, d in _dispatchers().items() if isinstance(d, _Inner)}


def test_the_helpers_of_the_simplex_and_of_kl_are_inner():
    names = {name for _, name in INNER}
    assert {"price", "price_arcs", "update_ancestors", "_cut_deficit", "log_block",
            "log_ratio"} <= names
    assert len(INNER) >= 25


@pytest.mark.parametrize("key", sorted(INNER), ids=lambda k: f"{k[0].rsplit('.', 1)[1]}.{k[1]}")
def test_a_call_from_python_raises_a_type_error(key):
    with pytest.raises(TypeError, match=f"{key[1]} is compiled for compiled callers only"):
        dispatcher = INNER[key]
        n_args = dispatcher.py_func.__code__.co_argcount
        dispatcher(*[np.zeros(3)] * n_args)


def test_still_a_type_error_after_a_compiled_caller_compiled_it():
    from divergences._kernels.network_simplex import _cut_deficit

    supply = np.array([1.0, -2.0, 0.5])
    pi = np.array([3.0, 0.0, 2.0])

    # a caller of its own, not cached: typing it compiles _cut_deficit (or loads it from
    # the cache) and links it as usual (a cached caller such as _pivots would not)
    @numba.njit
    def caller(s, p):
        return _cut_deficit(s, p, 2.0)

    assert caller(supply, pi) == -1.5
    assert _cut_deficit.overloads  # compiled, for its caller
    with pytest.raises(TypeError, match="_cut_deficit is compiled for compiled callers only"):
        _cut_deficit(supply, pi, 2.0)


def test_serial_twin_gives_a_callable_copy():
    from divergences._kernels.network_simplex import _cut_deficit

    supply = np.array([1.0, -2.0, 0.5])
    pi = np.array([3.0, 0.0, 2.0])
    assert serial_twin(_cut_deficit)(supply, pi, 2.0) == -1.5


def _is_kernel(decorator):
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return getattr(target, "id", getattr(target, "attr", None)) == "kernel"


def _python_references(tree, names):
    """The names among ``names`` that Python code (not a kernel body, not an import)
    of the module ``tree`` refers to."""
    found = set()

    def visit(node, in_kernel):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_kernel = in_kernel or any(_is_kernel(d) for d in node.decorator_list)
        elif not in_kernel:
            name = getattr(node, "id", None) if isinstance(node, ast.Name) else (
                node.attr if isinstance(node, ast.Attribute) else None)
            if name in names:
                found.add(name)
        for child in ast.iter_child_nodes(node):
            visit(child, in_kernel)

    visit(tree, False)
    return found


def test_no_python_code_of_the_package_calls_an_inner_kernel():
    inner = {name for _, name in INNER}
    # a name that is also a kernel with a wrapper (sinkhorn.log_block, fastlog.log_block)
    # cannot be told apart here; the TypeError above covers it at run time
    ambiguous = {name for (_, name), d in _dispatchers().items() if not isinstance(d, _Inner)}
    names = inner - ambiguous
    offenders = {}
    for path in ROOT.rglob("*.py"):
        refs = _python_references(ast.parse(path.read_text()), names)
        if refs:
            offenders[str(path.relative_to(ROOT))] = sorted(refs)
    assert offenders == {}
