"""The numba cache is never a reason to fail (issue 12, item 14).

Unwritable cache locations and damaged cache files both fall back to compiling, with one
CacheWarning at most per process. In-process tests use a small kernel of this file and a
temporary ``numba.config.CACHE_DIR``; the subprocess tests run the package's ``kl`` as a
user would: from a read-only copy of the package, and over a damaged cache directory.
"""

import importlib
import json
import math
import os
import pathlib
import pkgutil
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.core.caching import NullCache

import divergences
from divergences import _jit
from divergences._jit import CacheWarning, _TolerantCache, kernel

ROOT = pathlib.Path(__file__).resolve().parents[1]

P, Q = [0.5, 0.5], [0.3, 0.7]
KL_PQ = 0.5 * math.log(0.5 / 0.3) + 0.5 * math.log(0.5 / 0.7)  # the closed form


def _weighted_sum(x, w):  # compiled afresh by each test through kernel()
    s = 0.0
    for i in range(x.shape[0]):
        s += w * x[i]
    return s


X = np.arange(10.0)


def fresh_call(cache_dir):
    """A new dispatcher of the same function (so it reads the disk cache), called once:
    (result, CacheWarnings raised, cache hits)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        disp = kernel(_weighted_sum)
        result = disp(X, 2.0)
    hits = sum(disp.stats.cache_hits.values())
    return result, [w for w in caught if issubclass(w.category, CacheWarning)], hits


@pytest.fixture
def cache_dir(monkeypatch):
    with tempfile.TemporaryDirectory() as tmp:
        monkeypatch.setattr(numba.config, "CACHE_DIR", tmp)
        monkeypatch.setattr(_jit, "_warned", False)
        yield pathlib.Path(tmp)


def cache_files(cache_dir, suffix):
    return sorted(p for p in cache_dir.rglob(f"*_weighted_sum*{suffix}"))


def test_every_kernel_of_the_package_has_the_tolerant_cache():
    """``kernel`` installs the cache through the dispatcher's ``_cache`` attribute (as
    numba's ``enable_caching`` does): a numba release that changes that hook fails here."""
    import divergences._kernels as pkg

    found = 0
    modules = [importlib.import_module(f"divergences._kernels.{m.name}")
               for m in pkgutil.iter_modules(pkg.__path__)]
    for module in modules:
        for obj in vars(module).values():
            if isinstance(obj, numba.core.registry.CPUDispatcher) \
                    and obj.__module__ == module.__name__:
                assert type(obj._cache) is _TolerantCache, obj
                found += 1
    assert found > 20


def test_a_sound_cache_is_used(cache_dir):
    assert fresh_call(cache_dir) == (20.0 * 4.5, [], 0)
    assert cache_files(cache_dir, ".nbi") and cache_files(cache_dir, ".nbc")
    assert fresh_call(cache_dir) == (90.0, [], 1)


CORRUPTIONS = ["empty", "truncate", "random", "flip", "version"]


def corrupt(path, how, rng):
    blob = path.read_bytes()
    if how == "empty":
        blob = b""
    elif how == "truncate":
        blob = blob[: rng.integers(1, len(blob))]
    elif how == "random":
        blob = rng.bytes(len(blob))
    elif how == "flip":  # one byte changed: the file may still unpickle
        k = int(rng.integers(len(blob)))
        blob = blob[:k] + bytes([blob[k] ^ int(rng.integers(1, 256))]) + blob[k + 1:]
    else:  # a file of another format (numba's own, or a later divergences)
        blob = b"\x80\x04K\x01." + blob[8:]
    path.write_bytes(blob)


@pytest.mark.parametrize("suffix", [".nbi", ".nbc"])
@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_damaged_cache_file_is_a_miss(cache_dir, suffix, how):
    """The issue's case: a truncated or overwritten .nbi/.nbc made every call raise
    UnpicklingError until deleted. Now: the right answer, one warning at most, and the
    next process finds a repaired cache (a hit, no warning)."""
    fresh_call(cache_dir)
    for path in cache_files(cache_dir, suffix):
        corrupt(path, how, np.random.default_rng(0))
    result, caught, _ = fresh_call(cache_dir)
    assert result == 90.0 and len(caught) <= 1
    _jit._warned = False
    assert fresh_call(cache_dir) == (90.0, [], 1)


@settings(max_examples=40)
@given(st.sampled_from([".nbi", ".nbc"]), st.sampled_from(CORRUPTIONS),
       st.integers(0, 2**32 - 1))
def test_any_damage_to_any_cache_file_property(suffix, how, seed):
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(numba.config, "CACHE_DIR", tmp)
        mp.setattr(_jit, "_warned", False)
        fresh_call(pathlib.Path(tmp))
        for path in cache_files(pathlib.Path(tmp), suffix):
            corrupt(path, how, np.random.default_rng(seed))
        result, caught, _ = fresh_call(pathlib.Path(tmp))
        assert result == 90.0 and len(caught) <= 1
        mp.setattr(_jit, "_warned", False)
        assert fresh_call(pathlib.Path(tmp)) == (90.0, [], 1)


def test_a_data_file_of_another_key_is_a_miss(cache_dir):
    """Two signatures, their data files swapped (a damaged index, or two processes
    saving at once): each still gets its own machine code."""
    disp = kernel(_weighted_sum)
    assert disp(X, 2.0) == 90.0 and disp(X.astype(np.int64), 2) == 90
    one, two = cache_files(cache_dir, ".nbc")
    blob_one, blob_two = one.read_bytes(), two.read_bytes()
    one.write_bytes(blob_two)
    two.write_bytes(blob_one)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = kernel(_weighted_sum)
        assert again(X, 2.0) == 90.0 and again(X.astype(np.int64), 2) == 90
    assert len([w for w in caught if issubclass(w.category, CacheWarning)]) == 1


def test_a_data_file_in_plain_numba_format_is_a_quiet_miss(cache_dir):
    """Files written before the checksummed format (same kernel source): recompiled and
    rewritten without a warning, as numba treats an index of another version."""
    fresh_call(cache_dir)
    (path,) = cache_files(cache_dir, ".nbc")
    path.write_bytes(path.read_bytes()[len(_jit._CheckedCacheFile._MAGIC) + 32:])
    assert fresh_call(cache_dir) == (90.0, [], 0)
    assert fresh_call(cache_dir) == (90.0, [], 1)


def test_a_cache_that_cannot_be_written_any_more(cache_dir, monkeypatch):
    """The directory was writable when the kernel was declared, not when it saves."""
    disp = kernel(_weighted_sum)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(disp._cache._cache_file, "_open_for_write", refuse)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert disp(X, 2.0) == 90.0 and disp(X.astype(np.float32), 2.0) == 90.0
    assert [w.category for w in caught] == [CacheWarning]
    assert "could not write the numba cache of _weighted_sum" in str(caught[0].message)


# --- in fresh processes, as a user meets it ---

PROBE = """
import json, sys, warnings
from numba.core.registry import CPUDispatcher
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import divergences
    from divergences import _jit
    from divergences._kernels import kljs
    value = divergences.kl({p}, {q})
print(json.dumps(dict(
    value=value, file=divergences.__file__,
    cache=type(kljs._kl_chunk._cache).__name__,
    hits=sum(sum(d.stats.cache_hits.values()) for name, m in list(sys.modules.items())
             if name.startswith("divergences._kernels.")
             for d in vars(m).values() if isinstance(d, CPUDispatcher)),
    warnings=[str(w.message) for w in caught if issubclass(w.category, _jit.CacheWarning)],
    other=[str(w.message) for w in caught
           if not issubclass(w.category, _jit.CacheWarning)])))
"""


def run_probe(cwd, env):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([sys.executable, "-c", PROBE.format(p=P, q=Q)], cwd=str(cwd),
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def unwritable(path):
    """True when nothing can be created at ``path`` (a directory numba would use)."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return True
    return False


def test_read_only_package_and_cache_dirs(tmp_path):
    """The issue's case: the package directory and every cache location read-only made
    ``import divergences`` fail ("cannot cache function ...: no locator available")."""
    copy = tmp_path / "site" / "divergences"
    shutil.copytree(pathlib.Path(divergences.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    cache_dir, user_cache = tmp_path / "numba-cache", tmp_path / "user-cache"
    packages = [pathlib.Path(d) for d, _, _ in os.walk(copy)]
    if os.geteuid() != 0:
        cache_dir.mkdir()
        user_cache.mkdir()
        for path in [*packages, cache_dir, user_cache]:
            path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    else:  # root writes through permissions: a regular file where each directory would be
        for package in packages:
            (package / "__pycache__").write_text("not a directory")
        cache_dir.write_text("not a directory")
        user_cache.write_text("not a directory")
    targets = [p / "__pycache__" for p in packages] + [cache_dir / "x", user_cache / "numba"]
    try:
        # so that the test cannot pass silently in a writable setting
        assert all(unwritable(p) for p in targets), "the setup is writable"
        out = run_probe(copy.parent, {"NUMBA_CACHE_DIR": str(cache_dir / "x"),
                                      "XDG_CACHE_HOME": str(user_cache),
                                      "HOME": str(user_cache)})
    finally:
        for path in packages + [cache_dir, user_cache]:
            if path.is_dir():
                path.chmod(stat.S_IRWXU)
    assert out["file"] == str(copy / "__init__.py")
    assert out["value"] == pytest.approx(KL_PQ, rel=1e-14, abs=0)
    assert out["cache"] == NullCache.__name__  # compiled without any cache
    assert len(out["warnings"]) == 1 and "no writable numba cache" in out["warnings"][0]
    assert out["other"] == []


def test_damaged_cache_files_in_a_fresh_process(tmp_path):
    """Every .nbi/.nbc of a cached ``kl`` damaged in turn (emptied, truncated, random
    bytes, one byte flipped), then ``kl`` in a fresh process: the right answer and one
    warning at most; the process after it finds the cache repaired."""
    env = {"NUMBA_CACHE_DIR": str(tmp_path)}
    first = run_probe(ROOT, env)
    assert first["value"] == pytest.approx(KL_PQ, rel=1e-14, abs=0)
    files = sorted(tmp_path.rglob("*.nb[ic]"))
    assert any(f.suffix == ".nbi" for f in files) and any(f.suffix == ".nbc" for f in files)
    rng = np.random.default_rng(1)
    for k, path in enumerate(files):
        corrupt(path, CORRUPTIONS[k % 4], rng)
    second = run_probe(ROOT, env)
    assert second["value"] == pytest.approx(KL_PQ, rel=1e-14, abs=0)
    assert len(second["warnings"]) <= 1 and second["other"] == []
    assert second["cache"] == _TolerantCache.__name__
    third = run_probe(ROOT, env)
    assert third["value"] == second["value"]
    assert first["hits"] == 0 and third["warnings"] == [] and third["hits"] > 0
