"""A SYNTHETIC stand-in for the UCI bike-sharing ``hour.csv``: the built-in default.

Nothing here is measured data. A seeded generator writes two years (2011–2012) of
hourly rows with the UCI file's 17 columns and calendar (seasons by equinox and
solstice, weekday 0 = Sunday, Washington D.C. public holidays as observed), and with
the structure a model should find:

- a daily rhythm: commute peaks at about 8h and 17–18h on working days, a broad midday
  hump on weekends and holidays, few riders at night;
- a weekly and a seasonal rhythm, and growth of the system from year 0 to year 1;
- weather: warmth raises rentals (up to hot days), mist lowers them a little, rain or
  snow a lot; humidity and wind lower them slightly;
- casual riders (weekend- and weather-sensitive) and registered riders (commuters)
  drawn separately with overdispersed (gamma–Poisson) noise and a shared day effect, so
  ``casual + registered == cnt``; hours with no rentals are absent, as in the UCI file.

The rows go through exactly the same CSV parsing and preprocessing as the real file
(:func:`autograd_nn.data.bike_sharing.load_bike_sharing`): ``synthetic_bike_sharing``
formats them as CSV text in memory and reads that text back.
"""

from __future__ import annotations

import io
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .._atomic import atomic_write_text
from ._csv import HOUR_CSV_COLUMNS
from .bike_sharing import BikeSharing, _load_lines

__all__ = ["synthetic_bike_sharing", "synthetic_hour_csv", "write_synthetic_hour_csv"]

_FIRST_DAY = date(2011, 1, 1)
_DAYS = 731  # 2011-01-01 .. 2012-12-31, as in the UCI file
_HOURS = np.arange(24)


def synthetic_bike_sharing(
    seed: int = 0,
    *,
    test_days: int = 21,
    val_days: int = 60,
    targets: tuple[str, ...] = ("cnt",),
    scale_on: Literal["all", "train"] = "all",
    dtype: Any = np.float64,
) -> BikeSharing:
    """The built-in SYNTHETIC bike-sharing data set, prepared like the real one.

    The rows of ``synthetic_hour_csv(seed)`` (generated, not measured; see this module's
    docstring) are parsed and preprocessed by the same code as the UCI ``hour.csv``, so
    the result has the same 56 features, splits and scalings; ``synthetic`` is True and
    ``source`` names the seed. Keyword arguments are those of ``load_bike_sharing``.

    >>> from autograd_nn.data import synthetic_bike_sharing
    >>> data = synthetic_bike_sharing(seed=0)
    >>> data.synthetic, data.n_features, len(data.test.dteday) > 0
    (True, 56, True)
    """
    text = synthetic_hour_csv(seed)
    return _load_lines(
        io.StringIO(text, newline=""),
        source=f"synthetic hour.csv (seed={seed})",
        synthetic=True,
        test_days=test_days,
        val_days=val_days,
        targets=targets,
        scale_on=scale_on,
        dtype=dtype,
    )


def write_synthetic_hour_csv(path: str | os.PathLike[str], seed: int = 0, *, overwrite: bool = False) -> Path:
    """Write the synthetic rows as an ``hour.csv`` file (CRLF line ends, like the UCI file).

    The file is written atomically (a temporary file in the same folder, fsync, rename),
    so a failure never leaves a partial file; an existing file is kept unless
    ``overwrite``. Returns the path.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"write_synthetic_hour_csv: {str(path)!r} exists; pass overwrite=True to replace it")
    text = synthetic_hour_csv(seed)
    atomic_write_text(path, text)
    return path


def synthetic_hour_csv(seed: int = 0) -> str:
    """The SYNTHETIC ``hour.csv`` for ``seed`` as CSV text (header + rows, CRLF line ends).

    Deterministic: the same seed always gives the same text.
    """
    rng = np.random.default_rng(seed)
    days = np.datetime64(_FIRST_DAY.isoformat()) + np.arange(_DAYS)
    calendar = _calendar(days)
    weather = _weather(rng, calendar)
    casual, registered = _riders(rng, calendar, weather)

    cnt = casual + registered
    keep = cnt.ravel() > 0  # the UCI file has no row for an hour without rentals

    def per_hour(values: np.ndarray) -> np.ndarray:
        return np.broadcast_to(values[:, None], (_DAYS, 24)).ravel()[keep]

    fields = [
        np.arange(1, keep.sum() + 1),
        per_hour(np.datetime_as_string(days)),
        per_hour(calendar["season"]),
        per_hour(calendar["yr"]),
        per_hour(calendar["mnth"]),
        np.tile(_HOURS, _DAYS)[keep],
        per_hour(calendar["holiday"]),
        per_hour(calendar["weekday"]),
        per_hour(calendar["workingday"]),
        *(weather[name].ravel()[keep] for name in ("weathersit", "temp", "atemp", "hum", "windspeed")),
        casual.ravel()[keep],
        registered.ravel()[keep],
        cnt.ravel()[keep],
    ]
    columns = [f.tolist() for f in fields]
    # %g writes the shortest form, as the UCI file does (0.24, 0.1343, 0, 1).
    row = "%d,%s,%d,%d,%d,%d,%d,%d,%d,%d,%g,%g,%g,%g,%d,%d,%d"
    lines = [",".join(HOUR_CSV_COLUMNS)]
    lines += [row % values for values in zip(*columns)]
    return "\r\n".join(lines) + "\r\n"


def _calendar(days: np.ndarray) -> dict[str, np.ndarray]:
    """Per-day calendar fields with the UCI file's conventions."""
    year = days.astype("datetime64[Y]").astype(int) + 1970
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    day_of_month = (days - days.astype("datetime64[M]")).astype(int) + 1
    weekday = (days.astype(int) + 4) % 7  # 1970-01-01 was a Thursday; 0 = Sunday
    holidays = [day for y in range(year.min(), year.max() + 2) for day in _dc_holidays(y)]
    holiday = np.isin(days, np.array(holidays, dtype="datetime64[D]"))
    workingday = (weekday != 0) & (weekday != 6) & ~holiday
    # Seasons change near the equinoxes and solstices (1 = winter, as the UCI data has it).
    md = month * 100 + day_of_month
    season = np.select([md < 321, md < 621, md < 923, md < 1221], [1, 2, 3, 4], default=1)
    return {
        "year": year,
        "yr": year - year.min(),
        "mnth": month,
        "day_of_year": (days - days.astype("datetime64[Y]")).astype(int),
        "weekday": weekday,
        "holiday": holiday.astype(int),
        "workingday": workingday.astype(int),
        "season": season,
        "t": np.arange(len(days)) / (len(days) - 1),  # 0 → 1 over the whole period
    }


def _dc_holidays(year: int) -> list[np.datetime64]:
    """Washington D.C. public holidays of ``year`` on the days they are observed."""

    def nth_weekday(month: int, weekday: int, n: int) -> date:  # weekday: Monday = 0; n = -1 for the last
        if n > 0:
            first = date(year, month, 1)
            return first + timedelta((weekday - first.weekday()) % 7 + 7 * (n - 1))
        last = date(year, month + 1, 1) - timedelta(1)
        return last - timedelta((last.weekday() - weekday) % 7)

    def observed(day: date) -> date:  # Saturday → Friday, Sunday → Monday
        return day + timedelta({5: -1, 6: 1}.get(day.weekday(), 0))

    fixed = [date(year, 1, 1), date(year, 4, 16), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    moving = [
        nth_weekday(1, 0, 3),  # Martin Luther King Jr. Day
        nth_weekday(2, 0, 3),  # Washington's Birthday
        nth_weekday(5, 0, -1),  # Memorial Day
        nth_weekday(9, 0, 1),  # Labor Day
        nth_weekday(10, 0, 2),  # Columbus Day
        nth_weekday(11, 3, 4),  # Thanksgiving
    ]
    # DC Emancipation Day is on 16 April; New Year's Day can be observed on 31 December before.
    return [np.datetime64(observed(d).isoformat()) for d in fixed] + [np.datetime64(d.isoformat()) for d in moving]


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """A stationary AR(1) series: persistent day-to-day anomalies (warm spells, humid weeks)."""
    shocks = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out


# Hourly weather states 1–4 (clear, mist, light rain/snow, heavy rain/snow) as a Markov
# chain: stay with probability _STAY[i], else move to j with probability ∝ _MOVE[j].
_STAY = np.array([0.90, 0.82, 0.72, 0.40])
_MOVE = np.array([0.62, 0.28, 0.10, 0.001])


def _weather(rng: np.random.Generator, calendar: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n_days = len(calendar["t"])
    transition = np.empty((4, 4))
    for i in range(4):
        move = _MOVE.copy()
        move[i] = 0
        transition[i] = (1 - _STAY[i]) * move / move.sum()
        transition[i, i] = _STAY[i]
    cumulative = np.cumsum(transition, axis=1)
    draws = rng.random(n_days * 24)
    states = np.empty(n_days * 24, dtype=np.int64)
    state = 0
    for k, u in enumerate(draws):
        state = min(int(np.searchsorted(cumulative[state], u)), 3)
        states[k] = state
    weathersit = states.reshape(n_days, 24) + 1

    # Temperature, normalised as in UCI (°C / 41): coldest mid-January, warmest mid-July,
    # warmest in mid-afternoon, with multi-day warm and cold spells.
    season_wave = -np.cos(2 * np.pi * (calendar["day_of_year"] - 15) / 365.25)
    daily_temp = 0.50 + 0.25 * season_wave + _ar1(rng, n_days, phi=0.75, sd=0.07)
    hourly_temp = 0.05 * np.cos(2 * np.pi * (_HOURS - 15) / 24) - 0.03 * (weathersit >= 3)
    temp = daily_temp[:, None] + hourly_temp + rng.normal(0.0, 0.012, (n_days, 24))
    temp = np.round(np.clip(temp, 0.02, 1.0) / 0.02) * 0.02
    atemp = np.clip(0.04 + 0.88 * temp + rng.normal(0.0, 0.015, temp.shape), 0.0, 1.0)

    # Humidity (/100): highest before dawn, higher in mist and rain.
    wet = np.array([0.0, 0.09, 0.21, 0.26])[weathersit - 1]
    hum = 0.60 + 0.10 * np.cos(2 * np.pi * (_HOURS - 5) / 24) + _ar1(rng, n_days, 0.6, 0.14)[:, None] + wet
    hum = np.clip(hum + rng.normal(0.0, 0.03, hum.shape), 0.0, 1.0)

    # Wind (km/h / 67, whole km/h as in UCI): gamma-distributed, stronger in the afternoon and in storms.
    wind = rng.gamma(2.2, 0.08, (n_days, 24)) + 0.03 * np.cos(2 * np.pi * (_HOURS - 15) / 24) + 0.04 * (weathersit >= 3)
    windspeed = np.round(np.clip(wind, 0.0, 0.85) * 67) / 67
    return {
        "weathersit": weathersit,
        "temp": np.round(temp, 2),
        "atemp": np.round(atemp, 4),
        "hum": np.round(hum, 2),
        "windspeed": np.round(windspeed, 4),
    }


def _bump(centre: float, width: float) -> np.ndarray:
    """A Gaussian bump over the 24 hours, wrapping round midnight."""
    distance = np.abs(_HOURS - centre)
    distance = np.minimum(distance, 24 - distance)
    return np.exp(-0.5 * (distance / width) ** 2)


# Expected riders per hour in ideal weather at the start of 2011, by kind of day.
_REGISTERED_WORKDAY = (
    3
    + 440 * _bump(8, 0.8)
    + 340 * _bump(17.5, 0.9)
    + 190 * _bump(18.5, 2.2)
    + 130 * _bump(13, 3.0)
    + 70 * _bump(22, 2.2)
)
_REGISTERED_FREEDAY = 3 + 240 * _bump(13.5, 4.0) + 50 * _bump(0, 2.0)
_CASUAL_WORKDAY = 1 + 32 * _bump(16, 3.0)
_CASUAL_FREEDAY = 1 + 140 * _bump(14, 3.2) + 8 * _bump(0, 2.0)
# A full fleet cannot serve every would-be rider: demand m is served as m / (1 + m / _CAPACITY).
_CAPACITY = 2500.0
# Day-of-week factors, Sunday first: commuting dips on Monday and Friday, casual riding peaks on Saturday.
_REGISTERED_WEEKDAY = np.array([0.95, 0.97, 1.02, 1.03, 1.03, 0.98, 1.0])
_CASUAL_WEEKDAY = np.array([0.92, 1.0, 0.9, 0.9, 0.95, 1.05, 1.12])
# Mist lowers rentals a little, rain or snow a lot.
_WEATHER_FACTOR = np.array([1.0, 0.9, 0.55, 0.35])


def _riders(
    rng: np.random.Generator, calendar: dict[str, np.ndarray], weather: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    working = calendar["workingday"][:, None].astype(bool)
    growth = np.exp(0.85 * calendar["t"])[:, None]  # the system grows through both years
    temp = weather["temp"]
    warmth = 0.3 + 0.7 * np.exp(-(((temp - 0.72) / 0.38) ** 2))  # riders like ~30 °C, less so heat
    comfort = (1 - 0.35 * np.clip(weather["hum"] - 0.6, 0, None)) * (
        1 - 0.6 * np.clip(weather["windspeed"] - 0.25, 0, None)
    )
    rain = _WEATHER_FACTOR[weather["weathersit"] - 1]
    day_effect = np.exp(rng.normal(0.0, 0.08, (len(growth), 1)))  # events, unrecorded weather

    registered_mean = np.where(working, _REGISTERED_WORKDAY, _REGISTERED_FREEDAY)
    registered_mean = registered_mean * _REGISTERED_WEEKDAY[calendar["weekday"]][:, None]
    registered_mean = registered_mean * growth * warmth * comfort * rain * day_effect
    casual_mean = np.where(working, _CASUAL_WORKDAY, _CASUAL_FREEDAY) * _CASUAL_WEEKDAY[calendar["weekday"]][:, None]
    casual_mean = casual_mean * (1 + 0.4 * calendar["holiday"][:, None])
    casual_mean = casual_mean * growth * warmth**2 * comfort * rain**1.5 * day_effect

    saturation = 1 / (1 + (registered_mean + casual_mean) / _CAPACITY)
    registered_mean = registered_mean * saturation
    casual_mean = casual_mean * saturation

    def overdispersed_counts(mean: np.ndarray, shape: float) -> np.ndarray:
        return rng.poisson(mean * rng.gamma(shape, 1.0 / shape, mean.shape))

    return overdispersed_counts(casual_mean, 10.0), overdispersed_counts(registered_mean, 30.0)
