"""Reading the UCI bike-sharing ``hour.csv``: the schema, CSV parsing and validation.

This module owns turning CSV text into validated numpy columns: the archive's 17
column names, the range of every integer column, the non-negative count columns, and
``DataFormatError`` with a message that names file, line and column. What is done with
the columns (features, scalings, splits) is :mod:`autograd_nn.data.bike_sharing`'s.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["COUNT_COLUMNS", "DataFormatError", "HOUR_CSV_COLUMNS", "INTEGER_RANGES", "parse_csv"]

#: The 17 columns of the UCI ``hour.csv``, in the archive's order.
HOUR_CSV_COLUMNS: tuple[str, ...] = (
    "instant", "dteday", "season", "yr", "mnth", "hr", "holiday", "weekday", "workingday",
    "weathersit", "temp", "atemp", "hum", "windspeed", "casual", "registered", "cnt",
)  # fmt: skip

#: The rider counts (``cnt = casual + registered``): non-negative, and the possible targets.
COUNT_COLUMNS: tuple[str, ...] = ("cnt", "casual", "registered")

#: Integer columns and their allowed ranges; real-valued columns need only be finite
#: (and counts non-negative).
INTEGER_RANGES: dict[str, tuple[int, float]] = {
    "season": (1, 4),
    "yr": (0, np.inf),
    "mnth": (1, 12),
    "hr": (0, 23),
    "holiday": (0, 1),
    "weekday": (0, 6),
    "weathersit": (1, 4),
}


class DataFormatError(ValueError):
    """A data file that does not fit the expected schema; the message names file, line and column."""


def parse_csv(
    lines: Iterable[str], source: str, value_columns: Sequence[str]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Read ``dteday``, every integer column and ``value_columns`` (real-valued), each
    validated, as numpy arrays; also the file line of every row, for later messages."""
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        while header is not None and not any(cell.strip() for cell in header):
            header = next(reader, None)
        if header is None:
            raise DataFormatError(
                f"{source}: the file is empty; expected a CSV header with the columns {', '.join(HOUR_CSV_COLUMNS)}"
            )
        header = [cell.strip() for cell in header]
        header_line = reader.line_num
        needed = ("dteday", *INTEGER_RANGES, *value_columns)
        missing = [name for name in needed if name not in header]
        if missing:
            raise DataFormatError(
                f"{source} line {header_line}: missing column(s) {', '.join(missing)}; the header has "
                f"{', '.join(header)}; expected the UCI hour.csv columns {', '.join(HOUR_CSV_COLUMNS)}"
            )
        repeated = sorted({name for name in needed if header.count(name) > 1})
        if repeated:
            raise DataFormatError(f"{source} line {header_line}: column(s) {', '.join(repeated)} appear more than once")
        rows: list[list[str]] = []
        line_numbers: list[int] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines, e.g. a trailing one
            if len(row) != len(header):
                raise DataFormatError(
                    f"{source} line {reader.line_num}: expected {len(header)} fields as in the header, found {len(row)}"
                )
            rows.append(row)
            line_numbers.append(reader.line_num)
    except csv.Error as err:
        raise DataFormatError(f"{source} line {reader.line_num}: not valid CSV ({err})") from None
    if not rows:
        raise DataFormatError(f"{source}: the file has a header but no data rows")

    lines_array = np.array(line_numbers)
    columns: dict[str, np.ndarray] = {}
    for name in needed:
        k = header.index(name)
        text = [row[k] for row in rows]
        if name == "dteday":
            columns[name] = _dates(text, lines_array, source)
        elif name in INTEGER_RANGES:
            low, high = INTEGER_RANGES[name]
            columns[name] = _numbers(text, name, lines_array, source, low, high, integer=True).astype(np.int64)
        else:
            low = 0 if name in COUNT_COLUMNS else -np.inf
            columns[name] = _numbers(text, name, lines_array, source, low, np.inf, integer=False)
    return columns, lines_array


def _numbers(
    text: list[str], name: str, lines: np.ndarray, source: str, low: float, high: float, *, integer: bool
) -> np.ndarray:
    try:
        values = np.array(text, dtype=np.float64)
    except ValueError:
        for cell, line in zip(text, lines):
            try:
                float(cell)
            except ValueError:
                raise DataFormatError(
                    f"{source} line {line}, column {name!r}: expected a number, got {cell!r}"
                ) from None
        raise  # numpy and float() disagree on some spelling: let numpy's message through
    problems = ~np.isfinite(values) | (values < low) | (values > high)
    if integer:
        problems |= values != np.round(values)
    if problems.any():
        kind = "an integer" if integer else "a finite number"
        if np.isfinite(high):
            kind += f" in {low:g}..{high:g}"
        elif np.isfinite(low):
            kind += f" >= {low:g}"
        i = int(np.argmax(problems))
        raise DataFormatError(f"{source} line {lines[i]}, column {name!r}: expected {kind}, got {text[i]!r}")
    return values


def _dates(text: list[str], lines: np.ndarray, source: str) -> np.ndarray:
    cleaned = [cell.strip() for cell in text]
    try:
        days = np.array(cleaned, dtype="datetime64[D]")
    except ValueError:
        days = None
    # numpy also accepts '2011-01' or '2011-01-01T05'; insist on the file's YYYY-MM-DD.
    canonical = np.array(cleaned) == np.datetime_as_string(days) if days is not None else None
    if days is None or not canonical.all():
        for cell, line in zip(cleaned, lines):
            try:
                if str(np.datetime64(cell, "D")) == cell:
                    continue
            except ValueError:
                pass
            raise DataFormatError(f"{source} line {line}, column 'dteday': expected a date YYYY-MM-DD, got {cell!r}")
    return days
