"""Benchmark: the 1-D weighted paths with and without tiny weights, against another checkout.

``python benchmarks/bench_tiny_weights.py [--against DIR] [--rounds R]`` times, in fresh
processes alternating between this checkout and ``DIR`` (e.g. ``git archive REV | tar -x
-C DIR``), the warm calls that the switch to the exact normalisation
(:mod:`divergences._univariate_exact`) could slow: ``wasserstein`` and ``transport`` on
1e6 weighted points, ``wasserstein_1d`` on a weighted batch. Each process warms up once
(compilation excluded), then prints medians of several calls; the table gives, per case,
the median over rounds for each checkout and the ratio ``other / ours`` (> 1: we are
faster). Without ``--against`` it prints this checkout's times, and the rare path's: the
same 1e6 problem with one weight of 1e-20 (exact walk, in Python).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, time
import numpy as np
from divergences import transport, wasserstein, wasserstein_1d
rng = np.random.default_rng(0)
n = 10**6
x, y = rng.normal(size=n), rng.standard_t(4, size=n) + 0.5
w, v = rng.random(n), rng.random(n)
X, Y = rng.normal(size=(10**4, 100)), rng.normal(size=(10**4, 100)) + 1.0
A, B = rng.random((10**4, 100)), rng.random((10**4, 100))
cases = {
    "wasserstein W1 weighted 1e6": lambda: wasserstein(x, y, w, v, p=1),
    "transport 1-D weighted 1e6": lambda: transport(x, y, w, v, p=1),
    "wasserstein_1d weighted n=1e4 K=100": lambda: wasserstein_1d(X, Y, A, B, p=2),
}
if RARE:
    w2 = w.copy()
    w2[0] = 1e-20
    cases["rare: wasserstein 1e6, one weight 1e-20"] = lambda: wasserstein(x, y, w2, v)
out = {}
for name, f in cases.items():
    f()
    times = []
    for _ in range(1 if name.startswith("rare") else REPEAT):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    out[name] = float(np.median(times))
print(json.dumps(out))
"""


def _run(root, rare, repeat):
    code = _CHILD.replace("RARE", repr(rare)).replace("REPEAT", str(repeat))
    env = dict(os.environ, PYTHONPATH=str(root))
    res = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="another checkout's root directory")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not args.against:
        for name, t in _run(HERE, True, args.repeat).items():
            print(f"{name:44s} {t:9.4f} s")
        return
    ours, other = {}, {}
    for _ in range(args.rounds):
        for root, store in ((HERE, ours), (Path(args.against), other)):
            for name, t in _run(root, False, args.repeat).items():
                store.setdefault(name, []).append(t)
    print(f"{'case':44s} {'ours_s':>9s} {'other_s':>9s} {'ratio':>7s}")
    for name in ours:
        a = sorted(ours[name])[len(ours[name]) // 2]
        b = sorted(other[name])[len(other[name]) // 2]
        print(f"{name:44s} {a:9.4f} {b:9.4f} {b / a:7.3f}")


if __name__ == "__main__":
    main()
