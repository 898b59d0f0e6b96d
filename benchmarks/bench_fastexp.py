"""Benchmark: the vectorisable exp (``_kernels.fastexp``) against numba's loop over
``np.exp`` (libm's scalar exp per element) and against NumPy's ``np.exp``.

Two input ranges, since glibc's exp is about twice as slow for large ``|x|``: uniform in
``[-100, 0]`` (a Gibbs kernel ``-C / reg``: libm's fast path) and in ``[-700, 700]``.
Run ``python benchmarks/bench_fastexp.py`` (4M values, a 2000 x 2000 matrix) or
``--quick`` (tiny sizes, a CI smoke run). Fixed seed; each timing is the median of
several runs after a warm-up call (compilation excluded). Each row: case, ours_s,
ref_name, ref_s, ratio (= ref/ours, > 1 means we are faster). The compared loops are
compiled here with the package's flags but without the on-disk cache (a cached caller
would not see a change of the kernel it inlines).
"""

import argparse
import os
import sys

import numba
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks._timing import timed_row as row  # noqa: E402
from divergences._jit import FASTMATH  # noqa: E402
from divergences._kernels.fastexp import exp_block, exp_inplace  # noqa: E402

_OPTS = dict(nogil=True, error_model="numpy", fastmath=set(FASTMATH))


@numba.njit(**_OPTS)
def _ours(x, out):
    exp_block(x, x.shape[0], out)


@numba.njit(**_OPTS)
def _scalar(x, out):
    for k in range(x.shape[0]):
        out[k] = np.exp(x[k])


@numba.njit(parallel=True, **_OPTS)
def _ours_rows(z, out):
    for i in numba.prange(z.shape[0]):
        exp_block(z[i], z.shape[1], out[i])


@numba.njit(parallel=True, **_OPTS)
def _scalar_rows(z, out):
    for i in numba.prange(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = np.exp(z[i, j])


def main(quick=False):
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores; > 0 means others compete)")
    rng = np.random.default_rng(0)
    n = 40_000 if quick else 4_000_000
    side = 200 if quick else 2000
    repeat = 3 if quick else 9
    gibbs = rng.uniform(-100.0, 0.0, n)
    wide = rng.uniform(-700.0, 700.0, n)
    out = np.empty(n)
    work = np.empty(n)
    # a Gibbs kernel exponent: -C / reg with C in [0, 1], reg = 0.01
    z = -rng.random((side, side)) / 0.01
    zout = np.empty_like(z)
    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(1)
    rows = []
    for name, x in [("[-100, 0]", gibbs), ("[-700, 700]", wide)]:
        rows.append(row(f"exp of {n} values in {name}, 1 thread", lambda x=x: _ours(x, out),
                        "numba loop of np.exp (libm)", lambda x=x: _scalar(x, out), repeat))
        rows.append(row(f"exp of {n} values in {name}, 1 thread", lambda x=x: _ours(x, out),
                        "np.exp(x, out=out)", lambda x=x: np.exp(x, out=out), repeat))

    def inplace():  # the copy is included on both sides
        np.copyto(work, gibbs)
        exp_inplace(work, n)

    def np_inplace():
        np.copyto(work, gibbs)
        np.exp(work, out=work)

    rows.append(row(f"exp_inplace of {n} values in [-100, 0] (+ a copy), 1 thread", inplace,
                    "np.exp(x, out=x) (+ a copy)", np_inplace, repeat))
    rows.append(row(f"exp of a {side}x{side} matrix by rows, 1 thread",
                    lambda: _ours_rows(z, zout), "numba loop of np.exp",
                    lambda: _scalar_rows(z, zout), repeat))
    numba.set_num_threads(threads)
    rows.append(row(f"exp of a {side}x{side} matrix by rows, {threads} threads",
                    lambda: _ours_rows(z, zout), "numba prange loop of np.exp",
                    lambda: _scalar_rows(z, zout), repeat))
    for r in rows:
        per = r["ours_s"] / n * 1e9
        print(f"{r['case']:<62} ours {r['ours_s'] * 1e3:8.3f} ms ({per:.2f} ns/value) | "
              f"{r['ref_name']:<28} {r['ref_s'] * 1e3:8.3f} ms | ratio {r['ratio']:5.2f}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke run)")
    main(quick=parser.parse_args().quick)
