# SPDX-License-Identifier: BSD-3-Clause
"""Training and detection over the partitions of a dask DataFrame of events.

DeepLog splits cleanly over a cluster: the key model's loss depends only on the
distinct windows and their counts, and an entry is judged from the entries of
its own group. Training counts the windows of each partition, adds the counts
up the cluster and fits on the reduced table; detection runs the stream
detector, the engine of whole-log scoring, on each partition.

A window needs the entries before it in its group. With a group column, the
entries are shuffled so that each group lies in one partition (unless it does
already: ``partitioned_by_group=True``); without one, the log is one stream in
the order of its partitions, and each partition starts from the entries of the
partitions before it that its windows need.
"""

import glob
import inspect
import os

import numpy as np
import pandas as pd
from sklearn.base import clone

from .._deeplog import (
    DeepLog,
    is_key_pipeline,
    key_and_value_models,
    set_fitted_models,
    unfitted_models,
)
from .._event_table import column_of, to_seconds
from .._optional import import_optional
from .._parameter_values import looked_back_to
from .._stream import DECISION_COLUMNS, StreamDetector
from .._windower import SequenceWindower
from ..io import read_csv
from ..io import read_events as read_event_file
from ..io._readers import file_format

dask = import_optional("dask", needed_by="sklearn_deeplog.dask", extra="dask")
dd = import_optional("dask.dataframe", needed_by="sklearn_deeplog.dask", extra="dask")

__all__ = ["aggregate_sessions", "count_windows", "detect", "fit", "read_events"]

# Helper columns: each entry's place in the log (partition, then row) and index.
_POSITION = "__sklearn_deeplog_position__"
_INDEX = "__sklearn_deeplog_index__"
# Positions per partition: partition p holds positions [p * _SPAN, (p + 1) * _SPAN).
_SPAN = 1 << 40
# Partial counts merged per task of the reduction.
_SPLIT_EVERY = 8


def read_events(path, *, format=None, **columns):
    """Read event files, or a Parquet dataset, as a dask DataFrame of events.

    Each file is one partition, read by :func:`sklearn_deeplog.io.read_events`
    (any format it reads), in the order of the sorted file names: the log is
    their concatenation. A Parquet dataset is read by Dask, its columns named
    as the readers name them.

    Parameters
    ----------
    path : str or list of str
        A glob pattern of event files (``"logs/*.csv"``), a list of files, or
        a Parquet dataset (a directory, or a file or pattern ending in
        ``.parquet``).
    format : {'csv', 'txt', 'json', 'ndjson'}, default=None
        The files' format; None infers each one's from its suffix.
    **columns : str or list of str or None
        The names of the files' columns, as for
        :func:`sklearn_deeplog.io.read_csv`: ``event``, ``group``, ``time``,
        ``label`` and ``values``.

    Returns
    -------
    events : dask.dataframe.DataFrame
        Lazy: the event table, with the columns ``group``, ``time``, ``event``
        and ``label`` (those the files have) and the value columns. Keys and
        groups are text in every partition, so that files whose keys look like
        numbers and files whose keys do not read alike.
    """
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    paths = [os.fspath(p) for p in paths]
    if any(p.endswith(".parquet") or os.path.isdir(p) for p in paths):
        frame = dd.read_parquet(paths if len(paths) > 1 else paths[0])
        meta = _named_columns(frame._meta, columns, "the Parquet dataset")
        return frame.map_partitions(_named_columns, columns, meta=meta)
    files = sorted(
        {name for p in paths for name in (glob.glob(p) if glob.has_magic(p) else [p])}
    )
    if not files:
        raise FileNotFoundError(f"{paths[0]}: no file matches.")
    first = _read_file((0, files[0]), format, columns)
    return dd.from_map(
        _read_file,
        list(enumerate(files)),
        format=format,
        names=columns,  # not `columns`: from_map's own keyword
        meta=first.iloc[:0],
        divisions=None,
        enforce_metadata=False,
    )


def _read_file(numbered, format, names):
    """The event table of the `number`-th file.

    A .txt file numbers its sessions by line: ``"<number>:<line>"`` keeps the
    sessions of different files apart.
    """
    number, path = numbered
    table = _text_keys(read_event_file(path, format=format, **names))
    if (format or file_format(path)[0]) == "txt":
        table["group"] = f"{number}:" + table["group"]
    return table


def _named_columns(frame, columns, where=None):
    """A Parquet partition as an event table: the readers' names and types."""
    names = {**_READER_DEFAULTS, **columns}
    values = list(names.pop("values", ()))
    renamed = {names[c]: c for c in _READER_DEFAULTS if names[c] in frame.columns}
    for column in ("event", *values):
        name = names.get(column, column)
        if where is not None and name not in frame.columns:
            raise ValueError(
                f"{where} has no column {name!r}; its columns are "
                f"{list(frame.columns)}."
            )
    table = frame[[*renamed, *values]].rename(columns=renamed)
    table = table.astype({name: np.float64 for name in values})
    return _text_keys(table)


# The readers' default column names (group, time, event, label), in this order.
_READER_DEFAULTS = {
    name: inspect.signature(read_csv).parameters[name].default
    for name in ("group", "time", "event", "label")
}


def _text_keys(table):
    """The table with its keys and groups as text."""
    for column in ("event", "group"):
        if column in table:
            table[column] = table[column].astype(str).astype(object)
    return table


def count_windows(windower, events, *, partitioned_by_group=False):
    """Count the distinct windows of a dask DataFrame of events, on the cluster.

    Each partition's windows are counted where the partition lies, and the
    counts are added up in a tree: only distinct windows travel. Fitting
    :class:`DeepLogDetector` on the result, with the counts as
    ``sample_weight``, gives the model of fitting every window.

    Parameters
    ----------
    windower : SequenceWindower
        The windower, fitted or not (an unfitted one is fitted on the columns
        of `events`).
    events : dask.dataframe.DataFrame
        The event table, one row per log entry, with the columns `windower`
        reads.
    partitioned_by_group : bool, default=False
        Whether each group's entries all lie in one partition (e.g. one file per
        machine), which saves a shuffle. Not checked: if a group spans
        partitions, its windows are wrong. Ignored without a group column.

    Returns
    -------
    windows : pandas.DataFrame
        One row per distinct window: the window's columns (named as by
        ``windower.get_feature_names_out()``), then ``count``, the number of
        entries with that window.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> from sklearn_deeplog import SequenceWindower
    >>> from sklearn_deeplog.dask import count_windows
    >>> events = pd.DataFrame({"session": [1, 1, 2, 2], "key": [5, 6, 5, 6]})
    >>> windower = SequenceWindower(window=1, event="key", group="session")
    >>> count_windows(windower, dd.from_pandas(events, npartitions=2))
       key_lag1  key  count
    0      -inf  5.0      2
    1       5.0  6.0      2
    """
    _check_dask_frame(events)
    if not isinstance(windower, SequenceWindower):
        raise TypeError(
            f"count_windows needs a SequenceWindower, got {type(windower).__name__}."
        )
    if not hasattr(windower, "n_features_in_"):
        windower.fit(_example(events))
    pieces = _pieces(events, windower, windower.window, None, partitioned_by_group)
    fitted = dask.delayed(windower, pure=True)
    counts = [dask.delayed(_count)(fitted, *piece) for piece in pieces]
    while len(counts) > 1:
        counts = [
            dask.delayed(_merge_counts)(*counts[start : start + _SPLIT_EVERY])
            for start in range(0, len(counts), _SPLIT_EVERY)
        ]
    counts = counts[0].compute()
    if not len(counts):
        raise ValueError("events has no entries: there are no windows to count.")
    windows = counts.reset_index()
    windows.columns = [*windower.get_feature_names_out(), "count"]
    return windows


def fit(model, events, *, partitioned_by_group=False, max_value_entries=1_000_000):
    """Fit a key pipeline or a DeepLog on a dask DataFrame of normal events.

    The key model learns from the distinct windows and their counts (see
    :func:`count_windows`): the model of fitting in memory on the same
    entries. A value model learns in memory from a bounded sample of whole
    groups: all the entries when there are at most `max_value_entries`, and
    then again the model of fitting in memory.

    Parameters
    ----------
    model : Pipeline or DeepLog
        A pipeline of a :class:`SequenceWindower` and a
        :class:`DeepLogDetector`, or a :class:`DeepLog` of one and a value
        model. Fitted in place, as by its ``fit``.
    events : dask.dataframe.DataFrame
        The event table of normal logs, one row per log entry.
    partitioned_by_group : bool, default=False
        Whether each group's entries all lie in one partition (see
        :func:`count_windows`).
    max_value_entries : int, default=1_000_000
        The most entries the value model learns from: with more, a random
        share of the groups (each group whole), or without a group column the
        first entries of the log, about this many.

    Returns
    -------
    model : Pipeline or DeepLog
        `model`, fitted.

    Notes
    -----
    The detector's threshold must not need every window's score: a
    false-alarm budget (``false_alarms``) needs groups held out of training,
    and a float ``contamination`` a percentile of all the scores. Fit with
    neither on the cluster, then set a budget with
    ``set_params(false_alarms=...)`` and
    :meth:`DeepLogDetector.calibrate` on the windows of normal groups the
    model did not learn from.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_deeplog import DeepLogDetector, SequenceWindower
    >>> from sklearn_deeplog.dask import detect, fit
    >>> from sklearn_deeplog.datasets import make_logs
    >>> logs = make_logs(100, random_state=0)
    >>> model = make_pipeline(
    ...     SequenceWindower(window=3, event="event", group="session", time="time"),
    ...     DeepLogDetector(top_g=2, hidden_size=16, max_epochs=10, random_state=0),
    ... )
    >>> events = dd.from_pandas(logs, npartitions=4)
    >>> model = fit(model, events)
    >>> decided = detect(model, events).compute()
    >>> bool((decided["score"] == model.decision_function(logs)).all())
    True
    """
    _check_dask_frame(events)
    if isinstance(model, DeepLog):
        key_model, value_model = (clone(part) for part in unfitted_models(model))
    else:
        key_model, value_model = model, None
    _check_key_model(key_model)
    windower, detector = key_model[0], key_model[-1]
    if detector.false_alarms is not None or detector.contamination != "auto":
        raise ValueError(
            "On a cluster the detector learns from counts of windows, not from "
            "every window: fit it with the top-g rule (false_alarms=None, "
            "contamination='auto'), then set a budget with "
            "set_params(false_alarms=...).calibrate(windows, groups) on normal "
            "groups it did not learn from."
        )
    windower.fit(_example(events))
    windows = count_windows(windower, events, partitioned_by_group=partitioned_by_group)
    counts = windows.pop("count").to_numpy()
    detector.fit(windows.to_numpy(), sample_weight=counts)
    if value_model is None:
        return model
    sample = _value_sample(events, value_model, max_value_entries, counts.sum())
    return set_fitted_models(model, key_model, value_model.fit(sample))


def detect(model, events, *, top_k=None, workflow=None, partitioned_by_group=False):
    """Judge every entry of a dask DataFrame of events, partition by partition.

    Each partition is scored by a :class:`StreamDetector` of the model, the
    decisions of scoring the whole log at once, with the columns the
    ``detect`` command writes.

    Parameters
    ----------
    model : Pipeline or DeepLog
        A fitted pipeline of a :class:`SequenceWindower` and a
        :class:`DeepLogDetector`, or a fitted :class:`DeepLog` of one.
    events : dask.dataframe.DataFrame
        The event table, one row per log entry, with the columns the model
        reads; other columns are passed through.
    top_k : int or None, default=None
        How many keys the model expected to list per entry (column
        ``expected``); None lists none.
    workflow : Workflow or None, default=None
        The workflow of normal sessions, to diagnose each flagged entry (see
        :class:`StreamDetector`).
    partitioned_by_group : bool, default=False
        Whether each group's entries all lie in one partition (see
        :func:`count_windows`).

    Returns
    -------
    decisions : dask.dataframe.DataFrame
        Lazy: one row per entry, in the partitions, order and index of
        `events`, with its columns, then ``score`` (negative for anomalies),
        ``anomaly``, ``flagged_by`` (with a value model: "key", "value" or
        ""), ``expected`` (with `top_k`) and the diagnosis columns (with
        `workflow`).

    See Also
    --------
    StreamDetector : The same decisions, as entries arrive.
    """
    _check_dask_frame(events)
    # Checks the model and the options at once, and gives the output's columns.
    example = StreamDetector(model, top_k=top_k, workflow=workflow)
    key_model, value_model = key_and_value_models(model)
    windower = key_model[0]
    positioned = _positioned(events._meta, None)
    meta = example.update(_entries(positioned)).assign(**{_INDEX: positioned[_INDEX]})
    meta = meta.rename_axis(_POSITION).reset_index()
    # Lists, dicts, keys or None: objects, never converted to text.
    meta = meta.astype(
        {name: object for name in DECISION_COLUMNS[2:] if name in meta.columns}
    )
    # The value model also reads the previous entry (the time elapsed since).
    pieces = _pieces(
        events, windower, max(windower.window, 1), value_model, partitioned_by_group
    )
    arguments = dask.delayed((model, top_k, workflow), pure=True)
    with dask.config.set({"dataframe.convert-string": False}):
        decided = dd.from_delayed(
            [dask.delayed(_decide)(arguments, *piece) for piece in pieces],
            meta=meta,
            verify_meta=False,
        )
    if _has_group(windower) and not partitioned_by_group and events.npartitions > 1:
        # Back to the partitions and order of the input.
        n = events.npartitions
        divisions = tuple(p * _SPAN for p in range(n)) + (n * _SPAN - 1,)
        # Not the peer-to-peer shuffle: its Arrow tables turn the lists of
        # expected keys into text.
        decided = decided.set_index(
            _POSITION, divisions=divisions, shuffle_method="tasks"
        )
    name = events._meta.index.name
    return decided.map_partitions(
        _restored_index, name, meta=_restored_index(meta, name), clear_divisions=True
    )


def aggregate_sessions(decisions, group):
    """Each session's decision from its entries', on the cluster.

    A session's score is its least normal entry's, and it is anomalous when
    one of its entries is (as :func:`sklearn_deeplog.aggregate_sessions`).

    Parameters
    ----------
    decisions : dask.dataframe.DataFrame
        The decisions of :func:`detect`.
    group : str
        The column of each entry's session.

    Returns
    -------
    sessions : dask.dataframe.DataFrame
        Lazy: one row per session, indexed by session, with the columns
        ``score`` and ``anomaly``.
    """
    _check_dask_frame(decisions, name="decisions")
    # A session is anomalous when its most anomalous entry is: "any" as a max.
    # By the column itself: the index may have its name (set_index(drop=False)).
    scores = decisions[["score", "anomaly"]]
    return scores.groupby(decisions[group]).agg({"score": "min", "anomaly": "max"})


# -- the partitions ------------------------------------------------------------------


def _pieces(events, windower, before, value_model, partitioned_by_group):
    """Each partition's entries, and those of other partitions its windows need.

    Returns
    -------
    pieces : list of tuple of Delayed
        ``(entries, before, after)`` per partition: its entries (sorted into
        the windower's order, indexed by position in the log), the entries
        before it that its windows need (or None), and the first entry after
        it (None when its windows need none, or there is none).
    """
    positioned = events.map_partitions(
        _positioned,
        windower.time,
        meta=_positioned(events._meta, windower.time),
        clear_divisions=True,
    )
    if _has_group(windower):
        if not partitioned_by_group and events.npartitions > 1:
            # Not the peer-to-peer shuffle: its Arrow tables may change the
            # types of keys held as objects.
            positioned = positioned.shuffle(
                on=_column_name(events, windower.group), shuffle_method="tasks"
            ).map_partitions(_in_log_order, windower.time, meta=positioned._meta)
        return [(part, None, None) for part in positioned.to_delayed()]
    # One stream: each partition continues from the partitions before it.
    parts = positioned.to_delayed()
    tails = [dask.delayed(_tail)(part, before, value_model) for part in parts]
    carried = [None]
    for tail in tails[:-1]:
        carried.append(dask.delayed(_tail)(tail, before, value_model, carried[-1]))
    after = [None] * len(parts)
    if windower.complete_sessions:  # the first entry after the partition, if any
        for number in range(len(parts) - 2, -1, -1):
            after[number] = dask.delayed(_first)(parts[number + 1], after[number + 1])
    return list(zip(parts, carried, after, strict=True))


def _positioned(frame, time, partition_info=None):
    """The entries indexed by position in the log, with their index as a column.

    In the order in which each group's entries are windowed (see
    :func:`_in_log_order`).
    """
    number = 0 if partition_info is None else partition_info["number"]
    frame = frame.assign(**{_INDEX: frame.index})
    frame.index = pd.RangeIndex(number * _SPAN, number * _SPAN + len(frame))
    return _in_log_order(frame.rename_axis(_POSITION), time)


def _in_log_order(frame, time):
    """Entries by time, ties by position; by position without a time column."""
    positions = frame.index.to_numpy()
    if time is None:
        return frame.iloc[np.argsort(positions, kind="stable")]
    times = to_seconds(column_of(_entries(frame), time, "time"))
    return frame.iloc[np.lexsort((positions, times))]


def _entries(frame):
    """The entries of a partition without the helper column."""
    return frame.drop(columns=_INDEX)


def _tail(frame, before, value_model, carried=None):
    """The last entries that later windows need.

    The last `before` entries, and with a value model the last ``history``
    entries of each key and the entry before each.
    """
    if carried is not None:
        frame = pd.concat([carried, frame])
    keep = np.zeros(len(frame), dtype=bool)
    if before:
        keep[-before:] = True
    if value_model is not None:  # one stream, in log order
        everything = np.arange(len(frame))
        keep |= looked_back_to(
            _entries(frame), value_model, everything, np.zeros(len(frame))
        )
    return frame[keep]


def _first(frame, later):
    """The first entry of `frame`, else `later` (None or the entry after it)."""
    return frame.iloc[:1] if len(frame) else later


def _count(windower, entries, before, after):
    """The counts of the distinct windows of one partition's entries."""
    if not len(entries):
        return pd.Series([], dtype=np.int64)
    table = pd.concat([part for part in (before, entries, after) if part is not None])
    start = 0 if before is None else len(before)
    names = getattr(windower, "feature_names_in_", None)
    table = _entries(table) if names is None else table[list(names)]
    windows = windower.transform(table)
    windows = pd.DataFrame(windows[start : start + len(entries)])
    return windows.value_counts(dropna=False, sort=False)


def _merge_counts(*counts):
    counts = [table for table in counts if len(table)] or counts[:1]
    table = pd.concat(counts)
    return table.groupby(level=list(range(table.index.nlevels)), dropna=False).sum()


def _decide(arguments, entries, before, after):
    """One partition's decisions, by a stream detector of its own."""
    model, top_k, workflow = arguments
    stream = StreamDetector(model, top_k=top_k, workflow=workflow)
    if before is not None and len(before):
        stream.update(_entries(before))
    decided = [stream.update(_entries(entries))]
    if after is None:  # nothing after: the ends of the groups
        decided.append(stream.flush())
    else:  # decides the partition's last entry, held back
        decided.append(stream.update(_entries(after)))
    decided = pd.concat([part for part in decided if len(part)] or decided[:1])
    decided = decided[decided.index.isin(entries.index)].sort_index()
    decided[_INDEX] = entries[_INDEX].reindex(decided.index)
    return decided.rename_axis(_POSITION).reset_index()


def _restored_index(frame, name):
    """The decisions indexed by their entries' index again."""
    frame = frame.drop(columns=_POSITION, errors="ignore")
    return frame.set_index(_INDEX).rename_axis(name)


def _value_sample(events, value_model, max_entries, n_entries):
    """The entries the value model learns from, in memory (see fit)."""
    if n_entries <= max_entries:
        return events.compute()
    share = max_entries / n_entries
    if value_model.group is None:  # the first entries, partition by partition
        taken, n_taken = [], 0
        for number in range(events.npartitions):
            taken.append(events.get_partition(number).compute())
            n_taken += len(taken[-1])
            if n_taken >= max_entries:
                break
        return pd.concat(taken).iloc[:max_entries]
    groups = events[_column_name(events, value_model.group)]
    hashes = groups.map_partitions(
        pd.util.hash_pandas_object, index=False, meta=(None, np.uint64)
    )
    return events[hashes < np.uint64(share * 2.0**64)].compute()


# -- checks -----------------------------------------------------------------------


def _check_dask_frame(events, name="events"):
    if not isinstance(events, dd.DataFrame):
        raise TypeError(
            f"{name} must be a dask DataFrame, got {type(events).__name__}: "
            "e.g. dask.dataframe.read_csv('logs/*.csv') or "
            "dask.dataframe.from_pandas(events, npartitions=...)."
        )
    taken = {_POSITION, _INDEX}.intersection(events.columns)
    if taken:
        raise ValueError(f"{name} has a column {taken.pop()!r}; rename it.")


def _check_key_model(key_model):
    if not is_key_pipeline(key_model):
        raise TypeError(
            "The key model must be a pipeline of a SequenceWindower and a "
            "DeepLogDetector."
        )


def _has_group(windower):
    return windower.group is not None


def _column_name(events, column):
    """The name of a column given by name or position."""
    return column if isinstance(column, str) else events.columns[column]


def _example(events):
    """The first entry of `events` (of its first partition that has one)."""
    for number in range(events.npartitions):
        entries = events.get_partition(number).head(1, npartitions=1, compute=True)
        if len(entries):
            return entries
    raise ValueError("events has no entries: there is nothing to learn from.")
