"""Sinkhorn iteration counts by problem family: the over-relaxation controller vs plain,
and for unbalanced problems Anderson mixing (:mod:`divergences._anderson`) as well.

Not a timing benchmark (not in ``python -m benchmarks``): it prints, per family, the total
number of iterations of ``sinkhorn(..., tol=1e-9)`` with the package's controller and with
over-relaxation off (``OMEGA_MAX = 1``), and the number of problems that did not converge.
It is the measurement behind the figures quoted in ``divergences/_kernels/sinkhorn.py``.

Balanced families (fixed seeds): ``mixed``, 60 problems (uniform 2-D, Gaussian, uniform
5-D, small Gaussian; 3 seeds x reg in {0.1, 0.02, 0.005, 1e-3, 2e-4} x max C);
``clusters``, 18 (three well-separated clusters, n = 94; reg in {0.05, 0.01, 0.003});
``1d_l1``, 8 (|x - y| in 1-D, n = 100 vs 90; reg in {0.01, 0.003}); ``square``, 2 (unit
square, n = 1000; reg 1e-3, 1e-4).

Unbalanced families (``reg_m`` set; masses 1 vs 1.5 or 1 vs 1): ``u_mixed``, 96 (uniform
2-D, Gaussian, uniform 5-D, 1-D; n = 300; 2 seeds x reg in {0.1, 0.03, 0.01, 0.003} x
reg_m in {0.1, 1, 10}); ``u_clusters``, 24 (the clusters, reg {0.05, 0.01} x reg_m {0.1, 1,
10}); ``u_bench``, 4 (the problem of ``bench_unbalanced.py`` at n = 500 and 2000, reg 0.05
and 0.01, reg_m 1); ``u_small_reg``, 24 (n = 30 and 300, reg 3e-3..3e-4, reg_m 0.1 and 1).
Their row also gives the count with Anderson mixing at every size (``ANDERSON_MIN = 0``; the
solver uses it from 2^20 cost entries, one-stage solves only) and ``relaxed`` is then
over-relaxation alone.

Run ``python benchmarks/iterations_entropic.py`` (about 50 s) or ``--quick``. Output:

    mixed        60 problems   relaxed   10340 iterations (0 not converged)   plain  143640 ...
    clusters     18 problems   relaxed    4847 iterations (0 not converged)   plain   11654 ...
    1d_l1         8 problems   relaxed    2928 iterations (0 not converged)   plain   34818 ...
    square        2 problems   relaxed    1123 iterations (0 not converged)   plain   18767 ...
    u_mixed      96 problems   relaxed    3815   plain   13907 (0 not converged)   anderson 3046
    u_clusters   24 problems   relaxed    2442   plain   17701 (0 not converged)   anderson  520
    u_bench       4 problems   relaxed     128   plain     370 (0 not converged)   anderson   69
    u_small_reg  24 problems   relaxed    5856   plain   81212 (2 not converged)   anderson 5856

(``u_small_reg`` is solved with epsilon-scaling: Anderson mixing is not used there.)
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np
import ot

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import divergences._entropic_solve as solve_layer  # noqa: E402
from divergences import sinkhorn  # noqa: E402


def _count(a, b, C, reg, rho=None, max_iter=50_000):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sinkhorn(a, b, C, reg, max_iter=max_iter, reg_m=rho)
    return int(res.n_iter), bool(res.converged)


def _mixed(seeds):
    for kind in ("uniform", "gauss", "d5", "small"):
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            n = int(rng.integers(4, 15)) if kind == "small" else 300
            d = 5 if kind == "d5" else 2
            if kind in ("gauss", "small"):
                x, y = rng.normal(size=(n, d)), rng.normal(size=(n + 3, d)) + 0.5
            else:
                x, y = rng.random((n, d)), rng.random((n + 7, d))
            a, b = rng.random(len(x)) + 0.05, rng.random(len(y)) + 0.05
            C = ot.dist(x, y)
            for reg in (0.1, 0.02, 0.005, 1e-3, 2e-4):
                yield a, b, C / C.max(), reg


def _clusters(seeds):
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        c = rng.normal(size=(3, 2)) * 5
        x = c[rng.integers(0, 3, 94)] + rng.normal(size=(94, 2)) * 0.1
        y = c[rng.integers(0, 3, 94)] + rng.normal(size=(94, 2)) * 0.1
        a, b = rng.random(94) + 0.05, rng.random(94) + 0.05
        C = ot.dist(x, y)
        for reg in (0.05, 0.01, 0.003):
            yield a, b, C / C.max(), reg


def _line_l1(seeds):
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        x, y = rng.random(100), rng.random(90)
        a, b = rng.random(100) + 0.05, rng.random(90) + 0.05
        C = np.abs(x[:, None] - y[None, :])
        for reg in (0.01, 0.003):
            yield a, b, C / C.max(), reg


def _square(_):
    rng = np.random.default_rng(0)
    x, y = rng.random((1000, 2)), rng.random((1000, 2))
    C = ot.dist(x, y)
    a = np.full(1000, 1e-3)
    for reg in (1e-3, 1e-4):
        yield a, a.copy(), C / C.max(), reg


def _unbalanced_mixed(seeds):
    for kind in ("uniform", "gauss", "d5", "line"):
        for seed in range(seeds):
            rng = np.random.default_rng(100 + seed)
            n, d = 300, {"d5": 5, "line": 1}.get(kind, 2)
            if kind == "gauss":
                x, y = rng.normal(size=(n, d)), rng.normal(size=(n + 3, d)) + 0.5
            else:
                x, y = rng.random((n, d)), rng.random((n + 7, d)) + 0.1
            a, b = rng.random(len(x)) + 0.05, rng.random(len(y)) + 0.05
            a, b = a / a.sum(), b / b.sum() * (1.5 if seed % 2 == 0 else 1.0)
            C = ot.dist(x, y)
            for reg in (0.1, 0.03, 0.01, 0.003):
                for rho in (0.1, 1.0, 10.0):
                    yield a, b, C / C.max(), reg, rho


def _unbalanced_clusters(seeds):
    for a, b, C, reg in _clusters(seeds):
        if reg > 0.005:
            for rho in (0.1, 1.0, 10.0):
                yield a / a.sum(), b * 1.5 / b.sum(), C, reg, rho


def _unbalanced_bench(_):
    from benchmarks.bench_unbalanced import _problem

    for n in (500, 2000):
        a, b, C = _problem(n)
        for reg in (0.05, 0.01):
            yield a, b, C, reg, 1.0


def _unbalanced_small_reg(seeds):
    for seed in range(seeds):
        rng = np.random.default_rng(7 + seed)
        for n in (30, 300):
            x, y = rng.random((n, 2)), rng.random((n - 5, 2))
            C = ot.dist(x, y)
            a, b = rng.random(n) + 0.1, (rng.random(n - 5) + 0.1) * 3
            for reg in (3e-3, 1e-3, 3e-4):
                for rho in (0.1, 1.0):
                    yield a, b, C / C.max(), reg, rho


def _totals(gen, n_seeds, omega_max, anderson_min):
    solve_layer.OMEGA_MAX, solve_layer.ANDERSON_MIN = omega_max, anderson_min
    out = [_count(*problem) for problem in gen(n_seeds)]
    return sum(n for n, _ in out), sum(not ok for _, ok in out), len(out)


def main(quick=False):
    seeds = 1 if quick else None
    families = [("mixed", _mixed, 3), ("clusters", _clusters, 6), ("1d_l1", _line_l1, 4)]
    if not quick:
        families.append(("square", _square, 1))
    families += [("u_mixed", _unbalanced_mixed, 2), ("u_clusters", _unbalanced_clusters, 4),
                 ("u_bench", _unbalanced_bench, 1), ("u_small_reg", _unbalanced_small_reg, 2)]
    saved = solve_layer.OMEGA_MAX, solve_layer.ANDERSON_MIN
    omega_max = saved[0]
    rows = []
    try:
        for name, gen, n_seeds in families:
            unbalanced = name.startswith("u_")
            r, r_bad, k = _totals(gen, seeds or n_seeds, omega_max, np.inf)
            p, p_bad, _ = _totals(gen, seeds or n_seeds, 1.0, np.inf)
            row = dict(family=name, problems=k, relaxed=r, relaxed_not_converged=r_bad,
                       plain=p, plain_not_converged=p_bad)
            line = (f"{name:11s} {k:3d} problems   relaxed {r:7d} iterations ({r_bad} not "
                    f"converged)   plain {p:7d} ({p_bad} not converged)   ratio {r / p:.2f}")
            if unbalanced:
                an, an_bad, _ = _totals(gen, seeds or n_seeds, omega_max, 0)
                row.update(anderson=an, anderson_not_converged=an_bad)
                line += f"   anderson {an:7d} ({an_bad} not converged)"
            rows.append(row)
            print(line, flush=True)
    finally:
        solve_layer.OMEGA_MAX, solve_layer.ANDERSON_MIN = saved
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed per family")
    main(quick=parser.parse_args().quick)
