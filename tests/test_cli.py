"""The command line: demo, compare (text and JSON), every error path, file round trips."""

import contextlib
import importlib.util
import io
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import scipy.stats
from hypothesis import example, given, settings
from hypothesis import strategies as st

from divergences import cli, wasserstein
from divergences.cli import CliError, load_table, main
from divergences.demo import sweep

ROOT = pathlib.Path(__file__).resolve().parents[1]


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
    # schema divergences-compare/1: +inf is JSON null, listed in the record's "infinite"
    assert col["KL"] is None and col["infinite"] == ["KL"]
    assert col["TV"] == 1.0 and col["JS"] == math.log(2)
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



# --- issue 12, item 24: every bad input file or argument is a one-line error, exit 2 ---

def run_main(argv):
    """``main(argv)`` in-process: (exit status, stdout, stderr), without pytest fixtures
    (so hypothesis can call it many times)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def assert_user_error(status, err, *fragments):
    assert status == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("divergences: error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in last


def npy_bytes(header, data=b""):
    """A .npy file with the given header dict (any claim) followed by ``data``."""
    fh = io.BytesIO()
    np.lib.format.write_array_header_1_0(fh, header)
    return fh.getvalue() + data


@pytest.mark.parametrize("header, fragment", [
    ("x,x", "duplicate column name 'x' (columns 1 and 2)"),
    ("x, x", "duplicate column name 'x'"),
    ("a,b,a", "duplicate column name 'a' (columns 1 and 3)"),
    ("x,", "column 2 has no name"),
])
def test_duplicate_or_empty_column_names_are_refused(tmp_path, header, fragment):
    rows = [[1.0] * len(header.split(","))] * 2
    a = write_csv(tmp_path / "a.csv", header.split(","), rows)
    status, _, err = run_main(["compare", a, a])
    assert_user_error(status, err, fragment)


@given(st.lists(st.sampled_from(["x", "y", "z", " x", "y "]), min_size=1, max_size=5))
def test_column_names_property(names):
    """Any header: accepted exactly when its stripped names are distinct, and then each
    name is one column of the report."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = [[0.0] * len(names), [1.0] * len(names)]
        path = write_csv(pathlib.Path(tmp) / "a.csv", names, rows)
        stripped = [n.strip() for n in names]
        if len(set(stripped)) == len(stripped):
            assert load_table(path)[0] == stripped
        else:
            with pytest.raises(CliError, match="duplicate column name"):
                load_table(path)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128, np.clongdouble])
def test_complex_npy_is_refused_not_truncated(tmp_path, dtype):
    np.save(tmp_path / "c.npy", np.array([1 + 2j, 3 + 4j, 5j], dtype=dtype))
    np.save(tmp_path / "r.npy", np.array([1.0, 2.0, 3.0]))
    status, out, err = run_main(["compare", str(tmp_path / "c.npy"), str(tmp_path / "r.npy")])
    assert_user_error(status, err, "complex data")
    assert out == ""


REAL_DTYPES = [np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64,
               np.float16, np.float32, np.float64, np.longdouble]


@given(st.sampled_from(REAL_DTYPES), st.sampled_from("<>="), st.booleans(),
       st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_npy_real_dtypes_read_as_numpy_reads_them(dtype, order, fortran, n, d, seed):
    """Every real dtype, byte order and memory order: the same numbers as numpy.load."""
    dt = np.dtype(dtype).newbyteorder(order) if np.dtype(dtype).itemsize > 1 else dtype
    values = np.random.default_rng(seed).integers(0, 100, size=(n, d)).astype(dt)
    values = np.asfortranarray(values) if fortran else values
    with tempfile.TemporaryDirectory() as tmp:
        path = str(pathlib.Path(tmp) / "a.npy")
        np.save(path, values)
        names, data = load_table(path)
        expected = np.load(path).astype(np.float64)
    assert names == [f"col{i}" for i in range(d)] and data.dtype == np.float64
    np.testing.assert_array_equal(data, expected)


def test_directory_is_refused(tmp_path):
    (tmp_path / "r.csv").write_text("x\n1\n")
    status, _, err = run_main(["compare", str(tmp_path), str(tmp_path / "r.csv")])
    assert_user_error(status, err, "not a regular file (a directory)")


def test_npz_named_npy_is_refused(tmp_path):
    np.savez(tmp_path / "z.npz", a=np.arange(3.0))
    (tmp_path / "z.npz").rename(tmp_path / "z.npy")
    status, _, err = run_main(["compare", str(tmp_path / "z.npy"), str(tmp_path / "z.npy")])
    assert_user_error(status, err, "not a .npy file (a .npz (zip) archive)")


def test_npy_header_claiming_1e11_rows_is_refused_before_allocating(tmp_path):
    path = tmp_path / "big.npy"
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**11,)}
    path.write_bytes(npy_bytes(header, b"\0" * 80))
    status, _, err = run_main(["compare", str(path), str(path)])
    assert_user_error(status, err, "(100000000000,)", "800000000000 bytes", "holds 80 bytes")


@given(st.lists(st.integers(0, 10**12), min_size=0, max_size=3),
       st.sampled_from(["<f8", "<i2", "|u1", ">f4", "<c16", "|b1", "<U3", "|O"]),
       st.integers(0, 64))
@example([864244240, 0], "<f8", 0)  # found by hypothesis: was a table with no column
@example([10**12, 0], "<f8", 0)  # found by hypothesis: numbering 10^12 rows ran out of memory
@example([0, 10**12], "<f8", 0)  # naming 10^12 columns: killed by the OOM killer at 24 GB
@example([3, 2], "<f8", 48)
def test_npy_header_claims_property(shape, descr, n_bytes):
    """Any shape and dtype in a header, any amount of data after it: either the array the
    header describes (exactly its size in bytes) or a CliError; never a big allocation."""
    header = {"descr": descr, "fortran_order": False, "shape": tuple(shape)}
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "a.npy"
        path.write_bytes(npy_bytes(header, bytes(range(n_bytes))))
        dtype = np.dtype(descr)
        valid = (dtype.kind in "iuf" and len(shape) in (1, 2)
                 and math.prod(shape) * dtype.itemsize == n_bytes and math.prod(shape) > 0)
        try:
            _, data = load_table(str(path))
        except CliError:
            assert not valid or "NaN" in str(sys.exc_info()[1])
        else:
            assert valid and data.shape[0] == shape[0]


@pytest.mark.parametrize("bins, fragment", [
    ("100000000", "between 1 and 1000000 bins per column, got 100000000"),
    ("0", "between 1 and"),
    ("-3", "between 1 and"),
    ("1.5", "expected a number of bins or one of auto"),
    ("knuth", "got 'knuth'"),
])
def test_bins_argument_is_bounded(two_tables, bins, fragment):
    path_a, path_b, _, _ = two_tables
    status, out, err = run_main(["compare", path_a, path_b, "--bins", bins])
    assert_user_error(status, err, "argument --bins: ", fragment)
    assert err.startswith("usage: divergences compare") and out == ""


def test_fd_rule_with_far_outliers_is_refused(tmp_path):
    """numpy's 'fd' rule gives ~1e8 bins for 1000 points in [0, 1] and one at 1e7."""
    x = np.r_[np.linspace(0.0, 1.0, 1000), 1e7]
    np.save(tmp_path / "a.npy", x)
    status, _, err = run_main(["compare", str(tmp_path / "a.npy"), str(tmp_path / "a.npy"),
                               "--bins", "fd"])
    assert_user_error(status, err, "the rule 'fd' gives 1.26e+08 bins for column 'col0'")


@given(st.integers(10, 300), st.floats(1.0, 1e4), st.integers(0, 2**32 - 1))
def test_fd_refusal_matches_numpy_count(n, outlier, seed):
    """Refused exactly when numpy's own 'fd' edges would number more than MAX_BINS + 1."""
    limit = 200
    x = np.r_[np.random.default_rng(seed).random(n), outlier]
    y = x[::2]
    count = len(np.histogram_bin_edges(np.concatenate([x, y]), bins="fd")) - 1
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "MAX_BINS", limit)
        if count > limit:
            with pytest.raises(ValueError, match="the rule 'fd' gives"):
                cli._check_fd_bins(x, y, "x")
        else:
            cli._check_fd_bins(x, y, "x")


def test_files_larger_than_the_limit(tmp_path, monkeypatch):
    """Read in memory up to the limit; a larger CSV goes through dask.dataframe (its
    column too large for the limit: the binned method, said in the report); the bytes
    reader itself still refuses it."""
    monkeypatch.setattr(cli, "MAX_FILE_BYTES", 64)
    small = write_csv(tmp_path / "small.csv", ["x"], [[1.0], [2.0]])
    big = write_csv(tmp_path / "big.csv", ["x"], [[float(i)] for i in range(40)])
    assert run_main(["compare", small, small, "--json"])[0] == 0
    if importlib.util.find_spec("dask") is not None:
        status, out, err = run_main(["compare", big, small, "--json"])
        assert status == 0, err
        column = json.loads(out)["columns"]["x"]
        assert (column["method"], column["status"]) == ("binned", "bounded")
        exact = scipy.stats.wasserstein_distance(np.arange(40.0), [1.0, 2.0])
        assert abs(column["W1"] - exact) <= column["W_error_bound"]
    with pytest.raises(cli.CliError, match="more than the limit of 64"):
        cli.read_bounded(big)
    assert len(cli.read_bounded(small)) < 64
    # a .npy file whose numbers take more than the limit once converted to float64
    np.save(tmp_path / "i8.npy", np.zeros(20, dtype=np.int8))  # 148 bytes, 160 as float64
    monkeypatch.setattr(cli, "MAX_FILE_BYTES", 150)
    status, _, err = run_main(["compare", str(tmp_path / "i8.npy"), small])
    assert_user_error(status, err, "20 numbers (160 bytes as float64), more than the limit of 18")


def test_csv_that_is_not_utf8_text(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"x\n\xff\xfe1\n")
    status, _, err = run_main(["compare", str(path), str(path)])
    assert_user_error(status, err, "not UTF-8 text (byte 0xff at offset 2)")
    np.save(tmp_path / "r.npy", np.arange(3.0))
    (tmp_path / "r.npy").rename(tmp_path / "r.csv")
    status, _, err = run_main(["compare", str(tmp_path / "r.csv"), str(tmp_path / "r.csv")])
    assert_user_error(status, err, "a NumPy .npy file; give it the .npy extension")


def test_csv_with_bom_and_crlf_line_ends(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbfu,v\r\n1,2\r\n\r\n3,4\r\n")
    names, data = load_table(str(path))
    assert names == ["u", "v"]
    np.testing.assert_array_equal(data, [[1.0, 2.0], [3.0, 4.0]])


@given(st.binary(max_size=300), st.sampled_from([".csv", ".npy", ""]),
       st.sampled_from([b"", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00", b"PK\x03\x04",
                        b"x,y\n"]))
def test_arbitrary_bytes_never_give_a_traceback(blob, suffix, prefix):
    """Any file content: a table of finite floats with distinct names, or a CliError."""
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / ("f" + suffix)
        path.write_bytes(prefix + blob)
        try:
            names, data = load_table(str(path))
        except CliError as exc:
            assert str(exc.args[0]).startswith(str(path))
        else:
            assert data.dtype == np.float64 and data.ndim == 2 and data.shape[0] > 0
            assert data.shape[1] == len(names) == len(set(names))
            assert np.isfinite(data).all()


@settings(max_examples=25)
@given(st.binary(max_size=200), st.sampled_from([".csv", ".npy"]))
def test_arbitrary_bytes_through_main(blob, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / ("f" + suffix)
        path.write_bytes(b"x\n" + blob if suffix == ".csv" else blob)
        status, _, err = run_main(["compare", str(path), str(path), "--json"])
        assert status == 0 or (status == 2 and err.startswith("divergences: error: "))


def run_cli(*args, timeout=120):
    """The command line in a fresh process (as a user runs it)."""
    return subprocess.run([sys.executable, "-m", "divergences", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=str(ROOT))


def test_subprocess_duplicate_columns_and_dev_zero(tmp_path):
    a = write_csv(tmp_path / "a.csv", ["x", "x"], [[1, 2], [3, 4]])
    done = run_cli("compare", a, a)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"divergences: error: {a}:1: duplicate column name 'x' " \
                          "(columns 1 and 2)\n"
    if os.path.exists("/dev/zero"):
        done = run_cli("compare", "/dev/zero", a, timeout=60)
        assert done.returncode == 2
        assert "not a regular file (a character device)" in done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_subprocess_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done = run_cli("compare", str(fifo), str(fifo), timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.endswith(f"divergences: error: {fifo}: not a regular file (a FIFO)\n")


@pytest.mark.parametrize("option, fragment", [
    ("--reg", "expected a number > 0, got '0'"),
    ("--base", "expected a logarithm base > 0, got '0'"),
    ("--scheduler-timeout", "expected seconds > 0, got '0'"),
])
def test_options_that_must_be_positive_refuse_zero(two_tables, option, fragment):
    """A bound that the help calls ``> 0`` is strict (0 was accepted by all three)."""
    path_a, path_b, _, _ = two_tables
    for value in ("0", "0.0", "-0"):
        status, out, err = run_main(["compare", path_a, path_b, option, value])
        assert_user_error(status, err, f"argument {option}: ",
                          fragment.replace("'0'", repr(value)))
    status, _, err = run_main(["compare", path_a, path_b, option, "0.5", "--json"])
    assert f"argument {option}" not in err  # a positive value passes the parser
