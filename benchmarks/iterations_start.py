"""Iteration counts of dense epsilon-scaling Sinkhorn solves from its two starts.

Not a timing benchmark (not in ``python -m benchmarks``). ``_run`` starts a dense solve
given the costs' minimum from ``f = min C``, ``g = 0`` (no pass over the costs: the first
``eps`` covers ``range(C)``), and otherwise from the row and column minima
(``hard_init``). This solves 120 random problems (fixed seeds: 5..60 points a side, cost
offsets 0, 100, -1e4, half with row offsets, reg/range 3e-3 and 3e-4, one thread) from both
and prints the total iterations, the problems not converged (``max_iter`` 20000, ``tol``
1e-10), how often the cheap start took more or fewer iterations, and the largest cost
difference over range(C) among problems both solved. The figure behind the docstring of
``divergences._entropic_solve._run``.

Run ``python benchmarks/iterations_start.py`` (about 30 s).
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from divergences._entropic_solve import _run, _schedule, _span  # noqa: E402


def main(count=120):
    total, missed = {"rows": 0, "min": 0}, {"rows": 0, "min": 0}
    more = fewer = 0
    worst = 0.0
    for seed in range(count):
        rng = np.random.default_rng(seed)
        n, m = rng.integers(5, 61, 2)
        x, y = rng.random((n, 2)), rng.random((m, 2))
        C = ((x[:, None] - y[None]) ** 2).sum(-1) + (0.0, 100.0, -1e4)[seed % 3]
        if seed % 2:
            C += 3.0 * rng.random(n)[:, None]
        a, b = rng.random(n) + 0.05, rng.random(m) + 0.05
        a, b = a / a.sum(), b / b.sum()
        lo, hi = C.min(), C.max()
        reg = (3e-3, 3e-4)[seed % 4 // 2] * (hi - lo)
        schedule = _schedule(reg, _span(lo, hi, reg))
        hard, cheap = (_run((C,), a, b, schedule, 1e-10, 20000, 1, None, start)
                       for start in (None, lo))
        total["rows"] += hard["n_iter"]
        total["min"] += cheap["n_iter"]
        missed["rows"] += not hard["converged"]
        missed["min"] += not cheap["converged"]
        more += cheap["n_iter"] > hard["n_iter"]
        fewer += cheap["n_iter"] < hard["n_iter"]
        if hard["converged"] and cheap["converged"]:
            worst = max(worst, abs(hard["cost"] - cheap["cost"]) / (hi - lo))
    print(f"{count} problems: iterations from the row/column minima {total['rows']} "
          f"({missed['rows']} not converged), from min C {total['min']} "
          f"({missed['min']} not converged); min C took more on {more}, fewer on {fewer}; "
          f"largest |cost difference| / range(C) {worst:.1e}")


if __name__ == "__main__":
    main()
