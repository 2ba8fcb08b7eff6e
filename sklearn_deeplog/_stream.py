# SPDX-License-Identifier: BSD-3-Clause
"""Detection as a stream: judge log entries as they arrive, in bounded memory."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from ._deeplog import DeepLog, combine_decisions
from ._detector import DeepLogDetector
from ._event_table import column_of, group_time_order, to_seconds
from ._windower import SequenceWindower
from ._workflow import Workflow, diagnose

__all__ = ["DECISION_COLUMNS", "StreamDetector"]

#: The columns that :meth:`StreamDetector.update` adds to the entries it returns.
DECISION_COLUMNS = (
    "score",
    "anomaly",
    "flagged_by",
    "expected",
    "diverged_after",
    "diverged_to",
    "usual_next",
    "transition_count",
)


class StreamDetector:
    """Judge log entries as they arrive, with the decisions of whole-log scoring.

    DeepLog decides "in a streaming fashion" (Du et al., 2017): each entry is
    judged from the entries of its group (machine, session) before it.
    :meth:`update` takes the entries that arrived, in batches of any size down
    to one entry, and returns the decisions of every entry that can now be
    decided. When each group's entries arrive in time order, the decisions are
    exactly those of scoring the whole log at once with the model (a warning
    says when an entry arrives older than one of its group already seen).

    With complete sessions (``SequenceWindower(complete_sessions=True)``) a
    group's last entry so far cannot be judged until the group goes on or ends:
    it is held back, and decided when a later entry of its group arrives or when
    the group is closed. A group is closed, and its state dropped, when it has
    been idle for ``idle_timeout`` seconds, when ``max_groups`` is exceeded
    (the groups idle longest first), or by :meth:`flush`, which closes every
    group (at the end of a log). An entry of a closed group starts it anew.

    Memory holds, per open group, its last ``window`` entries (one more when
    one is held back) and, with a value model, the last ``history`` entries of
    each of its keys.

    Read more in the :ref:`User Guide <stream>`.

    Parameters
    ----------
    model : Pipeline or DeepLog
        A fitted pipeline of a :class:`SequenceWindower` and a
        :class:`DeepLogDetector`, or a fitted :class:`DeepLog` of one and a
        :class:`ParameterValueDetector` reading the same group column.
    top_k : int or None, default=3
        How many keys the model expected to list per entry (column
        ``expected``); None lists none.
    idle_timeout : float or None, default=None
        Close a group when it has had no entry for this many seconds: seconds
        of the entries' time when the windower reads a time column, else of the
        clock as entries arrive. None closes groups only by ``max_groups`` and
        :meth:`flush`. Groups are closed at the end of an :meth:`update`: a
        group that resumes after a longer silence starts anew if an update
        ended in between, so choose a timeout longer than a session's pauses.
    max_groups : int or None, default=None
        Open groups at most: beyond, the groups idle longest are closed. None
        sets no bound.
    workflow : Workflow or None, default=None
        The workflow of normal sessions: each entry the key model flags is
        diagnosed (see :func:`diagnose`) in the columns ``diverged_after`` (the
        key it diverged after, or :data:`START`), ``diverged_to`` (its key, or
        :data:`END` for an unexpected end), ``usual_next`` (``{key:
        frequency}`` of the workflow after ``diverged_after``) and
        ``transition_count``; None for the other entries.

    Attributes
    ----------
    n_open_groups : int
        The groups with state kept.

    See Also
    --------
    DeepLogDetector : The key model.
    DeepLog : The key and value models.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_deeplog import DeepLogDetector, SequenceWindower, StreamDetector
    >>> from sklearn_deeplog.datasets import make_logs
    >>> logs = make_logs(100, random_state=0)
    >>> model = make_pipeline(
    ...     SequenceWindower(window=3, event="event", group="session", time="time"),
    ...     DeepLogDetector(top_g=2, hidden_size=16, max_epochs=10, random_state=0),
    ... ).fit(logs)
    >>> stream = StreamDetector(model, top_k=2)
    >>> decided = stream.update(logs.iloc[:5])     # entries as they arrive
    >>> decided.columns.tolist()[-3:]
    ['score', 'anomaly', 'expected']
    >>> whole = model.decision_function(logs.iloc[:5])
    >>> bool((decided["score"].to_numpy() == whole).all())
    True
    """

    @validate_params(
        {
            "model": [Pipeline, DeepLog],
            "top_k": [Interval(Integral, 1, None, closed="left"), None],
            "idle_timeout": [Interval(Real, 0, None, closed="neither"), None],
            "max_groups": [Interval(Integral, 1, None, closed="left"), None],
            "workflow": [Workflow, None],
        },
        prefer_skip_nested_validation=True,
    )
    def __init__(
        self, model, *, top_k=3, idle_timeout=None, max_groups=None, workflow=None
    ):
        self.model = model
        self.top_k = top_k
        self.idle_timeout = idle_timeout
        self.max_groups = max_groups
        self.workflow = workflow
        self._check_model()
        self._tail = self._held = self._value_tail = None
        self._last_seen = pd.Series(dtype=np.float64)  # by group
        self._in_order = True  # until an entry arrives late: warned once

    # -- the model -------------------------------------------------------------------

    def _check_model(self):
        key_model = self._key_model
        if not (
            isinstance(key_model, Pipeline)
            and len(key_model) == 2
            and isinstance(key_model[0], SequenceWindower)
            and isinstance(key_model[-1], DeepLogDetector)
        ):
            raise TypeError(
                "StreamDetector needs a pipeline of a SequenceWindower and a "
                "DeepLogDetector, or a DeepLog of one."
            )
        try:
            check_is_fitted(self.model)
        except NotFittedError as err:
            raise ValueError(
                f"StreamDetector needs a fitted model: fit the "
                f"{type(self.model).__name__} first."
            ) from err
        value_model = self._value_model
        if value_model is not None and value_model.group != key_model[0].group:
            raise ValueError(
                "The value model reads the group column "
                f"{value_model.group!r} and the windower {key_model[0].group!r}: "
                "StreamDetector closes groups for both, so they must be one."
            )

    @property
    def _key_model(self):
        return self.model.key_model_ if isinstance(self.model, DeepLog) else self.model

    @property
    def _value_model(self):
        return getattr(self.model, "value_model_", None)

    @property
    def _windower(self):
        return self._key_model[0]

    @property
    def n_open_groups(self):
        return len(self._last_seen)

    # -- the stream -----------------------------------------------------------------

    def update(self, events):
        """Take the entries that arrived; return those that can now be decided.

        Parameters
        ----------
        events : pandas.DataFrame
            New entries, in arrival order, with the columns the model reads
            (other columns are returned as they are).

        Returns
        -------
        decisions : pandas.DataFrame
            One row per entry decided now, in the order decided: the entry's
            columns (its index too), then ``score`` (the model's
            ``decision_function``: negative for anomalies), ``anomaly``,
            ``flagged_by`` (with a value model: "key", "value" or "") and
            ``expected`` (with ``top_k``: the ``[key, probability]`` pairs the
            key model expected, most likely first).
        """
        if not isinstance(events, pd.DataFrame):
            raise TypeError(
                f"StreamDetector.update takes a pandas DataFrame of entries, got "
                f"{type(events).__name__}."
            )
        taken = set(events.columns).intersection(DECISION_COLUMNS)
        if taken:
            raise ValueError(
                f"The entries have a column {sorted(taken)[0]!r}, the name of a "
                "column of the decisions; rename it."
            )
        if self._tail is None:
            if not len(events):  # nothing yet: not even the columns
                return self._concat([], events)
            self._tail, self._held = events.iloc[:0], np.full(0, False)
        decided = [self._decide(self._windowed(events))] if len(events) else []
        closing = self._seen(events)
        if len(closing):
            decided.append(self._close(closing))
        return self._concat(decided, events)

    def flush(self):
        """Close every group: decide what is held back, drop all state.

        Returns
        -------
        decisions : pandas.DataFrame
            The entries decided now, as :meth:`update` returns them.
        """
        if self._tail is None:
            return pd.DataFrame()
        decided = self._close(self._last_seen.index)
        return self._concat([decided], self._tail)

    def _windowed(self, batch):
        """The entries of `batch` and held ones that can be decided, and windows."""
        windower = self._windower
        continued = _continued(self._tail, batch, windower)
        self._check_time_order(self._tail[continued], batch)
        entries = pd.concat([self._tail[continued], batch])
        windows = windower.transform(_model_input(entries, windower))
        positions = _positions_from_end(entries, windower)
        n_held = int(windower.complete_sessions)
        new = np.concatenate([self._held[continued], np.full(len(batch), True)])
        done = new & (positions >= n_held)
        kept = positions < windower.window + n_held
        self._tail = pd.concat([self._tail[~continued], entries[kept]])
        self._held = np.concatenate([self._held[~continued], (new & ~done)[kept]])
        return entries[done], windows[done]

    def _close(self, groups):
        """Decide the held entries of `groups` as their last, and forget them."""
        windower = self._windower
        closing = _member(self._tail, groups, windower)
        entries = self._tail[closing]
        windows = windower.transform(_model_input(entries, windower))
        done = self._held[closing]
        self._tail, self._held = self._tail[~closing], self._held[~closing]
        decided = self._decide((entries[done], windows[done]))
        if self._value_tail is not None:
            forgotten = _member(self._value_tail, groups, self._value_model)
            self._value_tail = self._value_tail[~forgotten]
        self._last_seen = self._last_seen.drop(groups)
        return decided

    def _decide(self, entries_windows):
        """The decisions of entries and their windows, as rows."""
        entries, windows = entries_windows
        detector = self._key_model[-1]
        scores, columns = np.zeros(0), {}
        if len(entries):
            scores = detector.decision_function(windows)
        if self._value_model is not None:
            values = self._value_decisions(entries) if len(entries) else scores
            scores, columns["flagged_by"] = combine_decisions(scores, values)
        decided = entries.assign(score=scores, anomaly=scores < 0, **columns)
        if self.top_k is not None:
            decided["expected"] = _expected(detector, windows, self.top_k)
        if self.workflow is not None:
            decided = decided.assign(**_diagnosis(detector, windows, self.workflow))
        return decided

    def _value_decisions(self, entries):
        """The value model's decisions on entries, as if the log were whole.

        The entries are scored after the entries of the value tail whose group
        they continue: the last ``history`` entries of each key of each group,
        which hold what they look back to (the previous vectors of their key,
        and their group's previous entry for the elapsed time).
        """
        value_model = self._value_model
        if self._value_tail is None:
            self._value_tail = entries.iloc[:0]
        tail = self._value_tail
        continued = _continued(tail, entries, value_model)
        table = pd.concat([tail[continued], entries])
        decisions = value_model.decision_function(_model_input(table, value_model))
        decisions = decisions[int(continued.sum()) :]
        order, sorted_groups = _entry_order(table, value_model)
        keys = column_of(table, value_model.event, "event")
        recent = (
            pd.DataFrame({"group": sorted_groups, "key": keys[order]})
            .groupby(["group", "key"])
            .cumcount(ascending=False)
        )
        last = np.sort(order[recent.to_numpy() < value_model.history])
        self._value_tail = pd.concat([tail[~continued], table.iloc[last]])
        return decisions

    def _seen(self, batch):
        """Record the groups' activity; the groups to close now."""
        windower = self._windower
        if len(batch):
            groups = _groups(batch, windower)
            if windower.time is None:
                moments = np.full(len(batch), time.time())
            else:
                moments = to_seconds(column_of(batch, windower.time, "time"))
            latest = pd.Series(moments).groupby(groups, dropna=False).max()
            seen = pd.concat([self._last_seen, latest])
            self._last_seen = seen.groupby(level=0, dropna=False, sort=False).max()
        closing = []
        if self.idle_timeout is not None and len(self._last_seen):
            now = time.time() if windower.time is None else float(self._last_seen.max())
            idle = self._last_seen < now - self.idle_timeout
            closing.extend(self._last_seen.index[idle.to_numpy()])
        if self.max_groups is not None:
            open_groups = self._last_seen.drop(closing)
            excess = len(open_groups) - self.max_groups
            if excess > 0:
                closing.extend(open_groups.sort_values(kind="stable").index[:excess])
        return pd.Index(closing)

    def _check_time_order(self, tail, batch):
        """Warn, once, when a batch holds entries older than their groups' last."""
        windower = self._windower
        if not self._in_order or windower.time is None or not len(tail):
            return
        latest = pd.Series(to_seconds(column_of(tail, windower.time, "time")))
        latest = latest.groupby(_groups(tail, windower)).max()
        earliest = pd.Series(to_seconds(column_of(batch, windower.time, "time")))
        earliest = earliest.groupby(_groups(batch, windower)).min()
        earlier = earliest.reindex(latest.index) < latest
        if earlier.any():
            self._in_order = False
            group = earlier.idxmax()
            group = group.item() if isinstance(group, np.generic) else group
            warnings.warn(
                f"Entries of group {group!r} arrive out of time order: an entry "
                "is older than one of its group that came before, so its window "
                "may differ from the whole log's. Feed each group's entries in "
                "time order (sort the log by group and time).",
                UserWarning,
                stacklevel=3,
            )

    def _concat(self, decided, like):
        """One table of decisions; an empty one with the columns when none."""
        if decided:
            return pd.concat(decided)
        return self._decide((like.iloc[:0], np.zeros((0, self._windower.window + 1))))

    # -- saving ----------------------------------------------------------------------

    def __getstate__(self):
        if self.workflow is not None:
            raise TypeError(
                "A StreamDetector with a workflow cannot be saved (a workflow is "
                "not plain data): set its workflow to None to save it, and again "
                "after loading."
            )
        state = dict(self.__dict__)
        for name in ("_tail", "_value_tail"):
            state[name] = None if state[name] is None else _frame_state(state[name])
        state["_last_seen"] = {
            "groups": np.asarray(self._last_seen.index.to_numpy()),
            "moments": self._last_seen.to_numpy(),
        }
        return state

    def __setstate__(self, state):
        state = dict(state)
        for name in ("_tail", "_value_tail"):
            if state[name] is not None:
                state[name] = _frame_from_state(state[name])
        seen = state["_last_seen"]
        state["_last_seen"] = pd.Series(seen["moments"], index=seen["groups"])
        self.__dict__.update(state)


def _continued(tail, table, estimator):
    """Mask of the entries of `tail` whose group (`estimator`'s) is in `table`."""
    if estimator.group is None:  # one single stream
        return np.full(len(tail), True)
    return _member(tail, pd.unique(_groups(table, estimator)), estimator)


def _member(table, groups, estimator):
    """Mask of the entries of `table` in `groups` (`estimator`'s group column)."""
    return pd.Series(_groups(table, estimator)).isin(groups).to_numpy()


def _model_input(table, estimator):
    """The columns of `table` that `estimator` was fitted on, in their order."""
    names = getattr(estimator, "feature_names_in_", None)
    return table if names is None else table[list(names)]


def _groups(table, estimator):
    """Each entry's group under `estimator`'s group column; 0 without one.

    Missing groups (None, NaN) are one group, NaN, as for the windower.
    """
    if estimator.group is None:
        return np.zeros(len(table), dtype=np.intp)
    groups = column_of(table, estimator.group, "group")
    missing = pd.isna(groups)
    if missing.any():
        groups = np.where(missing, np.nan, groups.astype(object))
    return groups


def _entry_order(entries, estimator):
    """`estimator`'s order of `entries`: by group, then time, then row."""
    times = (
        None
        if estimator.time is None
        else to_seconds(column_of(entries, estimator.time, "time"))
    )
    groups = None if estimator.group is None else _groups(entries, estimator)
    return group_time_order(len(entries), groups, times)


def _positions_from_end(entries, windower):
    """Each entry's position before the last entry of its group (0 for the last).

    Entries are in the windower's order: by time within each group, ties in row
    order.
    """
    order, sorted_groups = _entry_order(entries, windower)
    rows = np.arange(len(entries))
    is_last = np.r_[sorted_groups[1:] != sorted_groups[:-1], True]
    # The sorted position of the last entry of each sorted entry's group.
    last = np.minimum.accumulate(np.where(is_last, rows, len(rows))[::-1])[::-1]
    positions = np.empty_like(rows)
    positions[order] = last - rows
    return positions


def _expected(detector, windows, k):
    """The `k` keys expected at each window: ``[key, probability]`` pairs."""
    if not len(windows):
        return []
    expected, probabilities = detector.predict_next(windows, k=k)
    return [
        [[_plain(key), float(p)] for key, p in zip(keys, probs, strict=True)]
        for keys, probs in zip(expected, probabilities, strict=True)
    ]


def _diagnosis(detector, windows, workflow):
    """Where each window's entry left the workflow, as columns; None if normal."""
    sources = {
        "diverged_after": "diverged_after",
        "diverged_to": "observed",
        "usual_next": "usual_next",
        "transition_count": "transition_count",
    }
    if not len(windows):
        return {name: np.empty(0, dtype=object) for name in sources}
    diagnosis = diagnose(detector, windows, workflow=workflow, k=1)
    columns = {name: diagnosis[source] for name, source in sources.items()}
    rows = pd.RangeIndex(len(windows))
    return {
        name: column.astype(object)
        .reindex(rows)
        .map(_plain, na_action="ignore")
        .where(lambda values: values.notna(), None)
        .to_numpy()
        for name, column in columns.items()
    }


def _plain(value):
    """A numpy scalar as a plain Python value (JSON writes those)."""
    return value.item() if isinstance(value, np.generic) else value


def _frame_state(frame):
    """A DataFrame as plain data for the safe model format: arrays and names."""
    columns = {}
    for name, values in frame.items():
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            columns[name] = {
                "i8": values.dt.tz_convert("UTC").to_numpy().astype(np.int64),
                "tz": str(values.dt.tz),
            }
        else:
            columns[name] = {"values": values.to_numpy()}
    return {
        "columns": list(frame.columns),
        "data": [columns[name] for name in frame.columns],
        "index": frame.index.to_numpy(),
    }


def _frame_from_state(state):
    """Inverse of :func:`_frame_state`."""
    data = {}
    for name, column in zip(state["columns"], state["data"], strict=True):
        if "tz" in column:
            data[name] = pd.to_datetime(column["i8"], utc=True).tz_convert(column["tz"])
        else:
            data[name] = column["values"]
    return pd.DataFrame(data, index=state["index"], columns=state["columns"])
