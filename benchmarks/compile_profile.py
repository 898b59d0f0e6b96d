"""Where a cold first call spends its compile time: one public call, numba's compile events.

``NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/compile_profile.py CASE`` prints the total
time of the call and the kernels compiled, by their own (self) time: a kernel's total
includes the kernels compiled while it is typed (its callees), its self time does not,
but it does include generating its callees' code again (numba links each callee's IR
into the caller and optimises and code-generates it there once more); the depth is 0 for
the kernels called from Python. A kernel listed twice was compiled for two signatures (see
``tests/test_compile_signatures.py``). The last line splits the compile time of the kernel
with the most self time into numba's pipeline stages. Cases: the names in :data:`CASES`.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _points(n):
    rng = np.random.default_rng(0)
    x, y = rng.random((2, n, 2))
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    return x, y, C / C.max(), np.full(n, 1 / n)


CASES = {
    "kl": lambda D: D.kl(*np.random.default_rng(0).random((2, 100_000))),
    "chi2": lambda D: D.chi2(*np.random.default_rng(0).random((2, 100_000))),
    "js": lambda D: D.js(*np.random.default_rng(0).random((2, 100_000))),
    "tv": lambda D: D.tv(*np.random.default_rng(0).random((2, 100_000))),
    "pairwise": lambda D: D.pairwise(np.random.default_rng(0).random((300, 64))),
    "emd": lambda D: (lambda x, y, C, a: D.emd(a, a, C))(*_points(300)),
    "sinkhorn": lambda D: (lambda x, y, C, a: D.sinkhorn(a, a, C, 0.05))(*_points(300)),
    "sinkhorn_600": lambda D: (lambda x, y, C, a: D.sinkhorn(a, a, C, 0.05))(*_points(600)),
    "pairwise_wasserstein_2d": lambda D: D.pairwise(
        np.random.default_rng(0).random((40, 64)), metric="wasserstein", p=2,
        support=np.stack(np.meshgrid(np.arange(8.0), np.arange(8.0)), -1).reshape(-1, 2)),
    "pairwise_sliced": lambda D: D.pairwise(
        np.random.default_rng(0).random((300, 64)), metric="sliced", seed=0,
        support=np.stack(np.meshgrid(np.arange(8.0), np.arange(8.0)), -1).reshape(-1, 2)),
    "pairwise_w1d": lambda D: D.pairwise(np.random.default_rng(0).random((300, 64)),
                                         metric="wasserstein", support=np.arange(64.0)),
    "wasserstein_1d_samples": lambda D: D.wasserstein(*np.random.default_rng(0).normal(
        size=(2, 2000))),
    "two_sample_test": lambda D: D.two_sample_test(*np.random.default_rng(0).normal(
        size=(2, 2000)), n_permutations=99, seed=0),
    "multiscale": lambda D: D.transport(*np.random.default_rng(0).random((2, 1500, 2))),
    "grid_p2": lambda D: D.wasserstein_grid(*np.random.default_rng(0).random((2, 32, 32)), p=2),
    "compare": lambda D: D.compare(np.random.default_rng(0).normal(size=(500, 3)),
                                   np.random.default_rng(1).normal(size=(400, 3)), test=None),
    "sinkhorn_divergence": lambda D: (lambda x, y, C, a: D.sinkhorn_divergence(x, y, reg=0.1))(
        *_points(300)),
    "sinkhorn_divergence_600": lambda D: (lambda x, y, C, a: D.sinkhorn_divergence(
        x, y, reg=0.1))(*_points(600)),
}


def main(case, top=25):
    from numba.core import event

    import divergences

    with event.install_recorder("numba:compile") as rec:
        t0 = time.perf_counter()
        CASES[case](divergences)
        total = time.perf_counter() - t0
    stack, rows = [], []
    for ts, ev in rec.buffer:
        fn = ev.data["dispatcher"].py_func
        if ev.is_start:
            stack.append([ts, 0.0])  # start, time of the kernels compiled inside
            continue
        start, inner = stack.pop()
        took = ts - start
        if stack:
            stack[-1][1] += took
        rows.append((took, took - inner, len(stack), f"{fn.__module__}.{fn.__qualname__}",
                     ev.data["dispatcher"]))
    outer = sum(r[0] for r in rows if r[2] == 0)
    print(f"{case}: {total:.2f} s, {len(rows)} compilations ({outer:.2f} s compiling); "
          "columns: total (with the kernels compiled inside it), self, depth")
    ranked = sorted(rows, key=lambda r: -r[1])
    for took, own, depth, name, _ in ranked[:top]:
        print(f"{took:7.2f} {own:7.2f} {depth:3d}  {name}")
    _stages(*ranked[0][3:])


def _stages(name, dispatcher):
    """numba's pipeline stages of the kernel with the most self time (its first signature),
    those over 10 ms: type inference includes compiling its callees, native lowering its
    LLVM optimisation and code generation."""
    sig = dispatcher.signatures[0]
    times = dispatcher.overloads[sig].metadata.get("pipeline_times", {}).get("nopython", {})
    stages = sorted(((t.run, stage) for stage, t in times.items()), reverse=True)
    print(f"pipeline stages of {name}: " + ", ".join(
        f"{stage.split('_', 1)[1]} {run:.2f} s" for run, stage in stages if run > 0.01))

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "kl")
