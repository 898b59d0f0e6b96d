"""Benchmark: the vectorisable exp (``_kernels.fastexp.exp_block``) against numba's loop
over ``np.exp`` (libm's scalar exp per element) and against NumPy's ``np.exp``.

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
import time

import numba
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from divergences._jit import FASTMATH  # noqa: E402
from divergences._kernels.fastexp import exp_block  # noqa: E402

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


def median_time(f, repeat):
    f()  # warm-up: compilation, page faults
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def row(case, ours, ref_name, ref, repeat):
    ours_s = median_time(ours, repeat)
    ref_s = median_time(ref, repeat)
    return {"case": case, "ours_s": ours_s, "ref_name": ref_name, "ref_s": ref_s,
            "ratio": ref_s / ours_s}


def main(quick=False):
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores; > 0 means others compete)")
    rng = np.random.default_rng(0)
    n = 40_000 if quick else 4_000_000
    side = 200 if quick else 2000
    repeat = 3 if quick else 9
    x = rng.uniform(-100.0, 0.0, n)
    out = np.empty_like(x)
    # a Gibbs kernel exponent: -C / reg with C in [0, 1], reg = 0.01
    z = -rng.random((side, side)) / 0.01
    zout = np.empty_like(z)
    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(1)
    rows = [
        row(f"exp of {n} values, 1 thread", lambda: _ours(x, out),
            "numba loop of np.exp (libm)", lambda: _scalar(x, out), repeat),
        row(f"exp of {n} values, 1 thread", lambda: _ours(x, out),
            "np.exp(x, out=out)", lambda: np.exp(x, out=out), repeat),
    ]
    numba.set_num_threads(threads)
    rows.append(row(f"exp of a {side}x{side} matrix, rows in parallel ({threads} threads)",
                    lambda: _ours_rows(z, zout), "numba prange loop of np.exp",
                    lambda: _scalar_rows(z, zout), repeat))
    for r in rows:
        per = r["ours_s"] / (n if "values" in r["case"] else side * side) * 1e9
        print(f"{r['case']:<55} ours {r['ours_s'] * 1e3:8.3f} ms ({per:.2f} ns/value) | "
              f"{r['ref_name']:<28} {r['ref_s'] * 1e3:8.3f} ms | ratio {r['ratio']:5.2f}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke run)")
    main(quick=parser.parse_args().quick)
