"""Warm timings of the paths that issue 12's cold-start work moved into Python threads.

The threaded log-domain Sinkhorn (``sinkhorn_divergence``'s symmetric terms, the online
mode), the validation scan of histogram batches and the rare-bin pass of KL: each case
is timed after one untimed call, the median of ``REPEAT`` calls printed. The script
imports the package of the checkout it lives in, so a copy of it placed in a
``git worktree`` of another commit times that commit: ``git worktree add /tmp/base REV &&
cp benchmarks/bench_warm_paths.py /tmp/base/benchmarks/ && NUMBA_NUM_THREADS=2 python
/tmp/base/benchmarks/bench_warm_paths.py``, then the same here, and compare the lines.

Run ``NUMBA_NUM_THREADS=2 python benchmarks/bench_warm_paths.py`` on a quiet machine
(fixed seeds; no reference column: the reference is the other commit).
"""

from __future__ import annotations

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import divergences as D  # noqa: E402
from benchmarks._timing import median_time  # noqa: E402

REPEAT = 9


def cases():
    rng = np.random.default_rng(0)
    out = []
    for n in (400, 600, 1000):
        x, y = rng.random((2, n, 2))
        out.append((f"sinkhorn_divergence {n} points, reg 0.1",
                    lambda x=x, y=y: D.sinkhorn_divergence(x, y, reg=0.1)))
    for n in (600, 2000):
        x, y = rng.random((2, n, 2))
        out.append((f"transport(method='sinkhorn', online=True) {n} points, reg 0.1",
                    lambda x=x, y=y: D.transport(x, y, method="sinkhorn", reg=0.1,
                                                 online=True)))
    P, Q = rng.random((2, 10_000, 256))
    out.append(("kl batch 10^4 x 256", lambda: D.kl(P, Q, axis=1)))
    A, B = rng.random((2, 20_000, 16))
    B[:, 3] = 1e-310  # a bin whose ratio overflows in every row: the rare-bin pass
    out.append(("kl batch 2 x 10^4 x 16, a rare bin per row", lambda: D.kl(A, B, axis=1)))
    return out


def main():
    print(f"{D.__file__}  (numba threads: {os.environ.get('NUMBA_NUM_THREADS', 'default')})")
    for name, f in cases():
        print(f"{name:60s} {1e3 * median_time(f, REPEAT):9.2f} ms", flush=True)


if __name__ == "__main__":
    main()
