"""Gradients and the WGAN critic: what they cost next to the solve they come from.

Rows: ``TransportResult.gradient("x")`` after an exact / Sinkhorn solve (reference: the
solve itself, so the ratio is solve time / gradient time), the gradients of
``sliced_wasserstein`` and ``sinkhorn_divergence`` (reference: the same call without
``return_gradient``), and ``wgan_critic`` on 1000 2-D points (500 + 500; reference: the
exact W1 by the network simplex). Fixed seeds, warm-up excluded, medians.
"""

from __future__ import annotations

import numpy as np

from benchmarks._timing import median_time, row, timed_row


def main(quick=False):
    from divergences import sinkhorn_divergence, sliced_wasserstein, transport
    from divergences.evaluation import wgan_critic

    rng = np.random.default_rng(0)
    n = 300 if quick else 1000
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) + [1.0, 0.5]
    repeat = 3 if quick else 5
    rows = []
    for method, kw in (("exact", {}), ("sinkhorn", {"reg": 0.1})):
        res = transport(x, y, method=method, **kw)
        rows.append(timed_row(f"gradient('x') after {method}, n={n}",
                              lambda res=res: res.gradient("x"), f"{method} solve",
                              lambda m=method, k=kw: transport(x, y, method=m, **k), repeat))
    rows.append(timed_row(f"sliced_wasserstein return_gradient, n={n}, L=100",
                          lambda: sliced_wasserstein(x, y, seed=0, return_gradient=True),
                          "value only", lambda: sliced_wasserstein(x, y, seed=0), repeat))
    rows.append(timed_row(f"sinkhorn_divergence return_gradient, n={n}",
                          lambda: sinkhorn_divergence(x, y, reg=0.1, return_gradient=True),
                          "value only", lambda: sinkhorn_divergence(x, y, reg=0.1), repeat))
    half = n // 2
    for constraint in ("gradient_penalty", "weight_clipping"):
        ours = median_time(lambda c=constraint: wgan_critic(x[:half], y[:half], constraint=c,
                                                            seed=0), 1 if quick else 3)
        ref = median_time(lambda: transport(x[:half], y[:half]), repeat)
        rows.append(row(f"wgan_critic {constraint}, {half}+{half} points, 1000 steps", ours,
                        "exact W1", ref))
    for r in rows:
        print(f"{r['case']:<58} {r['ours_s']:9.4f} s   {r['ref_name']:<16} {r['ref_s']:9.4f} s"
              f"   ratio {r['ratio']:.3g}")
    return rows


if __name__ == "__main__":
    main()
