"""Benchmark: information divergences against SciPy/NumPy, side by side, one run.

Run ``python benchmarks/bench_information.py`` (full sizes) or ``--quick`` (tiny sizes,
a CI smoke run). Fixed seeds; each timing is the median of several runs after a warm-up
call (compilation excluded). Each row: case, ours_s, ref_name, ref_s, ratio (= ref/ours,
> 1 means we are faster).

Also measured, in fresh subprocesses with an empty then a warm ``NUMBA_CACHE_DIR``:
``import divergences`` time and the number of compiled signatures right after it (must be
0), and the time of the first ``kl`` call (cold: compiles; warm: loaded from the cache).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numba
import numpy as np
from scipy.spatial.distance import cdist, jensenshannon
from scipy.stats import entropy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import divergences as dv  # noqa: E402
from benchmarks._timing import timed_row as row  # noqa: E402

_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import divergences
t_import = time.perf_counter() - t0
from divergences._kernels import elementwise, fastlog, pairwise, scan
compiled = sum(len(getattr(obj, "signatures", ()))
               for mod in (elementwise, fastlog, pairwise, scan) for obj in vars(mod).values())
import numpy as np
p = np.random.default_rng(0).random(1000)
t0 = time.perf_counter()
divergences.kl(p, p[::-1])
t_first = time.perf_counter() - t0
t0 = time.perf_counter()
divergences.kl(p, p[::-1])
t_second = time.perf_counter() - t0
print(json.dumps({"import_s": t_import, "compiled_after_import": compiled,
                  "first_kl_s": t_first, "second_kl_s": t_second}))
"""


def fresh_process_times():
    """(cold, warm): probes in new processes with an empty, then a filled, numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=ROOT)
        runs = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", _PROBE], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def main(quick=False):
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores; > 0 means others compete)")
    rng = np.random.default_rng(0)
    n = 10_000 if quick else 10_000_000
    repeat = 3 if quick else 7
    p, q = rng.random(n), rng.random(n)
    p[rng.random(n) < 0.1] = 0.0
    rows = [
        row(f"kl, {n} bins", lambda: dv.kl(p, q), "scipy.stats.entropy(p, q)",
            lambda: entropy(p, q), repeat),
        row(f"js, {n} bins", lambda: dv.js(p, q), "jensenshannon(p, q)**2",
            lambda: jensenshannon(p, q) ** 2, repeat),
        row(f"tv, {n} bins", lambda: dv.tv(p, q), "0.5*np.abs(p-q).sum()",
            lambda: 0.5 * np.abs(p - q).sum(), repeat),
    ]
    # the same with one thread: what a core alone gives (and robust when others load the
    # machine: a parallel region waits for its slowest thread)
    numba.set_num_threads(1)
    for case, f, ref_name, ref in [
        (f"kl, {n} bins, 1 thread", lambda: dv.kl(p, q), "scipy.stats.entropy(p, q)",
         lambda: entropy(p, q)),
        (f"js, {n} bins, 1 thread", lambda: dv.js(p, q), "jensenshannon(p, q)**2",
         lambda: jensenshannon(p, q) ** 2),
        (f"tv, {n} bins, 1 thread", lambda: dv.tv(p, q), "0.5*np.abs(p-q).sum()",
         lambda: 0.5 * np.abs(p - q).sum()),
    ]:
        rows.append(row(case, f, ref_name, ref, repeat))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    N, bins = (60, 32) if quick else (1000, 256)
    X = rng.random((N, bins))
    rows.append(row(f"pairwise js, {N}x{bins}", lambda: dv.pairwise(X, metric="js"),
                    'cdist(X, X, "jensenshannon")',
                    lambda: cdist(X, X, "jensenshannon"), 1 if not quick else 3))
    B = 100 if quick else 10_000
    P, Q = rng.random((B, 256)), rng.random((B, 256))
    rows.append(row(f"kl batched, {B}x256", lambda: dv.kl(P, Q),
                    "entropy(P, Q, axis=1)", lambda: entropy(P, Q, axis=1), repeat))
    for r in rows:
        print(f"{r['case']:<30} ours {r['ours_s'] * 1e3:9.2f} ms   {r['ref_name']:<30}"
              f" {r['ref_s'] * 1e3:9.2f} ms   ratio {r['ratio']:6.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    cold, warm = fresh_process_times()
    print(f"import divergences: {cold['import_s'] * 1e3:.0f} ms (cold cache), "
          f"{warm['import_s'] * 1e3:.0f} ms (warm); compiled signatures after import: "
          f"{cold['compiled_after_import']}")
    print(f"first kl call in a fresh process: {cold['first_kl_s']:.2f} s with an empty numba "
          f"cache (compiles), {warm['first_kl_s'] * 1e3:.1f} ms with a warm cache; "
          f"second call {warm['second_kl_s'] * 1e3:.2f} ms")
    rows.append({"case": "first kl call, fresh process", "ours_s": warm["first_kl_s"],
                 "ref_name": "same, empty numba cache", "ref_s": cold["first_kl_s"],
                 "ratio": cold["first_kl_s"] / warm["first_kl_s"]})
    rows.append({"case": "import divergences", "ours_s": warm["import_s"],
                 "ref_name": "compiled signatures after import",
                 "ref_s": float(cold["compiled_after_import"]), "ratio": float("nan")})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke run)")
    main(quick=parser.parse_args().quick)
