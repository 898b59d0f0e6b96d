"""The benchmark speed-ups of docs/benchmarks.md, as a bar chart."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "generated")


def read_table(path):
    """Rows of the Markdown table written by ``python -m benchmarks``."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 5 and cells[0] not in ("case", "---"):
                try:
                    rows.append({"case": cells[0], "ours_s": float(cells[1]),
                                 "ref_name": cells[2], "ref_s": float(cells[3])})
                except ValueError:
                    continue
    return rows


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    from benchmarks.run import bar_chart

    bar_chart(read_table(os.path.join(os.path.dirname(HERE), "benchmarks.md")),
              os.path.join(OUT, "benchmarks.png"))
