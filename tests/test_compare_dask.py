"""compare on dask DataFrames, on files larger than the memory limit and on a LocalCluster of
2 worker processes (``scheduler=``, ``--scheduler``): the numbers of the in-memory path.

Equality is exact (bit for bit) wherever the same values reach the same in-memory code:
the per-column metrics and the exact multivariate W1. Two places sum in another order and
are checked to 1e-12 (relative): ``standardize`` (pooled moments summed per partition) and
the sliced W1 of a table above the limit (projections computed per partition)."""

import io
import json
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pandas as pd
import pytest
import scipy.stats

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from divergences import compare  # noqa: E402
from divergences.cli import main  # noqa: E402

METRICS = ["W1", "W2", "KL", "JS", "TV", "Hellinger", "bins"]


def frames(seed=1, n=(120, 90)):
    """Two tables of 3 columns with a monthly time window column (3 windows)."""
    rng = np.random.default_rng(seed)
    out = []
    for rows, shift in zip(n, (0.0, 0.7), strict=True):
        f = pd.DataFrame(rng.normal(size=(rows, 3)) * [1.0, 5.0, 0.2] + shift,
                         columns=["u", "v", "w"])
        f["window"] = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])[
            np.arange(rows) * 3 // rows]
        out.append(f)
    return out


def assert_same(got, ref, rel=0.0):
    assert list(got.index) == list(ref.index)
    for key in METRICS:
        g, r = got[key].to_numpy(float), ref[key].to_numpy(float)
        if rel:
            np.testing.assert_allclose(g, r, rtol=rel, atol=0, err_msg=key)
        else:
            np.testing.assert_array_equal(g, r, err_msg=key)
    assert list(got["method"]) == list(ref["method"])


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    a, b = frames()
    compare(a, b, by="window")  # the kernels compile here, in the client process
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


def write_parquet(frame, path):
    frame.to_parquet(path, row_group_size=25)  # several row groups
    return str(path)


def test_by_time_window_on_parquet_on_the_cluster_equals_in_memory(client, tmp_path):
    a, b = frames()
    pa_, pb_ = write_parquet(a, tmp_path / "a.parquet"), write_parquet(b, tmp_path / "b.parquet")
    ref = compare(a, b, by="window", seed=0)
    got = compare(pa_, pb_, by="window", seed=0, scheduler=client)
    assert_same(got, ref)  # bit for bit, the exact multivariate W1 included
    assert len(got.index.get_level_values("group").unique()) == 3
    # a path above the memory limit, without a client: the same through dask.dataframe
    limited = compare(pa_, pb_, by="window", seed=0, memory_limit=1 << 12)
    assert limited.attrs["inputs"]["engine"].startswith("dask.dataframe")  # not in memory
    assert_same(limited, ref)


def test_dask_dataframe_equals_pandas(client):
    a, b = frames(2)
    da_, db_ = dd.from_pandas(a, npartitions=3), dd.from_pandas(b, npartitions=2)
    assert_same(compare(da_, db_, bins=12), compare(a, b, bins=12))  # threaded scheduler
    assert_same(compare(da_, db_, by="window", scheduler=client, pseudocount=0.5),
                compare(a, b, by="window", pseudocount=0.5))
    # standardize: pooled moments summed per partition, equal to rounding
    assert_same(compare(da_, db_, standardize=True), compare(a, b, standardize=True),
                rel=1e-12)


def test_columns_and_tables_above_the_memory_limit(tmp_path):
    """Rows of one window: 8 (n_a + n_b) = 1680 bytes per column, 5040 for the table."""
    a, b = frames(3)
    a, b = a.drop(columns="window"), b.drop(columns="window")
    pa_, pb_ = write_parquet(a, tmp_path / "a.parquet"), write_parquet(b, tmp_path / "b.parquet")
    # every column fits, the table does not: columns exact, multivariate sliced
    got = compare(pa_, pb_, memory_limit=4000, seed=5, n_projections=50)
    ref = compare(a, b, seed=5, n_projections=50, method="sliced")
    assert_same(got, ref, rel=1e-12)
    assert got.loc["u", "method"] == "closed_form"
    assert "exceed the memory limit" in got.loc["(all columns)", "note"]
    # no column fits: binned W1, W2 within their bound; histograms summed per partition
    for bins in (15, "sturges"):
        got = compare(pa_, pb_, memory_limit=1000, bins=bins, multivariate=False)
        ref = compare(a, b, bins=bins, multivariate=False)
        for key in ("KL", "JS", "TV", "Hellinger", "bins"):
            np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
        assert set(got["method"]) == {"binned"} and set(got["status"]) == {"bounded"}
        for name in ("u", "v", "w"):
            bound = (max(a[name].max(), b[name].max())
                     - min(a[name].min(), b[name].min())) / 2**16
            assert "within" in got.loc[name, "note"]
            exact = scipy.stats.wasserstein_distance(a[name], b[name])
            assert abs(got.loc[name, "W1"] - exact) <= bound * (1 + 1e-9)
            assert got.loc[name, "W1"] != exact  # a different, binned, value
    with pytest.raises(ValueError, match="test: the permutation test needs column"):
        compare(pa_, pb_, memory_limit=1000, test="wasserstein", multivariate=False)


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main(["compare", *argv])
    return status, out.getvalue(), err.getvalue()


def test_cli_scheduler(client, tmp_path):
    a, b = frames(4)
    a["window"], b["window"] = a["window"].dt.month, b["window"].dt.month
    pa_ = tmp_path / "a.csv"
    a.to_csv(pa_, index=False)
    pb_ = write_parquet(b, tmp_path / "b.parquet")
    address = client.scheduler.address
    np.save(tmp_path / "a.npy", a[["u", "v", "w"]].to_numpy())
    np.save(tmp_path / "b.npy", b[["u", "v", "w"]].to_numpy())
    npy = [str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--json", "--bins", "9"]
    status, out, err = run(*npy, "--scheduler", address)
    assert status == 0, err
    assert json.loads(out)["columns"] == json.loads(run(*npy)[1])["columns"]
    status, out, err = run(str(pa_), pb_, "--by", "window", "--json", "--scheduler", address)
    assert status == 0, err
    got = json.loads(out)
    status, out, err = run(str(pa_), pb_, "--by", "window", "--json")
    assert status == 0, err
    ref = json.loads(out)
    assert got["inputs"]["engine"] == f"dask.dataframe on {address}"
    assert [g["group"] for g in got["groups"]] == [g["group"] for g in ref["groups"]] == [1, 2, 3]
    for g, r in zip(got["groups"], ref["groups"], strict=True):
        assert g["columns"] == r["columns"] and g["multivariate"] == r["multivariate"]


def test_cli_scheduler_errors(monkeypatch, tmp_path):
    a, b = frames(5)
    path = write_parquet(a, tmp_path / "a.parquet")
    status, _, err = run(path, path, "--scheduler", "tcp://127.0.0.1:9",
                         "--scheduler-timeout", "1")
    last = err.strip().splitlines()[-1]
    assert status == 2 and "Traceback" not in err
    assert last.startswith("divergences: error: scheduler: cannot connect to "
                           "'tcp://127.0.0.1:9' within 1 s")
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    status, _, err = run(path, path, "--scheduler", "tcp://127.0.0.1:9")
    assert status == 2 and "scheduler: running on a dask cluster needs dask.distributed" in err


def test_parquet_dataset_directory_and_missing_dask(tmp_path, monkeypatch):
    a, b = frames(6)
    directory = tmp_path / "a_dataset"
    directory.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(len(a)), 3)):  # 3 files, in order
        a.iloc[rows].reset_index(drop=True).to_parquet(directory / f"part.{k}.parquet")
    assert_same(compare(str(directory), b, by="window"), compare(a, b, by="window"))
    big = tmp_path / "a.csv"
    a.to_csv(big, index=False)
    for name in ("dask", "dask.dataframe", "distributed"):
        monkeypatch.setitem(__import__("sys").modules, name, None)
    size = big.stat().st_size
    with pytest.raises(ValueError, match=f"a.csv: {size} bytes, more than the in-memory "
                                         "limit of 1000; reading data through dask"):
        compare(str(big), b, memory_limit=1000)


def test_csv_oddities_and_missing_values_through_dask(tmp_path):
    """A ';'-separated CSV with a BOM, quoted names and empty cells, above the memory
    limit: read by dask.dataframe with the in-memory reader's rules, the same numbers."""
    a, b = frames(7)
    a, b = a[["u", "v", "w"]].copy(), b[["u", "v", "w"]].copy()
    a.iloc[[3, 50], 1] = np.nan
    text = '"u";"v";"w"\n' + "\n".join(
        ";".join("" if np.isnan(x) else repr(float(x)) for x in row) for row in a.to_numpy())
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode() + b"\n")
    with pytest.raises(ValueError, match="2 missing value\\(s\\) \\(NaN or empty cells\\) in "
                                         "column 'v'; pass dropna=True"):
        compare(str(path), b, memory_limit=4000)
    got = compare(str(path), b, memory_limit=4000, dropna=True, bins=10)
    ref = compare(str(path), b, dropna=True, bins=10)  # in memory
    assert_same(got.drop(index="(all columns)"), ref.drop(index="(all columns)"))
    assert got.loc["(all columns)", "method"] == "sliced"  # the table is above the limit
    assert got.attrs["inputs"]["a"]["rows_dropped"] == 2
    assert "2 row(s) with missing values dropped" in " ".join(got.attrs["notes"])
