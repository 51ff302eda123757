"""The UCI bike-sharing hourly data, prepared as in the backpropagation post.

Source: Capital Bikeshare (Washington D.C.) rentals for 2011–2012, aggregated per hour
with weather and calendar fields by Fanaee-T & Gama: H. Fanaee-T and J. Gama, "Event
labeling combining ensemble detectors and background knowledge", *Progress in
Artificial Intelligence* (2013), doi:10.1007/s13748-013-0040-3. The data's author asks
that every use cite this paper.

This module owns the one preprocessing path shared by the real file and the synthetic
default (:mod:`autograd_nn.data.synthetic`): the 56 features, the standardisations,
the split by calendar day, and the containers that hold the result. Reading and
validating the CSV text is :mod:`autograd_nn.data._csv`'s.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ._csv import COUNT_COLUMNS, HOUR_CSV_COLUMNS, DataFormatError, parse_csv

__all__ = [
    "BikeSharing",
    "DataFormatError",
    "FEATURE_NAMES",
    "HOUR_CSV_COLUMNS",
    "Scaling",
    "Split",
    "load_bike_sharing",
]

# One-hot fields with their categories (fixed by the schema, so the feature list never
# depends on which values a file happens to contain), in the post's order.
_ONE_HOT: dict[str, range] = {
    "season": range(1, 5),
    "weathersit": range(1, 5),
    "mnth": range(1, 13),
    "hr": range(0, 24),
    "weekday": range(0, 7),
}
# Numeric fields kept as features, in the post's order; temp, hum, windspeed are standardised.
_KEPT = ("yr", "holiday", "temp", "hum", "windspeed")
_STANDARDISED_FEATURES = ("temp", "hum", "windspeed")
_TARGETS = COUNT_COLUMNS  # any of the rider counts can be asked for as a target

#: The 56 input features: 5 numeric fields, then the one-hot blocks (4 + 4 + 12 + 24 + 7).
FEATURE_NAMES: tuple[str, ...] = _KEPT + tuple(f"{name}_{v}" for name, values in _ONE_HOT.items() for v in values)


@dataclass(frozen=True)
class Scaling:
    """A standardisation ``z = (x − mean) / std`` and its inverse (``std`` with ddof=1, as pandas)."""

    mean: float
    std: float

    def transform(self, x: Any) -> np.ndarray:
        """Original units → standardised: ``(x − mean) / std``."""
        return (np.asarray(x) - self.mean) / self.std

    def inverse_transform(self, z: Any) -> np.ndarray:
        """Back to the original unit, e.g. standardised predictions → riders per hour."""
        return np.asarray(z) * self.std + self.mean


@dataclass(frozen=True, eq=False)
class Split:
    """One part of the data set, rows in time order.

    ``X`` is (n, 56) features, ``y`` is (n, len(targets)) standardised targets; ``dteday``
    (``datetime64[D]``) and ``hr`` (int) say when each row was recorded, for plots.
    """

    X: np.ndarray
    y: np.ndarray
    dteday: np.ndarray
    hr: np.ndarray

    def __len__(self) -> int:
        return len(self.X)

    @property
    def timestamps(self) -> np.ndarray:
        """``dteday + hr`` as ``datetime64[h]``, the x-axis of a time plot."""
        return self.dteday.astype("datetime64[h]") + self.hr.astype("timedelta64[h]")


@dataclass(frozen=True, eq=False)
class BikeSharing:
    """The prepared bike-sharing data: features, standardised targets, splits, scalings.

    ``synthetic`` is True (and ``source`` says so) when the rows came from the built-in
    generator rather than the UCI file; never mistake one for the other in a report.
    """

    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    train: Split
    val: Split
    test: Split
    scalings: dict[str, Scaling]
    source: str
    synthetic: bool

    @property
    def n_features(self) -> int:
        """The number of input features (56 for the post's preprocessing)."""
        return len(self.feature_names)

    def unscale(self, y: Any, target: str | None = None) -> np.ndarray:
        """Standardised values of ``target`` (default: the first target) in original units.

        A 2-d ``y`` with one column per target is unscaled column by column when
        ``target`` is not given.
        """
        y = np.asarray(y)
        if target is not None:
            return self.scalings[_check_target(target, self.target_names, "unscale")].inverse_transform(y)
        if y.ndim == 2 and y.shape[1] == len(self.target_names):
            return np.stack(
                [self.scalings[t].inverse_transform(y[:, k]) for k, t in enumerate(self.target_names)], axis=1
            )
        return self.scalings[self.target_names[0]].inverse_transform(y)

    def __repr__(self) -> str:
        kind = "synthetic" if self.synthetic else "real"
        return (
            f"BikeSharing({kind}, source={self.source!r}, {self.n_features} features, targets={self.target_names}, "
            f"train={len(self.train)}, val={len(self.val)}, test={len(self.test)} rows)"
        )


def load_bike_sharing(
    path: str | os.PathLike[str],
    *,
    test_days: int = 21,
    val_days: int = 60,
    targets: Sequence[str] = ("cnt",),
    scale_on: Literal["all", "train"] = "all",
    dtype: Any = np.float64,
) -> BikeSharing:
    """Read the UCI bike-sharing ``hour.csv`` and prepare it as the post does.

    Data: Fanaee-T & Gama (2013), "Event labeling combining ensemble detectors and
    background knowledge", Progress in Artificial Intelligence,
    doi:10.1007/s13748-013-0040-3 (cite it when you use the data).

    Preprocessing (the post's, i.e. Udacity's "first neural network" project):

    - one-hot encode ``season`` (1–4), ``weathersit`` (1–4), ``mnth`` (1–12), ``hr``
      (0–23) and ``weekday`` (0–6; 0 is Sunday);
    - keep ``yr`` and ``holiday`` as they are;
    - standardise ``temp``, ``hum``, ``windspeed`` and the targets (``cnt`` by default)
      to zero mean and unit standard deviation (ddof=1), keeping each ``Scaling``;
    - drop ``casual`` and ``registered`` from the features (they sum to ``cnt``: leakage),
      and ``instant``, ``dteday``, ``atemp``, ``workingday`` (an index, a date, a near
      copy of ``temp``, and a function of ``weekday`` and ``holiday``).

    That leaves the 56 features of ``FEATURE_NAMES``: 5 numeric + 4 + 4 + 12 + 24 + 7.
    Rows are put in time order; the last ``test_days`` calendar days (by ``dteday``)
    are the test set, the ``val_days`` days before them the validation set, the rest
    training. (The post cuts 21·24 and 60·24 rows instead; the file lacks 165 hours,
    so whole days differ from it by a few rows.)

    Parameters
    ----------
    path
        The ``hour.csv`` file (UTF-8, comma-separated, with a header; CRLF or LF).
        Columns beyond those used are ignored, and ``casual``/``registered`` are only
        needed when asked for as targets.
    test_days, val_days
        Calendar days in the test and validation sets.
    targets
        Target columns, any of ``"cnt"``, ``"casual"``, ``"registered"``; ``y`` has one
        column per target.
    scale_on
        ``"all"`` (the post's choice) computes the standardisation over every row;
        ``"train"`` over the training rows only, so nothing about validation or test
        leaks into the scalings.
    dtype
        Floating dtype of ``X`` and ``y``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    DataFormatError
        An empty file, missing columns, a row with the wrong number of fields, a value
        that is not a number (or NaN/inf, or out of its column's range), a repeated
        hour, or too few days for the split; the message names file, line and column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_bike_sharing: no such file: {str(path)!r} (expected the UCI hour.csv)")
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as f:
            return _load_lines(
                f,
                source=str(path),
                synthetic=False,
                test_days=test_days,
                val_days=val_days,
                targets=targets,
                scale_on=scale_on,
                dtype=dtype,
            )
    except UnicodeDecodeError as err:
        raise DataFormatError(
            f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); expected a CSV file"
        ) from None


def _load_lines(
    lines: Iterable[str] | io.TextIOBase,
    *,
    source: str,
    synthetic: bool,
    test_days: int,
    val_days: int,
    targets: Sequence[str],
    scale_on: str,
    dtype: Any,
) -> BikeSharing:
    """The one path from CSV text to ``BikeSharing``, for the real file and the synthetic rows."""
    targets = _check_options(test_days, val_days, targets, scale_on, dtype)
    columns, line_numbers = parse_csv(lines, source, (*_STANDARDISED_FEATURES, *targets))
    return _prepare(
        columns,
        line_numbers,
        source=source,
        synthetic=synthetic,
        test_days=test_days,
        val_days=val_days,
        targets=targets,
        scale_on=scale_on,
        dtype=np.dtype(dtype),
    )


def _check_options(test_days: int, val_days: int, targets: Sequence[str], scale_on: str, dtype: Any) -> tuple[str, ...]:
    for name, days in (("test_days", test_days), ("val_days", val_days)):
        if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 0:
            raise ValueError(f"load_bike_sharing: {name} must be a non-negative integer, got {days!r}")
    if isinstance(targets, str):
        targets = (targets,)
    targets = tuple(targets)
    if not targets:
        raise ValueError(f"load_bike_sharing: targets must name at least one of {_TARGETS}")
    for t in targets:
        _check_target(t, _TARGETS, "load_bike_sharing")
    if len(set(targets)) != len(targets):
        raise ValueError(f"load_bike_sharing: targets has a repeated name: {targets}")
    if scale_on not in ("all", "train"):
        raise ValueError(f"load_bike_sharing: scale_on must be 'all' or 'train', got {scale_on!r}")
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"load_bike_sharing: dtype must be a floating dtype, got {np.dtype(dtype)}")
    return targets


def _check_target(target: str, allowed: Sequence[str], where: str) -> str:
    if target not in allowed:
        raise ValueError(f"{where}: unknown target {target!r}; expected one of {tuple(allowed)}")
    return target


def _prepare(
    columns: dict[str, np.ndarray],
    line_numbers: np.ndarray,
    *,
    source: str,
    synthetic: bool,
    test_days: int,
    val_days: int,
    targets: tuple[str, ...],
    scale_on: str,
    dtype: np.dtype,
) -> BikeSharing:
    order = np.lexsort((columns["hr"], columns["dteday"]))
    columns = {name: values[order] for name, values in columns.items()}
    line_numbers = line_numbers[order]
    dteday, hr = columns["dteday"], columns["hr"]
    repeated = np.flatnonzero((dteday[1:] == dteday[:-1]) & (hr[1:] == hr[:-1]))
    if repeated.size:
        i = int(repeated[0])
        raise DataFormatError(
            f"{source} lines {line_numbers[i]} and {line_numbers[i + 1]}: the same hour appears twice "
            f"(dteday {dteday[i]}, hr {hr[i]})"
        )

    days = np.unique(dteday)
    if len(days) <= test_days + val_days:
        raise DataFormatError(
            f"{source}: too few days for the split: {len(days)} distinct dteday value(s), but test_days={test_days} "
            f"+ val_days={val_days} need at least {test_days + val_days + 1} (one or more left for training)"
        )
    train_days = len(days) - test_days - val_days
    day_number = np.searchsorted(days, dteday)
    parts = {
        "train": day_number < train_days,
        "val": (day_number >= train_days) & (day_number < train_days + val_days),
        "test": day_number >= train_days + val_days,
    }

    scaled = (*_STANDARDISED_FEATURES, *targets)
    rows_for_stats = parts["train"] if scale_on == "train" else slice(None)
    scalings: dict[str, Scaling] = {}
    for name in scaled:
        values = columns[name][rows_for_stats]
        std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        if not std > 0:
            raise DataFormatError(
                f"{source}: column {name!r} is constant over the {scale_on} rows ({len(values)} of them), "
                "so it cannot be standardised"
            )
        scalings[name] = Scaling(mean=float(np.mean(values)), std=std)

    n = len(dteday)
    X = np.zeros((n, len(FEATURE_NAMES)), dtype=dtype)
    for j, name in enumerate(_KEPT):
        X[:, j] = scalings[name].transform(columns[name]) if name in scalings else columns[name]
    offset = len(_KEPT)
    rows = np.arange(n)
    for name, categories in _ONE_HOT.items():
        X[rows, offset + columns[name] - categories.start] = 1
        offset += len(categories)
    y = np.stack([scalings[t].transform(columns[t]) for t in targets], axis=1).astype(dtype)

    splits = {name: Split(X=X[mask], y=y[mask], dteday=dteday[mask], hr=hr[mask]) for name, mask in parts.items()}
    return BikeSharing(
        feature_names=FEATURE_NAMES,
        target_names=targets,
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        scalings=scalings,
        source=source,
        synthetic=synthetic,
    )
