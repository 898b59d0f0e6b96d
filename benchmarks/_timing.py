"""Timing helpers shared by the benchmark scripts: warm-up excluded, medians, ratio."""

from __future__ import annotations

import time

import numpy as np


def median_time(fn, repeat):
    """Median wall time of ``fn()`` over ``repeat`` calls, after one untimed warm-up call
    (compilation, caches, page faults)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def row(case, ours_s, ref_name, ref_s):
    """One result row as the runner collects it; ``ratio`` is the speed-up ``ref / ours``."""
    return {"case": case, "ours_s": ours_s, "ref_name": ref_name, "ref_s": ref_s,
            "ratio": ref_s / ours_s}


def timed_row(case, ours, ref_name, ref, repeat):
    """:func:`row` of the median times of the callables ``ours`` and ``ref``."""
    return row(case, median_time(ours, repeat), ref_name, median_time(ref, repeat))
