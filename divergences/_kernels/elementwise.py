"""Row-wise information divergences between histograms, in chunks over threads.

Inputs are C-contiguous float64 arrays ``p`` (Bp, n) and ``q`` (Bq, n) of validated,
unnormalised weights, their row sums ``ps``/``qs`` and index maps ``ip``/``iq`` of length B
(output row b compares ``p[ip[b]]`` with ``q[iq[b]]``: broadcasting without copies).

Long rows are cut into chunks of :data:`CHUNK` bins and short rows grouped into tasks of
about CHUNK bins (:func:`task_layout`); ranges of tasks run as serial kernels in Python
threads (:func:`divergences._thread_ranges.run_in_ranges`; nothing parallel to compile),
so a single 10^7-bin histogram uses every core, and so does a batch of small rows. Each
task writes its partial accumulators, and a serial pass combines them in a fixed order,
so the threaded path and the serial one (used below :data:`PARALLEL_MIN` bins) agree to
rounding, whatever the number of threads.

KL and JS take their logarithms in blocks with :func:`.fastlog.log_block`, which LLVM
vectorises (numba's ``math.log`` is a scalar libm call: no SVML in llvmlite's wheels);
lanes whose argument is not a normal double are left out and counted, and their terms
added from Python by the scalar kernel :func:`.kljs.rare_terms`, compiled only when such
lanes occur (these chunk kernels live in :mod:`.kljs`).

Normalisation is folded into the loop: ``a = p * cp`` with ``cp = 1 / P``; no normalised
copy is made. The caller guarantees ``P >= 2**-900`` (:func:`lift_tiny_rows` rescales rows
of tinier mass by an exact power of two), so ``cp`` is finite. (A two-step scaling would
not do: the fastmath ``reassoc`` flag lets LLVM fold the two factors into one, which
overflows.)

Compilation is split by *family* so that a first call compiles only what it runs (issue
12, cold start): the public functions call :func:`rows_kernel`'s entry points, whose range
kernel passes the chunk kernel of its family (KL, JS, TV and Hellinger, the others), a
compiled function given as an argument, down the task loop: that loop is compiled once
per family and calls the chunk kernel directly (no layer in between: numba generates a
callee's code again in every compiled caller). All chunk kernels share one signature; one
:func:`combine_rows` serves every family. :func:`divergence_rows` (:func:`_any_chunk`,
the metric chosen at run time) compiles them all.

Metric codes: 0 KL, 1 JS, 2 TV, 3 Hellinger, 4 chi2, 5 Renyi (alpha in (0,1) or (1,inf)),
6 Renyi alpha=0, 7 Renyi alpha=inf, 8 Renyi with alpha near 1 (``0 < |alpha - 1| <=
:data:`RENYI1_WIDTH```), summed as ``sum a expm1((1 - alpha) log(b/a))`` = S - 1, so the
quotient ``log1p(S - 1) / (alpha - 1)`` does not cancel. The formulas are chosen to be
exact where the theory is sharp: KL/JS/TV/Hellinger/chi2 are exactly 0 for identical
rows, JS is exactly log 2, TV and Hellinger exactly 1 on disjoint supports (see
:func:`finish`).
"""

import math

import numpy as np

from .._jit import kernel
from .._thread_ranges import run_in_ranges
from .borrow import borrowed
from .kljs import (
    _HUGE,
    _TINY,
    _js_chunk,
    _kl_chunk,
    log_ratio_scaled,
    log_scaled,
    rare_terms,
    scratch,
)

KL, JS, TV, HELLINGER, CHI2, RENYI, RENYI0, RENYIINF, RENYI1 = 0, 1, 2, 3, 4, 5, 6, 7, 8
CHUNK = 1 << 15
#: Renyi orders with 0 < |alpha - 1| <= this use the expm1 form (code RENYI1): there
#: |(1 - alpha) log(b/a)| <= 0.125 * 1500 cannot overflow exp
RENYI1_WIDTH = 0.125
#: below this many bins in total, the serial twins run (starting threads costs more,
#: and far more on a busy machine)
PARALLEL_MIN = 1 << 17
NACC = 4
LOG2 = math.log(2.0)


def lift_tiny_rows(rows, sums):
    """Rows whose total is below ``2**-900`` multiplied by an exact power of two (copy).

    Subnormal weights become normal numbers, so nothing is lost; ``rows``/``sums`` are
    returned unchanged (no copy) when no row is that small.
    """
    if sums.min() >= 2.0**-900:
        return rows, sums
    tiny = sums < 2.0**-900
    shift = np.where(tiny, np.minimum(-np.frexp(sums)[1], 1000), 0)
    rows = np.ldexp(rows, shift[:, None])
    return rows, np.ldexp(sums, shift)


@kernel
def _bounded_chunk(code, alpha, p, q, cp, cq, lo, hi, acc, scratch, fscratch):
    """The chunk kernel of TV and Hellinger (``alpha``, ``scratch``, ``fscratch`` unused)."""
    s0 = 0.0
    s1 = 0.0
    if code == TV:
        for i in range(lo, hi):
            a = p[i] * cp
            b = q[i] * cq
            s0 += abs(a - b)
            s1 += min(a, b)
    else:
        for i in range(lo, hi):
            ra = math.sqrt(p[i] * cp)
            rb = math.sqrt(q[i] * cq)
            d = ra - rb
            s0 += d * d
            s1 += ra * rb
    acc[0] = s0
    acc[1] = s1
    acc[2] = 0.0
    acc[3] = 0.0


@kernel
def _simple_chunk(code, alpha, p, q, cp, cq, lo, hi, acc, scratch, fscratch):
    """The chunk kernel of the metrics other than KL, JS, TV and Hellinger (scalar loops)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    if code == CHI2:
        for i in range(lo, hi):
            a = p[i] * cp
            b = q[i] * cq
            if b >= _TINY:
                # the select keeps 0 exact for identical rows: under the ``contract`` flag
                # LLVM may compute a - b as fma(p, cp, -b), the rounding error of a
                d = 0.0 if a == b else a - b
                s0 += d * (d / b)
            elif q[i] > 0.0:  # b subnormal or 0: the term is b (a/b - 1)^2, in logs,
                if p[i] > 0.0:  # added by the caller (kljs.rare_terms); counted in s3
                    s3 += 1.0
                else:
                    s0 += b
            elif p[i] > 0.0:
                s1 = 1.0
    elif code == RENYI or code == RENYI1:
        # online log-sum-exp of t = alpha log a + (1 - alpha) log b: s0 = max, s1 = sum;
        # s2: 2 if +inf (p > 0 = q, alpha > 1), else 1 if a bin has a != b (0: exact 0);
        # RENYI1 (alpha near 1) also sums S - 1 into s3 as the sum over bins of
        # a^alpha b^(1-alpha) - alpha a - (1 - alpha) b (the subtracted terms sum to 1):
        # each term is second order in b - a, so neither the cancellation near S = 1 nor
        # the rounding of the normalisation (sum a != 1 by an ulp) costs digits; where S is
        # small (this sum then cancels to -1) the log-sum-exp is used instead
        s0 = -np.inf
        beta = 1.0 - alpha
        for i in range(lo, hi):
            if p[i] > 0.0:
                if q[i] > 0.0:
                    lr = log_ratio_scaled(p[i], q[i], cp, cq)
                    t = log_scaled(p[i], cp) - beta * lr
                    if t > s0:
                        s1 = s1 * math.exp(s0 - t) + 1.0
                        s0 = t
                    else:
                        s1 += math.exp(t - s0)
                    if lr != 0.0:
                        s2 = max(s2, 1.0)
                    if code == RENYI1:
                        # b - a as a (b/a - 1) from the same lr near lr = 0, so the
                        # term is a function of lr alone and flat there (see above)
                        a = p[i] * cp
                        e = a * math.expm1(-lr) if abs(lr) <= 1.0 else q[i] * cq - a
                        s3 += a * math.expm1(-beta * lr) - beta * e
                else:
                    s2 = 2.0 if alpha > 1.0 else max(s2, 1.0)
                    if code == RENYI1:
                        s3 -= alpha * (p[i] * cp)
            elif q[i] > 0.0:
                s2 = max(s2, 1.0)
                if code == RENYI1:
                    s3 -= beta * (q[i] * cq)
    elif code == RENYI0:
        # raw mass of q on the support of p (s0) and off it (s1): the ratio is all that
        # matters, and normalised weights could underflow to 0
        for i in range(lo, hi):
            if p[i] > 0.0:
                s0 += q[i]
            else:
                s1 += q[i]
    else:  # RENYIINF: max log(a/b) over a > 0
        s0 = -np.inf
        for i in range(lo, hi):
            if p[i] > 0.0:
                if q[i] > 0.0:
                    s0 = max(s0, log_ratio_scaled(p[i], q[i], cp, cq))
                else:
                    s1 = 1.0
    acc[0] = s0
    acc[1] = s1
    acc[2] = s2
    acc[3] = s3


@kernel
def _any_chunk(code, alpha, p, q, cp, cq, lo, hi, acc, scratch, fscratch):
    """The chunk kernel of metric ``code``, chosen at run time (every family compiled:
    :func:`divergence_rows`)."""
    if code == KL:
        _kl_chunk(code, alpha, p, q, cp, cq, lo, hi, acc, scratch, fscratch)
    elif code == JS:
        _js_chunk(code, alpha, p, q, cp, cq, lo, hi, acc, scratch, fscratch)
    elif code == TV or code == HELLINGER:
        _bounded_chunk(code, alpha, p, q, cp, cq, lo, hi, acc, scratch, fscratch)
    else:
        _simple_chunk(code, alpha, p, q, cp, cq, lo, hi, acc, scratch, fscratch)


@kernel(inline=True)
def _merge(code, acc, part):
    """Fold the accumulators ``part`` of the next chunk into ``acc``."""
    if code == RENYI or code == RENYI1:
        m = max(acc[0], part[0])
        if m > -np.inf:
            acc[1] = acc[1] * math.exp(acc[0] - m) + part[1] * math.exp(part[0] - m)
        acc[0] = m
        acc[2] = max(acc[2], part[2])
        acc[3] += part[3]
    elif code == RENYIINF:
        acc[0] = max(acc[0], part[0])
        acc[1] = max(acc[1], part[1])
    elif code == KL or code == CHI2:
        acc[0] += part[0]
        acc[1] = max(acc[1], part[1])
    else:
        acc[0] += part[0]
        acc[1] += part[1]
        acc[2] += part[2]
        acc[3] += part[3]


@kernel(inline=True)
def _finish_sum(code, alpha, acc):
    """:func:`finish` of KL, chi2 and Renyi of order inf: the sum, or inf when flagged."""
    return np.inf if acc[1] > 0.0 else max(acc[0], 0.0)


@kernel(inline=True)
def _finish_js(code, alpha, acc):
    """:func:`finish` of JS."""
    s0, s1, s2 = acc[0], acc[1], acc[2]
    # non-overlapping mass: summed directly (exact 0 when p == q) or as 2 - overlap
    # (exact 2 on disjoint supports), whichever sum is smaller and so more accurate.
    rest = s2 if s2 < s1 else max(2.0 - s1, 0.0)
    return min(max(0.5 * s0 + LOG2 * (0.5 * rest), 0.0), LOG2)


@kernel(inline=True)
def _finish_bounded(code, alpha, acc):
    """:func:`finish` of TV and Hellinger."""
    half = 0.5 * acc[0]
    d = min(max(half if half < 0.5 else 1.0 - acc[1], 0.0), 1.0)
    return d if code == TV else math.sqrt(d)


@kernel(inline=True)
def _finish_renyi(code, alpha, acc):
    """:func:`finish` of the Renyi divergences of finite order."""
    s0, s1, s2 = acc[0], acc[1], acc[2]
    if code == RENYI0:
        if s0 <= 0.0:
            return np.inf
        r = s1 / s0  # the raw masses off and on the support of p
        return math.log1p(r) if r <= _HUGE else math.log(s1) - math.log(s0)
    if s2 > 1.0 or s1 == 0.0:  # p > 0 = q with alpha > 1; no common support
        return np.inf
    if s2 == 0.0:  # the same normalised weights: exactly 0 (not log(1 + eps))
        return 0.0
    if code == RENYI1 and acc[3] > -0.5:  # S > 1/2: log1p(S - 1) keeps the digits
        d = math.log1p(acc[3]) / (alpha - 1.0)
    else:
        d = (s0 + math.log(s1)) / (alpha - 1.0)
    return d if d > 0.0 else 0.0  # not max(): it keeps -0.0


def finish_kernel(code):
    """The kernel of :func:`finish` for metric ``code`` alone (a first call compiles one
    family's, not every metric's)."""
    if code == JS:
        return _finish_js
    if code == TV or code == HELLINGER:
        return _finish_bounded
    if code == RENYI or code == RENYI1 or code == RENYI0:
        return _finish_renyi
    return _finish_sum


@kernel(inner=True)
def finish(code, alpha, acc):
    """The divergence (natural log) of a row from its combined accumulators: the kernel of
    its family (:func:`finish_kernel`), so that every path returns the same bits."""
    if code == JS:
        return _finish_js(code, alpha, acc)
    if code == TV or code == HELLINGER:
        return _finish_bounded(code, alpha, acc)
    if code == RENYI or code == RENYI1 or code == RENYI0:
        return _finish_renyi(code, alpha, acc)
    return _finish_sum(code, alpha, acc)


@kernel(inline=True)
def _start(code, acc):
    if code == RENYI or code == RENYI1 or code == RENYIINF:
        acc[0] = -np.inf
    else:
        acc[0] = 0.0
    acc[1] = 0.0
    acc[2] = 0.0
    acc[3] = 0.0


def task_layout(B, n):
    """Task layout of ``B`` rows of ``n`` bins: ``(nch, R, T)``: chunks per row, rows per
    task, number of tasks.

    Long rows are cut into chunks (one task each); short rows are grouped, R per task, so
    a task always has about CHUNK bins of work.
    """
    nch = (n + CHUNK - 1) // CHUNK
    if nch > 1:
        return nch, 1, B * nch
    R = max(1, CHUNK // n)
    return 1, R, (B + R - 1) // R


@kernel(inline=True)
def _rows_tasks(chunk, code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch, fscratch,
                t0, t1):
    """Tasks ``t0..t1-1`` of :func:`task_layout`: the accumulators of each chunk ``c`` of
    row ``b`` into ``parts[b * nch + c]``; ``scratch``, ``fscratch``: :func:`.kljs.scratch`
    of the calling thread."""
    n = p.shape[1]
    for t in range(t0, t1):
        first, last = (t, t + 1) if nch > 1 else (t * R, min(ip.shape[0], (t + 1) * R))
        for u in range(first, last):
            b = u // nch
            lo = (u % nch) * CHUNK
            hi = min(n, lo + CHUNK)
            chunk(code, alpha, p[ip[b]], q[iq[b]], 1.0 / ps[ip[b]], 1.0 / qs[iq[b]], lo, hi,
                  parts[u], scratch, fscratch)


@kernel
def combine_rows(code, alpha, B, nch, parts):
    """The divergence of each of the ``B`` rows from the accumulators of its chunks, merged
    in chunk order."""
    out = np.empty(B)
    acc = np.empty(NACC)
    for b in range(B):
        _start(code, acc)
        for c in range(nch):
            _merge(code, acc, parts[b * nch + c])
        out[b] = finish(code, alpha, acc)
    return out


#: one row of at most this many chunks, in one thread (the public functions use threads
#: from PARALLEL_MIN bins, 4 chunks, so they come here with up to 4): the
#: chunk kernel is called from Python, once per chunk, and the chunks are combined in
#: Python (:func:`_combine_few`), so a first call compiles neither the task loop nor
#: :func:`combine_rows` (about 0.9 s of a first ``kl`` of 10^5 bins); a call costs a few
#: microseconds, a few percent of a chunk's work
FEW_CHUNKS = 8


def _combine_few(code, alpha, parts):
    """:func:`combine_rows` in Python for one row of a few chunks: the same merge, in the
    same order (``math.exp`` is the C library's, as the compiled one), then the compiled
    :func:`finish` of the family. The result agrees with the same row in a batch to
    rounding, not always to the bit: compiled alone or inside the task loop, a chunk kernel
    may sum its vectorised lanes in another order (``reassoc``), and the compiled Renyi
    merge may fuse a product into an FMA (``contract``)."""
    rows = parts.tolist()
    s0, s1, s2, s3 = rows[0]
    for t0, t1, t2, t3 in rows[1:]:
        if code == RENYI or code == RENYI1:
            m = max(s0, t0)
            if m > -math.inf:
                s1 = s1 * math.exp(s0 - m) + t1 * math.exp(t0 - m)
            s0, s2, s3 = m, max(s2, t2), s3 + t3
        elif code == RENYIINF:
            s0, s1 = max(s0, t0), max(s1, t1)
        elif code == KL or code == CHI2:
            s0, s1 = s0 + t0, max(s1, t1)
        else:
            s0, s1, s2, s3 = s0 + t0, s1 + t1, s2 + t2, s3 + t3
    parts[0] = s0, s1, s2, s3
    return np.array([finish_kernel(code)(code, alpha, parts[0])])


@kernel
def _rare_chunks(code, p, q, ps, qs, ip, iq, nch, idx, parts, k0, k1):
    """``parts[u, 0] += rare_terms(...)`` of chunk ``u`` (of row ``u // nch``) for each ``u``
    in ``idx[k0:k1]``: one compiled loop over a range of the flagged chunks (ranges in
    threads, :func:`_add_rare`), compiled only when rare bins occur. The arrays are
    :func:`~.borrow.borrowed`: the rows taken per chunk are not reference-counted."""
    p, q, ps, qs, ip, iq = borrowed(p), borrowed(q), borrowed(ps), borrowed(qs), \
        borrowed(ip), borrowed(iq)
    parts = borrowed(parts)
    n = p.shape[1]
    for k in range(k0, k1):
        u = idx[k]
        b = u // nch
        lo = (u % nch) * CHUNK
        hi = min(n, lo + CHUNK)
        parts[u, 0] += rare_terms(code, p[ip[b]], q[iq[b]], 1.0 / ps[ip[b]], 1.0 / qs[iq[b]],
                                  lo, hi)


def _add_rare(code, p, q, ps, qs, ip, iq, nch, parts, threads=1):
    """KL, JS, chi2: add to each chunk's ``parts[u, 0]`` the terms of the rare bins its chunk
    kernel left out (counted in ``parts[u, 3]``; :func:`.kljs.rare_terms`), before the
    chunks are combined. Called on every path, so they all sum in the same order; the
    flagged chunks in ranges over ``threads`` threads (as the chunk kernels ran: a batch
    with a rare bin in every row is otherwise dominated by this pass)."""
    if (code != KL and code != JS and code != CHI2) or (
            parts.shape[0] == 1 and not parts[0, 3] > 0.0):
        return
    idx = np.flatnonzero(parts[:, 3] > 0.0)
    if idx.shape[0] > 0:
        run_in_ranges(_rare_chunks, (code, p, q, ps, qs, ip, iq, nch, idx, parts),
                      idx.shape[0], threads, per_thread=1)


def _with_scratch(tasks, *args_and_range):
    """``tasks(*args, scratch, fscratch, t0, t1)`` with the scratch of the calling thread
    (a range of :func:`divergences._thread_ranges.run_in_ranges`)."""
    *args, t0, t1 = args_and_range
    tasks(*args, *scratch(), t0, t1)


def _entry(tasks, chunk):
    """The entry point of one family over its range kernel ``tasks`` (over its chunk kernel
    ``chunk``): called as ``run(code, alpha, p, q, ps, qs, ip, iq, threads)``, it runs the
    tasks in ``threads`` Python threads (:func:`divergences._thread_ranges.run_in_ranges`:
    nothing parallel to compile; ``None`` for numba's thread count, 1 in the calling
    thread), then one serial pass combining the chunks in a fixed order, so the result
    does not depend on the number of threads. One pair (the common call) of up to
    :data:`FEW_CHUNKS` chunks, in one thread, calls ``chunk`` once per chunk from Python
    and combines in Python (one chunk: its family's :func:`finish` of its accumulators), the same
    arithmetic without the two compiled layers around the chunk kernel, which a first call
    would compile (a first ``kl`` of 100 bins: about 1 s less, of 10^5 bins: 0.9 s)."""

    def run(code, alpha, p, q, ps, qs, ip, iq, threads=None):
        B = ip.shape[0]
        n = p.shape[1]
        nch, R, T = task_layout(B, n)
        if B == 1 and nch == 1:
            parts = np.empty((1, NACC))
            chunk(code, alpha, p[ip[0]], q[iq[0]], 1.0 / ps[ip[0]], 1.0 / qs[iq[0]], 0, n,
                  parts[0], *scratch())
            _add_rare(code, p, q, ps, qs, ip, iq, nch, parts)
            return np.array([finish_kernel(code)(code, alpha, parts[0])])
        if B == 1 and nch <= FEW_CHUNKS and threads == 1:
            pr, qr, cp, cq = p[ip[0]], q[iq[0]], float(1.0 / ps[ip[0]]), float(1.0 / qs[iq[0]])
            parts, (bits, floats) = np.empty((nch, NACC)), scratch()
            for c in range(nch):
                chunk(code, alpha, pr, qr, cp, cq, c * CHUNK, min(n, (c + 1) * CHUNK),
                      parts[c], bits, floats)
            _add_rare(code, p, q, ps, qs, ip, iq, nch, parts)
            return _combine_few(code, alpha, parts)
        parts = np.empty((B * nch, NACC))
        if threads == 1:  # the common small call: through run_in_ranges 2 us more (~4%)
            tasks(code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, *scratch(), 0, T)
        else:
            run_in_ranges(_with_scratch, (tasks, code, alpha, p, q, ps, qs, ip, iq, nch, R, parts),
                          T, threads, per_thread=1)
        _add_rare(code, p, q, ps, qs, ip, iq, nch, parts, threads)
        return combine_rows(code, alpha, B, nch, parts)

    run.__doc__ = f"The rows of one family, over :func:`{tasks.__name__}`."
    return run


@kernel
def _any_tasks(code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch, fscratch, t0, t1):
    _rows_tasks(_any_chunk, code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch,
                fscratch, t0, t1)


#: every metric (``code`` chosen at run time), e.g. ``divergence_rows(code, alpha, p, q,
#: ps, qs, ip, iq, threads=1)``: the public functions use :func:`rows_kernel`
divergence_rows = _entry(_any_tasks, _any_chunk)


# The entry points of the public functions, one per family, with the signature of
# divergence_rows: each passes its family's chunk kernel, so a first call
# compiles that family alone (KL: 2 s cold instead of 8 s).


@kernel
def _kl_tasks(code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch, fscratch, t0, t1):
    _rows_tasks(_kl_chunk, code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch,
                fscratch, t0, t1)


@kernel
def _js_tasks(code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch, fscratch, t0, t1):
    _rows_tasks(_js_chunk, code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch,
                fscratch, t0, t1)


@kernel
def _simple_tasks(code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch, fscratch, t0, t1):
    _rows_tasks(_simple_chunk, code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch,
                fscratch, t0, t1)


@kernel
def _bounded_tasks(code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch, fscratch, t0, t1):
    _rows_tasks(_bounded_chunk, code, alpha, p, q, ps, qs, ip, iq, nch, R, parts, scratch,
                fscratch, t0, t1)


_kl_rows = _entry(_kl_tasks, _kl_chunk)
_js_rows = _entry(_js_tasks, _js_chunk)
_simple_rows = _entry(_simple_tasks, _simple_chunk)
_bounded_rows = _entry(_bounded_tasks, _bounded_chunk)


def rows_kernel(code):
    """The entry point of metric ``code``'s family, called as :func:`divergence_rows`."""
    if code == KL:
        return _kl_rows
    if code == JS:
        return _js_rows
    if code == TV or code == HELLINGER:
        return _bounded_rows
    return _simple_rows
