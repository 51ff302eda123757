"""Data layer: DataLoader, the UCI bike-sharing loader, and the synthetic default.

Tests on the real ``hour.csv`` read it independently with ``csv`` to get their expected
values; they skip when ``../shared/data/bike-sharing/hour.csv`` is absent. Bad-input
tests write small hand-made CSVs to ``tmp_path`` (nothing taken from the real data).
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from autograd_nn import Tensor
from autograd_nn.data import (
    FEATURE_NAMES,
    HOUR_CSV_COLUMNS,
    DataFormatError,
    DataLoader,
    Dataset,
    TensorDataset,
    load_bike_sharing,
    synthetic_bike_sharing,
    synthetic_hour_csv,
    write_synthetic_hour_csv,
)

REPO = Path(__file__).resolve().parents[2]
REAL_CSV = REPO.parent / "shared" / "data" / "bike-sharing" / "hour.csv"
needs_real = pytest.mark.skipif(not REAL_CSV.is_file(), reason=f"real data absent: {REAL_CSV}")

# The post's 56 features, spelled out from its recipe: five kept columns, then the
# one-hot blocks in the order season, weathersit, mnth, hr, weekday.
EXPECTED_FEATURES = (
    ["yr", "holiday", "temp", "hum", "windspeed"]
    + [f"season_{v}" for v in (1, 2, 3, 4)]
    + [f"weathersit_{v}" for v in (1, 2, 3, 4)]
    + [f"mnth_{v}" for v in range(1, 13)]
    + [f"hr_{v}" for v in range(24)]
    + [f"weekday_{v}" for v in range(7)]
)


def read_raw(path_or_text: Path | str) -> dict[str, np.ndarray]:
    """Columns of an hour.csv, read with csv only (the reference the loader is checked against)."""
    text = path_or_text.read_text() if isinstance(path_or_text, Path) else path_or_text
    rows = list(csv.reader(text.splitlines()))
    header, body = rows[0], rows[1:]
    columns = {name: np.array([r[k] for r in body]) for k, name in enumerate(header)}
    return {name: (v if name == "dteday" else v.astype(float)) for name, v in columns.items()}


def all_rows(data):
    """Train, val and test stacked back together (they are consecutive in time)."""
    parts = (data.train, data.val, data.test)
    return (
        np.concatenate([p.X for p in parts]),
        np.concatenate([p.y for p in parts]),
        np.concatenate([p.dteday for p in parts]),
        np.concatenate([p.hr for p in parts]),
    )


# --------------------------------------------------------------------------- DataLoader
def test_tensor_dataset_rows_and_errors():
    X = np.arange(12.0).reshape(6, 2)
    ds = TensorDataset(X, Tensor(np.arange(6)))
    assert len(ds) == 6
    x3, y3 = ds[3]
    assert isinstance(x3, Tensor) and x3.tolist() == [6.0, 7.0] and y3.item() == 3
    with pytest.raises(ValueError, match=r"same first dimension.*\(6, 2\).*\(5,\)"):
        TensorDataset(X, np.zeros(5))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float64(1.0))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()


@pytest.mark.parametrize(
    "n, batch_size, drop_last",
    [(10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False), (2, 5, True), (0, 4, False)],
)
def test_loader_batches_cover_the_data(n, batch_size, drop_last):
    X = np.arange(n, dtype=np.float64)[:, None] * np.array([1.0, -1.0])
    labels = np.arange(n)
    for shuffle in (False, True):
        loader = DataLoader(
            TensorDataset(X, labels), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=1
        )
        batches = list(loader)
        assert len(batches) == len(loader)
        sizes = [len(b[1]) for b in batches]
        full, rest = divmod(n, batch_size)
        assert sizes == [batch_size] * full + ([] if drop_last or rest == 0 else [rest])
        seen = np.concatenate([b[1].numpy() for b in batches]) if batches else np.array([], dtype=int)
        for xb, yb in batches:
            assert isinstance(xb, Tensor) and not xb.requires_grad
            np.testing.assert_array_equal(xb.numpy(), X[yb.numpy()])  # rows stay paired
        if not shuffle:
            np.testing.assert_array_equal(seen, np.arange(len(seen)))
        assert len(set(seen.tolist())) == len(seen)  # no sample twice in an epoch
        if not drop_last:
            assert sorted(seen.tolist()) == list(range(n))


def test_shuffle_is_reproducible_and_new_each_epoch():
    ds = TensorDataset(np.arange(50))

    def epochs(loader, k=3):
        return [np.concatenate([b[0].numpy() for b in loader]) for _ in range(k)]

    a = epochs(DataLoader(ds, batch_size=7, shuffle=True, seed=3))
    b = epochs(DataLoader(ds, batch_size=7, shuffle=True, seed=3))
    c = epochs(DataLoader(ds, batch_size=7, shuffle=True, seed=4))
    for ea, eb in zip(a, b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    assert not np.array_equal(a[0], c[0])
    assert all(sorted(e.tolist()) == list(range(50)) for e in a)
    # A Generator is drawn from as given: same state, same permutation.
    g = DataLoader(ds, batch_size=50, shuffle=True, generator=np.random.default_rng(9))
    np.testing.assert_array_equal(next(iter(g))[0].numpy(), np.random.default_rng(9).permutation(50))


def test_unshuffled_batches_are_read_only_views():
    X = np.arange(8.0).reshape(4, 2)
    (xb,) = next(iter(DataLoader(TensorDataset(X), batch_size=2)))
    assert np.shares_memory(xb.numpy(), X)
    with pytest.raises(ValueError):
        xb.numpy()[0, 0] = 99.0
    assert X[0, 0] == 0.0 and X.flags.writeable


def test_loader_on_a_generic_dataset_collates_samples():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float64), i % 2

    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    x, parity = batches[1]
    np.testing.assert_array_equal(x.numpy(), [[2.0, 4.0], [3.0, 9.0]])
    np.testing.assert_array_equal(parity.numpy(), [0, 1])

    class Plain:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(2, float(i))

    (only,) = list(DataLoader(Plain(), batch_size=3))
    assert isinstance(only, Tensor) and only.shape == (3, 2)


def test_loader_rejects_bad_arguments():
    ds = TensorDataset(np.zeros(3))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            DataLoader(ds, batch_size=bad)
    with pytest.raises(ValueError, match="either seed or generator"):
        DataLoader(ds, seed=1, generator=np.random.default_rng(1))
    with pytest.raises(TypeError, match="__len__ and __getitem__"):
        DataLoader(42)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, generator=1)


# --------------------------------------------------------------------- the real hour.csv
@pytest.fixture(scope="module")
def real():
    if not REAL_CSV.is_file():
        pytest.skip(f"real data absent: {REAL_CSV}")
    return load_bike_sharing(REAL_CSV)


@pytest.fixture(scope="module")
def raw():
    if not REAL_CSV.is_file():
        pytest.skip(f"real data absent: {REAL_CSV}")
    return read_raw(REAL_CSV)


@needs_real
def test_real_file_shape_and_features(real, raw):
    assert len(raw["cnt"]) == 17379
    assert list(real.feature_names) == EXPECTED_FEATURES and len(EXPECTED_FEATURES) == 56
    assert real.train.X.shape[1] == real.val.X.shape[1] == real.test.X.shape[1] == 56
    assert len(real.train) + len(real.val) + len(real.test) == 17379
    assert real.target_names == ("cnt",) and real.test.y.shape == (len(real.test), 1)
    assert not real.synthetic and real.source == str(REAL_CSV)
    assert real.train.X.dtype == real.train.y.dtype == np.float64
    for leaked in ("casual", "registered", "cnt", "atemp", "workingday", "instant", "dteday"):
        assert leaked not in real.feature_names


@needs_real
def test_real_split_by_calendar_days(real, raw):
    days = np.unique(raw["dteday"])
    assert len(days) == 731
    test_days, val_days = days[-21:], days[-81:-21]
    n_test = np.isin(raw["dteday"], test_days).sum()
    n_val = np.isin(raw["dteday"], val_days).sum()
    assert (len(real.test), len(real.val), len(real.train)) == (n_test, n_val, 17379 - n_test - n_val)
    # The file lacks some hours (Hurricane Sandy closed the system on 2012-10-29/30).
    assert (len(real.test), len(real.val), len(real.train)) == (502, 1402, 15475)
    assert str(real.test.dteday[0]) == "2012-12-11" and str(real.test.dteday[-1]) == "2012-12-31"
    assert str(real.val.dteday[0]) == "2012-10-12" and str(real.val.dteday[-1]) == "2012-12-10"
    stamps = np.concatenate([real.train.timestamps, real.val.timestamps, real.test.timestamps])
    assert np.all(np.diff(stamps) > np.timedelta64(0, "h"))


@needs_real
def test_real_standardisation(real, raw):
    X, y, _, _ = all_rows(real)
    for name in ("temp", "hum", "windspeed", "cnt"):
        scaling = real.scalings[name]
        assert scaling.mean == pytest.approx(raw[name].mean(), rel=1e-12)
        assert scaling.std == pytest.approx(raw[name].std(ddof=1), rel=1e-12)
    for column in (X[:, 2], X[:, 3], X[:, 4], y[:, 0]):
        assert abs(column.mean()) < 1e-12 and column.std(ddof=1) == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(real.unscale(y), raw["cnt"][:, None], rtol=0, atol=1e-9)
    np.testing.assert_allclose(real.scalings["cnt"].inverse_transform(real.test.y[:, 0]), raw["cnt"][-502:], atol=1e-9)


@needs_real
def test_real_rows_match_the_raw_csv(real, raw):
    X, _, dteday, hr = all_rows(real)
    assert [str(d) for d in dteday[:3]] == list(raw["dteday"][:3])
    np.testing.assert_array_equal(hr, raw["hr"])
    blocks = {
        "season": range(1, 5),
        "weathersit": range(1, 5),
        "mnth": range(1, 13),
        "hr": range(24),
        "weekday": range(7),
    }
    for name in blocks:
        columns = [j for j, f in enumerate(EXPECTED_FEATURES) if f.startswith(name + "_")]
        np.testing.assert_array_equal(X[:, columns].sum(axis=1), 1.0)  # exactly one hot, every row
    for i in (0, 1, 5000, 12345, 17378):  # a few rows, checked field by field
        expected = np.zeros(56)
        expected[0], expected[1] = raw["yr"][i], raw["holiday"][i]
        for j, name in ((2, "temp"), (3, "hum"), (4, "windspeed")):
            expected[j] = (raw[name][i] - raw[name].mean()) / raw[name].std(ddof=1)
        for name in blocks:
            expected[EXPECTED_FEATURES.index(f"{name}_{int(raw[name][i])}")] = 1.0
        np.testing.assert_allclose(X[i], expected, atol=1e-12)


@needs_real
def test_real_extra_targets_and_train_only_scaling():
    data = load_bike_sharing(REAL_CSV, targets=("cnt", "casual", "registered"), scale_on="train", dtype=np.float32)
    assert data.test.y.shape == (502, 3) and data.test.X.dtype == np.float32
    assert abs(data.train.y.mean(axis=0)).max() < 1e-4  # standardised on the training rows
    counts = data.unscale(data.test.y)
    np.testing.assert_allclose(counts[:, 0], counts[:, 1] + counts[:, 2], atol=1e-2)


@needs_real
def test_synthetic_calendar_matches_the_real_file(raw):
    syn = read_raw(synthetic_hour_csv(0))
    first_row_of_day = {}
    for k, d in enumerate(syn["dteday"]):
        first_row_of_day.setdefault(d, k)
    real_days, first = np.unique(raw["dteday"], return_index=True)
    assert list(real_days) == sorted(first_row_of_day)
    syn_index = [first_row_of_day[d] for d in real_days]
    for name in ("season", "yr", "mnth", "holiday", "weekday", "workingday"):
        np.testing.assert_array_equal(syn[name][syn_index], raw[name][first], err_msg=name)


# -------------------------------------------------------------------- synthetic default
@pytest.fixture(scope="module")
def synthetic():
    return synthetic_bike_sharing(seed=0)


@pytest.fixture(scope="module")
def synthetic_raw():
    return read_raw(synthetic_hour_csv(0))


def test_synthetic_schema(synthetic, synthetic_raw):
    text = synthetic_hour_csv(0)
    assert text.split("\r\n", 1)[0] == ",".join(HOUR_CSV_COLUMNS) and "\n" not in text.replace("\r\n", "")
    assert synthetic.synthetic and "synthetic" in synthetic.source and "seed=0" in synthetic.source
    assert synthetic.feature_names == FEATURE_NAMES and list(FEATURE_NAMES) == EXPECTED_FEATURES
    r = synthetic_raw
    assert r["dteday"][0] == "2011-01-01" and r["dteday"][-1] == "2012-12-31"
    assert 17000 < len(r["cnt"]) <= 731 * 24
    np.testing.assert_array_equal(r["instant"], np.arange(1, len(r["cnt"]) + 1))
    for name in ("casual", "registered", "cnt"):
        assert (r[name] >= 0).all() and (r[name] == np.round(r[name])).all()
    np.testing.assert_array_equal(r["casual"] + r["registered"], r["cnt"])
    assert (r["cnt"] > 0).all()  # hours without rentals are absent, as in the UCI file
    weekend = (r["weekday"] == 0) | (r["weekday"] == 6)
    np.testing.assert_array_equal(r["workingday"], (~weekend & (r["holiday"] == 0)).astype(float))
    for name in ("temp", "atemp", "hum", "windspeed"):
        assert 0.0 <= r[name].min() and r[name].max() <= 1.0
    assert set(np.unique(r["weathersit"])) <= {1.0, 2.0, 3.0, 4.0} and (r["weathersit"] == 3).mean() > 0.02
    dates = r["dteday"].astype("datetime64[D]")
    assert len(np.unique(dates)) == 731
    assert (len(synthetic.test), len(synthetic.val)) == (
        np.sum(dates >= dates[-1] - np.timedelta64(20, "D")),
        np.sum((dates >= dates[-1] - np.timedelta64(80, "D")) & (dates < dates[-1] - np.timedelta64(20, "D"))),
    )


def test_synthetic_is_deterministic_per_seed(synthetic):
    assert synthetic_hour_csv(0) == synthetic_hour_csv(0)
    assert synthetic_hour_csv(0) != synthetic_hour_csv(1)
    again = synthetic_bike_sharing(seed=0)
    np.testing.assert_array_equal(again.train.X, synthetic.train.X)
    np.testing.assert_array_equal(again.val.y, synthetic.val.y)
    other = synthetic_bike_sharing(seed=1)
    assert not np.array_equal(other.val.y[:100], synthetic.val.y[:100])


def test_synthetic_has_the_expected_structure(synthetic_raw):
    r = synthetic_raw
    cnt, hr, working = r["cnt"], r["hr"], r["workingday"] == 1

    def mean_at(mask):
        assert mask.sum() > 50
        return cnt[mask].mean()

    # Commute peaks on working days; a midday hump on days off.
    for peak in (8, 17):
        assert mean_at(working & (hr == peak)) > 5 * mean_at(working & (hr == 3))
        assert mean_at(working & (hr == peak)) > 1.5 * mean_at(working & (hr == 12))
    assert mean_at(~working & (hr == 13)) > 2 * mean_at(~working & (hr == 8))
    assert mean_at(~working & (hr == 13)) > mean_at(working & (hr == 13))
    # Growth from year 0 to year 1.
    assert mean_at(r["yr"] == 1) > 1.3 * mean_at(r["yr"] == 0)
    # Rain lowers and warmth raises rentals, compared within the same hour and kind of day.
    daytime = (hr >= 8) & (hr <= 20)
    rain_ratios, warm_ratios = [], []
    for h in range(8, 21):
        for kind in (working, ~working):
            at = kind & (hr == h)
            if (at & (r["weathersit"] == 3)).sum() >= 5:
                rain_ratios.append(cnt[at & (r["weathersit"] == 3)].mean() / cnt[at & (r["weathersit"] == 1)].mean())
            warm_ratios.append(cnt[at & (r["temp"] > 0.6)].mean() / cnt[at & (r["temp"] < 0.35)].mean())
    assert len(rain_ratios) > 10 and np.median(rain_ratios) < 0.75
    assert np.median(warm_ratios) > 1.5
    # Casual riders favour days off; registered riders favour working days.
    assert r["casual"][daytime & ~working].mean() > 2 * r["casual"][daytime & working].mean()
    assert r["registered"][working].mean() > r["registered"][~working].mean()


def test_synthetic_structure_is_learnable(synthetic):
    """A linear least-squares fit on the training rows beats predicting the mean on validation."""
    design = np.c_[synthetic.train.X, np.ones(len(synthetic.train))]
    w, *_ = np.linalg.lstsq(design, synthetic.train.y, rcond=None)
    predictions = np.c_[synthetic.val.X, np.ones(len(synthetic.val))] @ w
    mse_linear = np.mean((predictions - synthetic.val.y) ** 2)
    mse_mean = np.mean((synthetic.train.y.mean() - synthetic.val.y) ** 2)
    assert mse_linear < 0.6 * mse_mean


def test_written_synthetic_csv_loads_identically(tmp_path, synthetic):
    path = write_synthetic_hour_csv(tmp_path / "hour.csv", seed=0)
    assert path.read_bytes() == synthetic_hour_csv(0).encode()
    loaded = load_bike_sharing(path)
    assert not loaded.synthetic  # a file is reported as a file; its name says what it is
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(loaded, part).X, getattr(synthetic, part).X)
        np.testing.assert_array_equal(getattr(loaded, part).y, getattr(synthetic, part).y)
    assert loaded.scalings == synthetic.scalings
    path.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_synthetic_hour_csv(path)
    assert path.read_text() == "keep me" and [p.name for p in tmp_path.iterdir()] == ["hour.csv"]
    write_synthetic_hour_csv(path, seed=1, overwrite=True)
    assert path.read_bytes() == synthetic_hour_csv(1).encode()


# ------------------------------------------------------------------------- bad input
def tiny_rows(n_days: int, hours=(0, 8, 17)) -> list[list[str]]:
    """A small, valid, hand-made hour.csv body (nothing from the real data)."""
    rows = []
    for d in range(n_days):
        day = date(2011, 1, 1) + timedelta(d)
        weekday = (day.weekday() + 1) % 7
        for h in hours:
            casual, registered = d % 5, 10 + h + d % 7
            rows.append([
                str(len(rows) + 1), day.isoformat(), "1", "0", str(day.month), str(h), "0", str(weekday),
                str(int(weekday not in (0, 6))), str(1 + d % 3), f"{0.2 + 0.01 * (d % 10):.2f}", "0.3",
                f"{0.5 + 0.02 * (h % 5):.2f}", f"{0.1 * (d % 4):.1f}", str(casual), str(registered),
                str(casual + registered),
            ])  # fmt: skip
    return rows


def write_csv(path: Path, rows: list[list[str]], header=HOUR_CSV_COLUMNS, newline="\r\n") -> Path:
    path.write_text(newline.join([",".join(header), *(",".join(r) for r in rows)]) + newline)
    return path


def test_tiny_valid_file_loads(tmp_path):
    rows = tiny_rows(90)
    data = load_bike_sharing(write_csv(tmp_path / "ok.csv", rows))
    assert (len(data.train), len(data.val), len(data.test)) == (9 * 3, 60 * 3, 21 * 3)
    lf = load_bike_sharing(write_csv(tmp_path / "lf.csv", rows, newline="\n"))
    np.testing.assert_array_equal(lf.train.X, data.train.X)
    # A byte-order mark and a trailing blank line are harmless; rows out of order are sorted.
    shuffled = [rows[i] for i in np.random.default_rng(0).permutation(len(rows))]
    path = tmp_path / "bom.csv"
    path.write_text(
        "\ufeff" + ",".join(HOUR_CSV_COLUMNS) + "\r\n" + "\r\n".join(",".join(r) for r in shuffled) + "\r\n\r\n"
    )
    np.testing.assert_array_equal(load_bike_sharing(path).test.X, data.test.X)


def test_missing_and_empty_files(tmp_path):
    missing = tmp_path / "nowhere" / "hour.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_bike_sharing(missing)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataFormatError, match=re.escape(str(empty)) + ".*empty"):
        load_bike_sharing(empty)
    header_only = write_csv(tmp_path / "header.csv", [])
    with pytest.raises(DataFormatError, match="no data rows"):
        load_bike_sharing(header_only)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(DataFormatError, match="not UTF-8"):
        load_bike_sharing(binary)


def test_missing_columns_are_named(tmp_path):
    keep = [k for k, name in enumerate(HOUR_CSV_COLUMNS) if name not in ("hum", "weathersit")]
    rows = [[r[k] for k in keep] for r in tiny_rows(90)]
    path = write_csv(tmp_path / "cols.csv", rows, header=[HOUR_CSV_COLUMNS[k] for k in keep])
    with pytest.raises(DataFormatError, match=r"cols\.csv line 1: missing column\(s\) weathersit, hum"):
        load_bike_sharing(path)
    # casual and registered are needed only when asked for as targets.
    keep = [k for k, name in enumerate(HOUR_CSV_COLUMNS) if name not in ("casual", "registered")]
    rows = [[r[k] for k in keep] for r in tiny_rows(90)]
    path = write_csv(tmp_path / "no_casual.csv", rows, header=[HOUR_CSV_COLUMNS[k] for k in keep])
    assert load_bike_sharing(path).n_features == 56
    with pytest.raises(DataFormatError, match="missing column\\(s\\) casual"):
        load_bike_sharing(path, targets=("casual",))


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("temp", "warm", "expected a number, got 'warm'"),
        ("temp", "nan", "expected a finite number, got 'nan'"),
        ("cnt", "NaN", "expected a finite number >= 0, got 'NaN'"),
        ("hum", "", "expected a number, got ''"),
        ("windspeed", "inf", "expected a finite number, got 'inf'"),
        ("hr", "24", "expected an integer in 0..23, got '24'"),
        ("season", "2.5", "expected an integer in 1..4, got '2.5'"),
        ("weathersit", "0", "expected an integer in 1..4, got '0'"),
        ("cnt", "-3", "expected a finite number >= 0, got '-3'"),
        ("dteday", "1/1/11", "expected a date YYYY-MM-DD, got '1/1/11'"),
        ("dteday", "2011-01", "expected a date YYYY-MM-DD, got '2011-01'"),
    ],
)
def test_bad_values_name_file_line_and_column(tmp_path, column, value, message):
    rows = tiny_rows(90)
    rows[7][HOUR_CSV_COLUMNS.index(column)] = value
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(DataFormatError) as info:
        load_bike_sharing(path)
    assert str(info.value) == f"{path} line 9, column {column!r}: {message}"


def test_malformed_rows(tmp_path):
    rows = tiny_rows(90)
    rows[3] = rows[3][:-1]
    with pytest.raises(DataFormatError, match=r"line 5: expected 17 fields as in the header, found 16"):
        load_bike_sharing(write_csv(tmp_path / "short.csv", rows))
    rows = tiny_rows(90)
    rows[10] = list(rows[4])
    with pytest.raises(
        DataFormatError, match=r"lines 6 and 12: the same hour appears twice \(dteday 2011-01-02, hr 8\)"
    ):
        load_bike_sharing(write_csv(tmp_path / "twice.csv", rows))


def test_too_few_days_for_the_split(tmp_path):
    path = write_csv(tmp_path / "short.csv", tiny_rows(81))
    with pytest.raises(DataFormatError, match=r"too few days for the split: 81 distinct .* need at least 82"):
        load_bike_sharing(path)
    data = load_bike_sharing(path, test_days=7, val_days=14)
    assert (len(data.train), len(data.val), len(data.test)) == (60 * 3, 14 * 3, 7 * 3)
    no_val = load_bike_sharing(path, val_days=0)
    assert len(no_val.val) == 0 and no_val.val.X.shape == (0, 56) and len(no_val.test) == 21 * 3


def test_bad_options(tmp_path):
    path = write_csv(tmp_path / "ok.csv", tiny_rows(90))
    with pytest.raises(ValueError, match="unknown target 'atemp'"):
        load_bike_sharing(path, targets=("atemp",))
    with pytest.raises(ValueError, match="scale_on must be 'all' or 'train'"):
        load_bike_sharing(path, scale_on="test")
    with pytest.raises(ValueError, match="floating dtype"):
        load_bike_sharing(path, dtype=np.int32)
    with pytest.raises(ValueError, match="test_days must be a non-negative integer"):
        load_bike_sharing(path, test_days=-1)
    constant = tiny_rows(90)
    for r in constant:
        r[HOUR_CSV_COLUMNS.index("windspeed")] = "0.2"
    with pytest.raises(DataFormatError, match="column 'windspeed' is constant"):
        load_bike_sharing(write_csv(tmp_path / "flat.csv", constant))


# ------------------------------------------------------------------------------ docs
def test_docs_data_md_examples_run(monkeypatch):
    """Every ```python block of docs/data.md runs, in order, from the repository root."""
    if not REAL_CSV.is_file():
        pytest.skip(f"docs/data.md reads the real data, absent: {REAL_CSV}")
    text = (REPO / "docs" / "data.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/data.md", "exec"), namespace)
