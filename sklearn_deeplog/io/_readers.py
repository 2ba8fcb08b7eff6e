# SPDX-License-Identifier: BSD-3-Clause
"""Read log-event files (CSV, TXT, JSON, NDJSON; gzip too) into event tables."""

import gzip
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["read_csv", "read_events", "read_json", "read_ndjson", "read_txt"]

#: Columns of an event table, in order; ``label`` only when the file has labels.
EVENT_TABLE_COLUMNS = ("group", "time", "event", "label")


def read_events(path, *, format=None, chunksize=None, **columns):
    """Read a log-event file, choosing the reader from its suffix.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.txt``, ``.json``, ``.ndjson`` or ``.jsonl`` file, optionally
        gzip-compressed with a further ``.gz``.
    format : {'csv', 'txt', 'json', 'ndjson'}, default=None
        The format; ``None`` infers it from the suffix.
    chunksize : int, default=None
        If given, return an iterator of event tables of about this many entries.
    **columns : str
        Column names for :func:`read_csv`, :func:`read_json` and
        :func:`read_ndjson` (``time``, ``group``, ``event``, ``label``).

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table: one row per log entry, columns ``group``, ``time``,
        ``event`` and ``label`` (when the file has labels).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from sklearn_deeplog.io import read_events
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sessions.txt"
    >>> _ = path.write_text("5 5 22\\n5 11\\n")
    >>> read_events(path)
       group  time event
    0      0     0     5
    1      0     1     5
    2      0     2    22
    3      1     0     5
    4      1     1    11
    """
    readers = {
        "csv": read_csv,
        "txt": read_txt,
        "json": read_json,
        "ndjson": read_ndjson,
    }
    if format is None:
        suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
        format = {".jsonl": "ndjson"}.get(suffixes[-1:] and suffixes[-1], None) or (
            suffixes[-1][1:] if suffixes else None
        )
    if format not in readers:
        raise ValueError(
            f"{path}: unknown event file format {format!r}; name it .csv, .txt, "
            ".json, .ndjson or .jsonl (optionally .gz), or pass format=."
        )
    if format == "txt":
        if columns:
            raise TypeError(f"read_txt takes no column names, got {sorted(columns)}")
        return read_txt(path, chunksize=chunksize)
    return readers[format](path, chunksize=chunksize, **columns)


def read_csv(
    path,
    *,
    time="timestamp",
    group="machine",
    event="event",
    label="label",
    chunksize=None,
):
    """Read a CSV file with a header naming the time, group, event and label columns.

    Parameters
    ----------
    path : str or path-like
        The file (``.gz`` is decompressed).
    time, group : str or None, default='timestamp', 'machine'
        Columns of the entry's time (numbers or dates) and machine or session;
        ``None`` when the file has none.
    event : str, default='event'
        Column of the log key; keys are read as strings.
    label : str, default='label'
        Column of the label (1 anomalous, 0 normal), used when present.
    chunksize : int, default=None
        If given, return an iterator of event tables of at most this many entries.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table (see :func:`read_events`).
    """
    names = _ColumnNames(path, time, group, event, label)
    try:
        chunks = pd.read_csv(
            path, dtype={event: str}, chunksize=chunksize or None, compression="infer"
        )
    except pd.errors.EmptyDataError as err:
        raise ValueError(f"{path}: the file is empty; it needs a header line.") from err
    except pd.errors.ParserError as err:
        raise ValueError(f"{path}: not a valid CSV file: {err}") from err
    if chunksize is None:
        return names.table(chunks, _csv_lines(chunks))
    return (names.table(chunk, _csv_lines(chunk)) for chunk in chunks)


def read_ndjson(
    path,
    *,
    time="timestamp",
    group="machine",
    event="event",
    label="label",
    chunksize=None,
):
    """Read a file of one JSON object per line.

    Parameters are those of :func:`read_csv`; blank lines are skipped.

    Parameters
    ----------
    path : str or path-like
        The file (``.gz`` is decompressed).
    time, group, event, label : str or None
        Field names, as in :func:`read_csv`.
    chunksize : int, default=None
        If given, return an iterator of event tables of at most this many entries.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table (see :func:`read_events`).
    """
    names = _ColumnNames(path, time, group, event, label)

    def records(lines):
        for number, line in lines:
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}, line {number}: invalid JSON: {err}") from err

    lines = ((n, line) for n, line in enumerate(_text_lines(path), 1) if line.strip())
    return _records_tables(names, records(lines), chunksize)


def read_json(
    path,
    *,
    time="timestamp",
    group="machine",
    event="event",
    label="label",
    chunksize=None,
):
    """Read a JSON array of objects (the whole file is parsed at once).

    For files larger than memory, use NDJSON (:func:`read_ndjson`).

    Parameters
    ----------
    path : str or path-like
        The file (``.gz`` is decompressed).
    time, group, event, label : str or None
        Field names, as in :func:`read_csv`.
    chunksize : int, default=None
        If given, return an iterator of event tables of at most this many entries.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table (see :func:`read_events`).
    """
    names = _ColumnNames(path, time, group, event, label)
    text = "".join(_text_lines(path))
    if not text.strip():
        raise ValueError(f"{path}: the file is empty; it needs a JSON array.")
    try:
        objects = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: invalid JSON: {err}") from err
    if not isinstance(objects, list):
        raise ValueError(
            f"{path}: expected a JSON array of objects, got a {type(objects).__name__};"
            " for one object per line, use the .ndjson format."
        )
    return _records_tables(names, enumerate(objects, 1), chunksize, unit="object")


def read_txt(path, *, chunksize=None):
    """Read one session per line, as whitespace-separated log keys.

    The format of the DeepLog paper's HDFS files: a line is a session (group: its
    0-based line number) and the position of a key in its line is its time.

    Parameters
    ----------
    path : str or path-like
        The file (``.gz`` is decompressed). Blank lines are skipped.
    chunksize : int, default=None
        If given, return an iterator of event tables of whole sessions, each with
        at least ``chunksize`` entries (the last one possibly fewer), so that a
        session never spans two chunks.

    Returns
    -------
    events : pandas.DataFrame or iterator of pandas.DataFrame
        The event table, columns ``group``, ``time``, ``event`` (keys as strings).
    """

    def sessions():
        for number, line in enumerate(_text_lines(path)):
            keys = line.split()
            if keys:
                yield number, keys

    def chunks():
        start, batch, size = 0, [], 0
        for session in sessions():
            batch.append(session)
            size += len(session[1])
            if size >= chunksize:
                yield sessions_table(batch, start)
                start, batch, size = start + size, [], 0
        if batch:
            yield sessions_table(batch, start)

    if chunksize is not None:
        return chunks()
    batch = list(sessions())
    if not batch:
        raise ValueError(f"{path}: the file is empty; it needs one session per line.")
    return sessions_table(batch, 0)


def sessions_table(sessions, start=0):
    """Event table of ``(group, keys)`` sessions; time = position in the session.

    Parameters
    ----------
    sessions : list of (group, list of str)
        The sessions, each with its log keys in order.
    start : int, default=0
        Index of the first row.

    Returns
    -------
    events : pandas.DataFrame
        Columns ``group``, ``time``, ``event``.
    """
    sizes = [len(keys) for _, keys in sessions]
    return pd.DataFrame(
        {
            "group": np.repeat([group for group, _ in sessions], sizes),
            "time": np.concatenate([np.arange(size) for size in sizes]),
            "event": np.concatenate([np.asarray(k, dtype=object) for _, k in sessions]),
        },
        index=pd.RangeIndex(start, start + sum(sizes)),
    )


class _ColumnNames:
    """The file's names for the event table's columns, and the checks of a table."""

    def __init__(self, path, time, group, event, label):
        self.path = path
        self.names = {"group": group, "time": time, "event": event, "label": label}

    def table(self, frame, numbers, unit="line"):
        """The checked event table of a frame whose rows come from ``numbers``.

        ``numbers`` are the (1-based) line or object numbers of the frame's rows in
        the file, for error messages.
        """
        path, names = self.path, self.names
        required = [names[c] for c in ("group", "time", "event") if names[c]]
        absent = [name for name in required if name not in frame.columns]
        if absent:
            raise ValueError(
                f"{path}: no column {absent[0]!r}; the columns are "
                f"{list(frame.columns)}. Name the right one with "
                f"{_option_of(names, absent[0])}=<column>, or None if there is none."
            )
        for name in required:
            missing = frame[name].isna().to_numpy()
            if missing.any():
                number = numbers[np.flatnonzero(missing)[0]]
                raise ValueError(f"{path}, {unit} {number}: no {name!r} value.")
        table = pd.DataFrame(index=frame.index)
        for column in EVENT_TABLE_COLUMNS:
            name = names[column]
            if name and name in frame.columns:
                table[column] = frame[name]
        table["event"] = table["event"].astype(str).astype(object)
        if "time" in table:
            table["time"] = _times(
                table["time"], lambda row: f"{path}, {unit} {numbers[row]}"
            )
        if "label" in table:
            table["label"] = table["label"].astype(int)
        return table


def _option_of(names, name):
    return next(option for option, value in names.items() if value == name)


def _times(times, where):
    """Numeric times as float seconds; otherwise dates. ``where(row)`` names a row."""
    numbers = pd.to_numeric(times, errors="coerce")
    parsed = (
        numbers
        if numbers.notna().any()
        else pd.to_datetime(times, errors="coerce", format="ISO8601")
    )
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = np.flatnonzero(bad)[0]
        raise ValueError(
            f"{where(row)}: timestamp {times.iloc[row]!r} is neither a number "
            "(seconds) nor an ISO 8601 date."
        )
    return parsed.astype(np.float64) if parsed is numbers else parsed


def _csv_lines(frame):
    """Line numbers of a CSV frame's rows (the header is line 1)."""
    return np.asarray(frame.index) + 2


def _records_tables(names, numbered_records, chunksize, unit="line"):
    """Event tables from ``(line or object number, record)`` pairs."""

    def table(batch, start):
        for number, record in batch:
            if not isinstance(record, dict):
                raise ValueError(
                    f"{names.path}, {unit} {number}: expected a JSON object, got "
                    f"{type(record).__name__}."
                )
        frame = pd.DataFrame.from_records(
            [r for _, r in batch], index=pd.RangeIndex(start, start + len(batch))
        )
        return names.table(frame, [n for n, _ in batch], unit=unit)

    def chunks():
        start = 0
        while batch := list(itertools.islice(numbered_records, chunksize)):
            yield table(batch, start)
            start += len(batch)

    if chunksize is not None:
        return chunks()
    batch = list(numbered_records)
    if not batch:
        raise ValueError(f"{names.path}: the file has no log entries.")
    return table(batch, 0)


def _text_lines(path):
    """Lines of a text file, gzip-decompressed when it ends in .gz."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        yield from lines
