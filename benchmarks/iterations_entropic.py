"""Sinkhorn iteration counts by problem family: the over-relaxation controller vs plain.

Not a timing benchmark (not in ``python -m benchmarks``): it prints, per family, the total
number of iterations of ``sinkhorn(..., tol=1e-9)`` with the package's controller and with
over-relaxation off (``OMEGA_MAX = 1``), and the number of problems that did not converge.
It is the measurement behind the figures quoted in ``divergences/_kernels/sinkhorn.py``.

Families (fixed seeds): ``mixed``, 60 problems (uniform 2-D, Gaussian, uniform 5-D, small
Gaussian; 3 seeds x reg in {0.1, 0.02, 0.005, 1e-3, 2e-4} x max C); ``clusters``, 18
(three well-separated clusters, n = 94; reg in {0.05, 0.01, 0.003}); ``1d_l1``, 8 (|x - y| in
1-D, n = 100 vs 90; reg in {0.01, 0.003}); ``square``, 2 (unit square, n = 1000; reg 1e-3, 1e-4).

Run ``python benchmarks/iterations_entropic.py`` (about 10 s) or ``--quick``. Output on main:

    mixed      60 problems   relaxed   10337 iterations   plain  143641   ratio 0.07
    clusters   18 problems   relaxed    4856 iterations   plain   11654   ratio 0.42
    1d_l1       8 problems   relaxed    2944 iterations   plain   34817   ratio 0.08
    square      2 problems   relaxed    1123 iterations   plain   18767   ratio 0.06
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import ot

import divergences._entropic_solve as solve_layer
from divergences import sinkhorn


def _count(a, b, C, reg, max_iter=50_000):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sinkhorn(a, b, C, reg, max_iter=max_iter)
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


def main(quick=False):
    seeds = 1 if quick else None
    families = [("mixed", _mixed, 3), ("clusters", _clusters, 6), ("1d_l1", _line_l1, 4)]
    if not quick:
        families.append(("square", _square, 1))
    omega_max = solve_layer.OMEGA_MAX
    rows = []
    for name, gen, n_seeds in families:
        counts = {}
        for label, om in (("relaxed", omega_max), ("plain", 1.0)):
            solve_layer.OMEGA_MAX = om
            try:
                out = [_count(*problem) for problem in gen(seeds or n_seeds)]
            finally:
                solve_layer.OMEGA_MAX = omega_max
            counts[label] = (sum(n for n, _ in out), sum(not ok for _, ok in out), len(out))
        (r, r_bad, k), (p, p_bad, _) = counts["relaxed"], counts["plain"]
        rows.append(dict(family=name, problems=k, relaxed=r, relaxed_not_converged=r_bad,
                         plain=p, plain_not_converged=p_bad))
        print(f"{name:9s} {k:3d} problems   relaxed {r:7d} iterations ({r_bad} not converged)"
              f"   plain {p:7d} ({p_bad} not converged)   ratio {r / p:.2f}", flush=True)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed per family")
    main(quick=parser.parse_args().quick)
