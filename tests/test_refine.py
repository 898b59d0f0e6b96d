"""The refinement between levels of the multiscale solver (NumPy, divergences._refine and
divergences._hierarchy.morton) against plain-Python loops (the compiled kernels they
replaced, run as Python) and, for split_plan, against the compiled kernel that
pairwise_local still uses inside its kernels."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from divergences._hierarchy import morton
from divergences._kernels import refine as compiled
from divergences._refine import children_pairs, dilate, northwest, split_plan

seeds = st.integers(0, 2**32 - 1)


# -- references: the former kernels' loops, in plain Python --------------------------------

def _encode_loop(c, bits):
    key = 0
    for b in range(bits):
        for k in range(len(c)):
            key |= ((int(c[k]) >> b) & 1) << (b * len(c) + k)
    return key


def _dilate_loop(rows, cols, ycoords, ykeys, bits, radius):
    d = ycoords.shape[1]
    width = 2 * radius + 1
    keys = {int(k): j for j, k in enumerate(ykeys)}
    out_r, out_c = [], []
    for e in range(rows.shape[0]):
        for o in range(width ** d):
            t, c = o, []
            for k in range(d):
                c.append(int(ycoords[cols[e], k]) + t % width - radius)
                t //= width
            if min(c) < 0 or max(c) >= 1 << bits:
                continue
            j = keys.get(_encode_loop(c, bits))
            if j is not None:
                out_r.append(rows[e])
                out_c.append(j)
    return np.array(out_r, np.int64), np.array(out_c, np.int64)


def _children_loop(rows, cols, xchild, ychild):
    pairs = []
    for r in np.unique(rows):
        arcs = cols[rows == r]
        for i in range(xchild[r], xchild[r + 1]):
            for c in arcs:
                pairs += [(i, j) for j in range(ychild[c], ychild[c + 1])]
    out = np.array(pairs, np.int64).reshape(-1, 2)
    return out[:, 0], out[:, 1]


def _lattice(rng, d, bits, fill):
    """Sorted Morton keys and coordinates of a random subset of the cells."""
    side = 1 << bits
    cells = np.stack(np.unravel_index(np.arange(side ** d), (side,) * d), 1).astype(np.int64)
    cells = cells[rng.random(cells.shape[0]) < fill]
    keys = np.array([_encode_loop(c, bits) for c in cells], np.int64)
    order = np.argsort(keys)
    return np.ascontiguousarray(cells[order]), keys[order]


def _coarse(rng, nx, ny, density, masses):
    """A coarse coupling (arcs sorted by row, ``by_col``) and children masses summing to
    each cell's mass: ``masses(size)`` draws the relative masses of the children."""
    P = masses((nx, ny)) * (rng.random((nx, ny)) < density)
    P[rng.integers(nx), rng.integers(ny)] += masses(1)[0]
    parts = []
    for total in (P.sum(1), P.sum(0)):
        w = [masses(int(rng.integers(1, 5))) for _ in total]
        mass = np.concatenate([v / v.sum() * t for v, t in zip(w, total, strict=True)])
        child = np.concatenate([[0], np.cumsum([v.shape[0] for v in w])]).astype(np.int64)
        parts += [mass, child]
    rows, cols = np.nonzero(P)
    by_col = np.argsort(cols, kind="stable").astype(np.int64)
    return rows.astype(np.int64), cols.astype(np.int64), P[rows, cols], by_col, parts


def _check_coupling(r, c, amt, xchild, ychild, a, b, rows, cols):
    """Nonnegative; marginals a, b to rounding of each cell's mass; every child of a cell
    with arcs in the support, inside the children of the cell's arcs."""
    assert (amt >= 0).all()
    cell_a = np.repeat(np.add.reduceat(a, xchild[:-1]) if a.size else a, np.diff(xchild))
    cell_b = np.repeat(np.add.reduceat(b, ychild[:-1]) if b.size else b, np.diff(ychild))
    np.testing.assert_allclose(np.bincount(r, amt, a.shape[0]), a, rtol=0,
                               atol=1e-14 * max(cell_a.max(initial=0), 1e-300))
    np.testing.assert_allclose(np.bincount(c, amt, b.shape[0]), b, rtol=0,
                               atol=1e-14 * max(cell_b.max(initial=0), 1e-300))
    xcell = np.repeat(np.arange(xchild.shape[0] - 1), np.diff(xchild))
    ycell = np.repeat(np.arange(ychild.shape[0] - 1), np.diff(ychild))
    arcs = set(zip(rows.tolist(), cols.tolist(), strict=True))
    assert set(zip(xcell[r].tolist(), ycell[c].tolist(), strict=True)) <= arcs
    assert set(r.tolist()) == set(np.flatnonzero(np.isin(xcell, rows)).tolist())
    assert set(c.tolist()) == set(np.flatnonzero(np.isin(ycell, cols)).tolist())


# -- tests ---------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, 7), st.data())
def test_morton_matches_the_bit_loop(seed, d, data):
    bits = data.draw(st.integers(0, 62 // d))
    rng = np.random.default_rng(seed)
    coords = rng.integers(0, 1 << bits, size=(20, d), dtype=np.int64)
    coords[0] = (1 << bits) - 1  # every bit set (none for bits = 0)
    expected = np.array([_encode_loop(c, bits) for c in coords], np.int64)
    np.testing.assert_array_equal(morton(coords, bits), expected)


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, 3), st.integers(0, 4), st.integers(1, 2))
def test_dilate_matches_the_loop(seed, d, bits, radius):
    rng = np.random.default_rng(seed)
    ycoords, ykeys = _lattice(rng, d, min(bits, 9 // d), rng.uniform(0.1, 1.0))
    if ykeys.size == 0:
        return
    E = int(rng.integers(0, 25))
    rows = np.sort(rng.integers(0, 6, E)).astype(np.int64)
    cols = rng.integers(0, ykeys.shape[0], E).astype(np.int64)
    got = dilate(rows, cols, ycoords, ykeys, min(bits, 9 // d), radius)
    want = _dilate_loop(rows, cols, ycoords, ykeys, min(bits, 9 // d), radius)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 8), st.integers(1, 8))
def test_children_pairs_matches_the_loop(seed, nx, ny):
    rng = np.random.default_rng(seed)
    xchild = np.concatenate([[0], np.cumsum(rng.integers(0, 4, nx))]).astype(np.int64)
    ychild = np.concatenate([[0], np.cumsum(rng.integers(0, 4, ny))]).astype(np.int64)
    keys = np.unique(rng.integers(0, nx * ny, int(rng.integers(0, nx * ny + 1))))
    rows, cols = keys // ny, keys % ny
    got = children_pairs(rows, cols, xchild, ychild)
    want = _children_loop(rows, cols, xchild, ychild)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.int64
        np.testing.assert_array_equal(g, w)


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 9), st.integers(1, 9), st.floats(0.05, 0.9))
def test_split_plan_is_the_compiled_kernels_coupling(seed, nx, ny, density):
    """Generic masses (no ties): the same pairs in the same order as the compiled kernel,
    amounts equal to rounding; a coupling of the children within the coarse arcs."""
    rng = np.random.default_rng(seed)
    rows, cols, flows, by_col, (a, xchild, b, ychild) = _coarse(
        rng, nx, ny, density, lambda size: rng.random(size) + 1e-3)
    got = split_plan(rows, cols, flows, by_col, xchild, ychild, a, b)
    want = compiled.split_plan(rows, cols, flows, by_col, xchild, ychild, a, b)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[2], want[2], rtol=0, atol=1e-13 * flows.sum())
    _check_coupling(*got, xchild, ychild, a, b, rows, cols)


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 9), st.integers(1, 9))
def test_split_plan_with_ties_and_tiny_masses_is_a_coupling(seed, nx, ny):
    """Masses with exact ties (multiples of 1/8) or spanning 1e-300..1: still a coupling
    covering every child, within the coarse arcs (the pairs at a tie may differ from the
    kernel's: either is the rule with the tie broken one way)."""
    rng = np.random.default_rng(seed)
    if seed % 2:
        def masses(size):
            return rng.integers(1, 4, size) / 8.0
    else:
        def masses(size):
            return 10.0 ** rng.uniform(-300, 0, size)
    rows, cols, flows, by_col, (a, xchild, b, ychild) = _coarse(rng, nx, ny, 0.4, masses)
    r, c, amt = split_plan(rows, cols, flows, by_col, xchild, ychild, a, b)
    _check_coupling(r, c, amt, xchild, ychild, a, b, rows, cols)


def test_northwest_pairs_each_group_along_a_staircase():
    """Two groups, one side empty in a third: [.5, .5] against [.25, .75] gives
    (0,0) .25, (0,1) .25, (1,1) .5; [1] against [.5, .5] gives (2,2) .5, (2,3) .5; group
    2 (no right items) gives nothing."""
    lg = np.array([0, 0, 1, 2], np.int64)
    lm = np.array([0.5, 0.5, 1.0, 1.0])
    rg = np.array([0, 0, 1, 1], np.int64)
    rm = np.array([0.25, 0.75, 0.5, 0.5])
    left, right, amt = northwest(lg, lm, rg, rm, 3)
    assert left.tolist() == [0, 0, 1, 2, 2]
    assert right.tolist() == [0, 1, 1, 2, 3]
    assert amt.tolist() == [0.25, 0.25, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("size", [0, 1])
def test_children_pairs_and_split_plan_of_nothing(size):
    empty = np.empty(0, np.int64)
    child = np.arange(size + 1, dtype=np.int64)
    r, c = children_pairs(empty, empty, child, child)
    assert r.shape == c.shape == (0,)
    r, c, amt = split_plan(empty, empty, np.empty(0), empty, child, child, np.ones(size),
                           np.ones(size))
    assert r.shape == c.shape == amt.shape == (0,)
