"""Cold start (issue 12, item 16): no kernel is compiled for a literal argument type, and a
second process compiles nothing.

A literal constant at a call site inside compiled code (``f(x, 0)``, ``g(True)``) makes
numba type that argument as ``Literal[int](0)`` and compile the callee once for it, then
again for ``int64`` once the caller's loop widens the type: seconds of compile time for
nothing. This runs the public functions on small and large inputs in a fresh process with
an empty numba cache, then checks that no kernel was compiled both for a literal argument
and for its widened type. (Literals passed on purpose, e.g. the metric family that selects
an implementation at compile time, compile once per value and are not flagged.) A
``prange`` index is lowered as uint64: passed on as it is, it compiles a uint64 twin of a
callee that is also called with int64; that is flagged too.
"""

import os
import subprocess
import sys
import textwrap

_CALLS = textwrap.dedent(
    r"""
    rng = np.random.default_rng(0)
    for n in (50, 200_000):
        p, q = rng.random((2, n))
        for f in (D.kl, D.js, D.js_distance, D.tv, D.hellinger, D.chi2):
            f(p, q)
        D.renyi(p, q, 0.5)
    D.pairwise(rng.random((40, 16)))
    D.pairwise(rng.random((400, 64)), metric="kl")
    x, y = rng.random((2, 400, 2))
    a = np.full(400, 1 / 400)
    C = ((x[:, None] - y[None]) ** 2).sum(-1)
    D.wasserstein(x[:, 0], y[:, 0], p=2)
    D.transport(x[:, 0], y[:, 0], np.r_[1e-20, a[1:]], a)  # tiny weights: the exact walk
    D.wasserstein(x[:30], y[:30])
    D.transport(x[:30], y[:30], p=2)
    D.emd(a, a, C)
    D.wasserstein_1d(rng.random((3000, 400)), rng.random((3000, 400)))
    D.sliced_wasserstein(x, y, seed=0)
    D.sinkhorn(a, a, C, 0.05)
    D.sinkhorn(a[:50] , a[:50], C[:50, :50], 0.05)
    D.sinkhorn_divergence(x, y, reg=0.1)
    D.wasserstein(x, y, method="sinkhorn", reg=0.1)
    D.transport(x, y, method="sinkhorn", reg=0.1, online=True)
    D.sinkhorn(a, 2 * a, C, 0.05, reg_m=1.0)
    D.transport(x, y, method="sinkhorn", reg=0.1, online=True, reg_m=(1.0, np.inf))
    D.sinkhorn_divergence(x, y, reg=0.1, reg_m=1.0)
    import scipy.sparse
    D.emd(a, a, scipy.sparse.csr_array(C))
    D.emd(a, a, C, mass=0.5)
    D.transport(x[:30], y[:30]).gradient("x")
    G, H = rng.random((2, 16, 16))
    D.wasserstein_grid(G, H, metric="cityblock")
    D.wasserstein_grid(G, H, p=2)
    D.transport_grid(G, H)
    D.wasserstein_ci(x[:, 0], y[:, 0], n_resamples=19, seed=0)
    D.transport(*rng.random((2, 1500, 2)))
    T1, T2 = rng.normal(size=(300, 3)), rng.normal(size=(200, 3))
    D.compare(T1, T2, test=None)
    D.two_sample_test(x[:, 0], y[:, 0], n_permutations=19, seed=0)
    D.wgan_critic(x, y, steps=5, seed=0)
    D.pairwise(rng.random((20, 16)), metric="wasserstein", support=np.arange(16.0))
    D.pairwise(rng.random((20, 16)), metric="sliced", seed=0, support=rng.random((16, 2)))
    D.pairwise(rng.random((8, 16)), metric="wasserstein", p=2, support=rng.random((16, 2)))
    D.pairwise(rng.random((30, 16)), k=3)
    """
)

_SCRIPT = textwrap.dedent(
    r"""
    import importlib, pkgutil, warnings
    import numpy as np
    from numba.core.registry import CPUDispatcher
    import divergences as D
    import divergences._kernels as K

    warnings.simplefilter("ignore")
    """
) + _CALLS + textwrap.dedent(
    r"""

    bad = []
    mods = [importlib.import_module(f"divergences._kernels.{m.name}")
            for m in pkgutil.iter_modules(K.__path__)]
    mods += [importlib.import_module(f"divergences.{m.name}")
             for m in pkgutil.iter_modules(D.__path__) if not m.ispkg]
    import inspect, re
    widen = re.compile(r"Literal\[(\w+)\]\([^()]*\)")
    # ``family`` and ``code`` select an implementation at compile time on purpose: the
    # entry points of the KL and JS families pass them as constants
    chosen = {"family", "code"}
    for mod in mods:
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher):
                params = list(inspect.signature(obj.py_func).parameters)
                plain = {}
                for sig in obj.signatures:
                    key = tuple(str(t) if params[k] in chosen else widen.sub(
                        lambda m: "int64" if m.group(1) == "int" else m.group(1), str(t)
                    ).replace("uint64", "int64") for k, t in enumerate(sig))
                    plain.setdefault(key, []).append(str(sig))
                for sigs in plain.values():  # compiled for a literal and for its widened type
                    if len(sigs) > 1:
                        bad.append(f"{obj.py_func.__module__}.{name}: " + " | ".join(sigs))
    print("\n".join(sorted(set(bad))) or "OK")
    """
)

# the same calls in a second process on the cache the first one wrote: nothing compiles
_CACHED = textwrap.dedent(
    r"""
    import warnings
    import numpy as np
    from numba.core import event
    import divergences as D

    warnings.simplefilter("ignore")
    with event.install_recorder("numba:compile") as rec:
    """
) + textwrap.indent(_CALLS, "    ") + textwrap.dedent(
    r"""
    names = sorted({f"{ev.data['dispatcher'].py_func.__module__}."
                    f"{ev.data['dispatcher'].py_func.__qualname__}"
                    for _, ev in rec.buffer if ev.is_start})
    print("\n".join(names) or "OK")
    """
)


def test_no_kernel_is_compiled_for_a_literal_argument_nor_again_from_the_cache(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path),
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "OK", proc.stdout
    # a second process finds every kernel in the cache (a kernel passed from Python as an
    # argument, for one, would be compiled again in every process)
    proc = subprocess.run([sys.executable, "-c", _CACHED], capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "OK", "compiled again:\n" + proc.stdout
