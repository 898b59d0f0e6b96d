"""Exact OT: divergences.emd (numba network simplex) against POT's ot.emd2 (C++).

Problems: n = m random 2-D points in the unit square, Euclidean cost matrix (the same
array handed to both), random or uniform weights (uniform = highly degenerate LP).

Time: each case runs in a fresh subprocess: a warm-up solve of both on a small problem
(numba compilation / cache load excluded), then ``repeats`` solves alternating ours and
POT's (so that load from other processes hits both alike); medians are reported.

Memory: each (case, solver) in its own fresh subprocess: after the inputs exist and the
warm-up ran, the kernel's peak-RSS counter is reset (``echo 5 > /proc/self/clear_refs``)
and one solve runs; ``peak_mb`` = VmHWM after the solve minus VmRSS before it, i.e. the
extra resident memory the solve needed at its peak (the plan included: both build a dense
(n, m) plan). Linux only; ``nan`` elsewhere.

Usage: ``python benchmarks/bench_exact.py [--quick]``. ``main(quick)`` returns rows
``{case, ours_s, ref_name, ref_s, ratio, ours_peak_mb, ref_peak_mb, mem_ratio}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = r"""
import json, statistics, sys, time
import numpy as np
from scipy.spatial.distance import cdist

def status():
    out = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS", "VmHWM")):
                    key, val = line.split(":")
                    out[key] = int(val.split()[0]) / 1024.0
    except OSError:
        pass
    return out

mode, n, weights, repeats = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rng = np.random.default_rng(n)
x, y = rng.random((n, 2)), rng.random((n, 2))
cost = cdist(x, y)
if weights == "uniform":
    a = np.full(n, 1.0 / n)
    b = np.full(n, 1.0 / n)
else:
    a, b = rng.random(n), rng.random(n)
    a, b = a / a.sum(), b / b.sum()
solvers = {}
if mode in ("time", "ours"):
    from divergences import emd
    solvers["ours"] = lambda a, b, c: emd(a, b, c).cost
if mode in ("time", "pot"):
    import ot
    solvers["pot"] = lambda a, b, c: ot.emd2(a, b, c, numItermax=10**8)
# warm-up on a small problem: compilation or cache load excluded from time and memory
small = slice(0, 20)
for run in solvers.values():
    run(a[small] / a[small].sum(), b[small] / b[small].sum(), cost[small, small])
if mode == "time":  # interleaved, so that load from other processes hits both alike
    times = {"ours": [], "pot": []}
    values = {}
    for _ in range(repeats):
        for name, run in solvers.items():
            t0 = time.perf_counter()
            values[name] = float(run(a, b, cost))
            times[name].append(time.perf_counter() - t0)
    print(json.dumps({name: {"time": statistics.median(t), "value": values[name]}
                      for name, t in times.items()}))
else:  # one solve in a fresh process: the extra peak resident memory it needs
    before = status().get("VmRSS", float("nan"))
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        before = float("nan")
    solvers[mode](a, b, cost)
    print(json.dumps({"peak_mb": status().get("VmHWM", float("nan")) - before}))
"""


def _run(mode, n, weights, repeats=1):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(n), weights, str(repeats)],
        capture_output=True, text=True, check=True, env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(quick=False):
    sizes = [(200, 5), (400, 5)] if quick else [(1000, 7), (2000, 5), (4000, 3)]
    rows = []
    header = (f"{'case':<22}{'ours_s':>9}{'ot.emd2_s':>11}{'ratio':>7}"
              f"{'ours_MB':>9}{'pot_MB':>8}{'mem':>6}  |rel cost diff|")
    print(header)
    for n, repeats in sizes:
        for weights in ("random", "uniform"):
            timed = _run("time", n, weights, repeats)
            ours, ref = timed["ours"], timed["pot"]
            ours_mb = _run("ours", n, weights)["peak_mb"]
            ref_mb = _run("pot", n, weights)["peak_mb"]
            row = {
                "case": f"emd n=m={n} {weights}",
                "ours_s": ours["time"],
                "ref_name": "ot.emd2",
                "ref_s": ref["time"],
                "ratio": ours["time"] / ref["time"],
                "ours_peak_mb": ours_mb,
                "ref_peak_mb": ref_mb,
                "mem_ratio": ours_mb / ref_mb,
            }
            diff = abs(ours["value"] - ref["value"]) / abs(ref["value"])
            rows.append(row)
            print(f"{row['case']:<22}{row['ours_s']:>9.3f}{row['ref_s']:>11.3f}"
                  f"{row['ratio']:>7.2f}{row['ours_peak_mb']:>9.1f}{row['ref_peak_mb']:>8.1f}"
                  f"{row['mem_ratio']:>6.2f}  {diff:.1e}", flush=True)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke run)")
    main(quick=parser.parse_args().quick)
