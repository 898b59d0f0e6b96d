"""``import divergences`` stays light: no kernel is compiled (``bench_information.py``
checks that), and the SciPy subpackages that only some paths need are imported where they
are used (scipy.special ~0.15 s, scipy.spatial ~0.07 s of every fresh process). scipy.sparse
is imported with the package: it brings the part of SciPy that numba's first compile needs
anyway (scipy._lib, through scipy.linalg), so that cost stays where it was."""

import subprocess
import sys

_PROBE = (
    "import sys, divergences;"
    "print(' '.join(m for m in ('scipy.special', 'scipy.spatial', 'scipy.stats',"
    " 'scipy.sparse.csgraph', 'pandas', 'dask', 'matplotlib') if m in sys.modules))"
)


def test_import_leaves_the_heavy_subpackages_alone():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == []


_COMPARE = (
    "import sys, threading, numpy as np, divergences;"
    "assert 'pandas' not in sys.modules;"
    "t = divergences.compare(np.arange(20.0)[:, None], np.arange(20.0)[:, None] + 1, test=None);"
    "print(type(t).__module__.split('.')[0],"
    " [th.name for th in threading.enumerate() if th.name == 'divergences-pandas'])"
)


def test_compare_imports_pandas_alongside_its_work_and_returns_a_dataframe():
    """In a fresh process ``compare`` starts importing pandas in a thread (overlapping the
    compilation of its first call: ~0.3-0.5 s of its 4.2-4.7 s), joins it, and returns a
    DataFrame; the thread is gone afterwards."""
    out = subprocess.run([sys.executable, "-c", _COMPARE], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.split() == ["pandas", "[]"]
