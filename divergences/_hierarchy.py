"""Cell hierarchies of weighted point sets, for the multiscale exact solver (NumPy).

A :class:`Hierarchy` holds the points of positive weight of one measure sorted by the
Morton key of their cell at the finest level (:func:`morton`: the bits of the cell's
integer coordinates interleaved, so that sorting by key makes every cell of every coarser
level a contiguous run, its key the finest key shifted right by ``d`` bits per level); a
level ``l`` (``0 <= l <= bits``: ``2**l`` cells per axis) is a partition of the sorted
points into contiguous runs, described by ``starts`` (run ``c`` is
``starts[c]:starts[c+1]``). The pseudo-level ``None`` is the points themselves. A cell
is a coarse point: its mass is the sum of its points' weights, its position their
barycentre.

:func:`cell_coordinates` maps point clouds to cells of a regular grid over their common
bounding cube; grids of pixels come with their own integer coordinates.
:func:`choose_levels` picks the levels the solver goes through, coarse to fine.
"""

from __future__ import annotations

import math

import numpy as np

#: the coarsest level has at most this many cells per measure (solved dense)
COARSE_CELLS = 400
#: each level has at least this many times the cells (both measures) of the previous one
GROWTH = 3.0
#: the last cell level has at least this many times fewer cells than the points
LAST_GROWTH = 1.5


def spread_bits(v, bits, d):
    """Bit ``t`` of each entry of ``v`` (int64, in ``[0, 2**bits)``) moved to bit ``t d``
    (the share of one axis in a Morton key), through a table of the spreads of 8 bits
    (``bits = 0``: all zero)."""
    w = max(1, min(8, bits))
    chunk = np.arange(1 << w, dtype=np.int64)
    table = np.zeros(1 << w, np.int64)
    for t in range(w):
        table |= ((chunk >> t) & 1) << (t * d)
    out = np.zeros(v.shape, np.int64)
    for c in range(0, bits, w):
        out |= table[(v >> c) & ((1 << w) - 1)] << (c * d)
    return out


def morton(coords, bits):
    """Morton keys (int64) of the rows of ``coords`` (n, d) int64 in ``[0, 2**bits)``: bit
    ``t`` of axis ``k`` at bit ``t d + k`` (``bits * d <= 62``)."""
    d = coords.shape[1]
    key = np.zeros(coords.shape[0], np.int64)
    for k in range(d):
        key |= spread_bits(coords[:, k], bits, d) << k
    return key


def finest_bits(n, d):
    """Bits per axis of the finest level for ``n`` points in ``d`` dimensions: about 16
    cells per point for uniform data (so the finest cells hold one point), within the
    63-bit Morton key and the 53-bit mantissa."""
    return int(max(1, min(62 // d, 50, math.ceil(math.log2(max(n, 2)) / d) + 4)))


def cell_coordinates(x, y, bits):
    """Integer cell coordinates in ``[0, 2**bits)`` of the points ``x`` (n, d) and ``y``
    (m, d) on the regular grid of ``2**bits`` cells per axis over their bounding cube."""
    lo = np.minimum(x.min(axis=0), y.min(axis=0))
    side = float(np.max(np.maximum(x.max(axis=0), y.max(axis=0)) - lo))
    top = (1 << bits) - 1
    out = []
    for pts in (x, y):
        if side > 0.0:
            c = np.floor((pts - lo) * ((top + 1) / side))
        else:
            c = np.zeros(pts.shape)
        out.append(np.clip(c, 0, top).astype(np.int64))
    return out


class Hierarchy:
    """The cells of one weighted point set at every level (module docstring).

    ``pts`` (n, d) float64, ``w`` (n,) positive, ``coords`` (n, d) int64 cells at the
    finest level of ``bits`` bits per axis. ``order`` maps sorted positions to the
    positions in the given arrays.
    """

    def __init__(self, pts, w, coords, bits):
        self.bits = bits
        self.d = pts.shape[1]
        key = morton(np.ascontiguousarray(coords), bits)
        self.order = np.argsort(key, kind="stable")
        self.key = key[self.order]
        self.pts = np.ascontiguousarray(pts[self.order])
        self.w = w[self.order]
        self.coords = coords[self.order]
        self.n = pts.shape[0]
        self._counts = {}

    def keys(self, level):
        """Morton keys of the sorted points' cells at ``level``."""
        return self.key >> (self.d * (self.bits - level))

    def starts(self, level):
        """Runs of the cells of ``level`` (``None``: the points) in the sorted points."""
        if level is None:
            return np.arange(self.n + 1)
        k = self.keys(level)
        cut = np.flatnonzero(k[1:] != k[:-1]) + 1
        return np.concatenate([[0], cut, [self.n]]).astype(np.int64)

    def count(self, level):
        """Number of cells at ``level`` (cached)."""
        if level is None:
            return self.n
        if level not in self._counts:
            k = self.keys(level)
            self._counts[level] = 1 + int(np.count_nonzero(k[1:] != k[:-1])) if self.n else 0
        return self._counts[level]

    def cells(self, level, starts):
        """``(positions, masses)`` of the cells of ``level`` (runs ``starts``)."""
        if level is None:
            return self.pts, self.w
        mass = np.add.reduceat(self.w, starts[:-1])
        pos = np.add.reduceat(self.pts * self.w[:, None], starts[:-1], axis=0) / mass[:, None]
        return np.ascontiguousarray(pos), mass

    def lattice(self, level, starts):
        """``(coords, keys)`` of the cells of ``level``: integer coordinates (``level``
        bits per axis) and their Morton keys, sorted."""
        first = starts[:-1]
        return (np.ascontiguousarray(self.coords[first] >> (self.bits - level)),
                np.ascontiguousarray(self.keys(level)[first]))


def choose_levels(hx, hy, coarse=COARSE_CELLS, growth=GROWTH, last=LAST_GROWTH):
    """The levels to solve, coarse to fine, ending with ``None`` (the points): the finest
    level with at most ``coarse`` cells per measure, then each next level the first with
    ``growth`` times more cells (both measures) than the last, while it has ``last``
    times fewer than the points. Just ``[None]`` when the points are few."""
    if max(hx.n, hy.n) <= coarse:
        return [None]
    sizes = [(hx.count(level), hy.count(level)) for level in range(hx.bits + 1)]
    total = hx.n + hy.n
    cur = max(level for level, (u, v) in enumerate(sizes) if max(u, v) <= coarse)
    out = [cur]
    while True:
        nxt = next((level for level in range(cur + 1, hx.bits + 1)
                    if sum(sizes[level]) >= growth * sum(sizes[cur])), None)
        if nxt is None or last * sum(sizes[nxt]) > total:
            break
        out.append(nxt)
        cur = nxt
    out.append(None)
    return out


def block_level(h, current, target):
    """The cell level, not finer than ``current`` (``None``: the points), whose cells
    hold closest to ``target`` cells of ``current`` on average (log scale): the blocks
    of the certificate."""
    top = h.bits if current is None else current
    here = h.count(current)
    best, score = 0, np.inf
    for level in range(top + 1):
        s = abs(math.log(here / max(h.count(level), 1) / target))
        if s < score:
            best, score = level, s
    return best
