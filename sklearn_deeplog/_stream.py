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

from ._deeplog import (
    DeepLog,
    combine_decisions,
    is_key_pipeline,
    key_and_value_models,
)
from ._event_table import column_of, group_time_order, to_seconds
from ._parameter_values import looked_back_to
from ._torch_nets import weights_version
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
    each of its keys (and the entry before each); and the key model's decisions
    on up to 65,536 distinct windows (logs repeat their windows: each is scored
    once while the model stays the same; a change of the model, e.g. by
    ``partial_fit``, is noticed).

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
        self._tail = self._value_tail = None  # _Rows, from the first entries
        self._groups = {}  # each open group's id
        self._names = []  # each id's group (None when free)
        self._free = []  # ids free for new groups, the next one last
        self._last_seen = np.zeros(0)  # by id: its group's latest moment; NaN if free
        self._opened = np.zeros(0, dtype=np.int64)  # by id: the order of opening
        self._n_opened = 0
        self._in_order = True  # until an entry arrives late: warned once
        self._key_decisions = _KeyDecisions()

    # -- the model -------------------------------------------------------------------

    def _check_model(self):
        key_model = self._key_model
        if not is_key_pipeline(key_model):
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
        return key_and_value_models(self.model)[0]

    @property
    def _value_model(self):
        return key_and_value_models(self.model)[1]

    @property
    def _windower(self):
        return self._key_model[0]

    @property
    def n_open_groups(self):
        return len(self._groups)

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
        if self._tail is None and not len(events):  # nothing yet, not even columns
            return self._concat([], events)
        decided = [self._judge(events)] if len(events) else []
        closing = self._closing()
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
        decided = self._close(self._open_ids())
        return self._concat([decided], self._tail.empty)

    def _group_ids(self, batch):
        """The id of each entry's group, without opening any group.

        Returns
        -------
        ids : ndarray of shape (n_entries,)
            The id of an open group; for a group not open, ``-1 - j``, where j
            numbers the groups not open.
        new : list
            The groups not open, by j.
        """
        windower = self._windower
        if windower.group is None:  # one single stream
            codes, groups = np.zeros(len(batch), dtype=np.intp), [0]
        else:
            codes, groups = pd.factorize(column_of(batch, windower.group, "group"))
            groups = list(groups)
            if (codes < 0).any():  # missing groups (None, NaN): one group
                groups.append(_MISSING)  # code -1: the last
        new = [group for group in groups if group not in self._groups]
        numbers = {group: -1 - j for j, group in enumerate(new)}
        ids = [self._groups.get(group, numbers.get(group)) for group in groups]
        return np.array(ids, dtype=np.intp)[codes], new

    def _open(self, groups):
        """Open `groups` (not open); their ids."""
        ids = np.empty(len(groups), dtype=np.intp)
        for j, group in enumerate(groups):
            if not self._free:  # twice as many ids
                size = max(8, 2 * len(self._names))
                self._free = list(range(size - 1, len(self._names) - 1, -1))
                self._last_seen = np.resize(self._last_seen, size)
                self._last_seen[len(self._names) :] = np.nan
                self._opened = np.resize(self._opened, size)
                self._names.extend([None] * (size - len(self._names)))
            ids[j] = found = self._free.pop()
            self._groups[group] = found
            self._names[found] = group
            self._last_seen[found] = -np.inf
            self._opened[found] = self._n_opened
            self._n_opened += 1
        return ids

    def _open_ids(self):
        """The ids of the open groups."""
        return np.flatnonzero(~np.isnan(self._last_seen))

    def _selected(self, ids):
        """A mask by id: True for `ids` (the open groups among them)."""
        selected = np.full(len(self._last_seen), False)
        selected[ids[ids >= 0]] = True
        return selected

    def _judge(self, batch):
        """Decide what `batch` lets decide; then keep what later entries need.

        Everything is computed before the state changes: a batch that raises
        (e.g. a missing time) leaves the stream as it was.
        """
        windower = self._windower
        tail = _Rows(batch) if self._tail is None else self._tail
        ids, new_groups = self._group_ids(batch)
        selected = self._selected(ids)
        entries, entry_ids, new = batch, ids, np.full(len(batch), True)
        taken = tail.take(selected, remove=False)
        if taken is not None:
            before, before_ids, held, _ = taken
            self._check_time_order(before, before_ids, batch, ids)
            entries = pd.concat([before, batch])
            entry_ids = np.concatenate([before_ids, ids])
            new = np.concatenate([held, new])
        windows = np.asarray(windower.transform(_model_input(entries, windower)))
        positions = _positions_from_end(entries, entry_ids, windower)
        n_held = int(windower.complete_sessions)
        done = new & (positions >= n_held)
        kept = positions < windower.window + n_held
        decided, values_kept = self._decide(
            entries[done], windows[done], entry_ids[done]
        )
        # The state changes from here on.
        opened = self._open(new_groups)

        def real(ids):  # with the ids of the groups opened now
            ids = ids.copy()
            ids[ids < 0] = opened[-1 - ids[ids < 0]]
            return ids

        tail.take(selected)
        # A held entry's window is its window if its group ends: kept for closing.
        tail.add(
            entries[kept], real(entry_ids[kept]), (new & ~done)[kept], windows[kept]
        )
        self._tail = tail
        if values_kept is not None:
            if self._value_tail is None:
                self._value_tail = _Rows(batch)
            self._value_tail.take(selected)
            self._value_tail.add(values_kept[0], real(values_kept[1]))
        self._seen(batch, real(ids))
        return decided

    def _close(self, ids):
        """Decide the held entries of the groups `ids` as their last; forget them."""
        selected = self._selected(ids)
        taken = self._tail.take(selected, remove=False)
        decided = self._tail.empty, np.zeros((0, 1)), np.zeros(0, dtype=np.intp)
        if taken is not None:
            entries, entry_ids, held, windows = taken
            decided = entries[held], windows[held], entry_ids[held]
        decided, _ = self._decide(*decided)
        self._tail.take(selected)
        if self._value_tail is not None:
            self._value_tail.take(selected)
        for group in ids:
            del self._groups[self._names[group]]
            self._names[group] = None
        self._free.extend(ids.tolist())
        self._last_seen[ids] = np.nan
        return decided

    def _decide(self, entries, windows, ids):
        """The decisions of entries (of groups `ids`) and their windows, as rows.

        Returns
        -------
        decided : pandas.DataFrame
        values_kept : tuple or None
            With a value model, what its tail keeps of these groups from now on
            (see :meth:`_value_decisions`).
        """
        detector = self._key_model[-1]
        scores, expected = self._key_decisions(detector, windows, self.top_k)
        columns, values_kept = {}, None
        if self._value_model is not None:
            values, values_kept = (
                self._value_decisions(entries, ids) if len(entries) else (scores, None)
            )
            scores, columns["flagged_by"] = combine_decisions(scores, values)
        decided = entries.assign(score=scores, anomaly=scores < 0, **columns)
        if self.top_k is not None:
            decided["expected"] = expected
        if self.workflow is not None:
            decided = decided.assign(**_diagnosis(detector, windows, self.workflow))
        return decided, values_kept

    def _value_decisions(self, entries, ids):
        """The value model's decisions on entries, as if the log were whole.

        The entries are scored after the entries of the value tail whose group
        they continue: the last ``history`` entries of each key of each group
        and the entry before each of them, which hold what they look back to
        (the previous vectors of their key, with the time elapsed before each,
        and their group's previous entry). Returns the
        decisions, and the entries the value tail keeps of these groups from
        now on, with their groups' ids (the state is not changed here).
        """
        value_model = self._value_model
        table, table_ids, n_before = entries, ids, 0
        taken = None
        if self._value_tail is not None:
            taken = self._value_tail.take(self._selected(ids), remove=False)
        if taken is not None:
            tail, tail_ids = taken
            table = pd.concat([tail, entries])
            table_ids = np.concatenate([tail_ids, ids])
            n_before = len(tail)
        decisions = value_model.decision_function(_model_input(table, value_model))
        order, sorted_groups = _entry_order(table, table_ids, value_model)
        last = np.sort(order[looked_back_to(table, value_model, order, sorted_groups)])
        return decisions[n_before:], (table.iloc[last], table_ids[last])

    def _seen(self, batch, ids):
        """Record the latest moment of the groups of `batch`."""
        windower = self._windower
        if windower.time is None:
            moments = np.full(len(batch), time.time())
        else:
            moments = to_seconds(column_of(batch, windower.time, "time"))
        np.maximum.at(self._last_seen, ids, moments)

    def _closing(self):
        """The ids of the groups to close now: idle, or beyond ``max_groups``."""
        closing = np.zeros(0, dtype=np.intp)
        if self.idle_timeout is None and (
            self.max_groups is None or len(self._groups) <= self.max_groups
        ):
            return closing
        open_ids = self._open_ids()
        if self.idle_timeout is not None and len(open_ids):
            seen = self._last_seen[open_ids]
            now = time.time() if self._windower.time is None else seen.max()
            idle = seen < now - self.idle_timeout
            closing, open_ids = open_ids[idle], open_ids[~idle]
        excess = 0 if self.max_groups is None else len(open_ids) - self.max_groups
        if excess > 0:  # idle longest first; ties: opened first
            order = np.lexsort([self._opened[open_ids], self._last_seen[open_ids]])
            closing = np.concatenate([closing, open_ids[order[:excess]]])
        return closing

    def _check_time_order(self, tail, tail_ids, batch, ids):
        """Warn, once, when a batch holds entries older than their groups' last."""
        windower = self._windower
        if not self._in_order or windower.time is None or not len(tail):
            return
        latest = np.full(len(self._last_seen), -np.inf)
        np.maximum.at(
            latest, tail_ids, to_seconds(column_of(tail, windower.time, "time"))
        )
        times = to_seconds(column_of(batch, windower.time, "time"))
        earlier = np.full(len(batch), False)
        continued = ids >= 0  # the others open a group: nothing came before
        earlier[continued] = times[continued] < latest[ids[continued]]
        if earlier.any():
            self._in_order = False
            group = _plain(self._names[ids[np.argmax(earlier)]])
            warnings.warn(
                f"Entries of group {None if group is _MISSING else group!r} arrive "
                "out of time order: an entry is older than one of its group that "
                "came before, so its window may differ from the whole log's. Feed "
                "each group's entries in time order (sort the log by group and "
                "time).",
                UserWarning,
                stacklevel=4,  # update's caller
            )

    def _concat(self, decided, like):
        """One table of decisions; an empty one with the columns when none."""
        if decided:
            return pd.concat(decided)
        no_windows = np.zeros((0, self._windower.window + 1))
        return self._decide(like.iloc[:0], no_windows, np.zeros(0, dtype=np.intp))[0]

    # -- saving ----------------------------------------------------------------------

    def __getstate__(self):
        if self.workflow is not None:
            raise TypeError(
                "A StreamDetector with a workflow cannot be saved (a workflow is "
                "not plain data): set its workflow to None to save it, and again "
                "after loading."
            )
        # The open groups in the order they opened, numbered from 0.
        open_ids = self._open_ids()
        open_ids = open_ids[np.argsort(self._opened[open_ids], kind="stable")]
        numbers = np.full(len(self._last_seen), -1)
        numbers[open_ids] = np.arange(len(open_ids))
        names = [self._names[group] for group in open_ids]
        state = {name: self.__dict__[name] for name in _PARAMETERS + ("_in_order",)}
        state["_groups"] = {
            "groups": np.array(
                [np.nan if name is _MISSING else name for name in names], dtype=object
            ),
            "moments": self._last_seen[open_ids],
        }
        for name in ("_tail", "_value_tail"):
            rows = self.__dict__[name]
            if rows is not None:
                frame, ids, *arrays = rows.all() or (rows.empty, np.zeros(0, int))
                rows = {"rows": _frame_state(frame), "groups": numbers[ids]}
                rows["arrays"] = arrays
            state[name] = rows
        return state

    def __setstate__(self, state):
        self.__init__(**{name: state[name] for name in _PARAMETERS})
        self._in_order = state["_in_order"]
        groups = state["_groups"]
        # Numbered from 0 again, in the order they opened.
        self._open([_MISSING if pd.isna(g) else g for g in groups["groups"]])
        self._last_seen[: len(groups["moments"])] = groups["moments"]
        for name in ("_tail", "_value_tail"):
            rows = state[name]
            if rows is not None:
                frame = _frame_from_state(rows["rows"])
                setattr(self, name, _Rows(frame))
                getattr(self, name).add(frame, rows["groups"], *rows["arrays"])


_PARAMETERS = ("model", "top_k", "idle_timeout", "max_groups", "workflow")

# The key of entries without a group (None, NaN): one group, as for the windower.
_MISSING = type("_Missing", (), {"__repr__": lambda self: "<no group>"})()

# The distinct windows whose key-model decisions a stream keeps at most.
_KNOWN_WINDOWS = 1 << 16


class _Rows:
    """Entries kept by group, in arrival order, with arrays of values per entry.

    The first array holds each entry's group id. Taking out the entries of some
    groups does not copy the others: the entries are kept in chunks, one per
    addition, from which taken entries are only marked gone. A chunk shrinks to
    its entries left when half are gone, and the last chunks merge while the
    one before is at most twice as long, so there are a logarithmic number of
    chunks and each entry is copied a logarithmic number of times.

    Parameters
    ----------
    like : pandas.DataFrame
        A table of entries: its columns are those of :attr:`empty`.
    """

    def __init__(self, like):
        self.empty = like.iloc[:0].copy()  # not a view: it would hold `like`
        self._chunks = []  # (frame, arrays, kept)

    def add(self, frame, *arrays):
        """Keep the entries of `frame` with `arrays`: their group ids, then others."""
        if len(frame):
            self._chunks.append((frame, arrays, np.full(len(frame), True)))
        while len(self._chunks) > 1 and (
            len(self._chunks[-2][0]) <= 2 * len(self._chunks[-1][0])
        ):
            last = self._chunks.pop()
            self._chunks[-1] = _merged([self._chunks[-1], last])

    def take(self, selected, remove=True):
        """Take out the entries of the groups that `selected` (a mask by id) flags.

        Parameters
        ----------
        selected : ndarray of bool
            By group id.
        remove : bool, default=True
            Whether the entries are removed; else they are only read.

        Returns
        -------
        taken : tuple or None
            The entries (a DataFrame, in arrival order), then their arrays; None
            when none.
        """
        taken, chunks = [], []
        for chunk in self._chunks:
            frame, arrays, kept = chunk
            mask = kept & selected[arrays[0]]
            if mask.any():
                taken.append((frame, arrays, mask))
                if remove:
                    kept &= ~mask
                    if 2 * kept.sum() <= len(kept):
                        chunk = _merged([chunk])
            if len(chunk[0]):
                chunks.append(chunk)
        self._chunks = chunks
        if not taken:
            return None
        frame, arrays, _ = _merged(taken)
        return frame, *arrays

    def all(self):
        """Every entry kept, as :meth:`take` returns them (without taking them)."""
        if not self._chunks:
            return None
        frame, arrays, _ = _merged(self._chunks)
        return frame, *arrays


def _merged(chunks):
    """One chunk of the entries kept in `chunks`, in their order."""
    frames = [frame[kept] for frame, _, kept in chunks]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames)
    arrays = tuple(
        np.concatenate(values)
        for values in zip(
            *[[array[kept] for array in arrays] for _, arrays, kept in chunks],
            strict=True,
        )
    )
    return frame, arrays, np.full(len(frame), True)


class _KeyDecisions:
    """The key model's scores and expected keys of windows, kept once computed.

    Logs repeat their windows (the HDFS test entries hold 22,000 distinct
    windows among 340,000): a stream computes each distinct window's decisions
    once, as long as the model stays the same, and keeps up to
    ``_KNOWN_WINDOWS`` of them (all are forgotten when more come).
    """

    def __init__(self):
        self._model = None
        self._forget()

    def _forget(self):
        self._codes = {}  # window (its bytes or tuple) -> its row below
        self._scores = np.zeros(64)  # grown twice as long when full
        self._expected = np.zeros(64, dtype=object)

    def __call__(self, detector, windows, top_k):
        """Scores (``decision_function``) and ``top_k`` expected keys of `windows`.

        Returns
        -------
        scores : ndarray of shape (n_windows,)
        expected : list of lists of ``[key, probability]`` pairs, or None
            without `top_k`.
        """
        model = _model_version(detector, top_k)
        if model != self._model:
            self._model = model
            self._forget()
        rows, firsts, inverse = _distinct_rows(windows)
        codes = np.array([self._codes.get(row, -1) for row in rows], dtype=np.intp)
        new = np.flatnonzero(codes < 0)
        if len(new):
            if len(self._codes) + len(new) > _KNOWN_WINDOWS:
                self._forget()
                codes[:] = -1
                new = np.arange(len(rows))
            unknown = windows[firsts[new]]
            stored = np.arange(len(self._codes), len(self._codes) + len(new))
            codes[new] = stored
            self._codes.update(zip([rows[i] for i in new], stored, strict=True))
            if len(self._codes) > len(self._scores):
                size = 2 ** int(np.ceil(np.log2(len(self._codes))))
                self._scores = np.resize(self._scores, size)
                self._expected = np.resize(self._expected, size)
            self._scores[stored] = detector.decision_function(unknown)
            if top_k is not None:  # one list per window, never spread by numpy
                expected = _expected(detector, unknown, top_k)
                for code, pairs in zip(stored, expected, strict=True):
                    # Tuples of plain values: the garbage collector skips them.
                    self._expected[code] = tuple(map(tuple, pairs))
        codes = codes[inverse]
        if top_k is None:
            return self._scores[codes], None
        # Lists of their own: a caller's change must not reach other decisions.
        expected = [[list(pair) for pair in self._expected[c]] for c in codes]
        return self._scores[codes], expected


def _model_version(detector, top_k):
    """A value that changes when the key model's decisions may change."""
    net = detector.net_
    module = None if net is None else net.module_
    weights = None if module is None else weights_version(module)
    offset = getattr(detector, "offset_", None)
    return module, weights, offset, detector.get_params(deep=False), top_k


def _distinct_rows(windows):
    """The distinct rows of `windows` (hashable), their first rows, each row's.

    Returns
    -------
    rows : list
        Each distinct row: its bytes when the windows are floats, else a tuple.
    firsts : ndarray of shape (n_distinct,)
        The index of each distinct row's first occurrence.
    inverse : ndarray of shape (n_windows,)
        Each row's distinct row.
    """
    if windows.dtype.kind == "f":  # rows as bytes: sorted and compared at C speed
        rows = np.ascontiguousarray(windows)
        rows = rows.view(np.dtype((np.void, rows.itemsize * rows.shape[1]))).ravel()
        distinct, firsts, inverse = np.unique(
            rows, return_index=True, return_inverse=True
        )
        return distinct.tolist(), firsts, inverse.ravel()
    codes = {}
    inverse = np.array(
        [codes.setdefault(row, len(codes)) for row in map(tuple, windows.tolist())],
        dtype=np.intp,
    )
    firsts = np.zeros(len(codes), dtype=np.intp)
    firsts[inverse[::-1]] = np.arange(len(inverse))[::-1]
    return list(codes), firsts, inverse


def _model_input(table, estimator):
    """The columns of `table` that `estimator` was fitted on, in their order."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or table.columns.equals(pd.Index(names)):
        return table
    return table[list(names)]


def _entry_order(entries, ids, estimator):
    """`estimator`'s order of `entries` (of groups `ids`): group, time, row."""
    times = (
        None
        if estimator.time is None
        else to_seconds(column_of(entries, estimator.time, "time"))
    )
    return group_time_order(len(entries), ids, times)


def _positions_from_end(entries, ids, windower):
    """Each entry's position before the last entry of its group (0 for the last).

    Entries are in the windower's order: by time within each group, ties in row
    order.
    """
    order, sorted_groups = _entry_order(entries, ids, windower)
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
