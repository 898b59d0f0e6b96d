"""The outputs of :func:`divergences.compare`: a table (pandas or not), JSON, plain text.

JSON (``divergences compare --json``, schema ``divergences-compare/1``): every number that
is not finite is written as ``null`` and its key is listed in the record's ``"infinite"``
(for +inf) or ``"undefined"`` (NaN) list; see ``docs/compare.rst`` for the whole schema.
"""

from __future__ import annotations

import math

__all__ = ["ComparisonTable", "to_table", "to_json", "format_text"]

ROW_FIELDS = ("W1", "W2", "KL", "JS", "TV", "Hellinger", "bins", "method", "status",
              "converged", "W1_stderr", "pvalue", "note")
MULTI_LABEL = "(all columns)"


class ComparisonTable:
    """The table of :func:`divergences.compare` when pandas is not installed.

    ``rows`` is a list of dicts (one per column, then ``"(all columns)"``) with the keys
    ``group`` (with ``by``), ``column`` and :data:`ROW_FIELDS`; ``attrs`` the units,
    direction, options and notes.
    """

    def __init__(self, rows, attrs):
        self.rows, self.attrs = rows, attrs

    def to_dict(self):
        """``{"rows": [...], "attrs": {...}}``."""
        return {"rows": [dict(r) for r in self.rows], "attrs": dict(self.attrs)}

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        return f"ComparisonTable({len(self.rows)} rows; attrs: {sorted(self.attrs)})"


def _rows(report):
    blocks = ([(None, report)] if report.get("groups") is None
              else [(g["group"], g) for g in report["groups"]])
    rows = []
    for group, block in blocks:
        head = {} if group is None else {"group": group}
        for name, col in (block.get("columns") or {}).items():
            row = dict(head, column=name)
            row.update({k: col.get(k) for k in ROW_FIELDS if k not in ("note", "converged")})
            row["converged"] = True
            row["W1_stderr"] = 0.0
            row["note"] = "; ".join(col["notes"])
            rows.append(row)
        multi = block.get("multivariate")
        if multi is not None:
            row = dict(head, column=MULTI_LABEL, W1=multi["W1"], bins=None,
                       method=multi["method"], status=multi["status"],
                       converged=multi["converged"], W1_stderr=multi["W1_stderr"],
                       note="; ".join([multi["quantity"]] + multi["notes"]))
            rows.append(row)
        if block.get("columns") is None and group is not None:
            rows.append(dict(head, column=None, note="; ".join(block.get("notes", []))))
    for row in rows:
        for key in ROW_FIELDS:
            row.setdefault(key, None)
        if report["options"]["test"] is None:
            row.pop("pvalue")
    return rows


def to_table(report):
    """A pandas DataFrame (index ``column`` or ``(group, column)``) when pandas imports,
    else a :class:`ComparisonTable`; the report's metadata in ``attrs``."""
    attrs = {k: report[k] for k in ("direction", "units", "options", "inputs", "notes")}
    rows = _rows(report)
    try:
        import pandas as pd
    except ImportError:
        return ComparisonTable(rows, attrs)
    frame = pd.DataFrame(rows)
    for key in ("W1", "W2", "KL", "JS", "TV", "Hellinger", "W1_stderr", "pvalue"):
        if key in frame:
            frame[key] = frame[key].astype(float)
    frame = frame.set_index(["group", "column"] if "group" in frame else "column")
    frame.attrs.update(attrs)
    return frame


def _encode(value):
    """A JSON-safe value and its flag: ``(None, "infinite")`` for +-inf, ``(None,
    "undefined")`` for NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None, "undefined" if math.isnan(value) else "infinite"
    return value, None


def to_json(obj):
    """The report with its non-finite numbers as ``null``, listed per record."""
    if isinstance(obj, dict):
        out, flags = {}, {}
        for key, value in obj.items():
            if isinstance(value, float):
                value, flag = _encode(value)
                if flag:
                    flags.setdefault(flag, []).append(key)
            else:
                value = to_json(value)
            out[key] = value
        for flag, keys in flags.items():
            out[flag] = keys
        return out
    if isinstance(obj, (list, tuple)):
        return [to_json(v) if not isinstance(v, float) else _encode(v)[0] for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # numpy scalars
        return to_json(obj.item())
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)  # group values such as timestamps


def _cell(value, width=10):
    if value is None:
        return f"{'-':>{width}}"
    if isinstance(value, float):
        return f"{value:>{width}.4g}"
    return f"{value!s:>{width}}"


def format_text(report):
    """A plain-text report: a table per group, units, direction, notes."""
    test = report["options"]["test"]
    keys = list(("W1", "W2", "KL", "JS", "TV", "Hellinger")) + (["pvalue"] if test else [])
    blocks = ([(None, report)] if report.get("groups") is None
              else [(g["group"], g) for g in report["groups"]])
    names = report["options"]["columns"]
    width = max([6] + [len(str(n)) for n in names])
    lines = []
    for group, block in blocks:
        if group is not None:
            lines.append(f"\n{report['options']['by']} = {group} (rows: {block['n'][0]} vs "
                         f"{block['n'][1]})")
        if block.get("columns") is None:
            lines += [f"  {n}" for n in block.get("notes", [])]
            continue
        lines.append(f"{'column':<{width}} " + " ".join(f"{k:>10}" for k in keys)
                     + f" {'bins':>6}")
        for name, col in block["columns"].items():
            lines.append(f"{name:<{width}} " + " ".join(_cell(col.get(k)) for k in keys)
                         + f" {col['bins']:>6}")
        multi = block.get("multivariate")
        if multi is not None:
            err = (f" +- {multi['W1_stderr']:.2g} (Monte Carlo s.e.)"
                   if multi["W1_stderr"] else "")
            n, m = multi["n"]
            lines.append(f"multivariate {multi['quantity']} over all {len(names)} columns "
                         f"({n} vs {m} rows): {multi['W1']:.6g}{err}  [method "
                         f"{multi['method']}, status {multi['status']}, converged "
                         f"{multi['converged']}]")
        for name, col in block["columns"].items():
            lines += [f"note: {name}: {note}" for note in col["notes"]]
        if multi is not None:
            lines += [f"note: multivariate: {note}" for note in multi["notes"]]
    units = report["units"]
    lines.append(f"\nKL, JS in {units['KL']}, direction {report['direction']} (a = "
                 f"{report['inputs']['a']['source']}, b = {report['inputs']['b']['source']}); "
                 f"W1, W2 in {units['W1']}; TV, Hellinger in [0, 1]; bins per column as shown"
                 + (f"; pseudocount {report['options']['pseudocount']:g}"
                    if report["options"]["pseudocount"] else "")
                 + (f"; p-values: {test} permutation test, "
                    f"{report['options']['n_permutations']} permutations" if test else ""))
    lines += [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines).lstrip("\n")
