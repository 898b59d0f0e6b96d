"""All-pairs information divergences between the rows of two histogram matrices.

:func:`pairwise_matrix` normalises the rows once, precomputes
what each metric needs per bin (``log a`` for KL and Renyi, ``a log a`` for JS, ``sqrt a``
for Hellinger) so that the pair loop is cheap, then fills the (N, M) matrix. With
``symmetric=True`` (Y is X and the metric is symmetric) each unordered pair is computed
once; row ``i`` is paired with row ``N - 1 - i`` in one task so the triangle is split
evenly between threads. The threads are Python threads running a serial kernel over
ranges of tasks (see :func:`_run`). The metric codes are those of :mod:`.elementwise`, whose
:func:`~.elementwise.finish` turns the accumulators into the divergence.
"""

import math

import numpy as np

from .._jit import kernel
from .._thread_ranges import run_in_ranges
from .borrow import borrowed
from .elementwise import (
    _TINY,
    CHI2,
    HELLINGER,
    JS,
    KL,
    LOG2,
    NACC,
    RENYI,
    RENYI0,
    RENYI1,
    TV,
    _finish_js,
    finish,
)
from .fastlog import log_block
from .kljs import chi2_term, js_term, log_ratio_scaled


@kernel(inline=True)
def _normalise(x, s, a, aux, code):
    """Row ``a = x / s`` (``s >= 2**-900``, see ``lift_tiny_rows``) and its per-bin auxiliary.

    For the log-based metrics ``aux = log a``, taken from the raw weight where ``a``
    underflows (a weight below 1e-308 of its total), so ``aux = -inf`` exactly on the
    zeros of ``x``: the supports are those of the raw weights. For Renyi of order 0,
    ``a`` is the raw row (only ratios of masses matter, and normalised ones can underflow).
    """
    c = 1.0 / s
    for k in range(x.shape[0]):
        v = x[k] * c
        a[k] = x[k] if code == RENYI0 else v
        if code == JS:
            aux[k] = v * math.log(v) if v > 0.0 else 0.0
        elif code == HELLINGER:
            aux[k] = math.sqrt(v)
        elif code != TV:
            if v >= _TINY:
                aux[k] = math.log(v)
            else:
                aux[k] = math.log(x[k]) + math.log(c) if x[k] > 0.0 else -np.inf


@kernel(inline=True)
def _pair_js(code, alpha, a, la, b, lb, x, y, cx, cy, acc, scratch):
    """JS accumulators of one pair of rows (the arguments of :func:`_any_pair`)."""
    bits, floats = scratch
    mbuf, sb1, sb2 = bits[0], bits[1], bits[2]
    mf, lm = floats[0], floats[3]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    n = a.shape[0]
    # a log(2a/m) + b log(2b/m) = a log a + b log b - m (log m - log 2) per bin of the
    # overlap (log 2 inside: a bin with a == b then adds ~0, not m log 2 that a final
    # sum would cancel); log m vectorised by log_block, lanes with a subnormal m scalar
    special = 0.0
    for k in range(n):  # branch-free, so that LLVM vectorises it
        u = a[k]
        v = b[k]
        m = u + v
        both = (u > 0.0) & (v > 0.0)
        ok = both & (m >= _TINY)
        mf[k] = m if ok else 1.0
        w = m if both else 0.0
        special += (1.0 if both else 0.0) - (1.0 if ok else 0.0)
        s1 += w
        s2 += 0.0 if both else m  # a select, not m - w: under reassoc LLVM would
        # sum the m and the w apart and cancel (JS lost 2e-16 absolute on a zero bin)
    log_block(mbuf, n, sb1, sb2, floats[1], floats[2], lm)
    for k in range(n):
        ok = (a[k] > 0.0) & (b[k] > 0.0) & (a[k] + b[k] >= _TINY)
        s0 += (la[k] + lb[k] - mf[k] * (lm[k] - LOG2)) if ok else 0.0
    if special > 0.0:
        for k in range(n):
            if a[k] > 0.0 and b[k] > 0.0 and a[k] + b[k] < _TINY:
                s0 += js_term(x[k], y[k], cx, cy)
    acc[0] = s0
    acc[1] = s1
    acc[2] = s2
    acc[3] = 0.0


@kernel(inner=True)
def _pair_other(code, alpha, a, la, b, lb, x, y, cx, cy, acc, scratch):
    """:func:`_any_pair` of the metrics other than JS (scalar loops; ``scratch`` unused)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    n = a.shape[0]
    if code == KL:
        # + (b - a) in every bin: sums to 0, but cancels to first order the rounding of
        # the normalisation (as in the elementwise kernel)
        for k in range(n):
            if la[k] > -np.inf:
                if lb[k] > -np.inf:
                    s0 += a[k] * (la[k] - lb[k]) + (b[k] - a[k])
                else:
                    s1 = 1.0
            else:
                s0 += b[k]
    elif code == TV:
        for k in range(n):
            s0 += abs(a[k] - b[k])
            s1 += min(a[k], b[k])
    elif code == HELLINGER:
        for k in range(n):
            d = la[k] - lb[k]
            s0 += d * d
            s1 += la[k] * lb[k]
    elif code == CHI2:
        for k in range(n):
            if b[k] >= _TINY:
                d = a[k] - b[k]
                s0 += d * (d / b[k])
            elif lb[k] > -np.inf:  # b subnormal or 0: b (a/b - 1)^2 in logs
                s0 += chi2_term(x[k], y[k], cx, cy) if la[k] > -np.inf else b[k]
            elif la[k] > -np.inf:
                s1 = 1.0
    elif code == RENYI or code == RENYI1:  # see the elementwise kernel
        s0 = -np.inf
        beta = 1.0 - alpha
        for k in range(n):
            if la[k] > -np.inf:
                if lb[k] > -np.inf:
                    s0 = max(s0, alpha * la[k] + beta * lb[k])
                    if code == RENYI1:  # see the elementwise kernel
                        dl = lb[k] - la[k]
                        e = a[k] * math.expm1(dl) if abs(dl) <= 1.0 else b[k] - a[k]
                        s3 += a[k] * math.expm1(beta * dl) - beta * e
                else:
                    s2 = 2.0 if alpha > 1.0 else max(s2, 1.0)
                    if code == RENYI1:
                        s3 -= alpha * a[k]
            elif code == RENYI1:
                s3 -= beta * b[k]
            if la[k] != lb[k]:  # s2 as in the elementwise kernel
                s2 = max(s2, 1.0)
        if s0 > -np.inf:
            for k in range(n):
                if la[k] > -np.inf and lb[k] > -np.inf:
                    s1 += math.exp(alpha * la[k] + (1.0 - alpha) * lb[k] - s0)
    elif code == RENYI0:  # raw rows (see _normalise)
        for k in range(n):
            if la[k] > -np.inf:
                s0 += b[k]
            else:
                s1 += b[k]
    else:  # RENYIINF: the largest ratio a/b, one logarithm (subnormal lanes: scaled logs)
        s0 = -np.inf
        rmax = 0.0
        for k in range(n):
            if la[k] > -np.inf:
                if lb[k] > -np.inf:
                    if a[k] >= _TINY and b[k] >= _TINY:
                        rmax = max(rmax, a[k] / b[k])
                    else:
                        s0 = max(s0, log_ratio_scaled(x[k], y[k], cx, cy))
                else:
                    s1 = 1.0
        if rmax > 0.0:
            s0 = max(s0, math.log(rmax))
    acc[0] = s0
    acc[1] = s1
    acc[2] = s2
    acc[3] = s3


@kernel(inner=True)
def _any_pair(code, alpha, a, la, b, lb, x, y, cx, cy, acc, scratch):
    """Accumulators of one pair of normalised rows (same layout as the elementwise ones),
    the metric chosen at run time.

    ``x``, ``y`` are the raw rows and ``cx``, ``cy`` the inverses of their sums (for the
    rare bins whose normalised weight is subnormal); ``scratch`` is ``(bits, floats)``, an
    int64 array (4, row length) and its float64 view, the buffers of :func:`log_block`.
    Every pair kernel has this signature: the task loop gets one of :func:`_pair_js`,
    :func:`_pair_other` (a family alone) or this one as an argument.
    """
    if code == JS:
        _pair_js(code, alpha, a, la, b, lb, x, y, cx, cy, acc, scratch)
    else:
        _pair_other(code, alpha, a, la, b, lb, x, y, cx, cy, acc, scratch)


@kernel(inline=True)
def _row(pair, fin, code, alpha, A, LA, X, cx, B, LB, Y, cy, i, j0, mirror, out, acc,
         scratch):
    """Pairs (i, j >= j0) of the rows of ``A`` and ``B``, written to ``out`` (and with
    ``mirror`` to its transpose), by the pair kernel ``pair`` and the finishing kernel
    ``fin`` (:func:`~.elementwise.finish` or its family's: a first call compiles no
    other family's)."""
    for j in range(j0, B.shape[0]):
        pair(code, alpha, A[i], LA[i], B[j], LB[j], X[i], Y[j], cx[i], cy[j], acc, scratch)
        d = fin(code, alpha, acc)
        out[i, j] = d
        if mirror:
            out[j, i] = d


@kernel
def _normalise_rows(code, X, xs, A, LA):
    """:func:`_normalise` of every row of ``X`` into ``A`` and ``LA`` (allocated by the
    caller, ``LA`` zeroed: allocations and array expressions here would compile NumPy's
    implementations on a first call)."""
    for i in range(X.shape[0]):
        _normalise(X[i], xs[i], A[i], LA[i], code)


@kernel
def _normalise_rows_js(code, X, xs, A, LA):
    """:func:`_normalise_rows` for JS alone (``code`` a constant there: the first pairwise
    JS compiles its branch only)."""
    for i in range(X.shape[0]):
        _normalise(X[i], xs[i], A[i], LA[i], JS)


def _prepare(code, X, xs):
    """The normalised rows ``A``, their auxiliaries ``LA`` and the inverse row sums."""
    A, LA = np.empty(X.shape), np.zeros(X.shape)
    (_normalise_rows_js if code == JS else _normalise_rows)(code, X, xs, A, LA)
    return A, LA, 1.0 / xs


@kernel(inline=True)
def _tasks(pair, fin, code, alpha, A, LA, X, cx, B, LB, Y, cy, symmetric, out, acc, bits, floats,
           t0, t1):
    """Tasks ``t0 .. t1 - 1``, in the calling thread (the kernel releases the GIL:
    :func:`_run` runs ranges of tasks in Python threads). Task ``t``: row ``t`` of
    ``out``, or with ``symmetric`` the pairs (i, j > i) of rows ``i = t`` and
    ``i = N - 1 - t`` (tasks of equal work).

    The arrays and the buffers passed per pair are :func:`~.borrow.borrowed`: the rows
    passed per pair are not reference-counted (with the counting, this loop ran 2.7x
    slower than the same body in a ``prange``). One call site of :func:`_row` and of the
    pair kernel, inlined into the entry kernel of the family: a chain of compiled calls
    would generate the pair kernel's code again at each level (issue 12, cold start).
    ``acc`` (NACC,), ``bits`` (4, n) int64 and ``floats``, its float64 view: the scratch of
    the pair kernels, allocated by the caller (:func:`_run`: an allocation or a ``.view``
    here compiles NumPy's).
    """
    A, LA, X, cx = borrowed(A), borrowed(LA), borrowed(X), borrowed(cx)
    B, LB, Y, cy, out = borrowed(B), borrowed(LB), borrowed(Y), borrowed(cy), borrowed(out)
    N = A.shape[0]
    scratch = (borrowed(bits), borrowed(floats))
    acc_b = borrowed(acc)
    for t in range(t0, t1):
        both = symmetric and N - 1 - t != t
        for k in range(2 if both else 1):
            i = t if k == 0 else N - 1 - t
            _row(pair, fin, code, alpha, A, LA, X, cx, B, LB, Y, cy, i,
                 i + 1 if symmetric else 0, symmetric, out, acc_b, scratch)


# The entry kernels, one per family, with the signature of _tasks less the pair and finish
# kernels:
# _js_tasks compiles JS alone, _simple_tasks the other metrics alone; _any_tasks (the
# metric chosen at run time) compiles every metric (tests and the generic pairwise_matrix).


@kernel
def _js_tasks(code, alpha, A, LA, X, cx, B, LB, Y, cy, symmetric, out, acc, bits, floats,
              t0, t1):
    _tasks(_pair_js, _finish_js, code, alpha, A, LA, X, cx, B, LB, Y, cy, symmetric, out, acc,
           bits, floats, t0, t1)


@kernel
def _simple_tasks(code, alpha, A, LA, X, cx, B, LB, Y, cy, symmetric, out, acc, bits, floats,
                  t0, t1):
    _tasks(_pair_other, finish, code, alpha, A, LA, X, cx, B, LB, Y, cy, symmetric, out, acc,
           bits, floats, t0, t1)


@kernel
def _any_tasks(code, alpha, A, LA, X, cx, B, LB, Y, cy, symmetric, out, acc, bits, floats,
               t0, t1):
    _tasks(_any_pair, finish, code, alpha, A, LA, X, cx, B, LB, Y, cy, symmetric, out, acc,
           bits, floats, t0, t1)


def _run(tasks, code, alpha, X, Y, xs, ys, symmetric, threads):
    """The (N, M) matrix: rows prepared once, then the tasks of :func:`_tasks` in
    Python threads over ranges (:func:`divergences._thread_ranges.run_in_ranges`;
    ``threads=None``: numba's thread count), each range one call of the serial kernel
    ``tasks`` (no ``prange``: a parallel kernel took about a second of a first call to
    compile). Every pair is computed by the same arithmetic whatever the threads, so the
    result does not depend on them."""
    A, LA, cx = _prepare(code, X, xs)
    B, LB, cy = (A, LA, cx) if symmetric else _prepare(code, Y, ys)
    out = np.zeros((X.shape[0], Y.shape[0]))
    N = X.shape[0]
    ntask = (N + 1) // 2 if symmetric else N
    args = (code, alpha, A, LA, X, cx, B, LB, Y, cy, bool(symmetric), out)
    n = X.shape[1]

    def tasks_with_scratch(*args_and_range):  # scratch of its own for each range
        *head, t0, t1 = args_and_range
        bits = np.empty((4, n), np.int64)
        tasks(*head, np.empty(NACC), bits, bits.view(np.float64), t0, t1)

    run_in_ranges(tasks_with_scratch, args, ntask, threads)
    return out


def pairwise_matrix(code, alpha, X, Y, xs, ys, symmetric):
    """``D[i, j]`` = divergence ``code`` between rows ``X[i]`` and ``Y[j]`` (natural log).

    ``xs``/``ys`` are the row sums. With ``symmetric`` (``Y`` is ``X``), only ``j > i``
    is computed, mirrored, and the diagonal is 0. In threads; compiles every metric:
    :func:`divergences.pairwise` uses :func:`matrix_kernel`.
    """
    return _run(_any_tasks, code, alpha, X, Y, xs, ys, symmetric, None)


def pairwise_matrix_serial(code, alpha, X, Y, xs, ys, symmetric):
    """:func:`pairwise_matrix` in the calling thread (small inputs); the same arithmetic."""
    return _run(_any_tasks, code, alpha, X, Y, xs, ys, symmetric, 1)


def matrix_kernel(code, parallel):
    """The function for metric ``code`` (threads or not), called as
    :func:`pairwise_matrix`."""
    tasks = _js_tasks if code == JS else _simple_tasks
    return lambda *args: _run(tasks, *args, None if parallel else 1)
