"""Cold start: the first call of each public function in a fresh process, empty numba cache.

A user meets this on every new machine, CI run and cluster worker. For each case below a
new interpreter imports the package with ``NUMBA_CACHE_DIR`` pointing at an empty
directory and times the first call (import excluded, printed apart); a second new
interpreter then times the same first call with the cache the first one wrote (what every
later process pays). The reference column is the same first call of the closest POT or
SciPy function in a fresh process (their code is compiled ahead of time: this is the floor
a user compares with). ``all, one process`` runs every case in one fresh process with one
empty cache: kernels shared between functions compile once there; ``one per function``
does the same with one case per public function (:data:`ONE_PER_FUNCTION`).

Targets (issue 12): each function's first cold call <= 5 s, all together <= 15 s. The
cases include every public function (and the main paths of ``transport`` and ``pairwise``)
added in the second wave: sparse and partial ``emd``, the multiscale solver, grids,
Gaussians, gradients, two-sample tests, the WGAN critic and ``compare``.

``python benchmarks/bench_cold_start.py [--quick] [CASE ...]`` prints the table; ``--quick``
runs three cases, names (e.g. ``compare "transport multiscale"``) run those alone.
``--against DIR [CASE ...]`` compares the CPU seconds of those first calls (``all``: every
case in one process, ``functions``: one per public function) with another checkout, e.g.
``git worktree add /tmp/base REV``. The
``cpu`` column is the CPU time of the first call: compiling is single-threaded, so on a
machine shared with other jobs it is a steadier figure than the wall time (which the
targets are about, on a quiet machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap

# name -> (setup, our call, reference call or None). Inputs are sized so that the
# parallel paths a typical user meets are the ones compiled (the dense Sinkhorn solver
# threads its sweeps from 2 chunks of rows on: the 600 x 600 case; 300 x 300 is one chunk).
_SETUP = textwrap.dedent(
    """
    import numpy as np
    rng = np.random.default_rng(0)
    p, q = rng.random(100_000), rng.random(100_000)
    X = rng.random((300, 64))
    P2, Q2 = rng.random((2, 1000, 256))  # a batch of 2.6e5 bins: the threaded paths
    x1, y1 = rng.normal(size=(2, 2000))
    x, y = rng.random(size=(2, 300, 2))  # unit square: reg = 0.1 is 5% of the largest cost
    a = np.full(300, 1 / 300)
    C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    C /= C.max()  # reg = 0.05 of the largest cost: converges in tens of iterations
    xl, yl = rng.random(size=(2, 600, 2))  # 3.6e5 entries: the threaded dense path
    al = np.full(600, 1 / 600)
    Cl = ((xl[:, None, :] - yl[None, :, :]) ** 2).sum(-1)
    Cl /= Cl.max()
    A, B = rng.normal(size=(2, 500, 50))
    G, H = rng.random((2, 32, 32))  # histograms on a 32 x 32 grid
    xm, ym = rng.random(size=(2, 1500, 2))  # 2.25e6 pairs: the multiscale solver
    T1, T2 = rng.normal(size=(500, 3)), rng.normal(size=(400, 3)) + 0.1  # two tables
    """
)

CASES = {
    "kl": ("from divergences import kl", "kl(p, q)",
           "from scipy.stats import entropy; entropy(p, q)"),
    "kl 100 bins": ("from divergences import kl", "kl(p[:100], q[:100])",
                    "from scipy.stats import entropy; entropy(p[:100], q[:100])"),
    "kl batch": ("from divergences import kl", "kl(P2, Q2, axis=1)",
                 "from scipy.stats import entropy; entropy(P2, Q2, axis=1)"),
    "js": ("from divergences import js", "js(p, q)",
           "from scipy.spatial.distance import jensenshannon; jensenshannon(p, q)"),
    "js_distance": ("from divergences import js_distance", "js_distance(p, q)", None),
    "tv": ("from divergences import tv", "tv(p, q)", None),
    "hellinger": ("from divergences import hellinger", "hellinger(p, q)", None),
    "chi2": ("from divergences import chi2", "chi2(p, q)", None),
    "renyi": ("from divergences import renyi", "renyi(p, q, 0.5)", None),
    "pairwise": ("from divergences import pairwise", "pairwise(X)",
                 "from scipy.spatial.distance import cdist; cdist(X, X, 'jensenshannon')"),
    "aligned_histograms": ("from divergences import aligned_histograms",
                           "aligned_histograms(x1, y1)", None),
    "kl_knn": ("from divergences import kl_knn", "kl_knn(x, y)", None),
    "wasserstein 1-D": ("from divergences import wasserstein", "wasserstein(x1, y1)",
                        "from scipy.stats import wasserstein_distance; "
                        "wasserstein_distance(x1, y1)"),
    "wasserstein 2-D exact": ("from divergences import wasserstein", "wasserstein(x, y)",
                              "import ot; ot.emd2(a, a, ot.dist(x, y, 'euclidean'))"),
    "transport": ("from divergences import transport", "transport(x, y, p=2)", None),
    "emd": ("from divergences import emd", "emd(a, a, C)", "import ot; ot.emd(a, a, C)"),
    "wasserstein_1d": ("from divergences import wasserstein_1d", "wasserstein_1d(A, B)",
                       "import ot; ot.wasserstein_1d(A, B)"),
    "sliced_wasserstein": ("from divergences import sliced_wasserstein",
                           "sliced_wasserstein(x, y, seed=0)",
                           "import ot; ot.sliced_wasserstein_distance(x, y, seed=0)"),
    "sinkhorn": ("from divergences import sinkhorn", "sinkhorn(a, a, C, 0.05)",
                 "import ot; ot.sinkhorn2(a, a, C, 0.05)"),
    "sinkhorn 600 x 600": ("from divergences import sinkhorn", "sinkhorn(al, al, Cl, 0.05)",
                           "import ot; ot.sinkhorn2(al, al, Cl, 0.05)"),
    "sinkhorn reg_m": ("from divergences import sinkhorn",
                       "sinkhorn(a, 1.5 * a, C, 0.05, reg_m=1.0)",
                       "import ot; ot.unbalanced.sinkhorn_unbalanced(a, 1.5 * a, C, 0.05, 1.0)"),
    "sinkhorn_divergence": ("from divergences import sinkhorn_divergence",
                            "sinkhorn_divergence(x, y, reg=0.1)", None),
    "sinkhorn_divergence 600": ("from divergences import sinkhorn_divergence",
                                "sinkhorn_divergence(xl, yl, reg=0.1)", None),
    "transport online": ("from divergences import transport",
                         "transport(xl, yl, method='sinkhorn', reg=0.1, online=True)", None),
    "critic": ("from divergences import transport",
               "transport(x[:50], y[:50], p=1).critic(x[:20])", None),
    "wasserstein sinkhorn": ("from divergences import wasserstein",
                             "wasserstein(x, y, method='sinkhorn', reg=0.1)", None),
    "pairwise wasserstein 1-D": ("from divergences import pairwise",
                                 "pairwise(X, metric='wasserstein', support=np.arange(64.0))",
                                 None),
    "pairwise wasserstein 2-D": ("from divergences import pairwise",
                                 "pairwise(X[:40], metric='wasserstein', p=2, support=np."
                                 "stack(np.meshgrid(np.arange(8.0), np.arange(8.0)), -1)"
                                 ".reshape(-1, 2))",
                                 None),
    "pairwise sliced": ("from divergences import pairwise",
                        "pairwise(X, metric='sliced', seed=0, support=np.stack(np.meshgrid("
                        "np.arange(8.0), np.arange(8.0)), -1).reshape(-1, 2))", None),
    "pairwise k-nearest": ("from divergences import pairwise", "pairwise(X, k=5)", None),
    "emd sparse cost": ("from divergences import emd; import scipy.sparse",
                        "emd(a, a, scipy.sparse.csr_array(C))", None),
    "emd partial": ("from divergences import emd", "emd(a, a, C, mass=0.5)",
                    "import ot; ot.partial.partial_wasserstein(a, a, C, m=0.5)"),
    "transport multiscale": ("from divergences import transport", "transport(xm, ym)", None),
    "wasserstein_grid cityblock": ("from divergences import wasserstein_grid",
                                   "wasserstein_grid(G, H, metric='cityblock')", None),
    "wasserstein_grid p=2": ("from divergences import wasserstein_grid",
                             "wasserstein_grid(G, H, p=2)", None),
    "transport_grid": ("from divergences import transport_grid", "transport_grid(G, H)", None),
    "wasserstein_ci": ("from divergences import wasserstein_ci",
                       "wasserstein_ci(x1, y1, n_resamples=99, seed=0)", None),
    "gaussian_map": ("from divergences import gaussian_map",
                     "gaussian_map(T1.mean(0), np.cov(T1.T), T2.mean(0), np.cov(T2.T))", None),
    "gaussian_wasserstein": ("from divergences import gaussian_wasserstein",
                             "gaussian_wasserstein(T1.mean(0), np.cov(T1.T), T2.mean(0), "
                             "np.cov(T2.T))", None),
    "frechet_distance": ("from divergences import frechet_distance",
                         "frechet_distance(A, B)", None),
    "gradient": ("from divergences import transport", "transport(x, y).gradient('x')", None),
    "two_sample_test": ("from divergences import two_sample_test",
                        "two_sample_test(x1, y1, n_permutations=99, seed=0)",
                        "import scipy.stats; scipy.stats.permutation_test((x1, y1), lambda "
                        "u, v: scipy.stats.wasserstein_distance(u, v), n_resamples=99)"),
    "wgan_critic": ("from divergences import wgan_critic",
                    "wgan_critic(x, y, steps=50, seed=0)", None),
    "compare": ("from divergences import compare", "compare(T1, T2, test=None)", None),
}
QUICK = ["kl", "wasserstein 1-D", "emd"]
#: one case per public function (its main path; TransportResult.gradient counted as one):
#: the target "all of them together <= 15 s" read literally. The other cases are further
#: paths of the same functions (threaded sizes, sparse and partial emd, the multiscale
#: solver, unbalanced Sinkhorn, the Wasserstein matrices, grids with p = 2).
ONE_PER_FUNCTION = ["kl", "js", "js_distance", "tv", "hellinger", "chi2", "renyi", "pairwise",
                    "aligned_histograms", "kl_knn", "wasserstein 2-D exact", "transport", "emd",
                    "wasserstein_1d", "sliced_wasserstein", "sinkhorn", "sinkhorn_divergence",
                    "wasserstein_grid cityblock", "transport_grid", "gaussian_wasserstein",
                    "gaussian_map", "frechet_distance", "two_sample_test", "wasserstein_ci",
                    "wgan_critic", "compare", "gradient"]

_TIMER = textwrap.dedent(
    """
    import json, time
    {setup}
    t0 = time.perf_counter()
    {imports}
    t1 = time.perf_counter()
    c1 = time.process_time()
    {calls}
    t2 = time.perf_counter()
    print(json.dumps({{"import_s": t1 - t0, "call_s": t2 - t1,
                      "cpu_s": time.process_time() - c1}}))
    """
)


_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _first_call(imports, calls, cache_dir, root=_ROOT):
    """Import and first-call times of ``calls`` in a new interpreter importing the package
    from the checkout ``root``."""
    code = _TIMER.format(setup=_SETUP, imports=imports, calls=calls)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir,
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    # cwd = root: ``python -c`` puts the working directory first on sys.path
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, cwd=root)
    return json.loads(out.stdout.splitlines()[-1])


def cold_and_cached(imports, calls):
    """(cold, cached) first-call times: empty cache, then the cache the first run wrote."""
    with tempfile.TemporaryDirectory() as cache:
        cold = _first_call(imports, calls, cache)
        cached = _first_call(imports, calls, cache)
    return cold, cached


def against(other, names, rounds=2):
    """A/B: the cold first call's CPU seconds of each case here and in the checkout
    ``other`` (e.g. a ``git worktree`` of an older commit), alternately, ``rounds`` times,
    the least of each printed (steady on a machine shared with other jobs). The name
    ``all`` is every case in one process, ``functions`` the cases of
    :data:`ONE_PER_FUNCTION` in one process."""
    rows = []
    for name in names:
        if name in ("all", "functions"):
            subset = list(CASES) if name == "all" else ONE_PER_FUNCTION
            imports = "\n".join(CASES[n][0] for n in subset)
            calls = "\n".join(CASES[n][1] for n in subset)
        else:
            imports, calls, _ = CASES[name]
        cpu = {_ROOT: [], other: []}
        for _ in range(rounds):
            for root in (other, _ROOT):
                with tempfile.TemporaryDirectory() as cache:
                    cpu[root].append(_first_call(imports, calls, cache, root)["cpu_s"])
        here, there = min(cpu[_ROOT]), min(cpu[other])
        rows.append({"case": name, "ours_s": here, "ref_name": other, "ref_s": there})
        print(f"{name:28s} here {here:6.2f} s  {other}: {there:6.2f} s  "
              f"(here - there {here - there:+.2f} s CPU)", flush=True)
    return rows


def main(quick=False, only=None):
    names = QUICK if quick else [n for n in CASES if only is None or n in only]
    rows = []
    for name in names:
        imports, call, ref = CASES[name]
        cold, cached = cold_and_cached(imports, call)
        ref_s = "n/a"
        if ref is not None:
            ref_imports, _, ref_call = ref.rpartition("; ")
            with tempfile.TemporaryDirectory() as cache:
                ref_s = _first_call(ref_imports, ref_call, cache)["call_s"]
        rows.append({"case": f"cold first call: {name}", "ours_s": cold["call_s"],
                     "ref_name": "same first call, POT/SciPy", "ref_s": ref_s,
                     "cached_s": cached["call_s"], "import_s": cold["import_s"],
                     "cpu_s": cold["cpu_s"]})
        ref_text = ref_s if isinstance(ref_s, str) else f"{ref_s:.3f} s"
        print(f"{name:24s} cold {cold['call_s']:7.2f} s (cpu {cold['cpu_s']:6.2f})  cached "
              f"{cached['call_s']:6.3f} s  import {cold['import_s']:5.2f} s  reference "
              f"{ref_text}", flush=True)
    if not quick and only is None:
        alone = rows[:]
        for label, subset in (("one per function", ONE_PER_FUNCTION), ("all, one process", names)):
            imports = "\n".join(CASES[n][0] for n in subset)
            calls = "\n".join(CASES[n][1] for n in subset)
            cold, cached = cold_and_cached(imports, calls)
            rows.append({"case": f"cold first calls: {label}", "ours_s": cold["call_s"],
                         "ref_name": "n/a", "ref_s": "n/a", "cached_s": cached["call_s"]})
            print(f"{label:24s} cold {cold['call_s']:7.2f} s  cached {cached['call_s']:6.3f} s"
                  f"   ({len(subset)} cases in one process; targets: each <= 5 s, all <= 15 s)")
        slowest = max(alone, key=lambda r: r["ours_s"])
        print(f"slowest alone: {slowest['case']} {slowest['ours_s']:.2f} s; "
              f"sum of the cases alone {sum(r['ours_s'] for r in alone):.1f} s")
    return rows


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--against" in args:  # --against DIR CASE ... (A/B with another checkout)
        k = args.index("--against")
        against(os.path.abspath(args[k + 1]), args[:k] + args[k + 2:] or list(CASES))
    else:
        main(quick="--quick" in args, only=[a for a in args if not a.startswith("--")] or None)
