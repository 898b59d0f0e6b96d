"""The command line: demo, compare (text and JSON), every error path, file round trips."""

import json
import math

import numpy as np
import pytest

from divergences import wasserstein
from divergences.cli import main
from divergences.demo import sweep


def write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(str(v) for v in r)
                                                     for r in rows) + "\n")
    return str(path)


@pytest.fixture
def two_tables(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 2))
    b = rng.normal(size=(50, 2)) + np.array([1.0, 0.0])
    return (write_csv(tmp_path / "a.csv", ["u", "v"], a),
            write_csv(tmp_path / "b.csv", ["u", "v"], b), a, b)


def test_demo_prints_the_seed_identities(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "0.693147" in text and "inf" in text
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib not installed" in text and not out.exists()
    else:
        assert f"plot saved to {out}" in text and out.stat().st_size > 0


def test_sweep_values_are_the_seed_identities():
    for row in sweep([-0.5, 0.0, 0.3], n=50, seed=3):
        if row["theta"] == 0:
            assert row["W1"] == 0 and row["JS"] == 0 and row["KL"] == 0 and row["TV"] == 0
        else:
            assert abs(row["W1"] - abs(row["theta"])) < 1e-12
            assert row["JS"] == math.log(2) and row["KL"] == math.inf and row["TV"] == 1.0


def test_compare_json_matches_library(two_tables, capsys):
    path_a, path_b, a, b = two_tables
    assert main(["compare", path_a, path_b, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["columns"]) == {"u", "v"}
    u = report["columns"]["u"]
    assert u["W1"] == pytest.approx(wasserstein(a[:, 0], b[:, 0]), rel=1e-12)
    assert u["W2"] == pytest.approx(wasserstein(a[:, 0], b[:, 0], p=2), rel=1e-12)
    assert 0 <= u["TV"] <= 1 and 0 <= u["JS"] <= math.log(2)
    assert report["multivariate"]["method"] == "exact"
    assert report["multivariate"]["W1"] == pytest.approx(wasserstein(a, b), rel=1e-12)


def test_compare_text_and_npy_round_trip(two_tables, tmp_path, capsys):
    path_a, path_b, a, b = two_tables
    assert main(["compare", path_a, path_b]) == 0
    text = capsys.readouterr().out
    assert "column" in text and "multivariate W1" in text
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    assert main(["compare", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["columns"]["col0"]["W1"] == pytest.approx(wasserstein(a[:, 0], b[:, 0]))


def test_compare_disjoint_columns_give_exact_identities(tmp_path, capsys):
    a = write_csv(tmp_path / "a.csv", ["x"], [[0.0], [0.1], [0.2]])
    b = write_csv(tmp_path / "b.csv", ["x"], [[5.0], [5.1], [5.2]])
    assert main(["compare", a, b, "--json", "--bins", "10"]) == 0
    col = json.loads(capsys.readouterr().out)["columns"]["x"]
    assert col["KL"] == "inf" and col["TV"] == 1.0 and col["JS"] == math.log(2)
    assert col["W1"] == pytest.approx(5.0)


@pytest.mark.parametrize(
    "content_a, content_b, message",
    [
        (None, "x\n1\n", "file not found"),
        ("x,y\n1,2\n", "x\n1\n", "columns"),
        ("x\n1\nabc\n", "x\n1\n", "non-numeric"),
        ("", "x\n1\n", "empty file"),
        ("x\n", "x\n1\n", "no data rows"),
        ("x\nnan\n", "x\n1\n", "NaN"),
        ("x,y\n1,2\n", "x,z\n1,2\n", "column names differ"),
        ("x,y\n1\n", "x\n1\n", "1 values for 2 columns"),
    ],
)
def test_compare_errors(tmp_path, capsys, content_a, content_b, message):
    path_a = tmp_path / "a.csv"
    if content_a is not None:
        path_a.write_text(content_a)
    path_b = tmp_path / "b.csv"
    path_b.write_text(content_b)
    assert main(["compare", str(path_a), str(path_b)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("divergences: error:") and message in err

