"""What load_bike_sharing returns (BikeSharing, Split, Scaling) and default_collate, checked
on a small hand-made hour.csv whose expected values the test computes itself."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.data import (
    FEATURE_NAMES,
    HOUR_CSV_COLUMNS,
    BikeSharing,
    DataLoader,
    Scaling,
    Split,
    TensorDataset,
    default_collate,
    load_bike_sharing,
)

DAYS, HOURS = 85, (3, 9, 18)  # 85 days: 4 train, 60 val, 21 test


def write_hour_csv(path: Path) -> dict[str, np.ndarray]:
    """A valid hour.csv of DAYS days × HOURS; returns its cnt, casual, dates and hours."""
    rows, cnt, casual, dates, hours = [], [], [], [], []
    for d in range(DAYS):
        day = date(2012, 3, 1) + timedelta(d)
        weekday = (day.weekday() + 1) % 7
        for h in HOURS:
            c, r = (d * 7 + h) % 11, 20 + 3 * h + d % 13
            rows.append([
                len(rows) + 1, day.isoformat(), 2, 1, day.month, h, 0, weekday, int(weekday not in (0, 6)),
                1 + (d + h) % 3, f"{0.3 + 0.005 * d:.3f}", 0.31, f"{0.4 + 0.03 * (h % 4):.2f}", f"{0.1 * (d % 3):.1f}", c, r, c + r,
            ])  # fmt: skip
            cnt.append(c + r)
            casual.append(c)
            dates.append(day.isoformat())
            hours.append(h)
    lines = [",".join(HOUR_CSV_COLUMNS)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\r\n".join(lines) + "\r\n")
    return {
        "cnt": np.array(cnt, float),
        "casual": np.array(casual, float),
        "dates": np.array(dates),
        "hours": np.array(hours),
    }


@pytest.fixture
def prepared(tmp_path):
    raw = write_hour_csv(tmp_path / "hour.csv")
    return load_bike_sharing(tmp_path / "hour.csv", targets=("cnt", "casual")), raw, tmp_path / "hour.csv"


def test_the_prepared_data_set_says_what_and_where_it_is(prepared):
    data, _, path = prepared
    assert isinstance(data, BikeSharing)
    assert data.feature_names == FEATURE_NAMES and data.n_features == 56
    assert data.target_names == ("cnt", "casual")
    assert data.source == str(path) and data.synthetic is False
    assert repr(data).startswith("BikeSharing(real, ")


def test_splits_are_consecutive_days_with_their_own_rows(prepared):
    data, raw, _ = prepared
    per_day = len(HOURS)
    assert all(isinstance(s, Split) for s in (data.train, data.val, data.test))
    assert [len(data.train), len(data.val), len(data.test)] == [4 * per_day, 60 * per_day, 21 * per_day]
    for split, rows in ((data.train, slice(0, 12)), (data.val, slice(12, 192)), (data.test, slice(192, None))):
        assert split.X.shape == (len(split), 56) and split.y.shape == (len(split), 2)
        np.testing.assert_array_equal(split.dteday, raw["dates"][rows].astype("datetime64[D]"))
        np.testing.assert_array_equal(split.hr, raw["hours"][rows])
        expected = raw["dates"][rows].astype("datetime64[h]") + raw["hours"][rows].astype("timedelta64[h]")
        np.testing.assert_array_equal(split.timestamps, expected)
    assert data.test.timestamps[-1] == np.datetime64("2012-05-24T18")  # 1 March + 84 days, 18:00


def test_scalings_standardise_each_target_with_the_sample_std(prepared):
    data, raw, _ = prepared
    for k, name in enumerate(("cnt", "casual")):
        scaling = data.scalings[name]
        assert isinstance(scaling, Scaling)
        assert scaling.mean == pytest.approx(raw[name].mean(), rel=1e-12)
        assert scaling.std == pytest.approx(raw[name].std(ddof=1), rel=1e-12)
        z = (raw[name][:12] - raw[name].mean()) / raw[name].std(ddof=1)
        np.testing.assert_allclose(data.train.y[:, k], z, rtol=1e-12)
        np.testing.assert_allclose(scaling.transform(raw[name][:12]), z, rtol=1e-12)
        np.testing.assert_allclose(scaling.inverse_transform(z), raw[name][:12], rtol=1e-12)


def test_unscale_gives_back_riders_per_hour(prepared):
    data, raw, _ = prepared
    np.testing.assert_allclose(data.unscale(data.test.y[:, 0]), raw["cnt"][192:], rtol=1e-12)
    np.testing.assert_allclose(data.unscale(data.test.y[:, 1], target="casual"), raw["casual"][192:], atol=1e-12)
    both = data.unscale(data.val.y)  # one column per target
    np.testing.assert_allclose(both, np.stack([raw["cnt"][12:192], raw["casual"][12:192]], axis=1), atol=1e-12)


def test_a_hand_made_scaling_is_the_closed_form():
    scaling = Scaling(mean=10.0, std=4.0)
    np.testing.assert_array_equal(scaling.transform([2.0, 10.0, 18.0]), [-2.0, 0.0, 2.0])
    np.testing.assert_array_equal(scaling.inverse_transform([-2.0, 0.5]), [2.0, 12.0])


def test_default_collate_stacks_samples_along_a_new_first_axis():
    pairs = [(np.array([1.0, 2.0]), 0), (np.array([3.0, 4.0]), 1), (ag.tensor([5.0, 6.0]), 2)]
    x, y = default_collate(pairs)
    assert isinstance(x, ag.Tensor) and isinstance(y, ag.Tensor)
    np.testing.assert_array_equal(x.data, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(y.data, [0, 1, 2])
    single = default_collate([np.zeros((2, 2)), np.ones((2, 2))])
    assert isinstance(single, ag.Tensor) and single.shape == (2, 2, 2)
    with pytest.raises(ValueError, match=r"default_collate: samples have different numbers of fields \(2 and 1\)"):
        default_collate([(1, 2), (3,)])
    with pytest.raises(ValueError, match=r"cannot stack samples of shapes \[\(2,\), \(3,\)\] into one batch"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_a_loader_says_what_it_iterates():
    loader = DataLoader(TensorDataset(np.zeros(5)), batch_size=2, shuffle=True, seed=0)
    assert repr(loader) == "DataLoader(dataset of 5 samples, batch_size=2, shuffle=True, drop_last=False)"
    assert len(loader) == 3 and len(DataLoader(TensorDataset(np.zeros(5)), batch_size=2, drop_last=True)) == 2
