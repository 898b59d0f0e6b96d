"""Entropic OT: divergences.sinkhorn against POT, side by side (ratios printed).

Problem: n = m points uniform in the unit square, squared Euclidean cost scaled to max 1,
uniform weights. Ours: ``sinkhorn(a, b, C, reg, tol=1e-9)``, stopping on the L1 marginal
error ``||P1 - a||_1 + ||P^T 1 - b||_1 <= 1e-9``. POT: ``ot.sinkhorn2(..., stopThr=1e-9)``,
which stops on the L2 norm of the column-marginal error (checked every 10 iterations), a
weaker criterion: the final L1 marginal error of both is printed for the record.

Run ``python benchmarks/bench_entropic.py`` (full) or ``--quick`` (CI smoke, tiny sizes).
Set NUMBA_NUM_THREADS to compare thread counts: on a loaded machine (other processes on
every core) parallel sweeps lose much more to synchronisation than single-threaded code.
``--multi`` runs only the several-targets case (n = m = 1000, K = 16, reg = 0.05; ``--reg
0.005`` for the epsilon-scaling row of the full run). The script imports the package of the
checkout it lives in: a copy in a ``git worktree`` of another commit times that commit.
``--memory`` (adds the online case: n = m = 20,000 in 2-D, peak RSS (VmHWM) measured in a
subprocess).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numba
import numpy as np
import ot

# the checkout this script lives in (``python /path/to/checkout/benchmarks/bench_entropic.py``
# measures that checkout: an A/B against another commit is a git worktree away)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from divergences import sinkhorn  # noqa: E402

#: see :func:`_time_settled`.
SETTLE_S = 0.15


def _time(fn, repeat, *args, **kwargs):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def _time_settled(fn, *args, **kwargs):
    """Untimed calls of ``fn`` for at least :data:`SETTLE_S`, then one timed call.

    When two solvers alternate, each would otherwise start while the other's idle worker
    threads still hold the cores: OpenBLAS's workers (POT's matrix-vector products) spin for
    about 0.1 s after a call, and numba's threads running next on the 2 cores lose most of
    their time to them (measured: our reg=0.05 solve took 34 ms after itself, 99 ms right
    after ``ot.sinkhorn``, 44 ms with ``OPENBLAS_NUM_THREADS=1``). The untimed calls let the
    solver under test run as in a loop of calls to one library.
    """
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < SETTLE_S:
        fn(*args, **kwargs)
    return _time(fn, 1, *args, **kwargs)


def _problem(n, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((n, 2)) + np.array([shift, 0.0])
    C = ot.dist(x, y)
    C /= C.max()
    a = np.full(n, 1.0 / n)
    return a, a.copy(), C


def _l1_error(P, a, b):
    if not np.isfinite(P).all():
        return float("nan")
    return float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())


def _pot(a, b, C, reg, method):
    with warnings.catch_warnings(record=True) as w, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        P = ot.sinkhorn(a, b, C, reg, method=method, stopThr=1e-9, numItermax=100_000)
    return P, [str(x.message)[:60] for x in w]


def dense_cases(n, regs, repeat, log_ref=True, shift=0.0):
    """Ours and POT's kernel-domain solver timed alternately (load noise hits both alike),
    each timed call right after an untimed call of the same solver (:func:`_time_settled`)."""
    rows = []
    for reg in regs:
        a, b, C = _problem(n, shift=shift)
        sinkhorn(a, b, C, reg)  # warm-up (compilation, caches)
        ours_t, ref_t = [], []
        for _ in range(repeat):
            t, res = _time_settled(sinkhorn, a, b, C, reg, tol=1e-9)
            ours_t.append(t)
            t, kernel_out = _time_settled(_pot, a, b, C, reg, "sinkhorn")
            ref_t.append(t)
        ours_s = float(np.median(ours_t))
        refs = [("ot.sinkhorn2 (kernel)", float(np.median(ref_t)), kernel_out)]
        if log_ref:
            t, log_out = _time(_pot, 1, a, b, C, reg, "sinkhorn_log")
            refs.append(("ot.sinkhorn2 (sinkhorn_log)", t, log_out))
        for name, ref_s, (P, warns) in refs:
            ok = bool(np.isfinite(P).all() and _l1_error(P, a, b) < 1e-6 and not warns)
            ref_cost = float(np.sum(P * C)) if np.isfinite(P).all() else float("nan")
            where = f" clouds {shift:g} apart" if shift else ""
            where += f" ({numba.get_num_threads()} numba threads)"
            rows.append(dict(case=f"sinkhorn n={n} reg={reg:g}{where}", ours_s=ours_s,
                             ref_name=name,
                             ref_s=ref_s, ratio=ours_s / ref_s, ours_iter=int(res.n_iter),
                             ours_err=res.marginal_error, ours_converged=bool(res.converged),
                             ref_err=_l1_error(P, a, b), ref_ok=ok,
                             cost_diff=abs(res.cost - ref_cost), ref_warnings=warns[:1]))
    return rows


def multi_cases(n, nt, reg, repeat):
    """``b`` of shape (m, nt): the shared-kernel path vs nt single solves vs POT's
    kernel-domain ``ot.sinkhorn(a, B, C, reg)`` (which also shares one kernel; it returns the
    nt costs, not the plans). Targets: random positive histograms on the same points."""
    a, _, C = _problem(n)
    B = np.random.default_rng(1).random((n, nt)) + 0.05
    B /= B.sum(axis=0)
    cols = [np.ascontiguousarray(B[:, k]) for k in range(nt)]

    def singles():
        return [sinkhorn(a, c, C, reg, tol=1e-9) for c in cols]

    def pot():
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return ot.sinkhorn(a, B, C, reg, stopThr=1e-9, numItermax=100_000)

    sinkhorn(a, B[:, :2], C, reg)  # warm-up (compilation)
    singles()
    pot()
    t_sh, t_si, t_pot = [], [], []
    for _ in range(repeat):  # alternated (load noise hits all three alike), settled
        t, res = _time_settled(sinkhorn, a, B, C, reg, tol=1e-9)
        t_sh.append(t)
        t, ones = _time_settled(singles)
        t_si.append(t)
        t, pot_costs = _time_settled(pot)
        t_pot.append(t)
    from divergences._entropic_batch import _LAST_BATCH
    sh, si, po = (float(np.median(t)) for t in (t_sh, t_si, t_pot))
    case = f"sinkhorn n=m={n} K={nt} targets reg={reg:g} ({numba.get_num_threads()} threads)"
    extra = dict(shared=_LAST_BATCH["shared"], fallback=len(_LAST_BATCH["fallback"]),
                 converged=bool(res.converged.all()), max_err=float(res.marginal_error.max()),
                 max_cost_diff_vs_singles=float(max(abs(res.cost[k] - ones[k].cost)
                                                    for k in range(nt))),
                 max_cost_diff_vs_pot=float(np.max(np.abs(res.cost - pot_costs))))
    return [dict(case=case + " shared", ours_s=sh, ref_name=f"{nt} single sinkhorn (ours)",
                 ref_s=si, ratio=sh / si, **extra),
            dict(case=case + " shared", ours_s=sh, ref_name="ot.sinkhorn(a, B) (kernel)",
                 ref_s=po, ratio=sh / po),
            dict(case=case + " singles", ours_s=si, ref_name="ot.sinkhorn(a, B) (kernel)",
                 ref_s=po, ratio=si / po)]


_CHILD = """
import sys, time, json
import numpy as np
from divergences import transport
n, reg, online, reps = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4])
rng = np.random.default_rng(0)
x, y = rng.random((n, 2)), rng.random((n, 2))
transport(x[:50], y[:50], p=2, method="sinkhorn", reg=reg, online=online)  # warm-up
times = []
for _ in range(reps):
    t0 = time.perf_counter()
    res = transport(x, y, p=2, method="sinkhorn", reg=reg, online=online)
    times.append(time.perf_counter() - t0)
# VmHWM: this process's own peak RSS (ru_maxrss would include the parent's, kept over exec)
with open("/proc/self/status") as fh:
    rss = [int(l.split()[1]) / 1024 for l in fh if l.startswith("VmHWM")][0]
print(json.dumps(dict(time=float(np.median(times)), n_iter=int(res.n_iter), rss_mb=rss,
                      converged=bool(res.converged), cost=res.cost)))
"""


def _child(n, reg, online, reps=1):
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(reg), str(int(online)),
                          str(reps)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory_cases(n_big=20_000, n_both=3000):
    # max C for points in the unit square: the largest squared distance, computed in chunks
    rng = np.random.default_rng(0)
    x, y = rng.random((n_big, 2)), rng.random((n_big, 2))
    cmax = max(float(ot.dist(x[i:i + 500], y).max()) for i in range(0, n_big, 500))
    reg = 0.1 * cmax
    big = _child(n_big, reg, True)
    rows = [dict(case=f"online n=m={n_big} reg=0.1*max(C) peak RSS {big['rss_mb']:.0f} MB "
                 f"(dense C alone: {n_big * n_big * 8 / 1e9:.1f} GB)", ours_s=big["time"],
                 ref_name="-", ref_s=float("nan"), ratio=float("nan"),
                 ours_iter=big["n_iter"], ours_converged=big["converged"],
                 rss_mb=big["rss_mb"])]
    on = _child(n_both, reg, True, reps=3)
    de = _child(n_both, reg, False, reps=3)
    rows.append(dict(case=f"per iteration n=m={n_both}: online vs dense",
                     ours_s=on["time"] / on["n_iter"], ref_name="dense (ours)",
                     ref_s=de["time"] / de["n_iter"],
                     ratio=(on["time"] / on["n_iter"]) / (de["time"] / de["n_iter"]),
                     online_rss_mb=on["rss_mb"], dense_rss_mb=de["rss_mb"],
                     n_iter=(on["n_iter"], de["n_iter"])))
    return rows


def main(quick=False, memory=False, multi=False, reg=0.05):
    if multi:
        rows = multi_cases(200, 4, reg, repeat=3) if quick else multi_cases(1000, 16, reg, 7)
    elif quick:
        rows = dense_cases(200, (0.05, 0.01, 1e-3), repeat=3)
        rows += dense_cases(200, (1e-4,), repeat=3, log_ref=False, shift=1.5)
        rows += multi_cases(200, 4, 0.05, repeat=3)
    else:
        rows = dense_cases(2000, (0.05, 0.01), repeat=5)
        rows += dense_cases(2000, (1e-3,), repeat=3, log_ref=False)
        # separated clouds: whole rows of exp(-C/reg) underflow, POT's kernel domain breaks
        rows += dense_cases(2000, (1e-4,), repeat=3, log_ref=False, shift=1.5)
        rows += multi_cases(1000, 16, 0.05, repeat=5)
        rows += multi_cases(1000, 16, 0.005, repeat=3)  # shared kernel under eps-scaling
    if memory:
        rows += memory_cases()
    for r in rows:
        print(r)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke run)")
    parser.add_argument("--memory", action="store_true", help="add the online memory case")
    parser.add_argument("--multi", action="store_true", help="only the several-targets case")
    parser.add_argument("--reg", type=float, default=0.05, help="reg of --multi")
    args = parser.parse_args()
    main(quick=args.quick, memory=args.memory, multi=args.multi, reg=args.reg)
