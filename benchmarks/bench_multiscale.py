"""The multiscale exact solver (divergences.multiscale) against POT's ot.emd2 on the dense
cost: DOTmark images and uniform point clouds; time, peak memory, where the time goes.

Cases (issue 10):

* DOTmark 64x64 (J. Schrieber, D. Schuhmacher, C. Gottschlich, IEEE Access 5, 2017),
  images 1001 -> 1002 of every class: ``transport_grid(A, B, p=2)`` (cost = squared
  Euclidean distance of the pixels) and ``p=1`` (Euclidean), against ``ot.emd2`` on the
  dense cost (built untimed); the median speed-up over the classes is printed.
* DOTmark 128x128, every class, p=2 and p=1: our median time and the peak memory above
  the footprint (a fresh process: import, warm-up solve, then the solves; peak resident
  set minus the resident set before them). POT is not run (125-762 s, 6.4-10.9 GB per
  problem in the issue).
* Uniform clouds in the unit square, n = m = 10^4, p = 1 and 2: ours against ot.emd2,
  and our peak memory; n = m = 10^5 (ours only).
* Time against n (10^3 .. 10^5, p = 2) and where it goes: coarse solve, refinement,
  sparse solves, certificate checks.

Times are single runs after a warm-up (compilation excluded) unless stated; medians over
classes. ``--quick``: 32x32 DOTmark (3 classes) and n = 2000 clouds, seconds.
Usage: ``python benchmarks/bench_multiscale.py [--quick]``; ``main(quick)`` returns rows
``{case, ours_s, ref_name, ref_s, ratio}``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.bench_grid import CLASSES, _load  # noqa: E402


def _rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb():
    """Peak resident set of this process (VmHWM: per address space, so not inherited from
    the parent as ``ru_maxrss`` is across fork and exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak():
    """Start the peak resident set from now (Linux: ``clear_refs`` 5); best effort."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _cloud(n, seed):
    rng = np.random.default_rng(seed)
    return rng.random((n, 2)), rng.random((n, 2))


def _pixels(size):
    return np.stack(np.unravel_index(np.arange(size * size), (size, size)), 1).astype(float)


def _ours_cloud(x, y, p, stats=None):
    from divergences._kernels.cost import EUCLIDEAN
    from divergences.multiscale import transport_multiscale

    n, m = x.shape[0], y.shape[0]
    return transport_multiscale(x, y, np.full(n, 1 / n), np.full(m, 1 / m), float(p),
                                EUCLIDEAN, 2.0, 10**9, stats=stats)


def _worker(task):
    """In a fresh process: warm up, then solve; print times, costs and peak memory."""
    from divergences import transport_grid

    kind = task["kind"]
    if kind == "cloud":
        _ours_cloud(*_cloud(3000, 99), task["p"])  # warm-up
        x, y = _cloud(task["n"], task.get("seed", 0))
        base = _rss_mb()
        _reset_peak()
        stats = {}
        t0 = time.perf_counter()
        res = _ours_cloud(x, y, task["p"], stats)
        out = {"time": time.perf_counter() - t0, "cost": res.cost, "status": res.status,
               "stats": stats}
    else:  # dotmark: every class at task["size"]
        A, B = _load(CLASSES[0], 1001, 32), _load(CLASSES[0], 1002, 32)
        transport_grid(A, B, p=task["p"])  # warm-up
        base = _rss_mb()
        _reset_peak()
        out = {"times": {}, "status": {}}
        for cls in CLASSES:
            A, B = _load(cls, 1001, task["size"]), _load(cls, 1002, task["size"])
            t0 = time.perf_counter()
            res = transport_grid(A, B, p=task["p"])
            out["times"][cls] = time.perf_counter() - t0
            out["status"][cls] = res.status
            del res
    out["peak_above_mb"] = _peak_mb() - base
    out["footprint_mb"] = base
    print(json.dumps(out))


def _run_worker(task):
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker",
                           json.dumps(task)], capture_output=True, text=True, cwd=ROOT,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pot(a, b, cost):
    import ot

    t0 = time.perf_counter()
    val = ot.emd2(a, b, cost, numItermax=10**9)
    return time.perf_counter() - t0, float(val)


def _dotmark_vs_pot(size, classes, p, rows):
    from scipy.spatial.distance import cdist

    from divergences import transport_grid

    pix = _pixels(size)
    cost = cdist(pix, pix, "sqeuclidean" if p == 2 else "euclidean")
    transport_grid(_load(classes[0], 1001, size), _load(classes[0], 1002, size), p=p)
    ups = []
    for cls in classes:
        A, B = _load(cls, 1001, size), _load(cls, 1002, size)
        t0 = time.perf_counter()
        res = transport_grid(A, B, p=p)
        ours = time.perf_counter() - t0
        ref_s, ref = _pot(A.ravel() / A.sum(), B.ravel() / B.sum(), cost)
        ups.append(ref_s / ours)
        print(f"  DOTmark {size}x{size} p={p} {cls:17s} ours {ours:7.3f} s  POT {ref_s:7.2f} s"
              f"  x{ref_s / ours:6.1f}  rel. diff {abs(res.cost - ref) / ref:.1e} "
              f"{res.status}", flush=True)
        rows.append({"case": f"dotmark{size} p={p} {cls}", "ours_s": ours,
                     "ref_name": "ot.emd2", "ref_s": ref_s, "ratio": ref_s / ours})
    print(f"  DOTmark {size}x{size} p={p}: median speed-up over POT x{statistics.median(ups):.1f}"
          " (target >= 25)", flush=True)


def _clouds_vs_pot(n, p, rows, memory=True):
    from scipy.spatial.distance import cdist

    x, y = _cloud(n, 0)
    if memory:
        out = _run_worker({"kind": "cloud", "n": n, "p": p})
        ours, cost, mem = out["time"], out["cost"], out["peak_above_mb"]
    else:
        _ours_cloud(*_cloud(1000, 99), p)
        t0 = time.perf_counter()
        cost = _ours_cloud(x, y, p).cost
        ours, mem = time.perf_counter() - t0, float("nan")
    C = cdist(x, y, "sqeuclidean" if p == 2 else "euclidean")
    ref_s, ref = _pot(np.full(n, 1 / n), np.full(n, 1 / n), C)
    del C
    print(f"  uniform square n=m={n} p={p}: ours {ours:.2f} s (peak {mem:.0f} MB above "
          f"footprint)  POT {ref_s:.2f} s  x{ref_s / ours:.1f}  rel. diff "
          f"{abs(cost - ref) / ref:.1e}", flush=True)
    rows.append({"case": f"cloud n={n} p={p}", "ours_s": ours, "ref_name": "ot.emd2",
                 "ref_s": ref_s, "ratio": ref_s / ours})


def _scaling(sizes, p):
    print(f"  time against n (uniform square, p={p}; one run each, fresh process):")
    print("       n   total s  coarse  refine  solves  certif.  pivots    arcs(final)  rounds"
          "  peak MB")
    last = None
    for n in sizes:
        out = _run_worker({"kind": "cloud", "n": n, "p": p})
        st = out["stats"]
        slope = "" if last is None else (
            f"  slope {np.log(out['time'] / last[1]) / np.log(n / last[0]):.2f}")
        print(f"  {n:7d} {out['time']:8.2f} {st['coarse_s']:7.2f} {st['refine_s']:7.2f} "
              f"{st['solve_s']:7.2f} {st['certify_s']:8.2f} {st['pivots']:8d} "
              f"{st['arcs'][-1] if st['arcs'] else 0:12d}  {st['rounds']}  "
              f"{out['peak_above_mb']:6.0f}{slope}", flush=True)
        last = (n, out["time"])


def _dotmark_big(size):
    for p in (2, 1):
        out = _run_worker({"kind": "dotmark", "size": size, "p": p})
        times = out["times"]
        print(f"  DOTmark {size}x{size} p={p}: median {statistics.median(times.values()):.2f} s"
              f" (target <= 5), max {max(times.values()):.2f} s, peak "
              f"{out['peak_above_mb']:.0f} MB above the footprint of "
              f"{out['footprint_mb']:.0f} MB (target <= 300); statuses "
              f"{sorted(set(out['status'].values()))}", flush=True)
        print("   " + ", ".join(f"{k} {v:.2f}" for k, v in times.items()), flush=True)


def main(quick=False):
    rows = []
    if quick:
        for p in (2, 1):
            _dotmark_vs_pot(32, CLASSES[:3], p, rows)
        _clouds_vs_pot(2000, 2, rows, memory=False)
        return rows
    print("(the machine is shared with other jobs: times are noisy)")
    for p in (2, 1):
        _dotmark_vs_pot(64, CLASSES, p, rows)
    _dotmark_big(128)
    for p in (2, 1):
        _clouds_vs_pot(10_000, p, rows)
    for p in (2, 1):
        out = _run_worker({"kind": "cloud", "n": 100_000, "p": p})
        print(f"  uniform square n=m=100000 p={p}: {out['time']:.1f} s (target <= 180), peak "
              f"{out['peak_above_mb']:.0f} MB above footprint (target <= 1024), "
              f"{out['status']}", flush=True)
    _scaling([1000, 3000, 10_000, 30_000, 100_000], 2)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", default=None)
    args = parser.parse_args()
    if args.worker:
        _worker(json.loads(args.worker))
    else:
        main(quick=args.quick)
