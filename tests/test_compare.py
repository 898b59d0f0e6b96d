"""compare() and ``divergences compare``: files the tests write (each CSV oddity, names,
missing values, Parquet), the options (pseudocount, standardize, test, by, method), the
JSON schema, --version, a 5000-row pair and Ctrl-C. Reference values come from SciPy,
POT and NumPy, not from the code under test."""

import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import ot
import pandas as pd
import pytest
import scipy.stats

from divergences import compare, sliced_wasserstein, two_sample_test
from divergences.cli import main
from divergences.evaluation import comparison as compare_module
from divergences.evaluation import multivariate as multivariate_module
from divergences.evaluation.report import ComparisonTable

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(7)
A = RNG.normal(size=(60, 3)) * [1.0, 10.0, 0.1]
B = RNG.normal(size=(50, 3)) * [1.0, 10.0, 0.1] + [0.5, 0.0, 0.0]
NAMES = ["alpha", "beta", "gamma"]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def run_json(*argv):
    status, out, err = run("compare", *argv, "--json")
    assert status == 0, err
    return json.loads(out)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


def csv_text(names, data, sep=",", quote=False):
    head = sep.join(f'"{n}"' if quote else n for n in names)
    return head + "\n" + "\n".join(sep.join(repr(float(v)) for v in row) for row in data) + "\n"


def reference_columns(a, b, bins="auto", alpha=0.0):
    """Per-column W1 (SciPy), KL/JS/TV/Hellinger (SciPy entropy/jensenshannon, NumPy) on
    np.histogram counts over the pooled edges."""
    out = {}
    for k in range(a.shape[1]):
        x, y = a[:, k], b[:, k]
        edges = np.histogram_bin_edges(np.r_[x, y], bins=bins)
        p = np.histogram(x, edges)[0] + alpha
        q = np.histogram(y, edges)[0] + alpha
        p, q = p / p.sum(), q / q.sum()
        out[k] = {"W1": scipy.stats.wasserstein_distance(x, y),
                  "KL": scipy.stats.entropy(p, q),
                  "JS": scipy.spatial.distance.jensenshannon(p, q) ** 2,
                  "TV": 0.5 * np.abs(p - q).sum(),
                  "Hellinger": np.sqrt(0.5 * ((np.sqrt(p) - np.sqrt(q)) ** 2).sum()),
                  "bins": edges.size - 1}
    return out


def assert_matches_reference(columns, a, b, names, **kwargs):
    ref = reference_columns(a, b, **kwargs)
    for k, name in enumerate(names):
        got = columns[name]
        for key in ("W1", "JS", "TV", "Hellinger"):
            assert got[key] == pytest.approx(ref[k][key], rel=1e-9, abs=1e-12), (name, key)
        if math.isinf(ref[k]["KL"]):
            assert got["KL"] is None and "KL" in got["infinite"]
        else:
            assert got["KL"] == pytest.approx(ref[k]["KL"], rel=1e-9)
        assert got["bins"] == ref[k]["bins"]


@pytest.fixture
def pair(tmp_path):
    return (write(tmp_path / "a.csv", csv_text(NAMES, A)),
            write(tmp_path / "b.csv", csv_text(NAMES, B)))


def test_values_match_scipy_and_pot(pair):
    report = run_json(*pair)
    assert_matches_reference(report["columns"], A, B, NAMES)
    multi = report["multivariate"]
    expected = ot.emd2(np.full(60, 1 / 60), np.full(50, 1 / 50), ot.dist(A, B, "euclidean"))
    assert multi["W1"] == pytest.approx(expected, rel=1e-9)
    assert (multi["method"], multi["status"], multi["converged"]) == ("exact", "optimal", True)


@pytest.mark.parametrize("oddity", ["quoted", "bom", "semicolon", "tab", "pipe", "crlf",
                                    "reordered", "spaces"])
def test_csv_oddities_give_the_same_numbers(tmp_path, pair, oddity):
    base = run_json(*pair)
    names, data, sep, quote, encoding = NAMES, B, ",", False, "utf-8"
    if oddity == "quoted":
        quote = True
    elif oddity == "bom":
        encoding = "utf-8-sig"
    elif oddity in ("semicolon", "tab", "pipe"):
        sep = {"semicolon": ";", "tab": "\t", "pipe": "|"}[oddity]
    elif oddity == "reordered":
        names, data = ["gamma", "alpha", "beta"], B[:, [2, 0, 1]]
    text = csv_text(names, data, sep, quote)
    if oddity == "crlf":
        text = text.replace("\n", "\r\n")
    if oddity == "spaces":
        text = text.replace(",", ", ")
    path = write(tmp_path / "odd.csv", text, encoding)
    report = run_json(pair[0], path)
    for name in NAMES:
        for key in ("W1", "W2", "JS", "TV", "Hellinger"):
            assert report["columns"][name][key] == pytest.approx(base["columns"][name][key],
                                                                 rel=1e-12)
    assert list(report["columns"]) == NAMES
    assert report["multivariate"]["W1"] == pytest.approx(base["multivariate"]["W1"],
                                                         rel=1e-12)


def test_sep_option_and_decimal_comma_hint(tmp_path):
    a = write(tmp_path / "a.csv", "x;y\n1;2\n3;4\n")
    status, _, err = run("compare", a, a, "--sep", ";", "--json")
    assert status == 0
    bad = write(tmp_path / "c.csv", "x;y\n1,5;2\n3,5;4\n")
    status, _, err = run("compare", bad, bad)
    assert status == 2
    assert "c.csv:2: non-numeric value '1,5' in column 'x' (a decimal comma?" in err


def test_first_line_of_numbers_is_detected_and_reported(tmp_path, pair):
    headerless = write(tmp_path / "h.csv", csv_text(NAMES, B).split("\n", 1)[1])
    a = write(tmp_path / "a.csv", csv_text(["col0", "col1", "col2"], A))
    status, out, err = run("compare", a, headerless, "--json")
    assert status == 0
    report = json.loads(out)
    assert report["inputs"]["b"]["rows"] == 50  # the first line is data, not lost
    assert any("first line holds only numbers" in n for n in report["notes"])
    status, out, _ = run("compare", a, headerless)
    assert "note:" in out and "first line holds only numbers" in out
    # forced: --header yes reads it as names, which then differ from a's
    status, _, err = run("compare", a, headerless, "--header", "yes")
    assert status == 2 and "column names differ" in err


def test_missing_values_error_says_how_many_and_where(tmp_path):
    data = A.copy()
    frame = pd.DataFrame(data, columns=NAMES)
    frame.iloc[[3, 10, 11], 1] = np.nan
    path = str(tmp_path / "nan.csv")
    frame.to_csv(path, index=False)  # pandas writes NaN as an empty cell
    status, _, err = run("compare", path, path)
    assert status == 2
    assert "3 missing value(s) (NaN or empty cells) in column 'beta' (line 5, 12, 13)" in err
    assert "--dropna" in err
    report = run_json(path, write(tmp_path / "b.csv", csv_text(NAMES, B)), "--dropna")
    assert report["inputs"]["a"]["rows_dropped"] == 3
    kept = np.delete(A, [3, 10, 11], axis=0)
    assert_matches_reference(report["columns"], kept, B, NAMES)


def test_na_tokens_and_text_columns(tmp_path):
    a = write(tmp_path / "a.csv", "x,species\n1,setosa\nNA,virginica\n3,setosa\n")
    b = write(tmp_path / "b.csv", "x,species\n2,setosa\n4,setosa\n")
    status, _, err = run("compare", a, b)
    assert status == 2 and "1 missing value(s)" in err and "line 3" in err
    report = run_json(a, b, "--dropna")
    assert list(report["columns"]) == ["x"]
    assert any("'species'" in n and "not numeric" in n for n in report["notes"])
    status, _, err = run("compare", a, b, "--columns", "species", "--dropna")
    assert status == 2 and "column 'species' of" in err and "not numeric" in err


def test_columns_option_and_name_matching(tmp_path, pair):
    report = run_json(*pair, "--columns", "gamma,alpha")
    assert list(report["columns"]) == ["gamma", "alpha"]
    assert report["multivariate"]["W1"] == pytest.approx(
        ot.emd2(np.full(60, 1 / 60), np.full(50, 1 / 50), ot.dist(A[:, [2, 0]], B[:, [2, 0]],
                                                                  "euclidean")), rel=1e-9)
    other = write(tmp_path / "o.csv", csv_text(["alpha", "delta", "beta"], B))
    status, _, err = run("compare", pair[0], other)
    assert status == 2 and "only in" in err and "'gamma'" in err and "'delta'" in err
    status, _, err = run("compare", pair[0], other, "--columns", "zeta")
    assert status == 2 and "['zeta'] not in" in err


def test_pseudocount_makes_kl_finite(tmp_path):
    a = np.r_[np.zeros(20), np.ones(5)][:, None]
    b = np.r_[np.zeros(10), np.full(10, 3.0)][:, None]
    pa = write(tmp_path / "a.csv", csv_text(["x"], a))
    pb = write(tmp_path / "b.csv", csv_text(["x"], b))
    report = run_json(pa, pb, "--bins", "3")
    col = report["columns"]["x"]
    assert col["KL"] is None and col["infinite"] == ["KL"]
    assert any("KL(a||b) is infinite: 1 of 3 bins" in n and "pseudocount" in n
               for n in col["notes"])
    report = run_json(pa, pb, "--bins", "3", "--pseudocount", "0.5")
    assert_matches_reference(report["columns"], a, b, ["x"], bins=3, alpha=0.5)
    assert report["columns"]["x"]["notes"] == [] and report["options"]["pseudocount"] == 0.5


def test_standardize(pair):
    report = run_json(*pair, "--standardize")
    pooled = np.vstack([A, B])
    mean, std = pooled.mean(axis=0), pooled.std(axis=0)
    sa, sb = (A - mean) / std, (B - mean) / std
    assert_matches_reference(report["columns"], sa, sb, NAMES)
    expected = ot.emd2(np.full(60, 1 / 60), np.full(50, 1 / 50), ot.dist(sa, sb, "euclidean"))
    assert report["multivariate"]["W1"] == pytest.approx(expected, rel=1e-9)
    assert report["units"]["W1"] == "pooled standard deviations"
    raw = run_json(*pair)
    assert raw["units"]["W1"] == "data units"
    assert raw["columns"]["beta"]["W1"] > 5 * report["columns"]["beta"]["W1"]


def test_json_schema(pair):
    report = run_json(*pair, "--test", "energy", "--seed", "3", "--permutations", "99")
    assert report["schema"] == "divergences-compare/1"
    assert {"schema", "divergences_version", "direction", "units", "inputs", "options",
            "columns", "multivariate", "notes"} <= set(report)
    assert report["direction"] == "a||b" and report["units"]["KL"] == "nats"
    for col in report["columns"].values():
        assert {"W1", "W2", "KL", "JS", "TV", "Hellinger", "bins", "bin_range", "n",
                "method", "status", "notes", "pvalue", "test_statistic"} <= set(col)
        assert col["method"] == "closed_form" and 0 < col["pvalue"] <= 1
    assert {"quantity", "method", "status", "converged", "W1", "W1_stderr", "n_iter",
            "notes", "n"} <= set(report["multivariate"])
    report = run_json(*pair, "--base", "2")
    assert report["units"]["JS"] == "bits"


def test_test_pvalues(tmp_path, pair):
    report = run_json(*pair, "--test", "wasserstein", "--seed", "5", "--permutations", "199")
    rng = np.random.default_rng(5)
    for k, name in enumerate(NAMES):
        expected = two_sample_test(A[:, k], B[:, k], n_permutations=199, seed=rng)
        assert report["columns"][name]["pvalue"] == expected.pvalue
    assert report["columns"]["alpha"]["pvalue"] < 0.05  # shifted by half a deviation
    again = run_json(*pair, "--test", "wasserstein", "--seed", "5", "--permutations", "199")
    assert again["columns"] == report["columns"]


def test_version():
    from divergences import __version__

    status, out, _ = run("--version")
    assert status == 0 and out.strip() == f"divergences {__version__}"


def test_by_on_parquet_equals_in_memory(tmp_path):
    pytest.importorskip("pyarrow")
    rng = np.random.default_rng(1)
    frames = []
    for shift in (0.0, 1.0):
        f = pd.DataFrame(rng.normal(size=(90, 2)) + shift, columns=["u", "v"])
        f["window"] = np.repeat(["2024-01", "2024-02", "2024-03"], 30)
        frames.append(f)
    frames[1] = frames[1].iloc[::-1]  # another row order changes nothing
    pa_, pb_ = str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")
    frames[0].to_parquet(pa_)
    frames[1][["window", "v", "u"]].to_parquet(pb_)  # other column order
    report = run_json(pa_, pb_, "--by", "window")
    assert [g["group"] for g in report["groups"]] == ["2024-01", "2024-02", "2024-03"]
    memory = compare(frames[0], frames[1], by="window")
    for g in report["groups"]:
        fa = frames[0][frames[0].window == g["group"]][["u", "v"]].to_numpy()
        fb = frames[1][frames[1].window == g["group"]][["u", "v"]].to_numpy()
        assert_matches_reference(g["columns"], fa, fb, ["u", "v"])
        for name in ("u", "v"):
            for key in ("W1", "W2", "KL", "JS", "TV", "Hellinger"):
                value = memory.loc[(g["group"], name), key]
                if math.isinf(value):
                    assert g["columns"][name][key] is None
                    assert key in g["columns"][name]["infinite"]
                else:
                    assert g["columns"][name][key] == pytest.approx(value, rel=1e-12)
        assert g["multivariate"]["W1"] == pytest.approx(
            memory.loc[(g["group"], "(all columns)"), "W1"], rel=1e-12)


def test_npz_and_npy_inputs(tmp_path):
    np.savez(tmp_path / "a.npz", alpha=A[:, 0], beta=A[:, 1], gamma=A[:, 2])
    np.save(tmp_path / "b.npy", B)
    status, _, err = run("compare", str(tmp_path / "a.npz"), str(tmp_path / "b.npy"))
    assert status == 2 and "column names differ" in err
    np.savez(tmp_path / "b.npz", beta=B[:, 1], alpha=B[:, 0], gamma=B[:, 2])
    report = run_json(str(tmp_path / "a.npz"), str(tmp_path / "b.npz"))
    assert_matches_reference(report["columns"], A, B, NAMES)


def test_sliced_and_sinkhorn_methods_report_what_they_did(pair):
    report = run_json(*pair, "--method", "sliced", "--projections", "64", "--seed", "2")
    multi = report["multivariate"]
    assert (multi["method"], multi["quantity"], multi["status"]) == ("sliced", "sliced W1",
                                                                     "monte_carlo")
    assert multi["W1"] == pytest.approx(sliced_wasserstein(A, B, p=1, n_projections=64,
                                                           seed=2), rel=1e-10)
    assert 0 < multi["W1_stderr"] < multi["W1"]
    report = run_json(*pair, "--method", "sinkhorn", "--reg", "0.5")
    multi = report["multivariate"]
    assert multi["method"] == "sinkhorn" and multi["reg"] == 0.5
    assert isinstance(multi["converged"], bool) and multi["n_iter"] > 0
    exact = run_json(*pair)["multivariate"]["W1"]
    assert multi["W1"] >= exact * (1 - 1e-9)  # an entropic plan costs at least the optimum


def test_auto_switches_to_sliced_above_the_limit_and_says_so(pair, monkeypatch):
    monkeypatch.setattr(compare_module, "EXACT_MAX_BYTES", 1000)
    # in up to 3 dimensions the exact solver has no dense limit (next test): lift that
    monkeypatch.setattr(multivariate_module, "MULTISCALE_MAX_DIM", 0)
    report = run_json(*pair)
    multi = report["multivariate"]
    assert multi["method"] == "sliced" and multi["W1_stderr"] > 0
    assert any("sliced W1 is reported instead" in n for n in multi["notes"])
    status, _, err = run("compare", *pair, "--method", "exact")
    assert status == 2 and "60 x 50 cost matrix takes 24000 bytes" in err


def test_auto_stays_exact_in_three_dimensions_whatever_the_limit(pair, monkeypatch):
    """Up to 3 columns the exact W1 needs no dense cost matrix (the multiscale solver):
    the dense limit does not send it to the sliced approximation."""
    monkeypatch.setattr(compare_module, "EXACT_MAX_BYTES", 1000)
    report = run_json(*pair)
    multi = report["multivariate"]
    assert len(NAMES) <= 3
    assert multi["method"] == "exact" and multi["status"] == "optimal"
    a = np.loadtxt(pair[0], delimiter=",", skiprows=1, ndmin=2)
    b = np.loadtxt(pair[1], delimiter=",", skiprows=1, ndmin=2)
    assert multi["W1"] == pytest.approx(ot.emd2([], [], ot.dist(a, b, "euclidean")), rel=1e-9)


def test_library_table_and_plain_table(monkeypatch):
    table = compare(pd.DataFrame(A, columns=NAMES), pd.DataFrame(B, columns=NAMES))
    assert list(table.index) == NAMES + ["(all columns)"]
    assert table.attrs["direction"] == "a||b" and table.attrs["units"]["KL"] == "nats"
    assert table.loc["alpha", "W1"] == pytest.approx(
        scipy.stats.wasserstein_distance(A[:, 0], B[:, 0]), rel=1e-12)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    plain = compare(A, B, test="js", n_permutations=19, seed=0)
    assert isinstance(plain, ComparisonTable)
    rows = plain.to_dict()["rows"]
    assert [r["column"] for r in rows] == ["col0", "col1", "col2", "(all columns)"]
    assert all(0 < r["pvalue"] <= 1 for r in rows[:3])


def test_library_errors():
    with pytest.raises(ValueError, match="pseudocount must be >= 0"):
        compare(A, B, pseudocount=-1)
    with pytest.raises(ValueError, match="method='best' is not one of"):
        compare(A, B, method="best")
    with pytest.raises(ValueError, match="by: no column 'g'"):
        compare(A, B, by="g")
    with pytest.raises(ValueError, match="test='t' is not one of"):
        compare(A, B, test="t")


@pytest.mark.slow
def test_5000_row_pair_reports_method_and_status(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5000, 2)), rng.normal(size=(5000, 2)) + [0.3, 0.0]
    pa_, pb_ = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(pa_, a)
    np.save(pb_, b)
    report = run_json(str(pa_), str(pb_))
    multi = report["multivariate"]
    assert (multi["method"], multi["status"], multi["converged"]) == ("exact", "optimal", True)
    # the joint W1 is at least each marginal's (projections are 1-Lipschitz), and at least
    # the sliced W1 (an average of projections)
    assert multi["W1"] >= max(c["W1"] for c in report["columns"].values()) * (1 - 1e-12)
    assert multi["W1"] >= sliced_wasserstein(a, b, p=1, n_projections=50, seed=0)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt",
                    reason="POSIX signals")
def test_sigint_ends_a_long_compare_with_130(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "a.npy", rng.normal(size=(4000, 3)))
    np.save(tmp_path / "b.npy", rng.normal(size=(4000, 3)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "divergences", "compare", str(tmp_path / "a.npy"),
         str(tmp_path / "b.npy"), "--test", "sliced", "--permutations", "100000",
         "--progress"], cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    seen = b""
    while b"column 1/3" not in seen and time.monotonic() < deadline:  # the test started
        chunk = proc.stderr.read1(200)
        if not chunk:
            break
        seen += chunk
    assert b"column 1/3" in seen
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 130
    assert b"divergences: interrupted" in err and b"Traceback" not in err
