"""The validation pass over histogram rows: row sums and minima in one compiled scan.

Used by :func:`divergences._validation.check_histogram_rows` only (it computes what the
checks need and nothing the divergences use), chunked like :mod:`.elementwise` so one
long row uses every core.
"""

import numpy as np

from .._jit import kernel
from .._thread_ranges import run_in_ranges
from .elementwise import CHUNK

#: blocks of the cascade summation: each summed by one loop that LLVM vectorises
_BLOCK = 128
#: blocks per group: 16 block sums make a group sum, the group sums make the total
_GROUP = 16


@kernel(inline=True)
def _cascade(v, lo, hi):
    """``(sum, min)`` of ``v[lo:hi]``; the sum by a three-level cascade.

    Blocks of :data:`_BLOCK` terms are summed by a vectorised loop, 16 block sums make a
    group sum, and the group sums the total: no partial sum ever adds more than ~16 terms
    of its own size, so the rounding error stays at a few ulps up to a chunk of 2**15
    (NumPy's pairwise sum: the same), where one naive sum grew as ``n`` ulps. The row
    sums normalise the histograms, and their error is what JS sees between proportional
    histograms (issue 12, defect 21: js_distance(p, c p) was up to 4e-15).
    """
    total = 0.0
    group = 0.0
    nblocks = 0
    m = np.inf
    for start in range(lo, hi, _BLOCK):
        s = 0.0
        for i in range(start, min(start + _BLOCK, hi)):
            x = v[i]
            s += x
            m = min(m, x)
        group += s
        nblocks += 1
        if nblocks == _GROUP:
            total += group
            group = 0.0
            nblocks = 0
    return total + group, m


@kernel
def _scan_tasks(x, y, nx, ny, psum, pmin, t0, t1):
    """Tasks ``t0 .. t1-1`` of :func:`scan_pair`: task ``t < Tx = rows(x) nx`` is chunk
    ``t % nx`` of row ``t // nx`` of ``x``, the others those of ``y``; its cascade sum and
    minimum into ``psum[t]``, ``pmin[t]``."""
    Tx = x.shape[0] * nx
    for t in range(t0, t1):
        v, u, nch = (x, t, nx) if t < Tx else (y, t - Tx, ny)
        lo = (u % nch) * CHUNK
        psum[t], pmin[t] = _cascade(v[u // nch], lo, min(v.shape[1], lo + CHUNK))


def _combine(psum, pmin, B, nch):
    """Row sums and minima from the per-chunk ones (NumPy's pairwise sum: a few ulps)."""
    return psum.reshape(B, nch).sum(axis=1), pmin.reshape(B, nch).min(axis=1)


def scan_pair(x, y, threads=None):
    """Row sums and row minima of ``x`` (B, n) and of ``y`` (B', n') in one pass
    (validation only): ``(xs, xm, ys, ym)``.

    A finite sum means no NaN/inf entry (they propagate); the minimum exposes negatives.
    Chunks of :data:`CHUNK` bins, each summed by a cascade (:func:`_cascade`), in ranges
    over Python threads (:func:`divergences._thread_ranges.run_in_ranges`; ``threads=None``:
    numba's thread count): nothing parallel to compile (a ``prange`` scan cost 2.6 s of a
    first call on 10^5+ bins). The chunks are fixed, so the sums do not depend on the
    threads."""
    nx = (x.shape[1] + CHUNK - 1) // CHUNK
    ny = (y.shape[1] + CHUNK - 1) // CHUNK
    Tx = x.shape[0] * nx
    T = Tx + y.shape[0] * ny
    psum, pmin = np.empty(T), np.empty(T)
    # chunks of equal work: one range per thread, the calling thread running one (16 ranges
    # handed to the pool made a first kl of a 10^4 x 256 batch 2 ms slower, 9 -> 11 ms)
    run_in_ranges(_scan_tasks, (x, y, nx, ny, psum, pmin), T, threads, per_thread=1)
    xs, xm = _combine(psum[:Tx], pmin[:Tx], x.shape[0], nx)
    ys, ym = _combine(psum[Tx:], pmin[Tx:], y.shape[0], ny)
    return xs, xm, ys, ym


def scan_rows(x, threads=None):
    """:func:`scan_pair` of ``x`` alone: ``(sums, mins)`` of its rows."""
    return scan_pair(x, x[:0], threads)[:2]


def scan_rows_serial(x):
    """:func:`scan_rows` without threads, for small inputs, in NumPy: its row sums are
    pairwise sums (a few ulps, like the cascade) and nothing is compiled (cold start:
    the compiled twin cost 0.7 s of a first ``kl`` call for ~0.05 ms saved at 1e5 bins).
    """
    with np.errstate(all="ignore"):  # an overflowing or NaN sum is the verdict's to name
        return x.sum(axis=1), x.min(axis=1)


@kernel(inline=True)  # two call sites (here, sinkhorn_scaling.kernel_rows): no layer
def _row_range(row):
    """``(min, max, z)`` of ``row``, ``z = sum row * 0`` (NaN iff an entry is NaN or inf).

    Eight independent chains for each of min and max: one chain of selects (``v if v < lo
    else lo``) is a serial dependency that LLVM does not vectorise without ``nnan``, 4-5
    cycles per entry; eight chains run at about one load per cycle (a 2000 x 2000 cost
    matrix: 5.4 ms -> 1.6 ms on one core).
    """
    m = row.shape[0]
    l0 = l1 = l2 = l3 = l4 = l5 = l6 = l7 = np.inf
    h0 = h1 = h2 = h3 = h4 = h5 = h6 = h7 = -np.inf
    z = 0.0
    j = 0
    while j + 8 <= m:
        v0, v1, v2, v3 = row[j], row[j + 1], row[j + 2], row[j + 3]
        v4, v5, v6, v7 = row[j + 4], row[j + 5], row[j + 6], row[j + 7]
        l0, h0 = (v0 if v0 < l0 else l0), (v0 if v0 > h0 else h0)
        l1, h1 = (v1 if v1 < l1 else l1), (v1 if v1 > h1 else h1)
        l2, h2 = (v2 if v2 < l2 else l2), (v2 if v2 > h2 else h2)
        l3, h3 = (v3 if v3 < l3 else l3), (v3 if v3 > h3 else h3)
        l4, h4 = (v4 if v4 < l4 else l4), (v4 if v4 > h4 else h4)
        l5, h5 = (v5 if v5 < l5 else l5), (v5 if v5 > h5 else h5)
        l6, h6 = (v6 if v6 < l6 else l6), (v6 if v6 > h6 else h6)
        l7, h7 = (v7 if v7 < l7 else l7), (v7 if v7 > h7 else h7)
        z += ((v0 * 0.0 + v1 * 0.0) + (v2 * 0.0 + v3 * 0.0)) + \
             ((v4 * 0.0 + v5 * 0.0) + (v6 * 0.0 + v7 * 0.0))
        j += 8
    while j < m:
        v = row[j]
        l0, h0 = (v if v < l0 else l0), (v if v > h0 else h0)
        z += v * 0.0
        j += 1
    lo = min(min(min(l0, l1), min(l2, l3)), min(min(l4, l5), min(l6, l7)))
    hi = max(max(max(h0, h1), max(h2, h3)), max(max(h4, h5), max(h6, h7)))
    return lo, hi, z


@kernel
def _range_rows(x, lo, hi, zero, r0, r1):
    """:func:`_row_range` of rows ``r0 .. r1-1`` of ``x`` into ``lo``, ``hi``, ``zero``."""
    for i in range(r0, r1):
        lo[i], hi[i], zero[i] = _row_range(x[i])


def value_range(x, threads=None):
    """``(min, max, finite)`` of a 2-D array in one pass (validation of cost matrices).

    ``finite`` is False if some entry is NaN or infinite (``v * 0`` is then NaN and the sum
    of those products propagates it; this relies on the policy's fastmath flags, which keep
    ``nnan``/``ninf`` off: see :data:`divergences._jit.FASTMATH`); ``min``/``max`` are then
    meaningless. Ranges of rows in Python threads
    (:func:`divergences._thread_ranges.run_in_ranges`; ``threads=None``: numba's thread
    count): nothing parallel to compile (a ``prange`` version cost 2 s of a first large
    ``sinkhorn`` call).
    """
    n = x.shape[0]
    lo, hi, zero = np.empty(n), np.empty(n), np.empty(n)
    run_in_ranges(_range_rows, (x, lo, hi, zero), n, threads, per_thread=1)
    return lo.min(), hi.max(), zero.sum() == 0.0


def value_range_serial(x):
    """:func:`value_range` without threads, for small inputs, in NumPy (nothing compiled).
    NaN propagates through ``min``/``max``, so ``finite`` is False for a NaN or inf entry.
    """
    with np.errstate(all="ignore"):
        lo, hi = x.min(), x.max()
    return lo, hi, bool(np.isfinite(lo) and np.isfinite(hi))


#: cost matrices of fewer entries are scanned by NumPy (:func:`value_range_serial`): its
#: two passes beat one compiled pass in two threads up to about 800 x 800 entries (0.16 vs
#: 0.18 ms at 600 x 600, 0.54 vs 0.39 ms at 1000 x 1000), and compile nothing (the compiled
#: scan was 0.55 s of a first Sinkhorn call on 600 points).
NUMPY_RANGE_BELOW = 1 << 19


def cost_range(x):
    """``(min, max, finite)`` of a cost matrix: :func:`value_range_serial` below
    :data:`NUMPY_RANGE_BELOW` entries, else the compiled threaded :func:`value_range`."""
    return (value_range if x.size >= NUMPY_RANGE_BELOW else value_range_serial)(x)
