"""The parallel kernels on numba's TBB layer (the package's choice) against GNU OpenMP.

Each layer runs in its own process (numba picks a layer once per process), alternately,
``--rounds`` times; each case is the median of 9 warm calls (2 untimed calls first).
``python benchmarks/bench_threading.py [--rounds 2]`` prints milliseconds per case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

_CHILD = textwrap.dedent(
    """
    import json, time
    import numpy as np, numba
    import divergences as D
    rng = np.random.default_rng(0)
    p, q = rng.random((2, 10**7))
    X = rng.random((1000, 256))
    x, y = rng.random((2, 2000, 2))
    C = ((x[:, None] - y[None]) ** 2).sum(-1); C /= C.max()
    a = np.full(2000, 1 / 2000)
    A, B = rng.normal(size=(2, 1000, 2000))
    cases = {"kl 1e7 bins": lambda: D.kl(p, q), "js 1e7 bins": lambda: D.js(p, q),
             "pairwise js 1000x256": lambda: D.pairwise(X),
             "sinkhorn n=2000 reg=0.05": lambda: D.sinkhorn(a, a, C, 0.05),
             "wasserstein_1d 1000 problems": lambda: D.wasserstein_1d(A, B)}
    out = {}
    for name, f in cases.items():
        f(); f()
        ts = []
        for _ in range(9):
            t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
        out[name] = 1e3 * float(np.median(ts))
    print(json.dumps({"layer": numba.threading_layer(), "ms": out}))
    """
)


def _run(layer):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    env.pop("NUMBA_THREADING_LAYER", None)
    if layer == "omp":
        env["NUMBA_THREADING_LAYER"] = "omp"
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main(rounds=2):
    for _ in range(rounds):
        for layer in ("default", "omp"):
            res = _run(layer)
            cells = "  ".join(f"{k} {v:7.1f}" for k, v in res["ms"].items())
            print(f"{res['layer']:5s} {cells}", flush=True)


if __name__ == "__main__":
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 2
    main(rounds)
