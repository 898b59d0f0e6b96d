"""``import divergences`` stays light: no kernel is compiled, and the heavy SciPy
subpackages are imported where they are used (each was tens of milliseconds of every
fresh process: scipy.special ~0.15 s, scipy.sparse ~0.08 s, scipy.spatial ~0.07 s), and a
sparse input is still recognised once the caller has scipy.sparse."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse

import divergences as D

_PROBE = (
    "import sys, divergences;"
    "print(' '.join(m for m in ('scipy.sparse', 'scipy.special', 'scipy.spatial',"
    " 'scipy.stats', 'pandas', 'dask', 'matplotlib') if m in sys.modules))"
)


def test_import_leaves_the_heavy_subpackages_alone():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == []


def test_sparse_inputs_are_still_recognised():
    a = np.full(3, 1 / 3)
    C = scipy.sparse.csr_array(np.ones((3, 3)) - np.eye(3))
    res = D.emd(a, a, C)  # the stored entries are the arcs (the diagonal is not stored)
    assert res.cost == pytest.approx(1.0)
    with pytest.raises(TypeError, match="scipy.sparse"):
        D.kl(scipy.sparse.csr_array(a[None]), a)
