"""One runner for every benchmark: ``python -m benchmarks [--quick] [--only NAMES]``.

Each ``benchmarks/bench_<area>.py`` has ``main(quick=False)`` returning rows
``{case, ours_s, ref_name, ref_s, ...}``. The runner calls them in turn, prints progress,
and writes a Markdown table and a PNG bar chart of the speed-ups (reference time / our time,
above 1 means divergences is faster; computed here from the two times, whatever ratio the
script printed) to ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import platform
import sys
import time

AREAS = ["information", "univariate", "exact", "grid", "multiscale", "entropic", "unbalanced",
         "gaussian", "gradients", "pairwise", "two_sample", "cold_start"]


def machine_line():
    """One line that says on what machine the numbers were taken."""
    import numba
    import numpy

    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
            f" numpy {numpy.__version__}, numba {numba.__version__}")


def speedup(row):
    """Reference time over our time (above 1: we are faster); None if not timed."""
    ours, ref = row.get("ours_s"), row.get("ref_s")
    if isinstance(ours, (int, float)) and isinstance(ref, (int, float)) and ours > 0 < ref:
        return ref / ours
    return None


def markdown(rows):
    """The rows as a Markdown table."""
    lines = ["| case | divergences (s) | reference | reference (s) | speed-up (ref/ours) |",
             "| --- | ---: | --- | ---: | ---: |"]
    for r in rows:
        up = speedup(r)
        up = f"{up:.2f}x" if up is not None else "n/a"
        ref_s = r.get("ref_s")
        ref_s = f"{ref_s:.4g}" if isinstance(ref_s, (int, float)) else str(ref_s)
        lines.append(f"| {r['case']} | {r['ours_s']:.4g} | {r.get('ref_name', '')} | {ref_s} "
                     f"| {up} |")
    return "\n".join(lines)


def bar_chart(rows, path):
    """Speed-ups (reference time / ours) as horizontal bars on a log axis; None without
    matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = [r for r in rows if speedup(r)]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.2), constrained_layout=True)
    ups = [speedup(r) for r in rows]
    labels = [f"{r['case']} vs {r.get('ref_name', '')}" for r in rows]
    ax.barh(range(len(rows)), ups, color=["tab:green" if s >= 1 else "tab:red" for s in ups])
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("speed-up over the reference (reference time / our time)")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    """Run the benchmarks; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--only", default=",".join(AREAS), help="comma-separated areas")
    parser.add_argument("--memory", action="store_true",
                        help="also the memory cases (online Sinkhorn on n=m=20,000: minutes)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"))
    args = parser.parse_args(argv)
    areas = [a for a in args.only.split(",") if a]
    unknown = set(areas) - set(AREAS)
    if unknown:
        parser.error(f"unknown areas {sorted(unknown)}; choose from {AREAS}")
    rows = []
    for k, area in enumerate(areas, start=1):
        print(f"[{k}/{len(areas)}] {area} ...", flush=True)
        start = time.perf_counter()
        module = importlib.import_module(f"benchmarks.bench_{area}")
        kwargs = {"quick": args.quick}
        if args.memory and "memory" in inspect.signature(module.main).parameters:
            kwargs["memory"] = True
        rows.extend(module.main(**kwargs) or [])
        print(f"[{k}/{len(areas)}] {area} done in {time.perf_counter() - start:.1f} s", flush=True)
    table = markdown(rows)
    print("\n" + machine_line() + "\n\n" + table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as fh:
        fh.write(f"Taken on: {machine_line()}\n\n{table}\n")
    png = bar_chart(rows, os.path.join(args.out, "results.png"))
    print(f"\nwrote {os.path.join(args.out, 'results.md')}" + (f" and {png}" if png else ""))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
