# SPDX-License-Identifier: BSD-3-Clause
"""Read log-event files (CSV, TXT, JSON, NDJSON; gzip too) into event tables."""

import json
import lzma
import os
import zlib
from contextlib import contextmanager
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

from ._raw_logs import is_file_object, open_text

__all__ = [
    "file_format",
    "read_csv",
    "read_events",
    "read_json",
    "read_ndjson",
    "read_txt",
]

#: Columns of an event table, in order; ``label`` only when the file has labels.
EVENT_TABLE_COLUMNS = ("group", "time", "event", "label")

# A key is read as an int when it is written as one, in canonical form (no sign
# "+", no leading zero) so that distinct keys stay distinct, and fits in int64.
_INTEGER_KEY = r"-?(?:0|[1-9][0-9]{0,17})"

_PATH = [str, os.PathLike, HasMethods(["read"])]
_CHUNKSIZE = [Interval(Integral, 1, None, closed="left"), None]
_COLUMN_CONSTRAINTS = {
    "path": _PATH,
    "time": [str, None],
    "group": [str, None],
    "event": [str],
    "label": [str, None],
    "values": ["array-like"],
    "chunksize": _CHUNKSIZE,
}
_FORMATS = {
    ".csv": "csv",
    ".txt": "txt",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
_COMPRESSIONS = {".gz", ".bz2", ".xz"}
# What a JSON field of each column of the event table may hold.
_JSON_SCALARS = {
    "group": "a group must be a string or a number",
    "time": "a time must be a number of seconds or an ISO 8601 date string",
    "event": "a log key must be a string or a number",
    "label": "a label must be 0 or 1 (or false or true)",
}


@validate_params(
    {
        "path": _PATH,
        "format": [StrOptions(set(_FORMATS.values())), None],
        "chunksize": _CHUNKSIZE,
    },
    prefer_skip_nested_validation=True,
)
def read_events(path, *, format=None, chunksize=None, **columns):
    """Read a log-event file, choosing the reader from its suffix.

    Parameters
    ----------
    path : str, path-like or binary file
        A ``.csv``, ``.txt``, ``.json``, ``.ndjson`` or ``.jsonl`` file, optionally
        compressed with a further ``.gz`` (or ``.bz2``, ``.xz``). A binary file
        object (e.g. ``open(path, "rb")``) is read as by the reader of its format.
    format : {'csv', 'txt', 'json', 'ndjson'}, default=None
        The format; ``None`` infers it from the suffix (of the ``name`` of a file
        object, which needs `format` when it has no such name).
    chunksize : int, default=None
        If given, return an iterator of event tables of at most this many log
        entries each (see the reader of the format).
    **columns : str or None
        Column names for :func:`read_csv`, :func:`read_json` and
        :func:`read_ndjson`: ``time``, ``group``, ``event``, ``label``.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table: one row per log entry, columns ``group``, ``time``,
        ``event`` and ``label`` (when the file has labels).

    See Also
    --------
    read_csv, read_txt, read_json, read_ndjson : The readers of each format.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn_deeplog.io import read_events
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sessions.txt"
    >>> _ = path.write_text("5 5 22 \\n5 11 ")
    >>> read_events(path)
       group  time  event
    0      0     0      5
    1      0     1      5
    2      0     2     22
    3      1     0      5
    4      1     1     11
    """
    if format is None:
        name = _name(path)
        format, _ = file_format(name)
        if format is None:
            raise ValueError(
                f"{name}: unknown event file format; name the file .csv, .txt, "
                ".json, .ndjson or .jsonl (optionally .gz), or pass format=."
            )
    if format == "txt":
        if columns:
            raise TypeError(f"read_txt takes no column names; got {sorted(columns)}.")
        return read_txt(path, chunksize=chunksize)
    reader = {"csv": read_csv, "json": read_json, "ndjson": read_ndjson}[format]
    return reader(path, chunksize=chunksize, **columns)


def file_format(path):
    """The format of an event file and its compression, from its suffixes.

    Parameters
    ----------
    path : str or path-like
        The file's name, e.g. ``events.ndjson.gz``.

    Returns
    -------
    format : {'csv', 'txt', 'json', 'ndjson'} or None
        The format; None when the suffix is none of theirs.
    compression : str or None
        The compression suffix (``.gz``, ``.bz2``, ``.xz``), or None.
    """
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    compression = suffixes.pop() if suffixes and suffixes[-1] in _COMPRESSIONS else None
    return _FORMATS.get(suffixes[-1] if suffixes else ""), compression


@validate_params(_COLUMN_CONSTRAINTS, prefer_skip_nested_validation=True)
def read_csv(
    path,
    *,
    time="timestamp",
    group="machine",
    event="event",
    label="label",
    values=(),
    chunksize=None,
):
    """Read a CSV file whose header names the time, group, event and label columns.

    Other columns are ignored; blank lines are skipped.

    Parameters
    ----------
    path : str, path-like or binary file
        The file, UTF-8 text; gzip, bzip2 and xz files are decompressed. A binary
        file object (with a ``read`` method, e.g. ``open(path, "rb")``) is read
        from its current position and left open; with `chunksize` it must be
        seekable.
    time : str or None, default='timestamp'
        Column of the entry's time: numbers (seconds) or ISO 8601 dates.
        ``None`` when the file has none.
    group : str or None, default='machine'
        Column of the entry's machine or session. ``None`` when the file has none.
    event : str, default='event'
        Column of the log key.
    label : str or None, default='label'
        Column of the entry's label, 1 (anomalous) or 0 (normal), used when the
        file has it. ``None`` ignores it.
    values : list of str, default=()
        Columns of numeric parameters to keep (a size, a latency: the input of
        :class:`~sklearn_deeplog.ParameterValueDetector`), under their own names,
        as float64: NaN where a value is missing or not a finite number.
    chunksize : int, default=None
        If given, return an iterator of event tables of at most this many log
        entries each, read in bounded memory. Their concatenation equals the
        table of the whole file: the file is read twice, once to fix the types
        of the columns from all its entries.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table, one row per log entry, columns ``group``, ``time``,
        ``event`` and ``label`` (those the file has), renamed to these names:

        - ``group`` and ``event`` are int64 when every value of the file is an
          integer (written without sign ``+`` or leading zeros), else strings;
        - ``time`` is int64 or float64 when the times are numbers, else
          datetime64[ns]: naive, or UTC when any time has a UTC offset (a time
          without one is then taken as UTC);
        - ``label`` is int64.

    Raises
    ------
    ValueError
        If a column is missing or a value is missing or malformed; the message
        names the file and the line (1-based; a quoted field spanning several
        lines would shift the count).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn_deeplog.io import read_csv
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text(
    ...     "timestamp,host,event,label\\n"
    ...     "2026-11-22T10:00:00,m1,E5,0\\n"
    ...     "2026-11-22T10:00:02,m1,E22,1\\n"
    ... )
    >>> events = read_csv(path, group="host")
    >>> events
      group                time event  label
    0    m1 2026-11-22 10:00:00    E5      0
    1    m1 2026-11-22 10:00:02   E22      1
    >>> events.dtypes.astype(str).tolist()
    ['object', 'datetime64[ns]', 'object', 'int64']
    """

    def frames(chunksize):
        with _reading(path) as file:
            try:
                reader = pd.read_csv(
                    file,
                    dtype=str,
                    keep_default_na=False,
                    na_values=[""],
                    skipinitialspace=True,
                    skip_blank_lines=False,
                    chunksize=chunksize,
                )
                for frame in [reader] if chunksize is None else reader:
                    if not isinstance(frame.index, pd.RangeIndex):
                        # pandas takes the extra fields of a first entry with
                        # more fields than the header for an index.
                        raise ValueError(
                            f"{_name(path)}, line 2: more fields than the header "
                            "names; check the number of fields and the quotes on "
                            "that line."
                        )
                    # Row i is on line i + 2 (after the header) as blank lines are
                    # kept, as rows of missing values, then dropped here.
                    kept = frame.notna().any(axis=1).to_numpy()
                    yield frame[kept], frame.index.to_numpy()[kept] + 2
            except pd.errors.EmptyDataError:
                return
            except pd.errors.ParserError as err:
                raise ValueError(
                    f"{_name(path)}: not a valid CSV file ({str(err).strip()}); "
                    "check the number of fields and the quotes on that line."
                ) from err

    names = {"group": group, "time": time, "event": event, "label": label}
    return _event_tables(path, frames, names, chunksize, values=values)


@validate_params(_COLUMN_CONSTRAINTS, prefer_skip_nested_validation=True)
def read_ndjson(
    path,
    *,
    time="timestamp",
    group="machine",
    event="event",
    label="label",
    values=(),
    chunksize=None,
):
    """Read an NDJSON (JSON Lines) file: one JSON object per log entry and line.

    Other fields are ignored; blank lines are skipped.

    Parameters
    ----------
    path : str, path-like or binary file
        The file, UTF-8 text; gzip, bzip2 and xz files are decompressed. A binary
        file object (with a ``read`` method, e.g. ``open(path, "rb")``) is read
        from its current position and left open; with `chunksize` it must be
        seekable.
    time, group, event, label : str or None
        Field names, with the defaults and meaning of :func:`read_csv`.
    values : list of str, default=()
        Fields of numeric parameters to keep, as in :func:`read_csv`.
    chunksize : int, default=None
        If given, return an iterator of event tables of at most this many log
        entries each, read in bounded memory. Their concatenation equals the
        table of the whole file: the file is read twice, once to fix the types
        of the columns from all its entries.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table, as :func:`read_csv` returns it.

    Raises
    ------
    ValueError
        If a line is not a JSON object, or a field is missing or malformed
        (e.g. an array or object as a key, or a boolean other than a label);
        the message names the file and the line (1-based).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn_deeplog.io import read_ndjson
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.ndjson"
    >>> _ = path.write_text(
    ...     '{"timestamp": 0.5, "machine": "m1", "event": 5}\\n'
    ...     '{"timestamp": 1.5, "machine": "m2", "event": 22}\\n'
    ... )
    >>> read_ndjson(path)
      group  time  event
    0    m1   0.5      5
    1    m2   1.5     22
    """

    names = {"group": group, "time": time, "event": event, "label": label}
    name = _name(path)

    def frames(chunksize):
        with _reading(path) as file:
            lines = ((n, line) for n, line in enumerate(file, 1) if line.strip())
            records = (_json_line(name, n, line, names) for n, line in lines)
            for batch in _batches(records, chunksize):
                yield _records_frame(batch)

    return _event_tables(path, frames, names, chunksize, values=values)


@validate_params(_COLUMN_CONSTRAINTS, prefer_skip_nested_validation=True)
def read_json(
    path,
    *,
    time="timestamp",
    group="machine",
    event="event",
    label="label",
    values=(),
    chunksize=None,
):
    """Read a JSON file holding an array of objects, one per log entry.

    The whole file is parsed at once, even with `chunksize`: for files larger
    than memory, use NDJSON (:func:`read_ndjson`). Other fields are ignored.

    Parameters
    ----------
    path : str, path-like or binary file
        The file, UTF-8 text; gzip, bzip2 and xz files are decompressed. A binary
        file object (with a ``read`` method, e.g. ``open(path, "rb")``) is read
        from its current position and left open.
    time, group, event, label : str or None
        Field names, with the defaults and meaning of :func:`read_csv`.
    values : list of str, default=()
        Fields of numeric parameters to keep, as in :func:`read_csv`.
    chunksize : int, default=None
        If given, return an iterator of event tables of at most this many log
        entries each; their concatenation equals the table of the whole file.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table, as :func:`read_csv` returns it.

    Raises
    ------
    ValueError
        If the file is not a JSON array of objects, or a field is missing or
        malformed (as in :func:`read_ndjson`); the message names the file and
        the object (1-based).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn_deeplog.io import read_json
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.json"
    >>> _ = path.write_text(
    ...     '[{"time": 3, "event": "open", "label": 0},'
    ...     ' {"time": 4, "event": "close", "label": 1}]'
    ... )
    >>> read_json(path, time="time", group=None)
       time  event  label
    0     3   open      0
    1     4  close      1
    """
    name = _name(path)
    with _reading(path) as file:
        text = file.read()
    try:
        objects = json.loads(text) if text.strip() else []
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{name}, line {err.lineno}, column {err.colno}: invalid JSON: "
            f"{err.msg}. The file must hold one JSON array of objects."
        ) from err
    if not isinstance(objects, list):
        raise ValueError(
            f"{name}: expected a JSON array of objects, got a JSON "
            f"{_json_type(objects)}; for one object per line, name the file "
            ".ndjson or pass format='ndjson'."
        )

    names = {"group": group, "time": time, "event": event, "label": label}

    def frames(chunksize):
        records = (
            _json_record(name, n, o, names, unit="object")
            for n, o in enumerate(objects, 1)
        )
        for batch in _batches(records, chunksize):
            yield _records_frame(batch)

    # The file is read: the chunks are cut from `objects`, not read again.
    return _event_tables(name, frames, names, chunksize, unit="object", values=values)


@validate_params(
    {"path": _PATH, "chunksize": _CHUNKSIZE}, prefer_skip_nested_validation=True
)
def read_txt(path, *, chunksize=None):
    """Read a file of one session per line, as whitespace-separated log keys.

    The format of the DeepLog paper's HDFS files. A line is a session, whose
    group is the line's 0-based number in the file; the time of a key is its
    position in the line (0, 1, ...). Blank lines are skipped (their numbers
    are not reused).

    Parameters
    ----------
    path : str, path-like or binary file
        The file, UTF-8 text; gzip, bzip2 and xz files are decompressed. A binary
        file object (with a ``read`` method, e.g. ``open(path, "rb")``) is read
        from its current position and left open; with `chunksize` it must be
        seekable.
    chunksize : int, default=None
        If given, return an iterator of event tables of whole sessions, each of
        at most this many log entries, except that a session longer than
        `chunksize` makes a chunk of its own. Their concatenation equals the
        table of the whole file: the file is read twice, once to fix the type
        of the keys from all of them.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table, columns ``group`` and ``time`` (int64) and ``event``:
        int64 when every key of the file is an integer, else strings.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn_deeplog.io import read_txt
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sessions.txt"
    >>> _ = path.write_text("open read close\\n\\nopen close\\n")
    >>> read_txt(path)
       group  time  event
    0      0     0   open
    1      0     1   read
    2      0     2  close
    3      2     0   open
    4      2     1  close
    >>> [len(chunk) for chunk in read_txt(path, chunksize=4)]
    [3, 2]
    """

    def frames(chunksize):
        with _reading(path) as file:
            sessions = ((n, line.split()) for n, line in enumerate(file))
            sessions = ((n, keys) for n, keys in sessions if keys)
            for batch in _batches(sessions, chunksize, size=lambda s: len(s[1])):
                sizes = np.array([len(keys) for _, keys in batch], dtype=np.int64)
                groups = np.repeat([n for n, _ in batch], sizes).astype(np.int64)
                starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
                frame = pd.DataFrame(
                    {
                        "group": groups,
                        "time": np.arange(len(groups)) - starts,
                        "event": [key for _, keys in batch for key in keys],
                    }
                )
                yield frame, groups + 1

    names = {column: column for column in ("group", "time", "event")}
    return _event_tables(path, frames, {**names, "label": None}, chunksize)


def _event_tables(path, frames, names, chunksize, unit="line", values=()):
    """The event table of a file, whole or in chunks.

    Parameters
    ----------
    path : str, path-like or binary file
        The file that `frames` reads, named in error messages. A file object is
        sought back to its position before the second pass of `chunksize`.
    frames : callable
        ``frames(chunksize)`` reads the file and yields, per chunk (one chunk if
        `chunksize` is None), the raw frame of its entries and the line (or
        object) number of each entry, 1-based.
    names : dict
        The file's name of each column of the event table, or None.
    chunksize : int or None
        Chunk size; None reads the whole file.
    unit : str, default="line"
        What the numbers of `frames` count, for error messages.
    values : list of str, default=()
        The file's columns of numeric parameters to keep.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The table, or an iterator of the tables of the chunks.
    """
    if chunksize is None:
        parts = list(frames(None))
    else:
        start = _start(path)
        parts = frames(chunksize)
    schema = _Schema(_name(path), names, unit, list(values))
    for frame, _ in parts:
        schema.observe(frame)
    schema.check()
    if chunksize is None:
        return schema.table(*parts[0], start=0)
    if start is not None:
        path.seek(start)
    return schema.tables(frames(chunksize))


class _Schema:
    """The columns and their types of an event file, from all its entries.

    Observing every chunk before converting any makes each chunk's table have
    the types of the whole file's table.
    """

    def __init__(self, name, names, unit, values):
        self.path, self.names, self.unit, self.values = name, names, unit, values
        self.columns = {}  # the file's columns, in order (a dict as ordered set)
        self.n_entries = 0
        self.integer_keys = {"group": True, "event": True}
        self.numeric_time = self.float_time = self.utc_time = False

    def observe(self, frame):
        """Update the schema with a raw frame of the file's entries."""
        self.columns.update(dict.fromkeys(frame.columns))
        self.n_entries += len(frame)
        for column in self.integer_keys:
            values = self._values(frame, column)
            if values is not None and values.dtype.kind != "i":
                keys = pd.Series(values.dropna().unique(), dtype=object).astype(str)
                integers = keys.str.fullmatch(_INTEGER_KEY).all()
                self.integer_keys[column] &= bool(integers)
        times = self._values(frame, "time")
        if times is not None:
            numbers = pd.to_numeric(times, errors="coerce")
            if numbers.notna().any():
                self.numeric_time = True
                self.float_time |= numbers.dtype.kind == "f"
            else:
                self.utc_time |= _dates(times).dt.tz is not None

    def check(self):
        """Raise a ValueError if the file has no entries or lacks a column."""
        if not self.n_entries:
            raise ValueError(
                f"{self.path}: no log entries: the file is empty (or holds only a "
                "header or blank lines). Check that it is the right file."
            )
        taken = set(self.values).intersection(EVENT_TABLE_COLUMNS)
        if taken:
            raise ValueError(
                f"values={self.values!r} names {sorted(taken)}, a column of the "
                f"event table ({', '.join(EVENT_TABLE_COLUMNS)}); rename it in "
                f"{self.path}."
            )
        for name in self.values:
            if name not in self.columns:
                raise ValueError(
                    f"{self.path}: no column {name!r} (a value column); the "
                    f"columns are {list(self.columns)}."
                )
        for column in ("group", "time", "event"):
            name = self.names[column]
            if name is not None and name not in self.columns:
                hint = "" if column == "event" else f", or pass {column}=None"
                raise ValueError(
                    f"{self.path}: no column {name!r} (the {column} column); the "
                    f"columns are {list(self.columns)}: pass {column}=<column> to "
                    f"name it{hint}."
                )

    def tables(self, parts):
        """The tables of the non-empty chunks, indexed on from one another."""
        start = 0
        for frame, numbers in parts:
            if len(frame):
                yield self.table(frame, numbers, start)
                start += len(frame)

    def table(self, frame, numbers, start):
        """The checked event table of a raw frame, index from `start`.

        `numbers` are the line (or object) numbers of the frame's rows.
        """
        index = pd.RangeIndex(start, start + len(frame))
        table = pd.DataFrame(index=index)
        for column in EVENT_TABLE_COLUMNS:
            name = self.names[column]
            if name is None or name not in self.columns:
                continue
            values = self._values(frame, column)
            if values is None:  # a column of the file that this chunk lacks
                values = pd.Series(None, index=frame.index, dtype=object)
            values = values.set_axis(index)
            missing = (values.isna() | (values == "")).to_numpy()
            if missing.any():
                raise ValueError(
                    f"{self._where(numbers, missing.argmax())}: missing {column} "
                    f"value (column {name!r}); every log entry needs one. Fill it "
                    "in or remove the entry"
                    + (", or pass label=None." if column == "label" else ".")
                )
            table[column] = self._convert(column, values, numbers)
        for name in self.values:
            table[name] = _numbers(frame[name] if name in frame.columns else None)
        return table

    def _convert(self, column, values, numbers):
        if column in self.integer_keys:
            keys = values.astype(str)
            return keys.astype(np.int64 if self.integer_keys[column] else object)
        if column == "label":
            labels = pd.to_numeric(values, errors="coerce")
            bad = ~labels.isin([0, 1]).to_numpy()
            if bad.any():
                raise ValueError(
                    f"{self._where(numbers, bad.argmax())}: label "
                    f"{values.iloc[bad.argmax()]!r} is neither 0 (normal) nor 1 "
                    "(anomalous). Fix it, or pass label=None to ignore the labels."
                )
            return labels.astype(np.int64)
        return self._times(values, numbers)

    def _times(self, values, numbers):
        if self.numeric_time:
            times = pd.to_numeric(values, errors="coerce")
            bad = ~np.isfinite(times.to_numpy(dtype=np.float64))
            expected = "a finite number of seconds, as other times of the file are"
        else:
            times = _dates(values)
            if self.utc_time:
                times = (
                    times.dt.tz_localize("UTC")
                    if times.dt.tz is None
                    else times.dt.tz_convert("UTC")
                )
            bad = times.isna().to_numpy()
            expected = "a number of seconds or an ISO 8601 date (2026-11-22T10:00:00)"
        if bad.any():
            raise ValueError(
                f"{self._where(numbers, bad.argmax())}: time "
                f"{values.iloc[bad.argmax()]!r} is not {expected}. Fix it, or pass "
                "time=None to ignore the times."
            )
        if self.numeric_time:
            return times.astype(np.float64 if self.float_time else np.int64)
        return times.dt.as_unit("ns")

    def _values(self, frame, column):
        name = self.names[column]
        return frame[name] if name is not None and name in frame.columns else None

    def _where(self, numbers, row):
        return f"{self.path}, {self.unit} {numbers[row]}"


def _numbers(values):
    """float64 values of a raw column (None: absent), NaN where not a number."""
    if values is None:
        return np.nan
    as_text = values.map(lambda value: value if isinstance(value, str) else str(value))
    numbers = pd.to_numeric(as_text, errors="coerce").to_numpy(dtype=np.float64)
    return np.where(np.isfinite(numbers), numbers, np.nan)


def _dates(values):
    """ISO 8601 dates (NaT where unparseable); UTC when their offsets differ."""
    strings = values.astype(str)
    try:
        return pd.to_datetime(strings, format="ISO8601", errors="coerce")
    except ValueError:  # mixed UTC offsets, or offsets and naive times
        return pd.to_datetime(strings, format="ISO8601", errors="coerce", utc=True)


def _batches(items, chunksize, size=lambda item: 1):
    """Lists of items of total size at most `chunksize`, an item larger alone.

    One list of all the items (possibly none) when `chunksize` is None.
    """
    if chunksize is None:
        yield list(items)
        return
    batch, total = [], 0
    for item in items:
        if batch and total + size(item) > chunksize:
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += size(item)
    if batch:
        yield batch


def _json_line(path, number, line, names):
    """The ``(number, object)`` of line `number` of an NDJSON file."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path}, line {number}, column {err.colno}: invalid JSON: {err.msg}. "
            "Each line must hold one JSON object."
        ) from err
    return _json_record(path, number, record, names, unit="line")


def _json_record(path, number, record, names, unit):
    """``(number, record)``, checking that `record` is a JSON object.

    The fields that `names` gives to the columns of the event table must not
    hold an array or an object, nor a boolean but for the label.
    """
    if not isinstance(record, dict):
        raise ValueError(
            f"{path}, {unit} {number}: expected a JSON object {{...}} per log "
            f"entry, got a JSON {_json_type(record)}."
        )
    for column, name in names.items():
        value = record.get(name)
        if isinstance(value, list | dict) or (
            isinstance(value, bool) and column != "label"
        ):
            text = json.dumps(value)
            raise ValueError(
                f"{path}, {unit} {number}: {column} value "
                f"{text if len(text) <= 40 else text[:36] + ' ...'} (field "
                f"{name!r}) is a JSON {_json_type(value)}; {_JSON_SCALARS[column]}."
            )
    return number, record


def _json_type(value):
    names = {dict: "object", list: "array", str: "string", bool: "boolean"}
    return "null" if value is None else names.get(type(value), "number")


def _records_frame(batch):
    """The raw frame of ``(number, record)`` pairs, and their numbers."""
    return pd.DataFrame([r for _, r in batch]), np.array([n for n, _ in batch])


def _name(path):
    """How messages name `path`: a file object by its ``name``, else ``<stream>``."""
    if not is_file_object(path):
        return path
    name = getattr(path, "name", None)
    return name if isinstance(name, str | os.PathLike) else "<stream>"


def _start(path):
    """The position of file object `path`, to read it twice; None for a path."""
    if not is_file_object(path):
        return None
    if not (hasattr(path, "seekable") and path.seekable()):
        raise ValueError(
            f"{_name(path)}: a stream that is not seekable cannot be read in "
            "chunks, which reads it twice; read it whole (chunksize=None) or from "
            "a file."
        )
    return path.tell()


@contextmanager
def _reading(path):
    """Open `path` as text, turning decoding errors into ValueErrors."""
    with open_text(path, "utf-8-sig", "strict") as file:
        try:
            yield file
        except UnicodeDecodeError as err:
            raise ValueError(
                f"{_name(path)}: not UTF-8 text ({err}); convert the file to UTF-8."
            ) from err
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as err:
            raise ValueError(
                f"{_name(path)}: cannot read the file, damaged or truncated ({err})."
            ) from err
