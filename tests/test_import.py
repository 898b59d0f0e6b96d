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
