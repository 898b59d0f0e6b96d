"""Unbalanced entropic OT: ``sinkhorn(..., reg_m=)`` against POT, side by side (ratios printed).

Problem: n = m points uniform in the unit square (the target cloud shifted by 0.2), squared
Euclidean cost scaled to max 1, weights uniform with masses 1 and 1.5, ``reg_m = 1``.

Ours: ``sinkhorn(a, b, C, reg, reg_m=1, tol=1e-9)``, stopping on the relative residual of
the first-order conditions (``marginal_error``). POT: ``ot.unbalanced.sinkhorn_unbalanced``
with ``method="sinkhorn"`` (kernel domain) and ``"sinkhorn_stabilized"``, ``stopThr=1e-9``:
POT stops on the relative change of its scalings between iterations, a different rule, so
each row also reports the *same* residual measured on both returned plans (``ours_err``,
``ref_err``; potentials recovered from POT's ``log["logu"]``, ``log["logv"]``) and the
largest plan difference. POT's stabilised variant checks its rule every 10 iterations.

Run ``python benchmarks/bench_unbalanced.py`` (n = 2000, reg = 0.05 and 0.01) or
``--quick`` (n = 200: seconds). Both solvers are timed alternately, each timed call after
untimed calls of the same solver (``bench_entropic._time_settled``: POT's BLAS threads spin
after a call), medians of the timed calls.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import numba
import numpy as np
import ot

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_entropic import _time, _time_settled  # noqa: E402
from divergences import sinkhorn  # noqa: E402

RHO = 1.0


def _problem(n, seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((n, 2)) + np.array([0.2, 0.0])
    C = ot.dist(x, y)
    C /= C.max()
    return np.full(n, 1.0 / n), np.full(n, 1.5 / n), C


def _residual(P, f, g, a, b, rho):
    """The relative first-order residual (``marginal_error`` of an unbalanced solve)."""
    if not (np.isfinite(P).all() and np.isfinite(f).all() and np.isfinite(g).all()):
        return float("nan")
    r, c = P.sum(axis=1), P.sum(axis=0)
    return float(np.abs(r * np.exp(f / rho) - a).sum() / a.sum()
                 + np.abs(c * np.exp(g / rho) - b).sum() / b.sum())


def _pot(a, b, C, reg, method):
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        P, log = ot.unbalanced.sinkhorn_unbalanced(a, b, C, reg, RHO, method=method,
                                                   stopThr=1e-9, numItermax=100_000, log=True)
    return P, log, [str(w.message)[:60] for w in caught]


def cases(n, regs, repeat):
    rows = []
    for reg in regs:
        a, b, C = _problem(n)
        res = sinkhorn(a, b, C, reg, reg_m=RHO)  # warm-up (compilation)
        for method, label in (("sinkhorn", "kernel"), ("sinkhorn_stabilized", "stabilised")):
            ours_t, ref_t = [], []
            for _ in range(repeat if method == "sinkhorn" else max(1, repeat // 2)):
                t, res = _time_settled(sinkhorn, a, b, C, reg, reg_m=RHO, tol=1e-9)
                ours_t.append(t)
                t, (P, log, warns) = _time(_pot, 1, a, b, C, reg, method)
                ref_t.append(t)
            ours_s, ref_s = float(np.median(ours_t)), float(np.median(ref_t))
            ref_err = _residual(P, reg * log["logu"], reg * log["logv"], a, b, RHO)
            rows.append(dict(
                case=f"unbalanced sinkhorn n={n} reg={reg:g} reg_m={RHO:g} "
                     f"({numba.get_num_threads()} numba threads)",
                ours_s=ours_s, ref_name=f"ot.unbalanced.sinkhorn_unbalanced ({label})",
                ref_s=ref_s, ratio=ref_s / ours_s, ours_iter=int(res.n_iter),
                ref_iter=len(log["err"]) * (10 if method != "sinkhorn" else 1),
                ours_err=res.marginal_error, ref_err=ref_err,
                plan_diff=float(np.abs(res.plan - P).max()) if np.isfinite(P).all()
                else float("nan"), ref_warnings=warns[:1]))
    return rows


def main(quick=False):
    rows = cases(200, (0.05, 0.01), repeat=3) if quick else cases(2000, (0.05, 0.01), 5)
    for r in rows:
        print(f"{r['case']}: ours {r['ours_s'] * 1e3:.1f} ms ({r['ours_iter']} it, residual "
              f"{r['ours_err']:.1e}) | {r['ref_name']} {r['ref_s'] * 1e3:.1f} ms "
              f"(~{r['ref_iter']} it, residual {r['ref_err']:.1e}) | speed-up "
              f"{r['ratio']:.1f}x | max plan diff {r['plan_diff']:.1e}"
              + (f" | POT warned: {r['ref_warnings'][0]}" if r["ref_warnings"] else ""))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 200 (seconds)")
    main(quick=parser.parse_args().quick)
