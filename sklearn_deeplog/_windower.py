# SPDX-License-Identifier: BSD-3-Clause
"""Turn an event table into DeepLog context windows, one row per log entry."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._event_table import (
    column_of,
    group_and_times,
    group_time_order,
    positions_in_runs,
    validate_event_table,
)

__all__ = ["NO_EVENT", "SESSION_END", "SequenceWindower"]

#: Marker of "no event" in a window: context before the start of a session, or
#: older than ``timeout``. Never a key: event keys must not be infinite.
NO_EVENT = float("-inf")
#: Marker of the end of a complete session, in the last column of the windows of
#: ``SequenceWindower(complete_sessions=True)``.
SESSION_END = float("inf")

# Integers beyond this lose precision as float64; such keys are kept as objects.
_MAX_EXACT_FLOAT_INT = 2**53


def is_marker(values, marker):
    """Elementwise ``values == marker`` for numeric and object arrays alike.

    Parameters
    ----------
    values : ndarray
        Window values of any dtype.
    marker : float
        ``NO_EVENT`` or ``SESSION_END``.

    Returns
    -------
    mask : ndarray of bool, same shape as ``values``
    """
    if values.dtype.kind in "biu":
        return np.zeros(values.shape, dtype=bool)
    return np.asarray(values == marker, dtype=bool)


class SequenceWindower(TransformerMixin, BaseEstimator):
    """Turn a table of log events into DeepLog context windows.

    Each output row belongs to the input row at the same position and holds the
    ``window`` previous keys of the same group (oldest first), then the entry's own
    key. Where a group has fewer previous entries, or they are older than
    ``timeout``, the context holds the :data:`NO_EVENT` marker.

    Read more in the :ref:`User Guide <windows>`.

    Parameters
    ----------
    window : int, default=10
        Number of previous keys in a window (``h`` in the DeepLog paper).
    event : str or int, default=None
        Column holding the log key (a column name of a DataFrame, or a column
        index). ``None`` means the last column. Keys may be numbers or strings; they
        must not be infinite (the markers are ``-inf`` and ``+inf``). Missing (NaN)
        keys are passed through and rejected by :class:`DeepLogDetector`.
    group : str or int, default=None
        Column naming the machine or session an entry belongs to; windows never cross
        groups. Entries with a missing group (NaN or None) form one group together.
        ``None`` means one single stream.
    time : str or int, default=None
        Column holding the entry's time, numeric seconds or datetimes; times must
        be finite and not missing. Entries are ordered by time within each group
        (ties keep the row order). ``None`` means the row order is the time order.
    timeout : float, default=None
        Context entries more than this many seconds older than the entry are
        treated as missing. Requires ``time``.
    complete_sessions : bool, default=False
        Whether each group is a complete session (HDFS blocks are), so that the end
        of a session is an event of its own. If True, a last column marks the last
        entry of each group with :data:`SESSION_END` (the others hold
        :data:`NO_EVENT`) and :class:`DeepLogDetector` also checks that the session
        was expected to end there: a session that stops too early is flagged on its
        last entry. Leave False for open-ended streams.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during :term:`fit`. Defined only when `X` has feature
        names that are all strings.

    See Also
    --------
    DeepLogDetector : Detect anomalous log entries from these windows.

    Notes
    -----
    Numeric keys come out as floating point numbers (exactly, up to ``2**53``; larger
    integers and strings come out as Python objects), because the markers are the
    floats ``-inf`` and ``+inf``. Output row ``i`` depends on the rows of the same
    group, so transforming a subset of a group's entries gives other windows than
    transforming the whole group.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_deeplog import SequenceWindower
    >>> events = pd.DataFrame({"session": [1, 1, 2, 1], "key": ["a", "b", "a", "c"]})
    >>> SequenceWindower(window=2, event="key", group="session").fit_transform(events)
    array([[-inf, -inf, 'a'],
           [-inf, 'a', 'b'],
           [-inf, -inf, 'a'],
           ['a', 'b', 'c']], dtype=object)
    """

    _parameter_constraints: dict = {
        "window": [Interval(Integral, 0, None, closed="left")],
        "event": [None, str, Integral],
        "group": [None, str, Integral],
        "time": [None, str, Integral],
        "timeout": [None, Interval(Real, 0, None, closed="left")],
        "complete_sessions": ["boolean"],
    }

    def __init__(
        self,
        window=10,
        *,
        event=None,
        group=None,
        time=None,
        timeout=None,
        complete_sessions=False,
    ):
        self.window = window
        self.event = event
        self.group = group
        self.time = time
        self.timeout = timeout
        self.complete_sessions = complete_sessions

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the event table and remember its columns.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            The event table, one row per log entry.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceWindower
            The fitted windower.
        """
        if self.timeout is not None and self.time is None:
            raise ValueError(
                "timeout needs a time column: set time=<column> (seconds or "
                "datetimes), or leave timeout=None."
            )
        self._columns(validate_event_table(self, X, reset=True))
        return self

    def transform(self, X):
        """Build one window per log entry.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            The event table, with the columns seen in :meth:`fit`.

        Returns
        -------
        windows : ndarray of shape (n_entries, window + 1) or (n_entries, window + 2)
            Row ``i``: the ``window`` previous keys of entry ``i``'s group (oldest
            first), then entry ``i``'s key, then with ``complete_sessions=True`` the
            end-of-session marker column.
        """
        check_is_fitted(self)
        keys, groups, times = self._columns(validate_event_table(self, X, reset=False))
        return self._windows(keys, groups, times)

    def get_feature_names_out(self, input_features=None):
        """Get the names of the window columns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; only checked against those seen in :meth:`fit`.

        Returns
        -------
        feature_names_out : ndarray of str
            ``key_lag<window>``, ..., ``key_lag1``, ``key``, and ``session_end`` with
            ``complete_sessions=True``.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        names = [f"key_lag{lag}" for lag in range(self.window, 0, -1)] + ["key"]
        if self.complete_sessions:
            names.append("session_end")
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Only the event, group and time columns are read: NaN or text elsewhere is
        # none of the windower's business (NaN keys are rejected by the detector).
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _columns(self, table):
        """The key, group and time columns of ``table`` as numpy arrays."""
        keys = column_of(table, -1 if self.event is None else self.event, "event")
        return (_check_keys(keys), *group_and_times(table, self.group, self.time))

    def _windows(self, keys, groups, times):
        n_entries = len(keys)
        order, sorted_groups = group_time_order(n_entries, groups, times)
        sorted_keys = keys[order]
        position = positions_in_runs(
            np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
        )

        n_columns = self.window + 1 + int(self.complete_sessions)
        windows = np.full((n_entries, n_columns), NO_EVENT, dtype=sorted_keys.dtype)
        windows[:, self.window] = sorted_keys
        for lag in range(1, self.window + 1):
            entries = np.flatnonzero(position >= lag)
            if times is not None and self.timeout is not None:
                sorted_times = times[order]
                age = sorted_times[entries] - sorted_times[entries - lag]
                entries = entries[age <= self.timeout]
            windows[entries, self.window - lag] = sorted_keys[entries - lag]
        if self.complete_sessions:
            is_last = np.r_[position[1:] == 0, True]
            windows[is_last, -1] = SESSION_END

        result = np.empty_like(windows)
        result[order] = windows
        return result


def _check_keys(keys):
    """Event keys as floats when exact, else objects; reject the marker values."""
    if keys.dtype.kind in "biu":
        if keys.size and np.abs(keys.astype(object)).max() > _MAX_EXACT_FLOAT_INT:
            return keys.astype(object)
        return keys.astype(np.float64)
    if keys.dtype.kind == "f":
        values = keys
    else:
        keys = keys.astype(object)
        values = np.array([v for v in pd.unique(keys) if isinstance(v, Real)], float)
    if np.isinf(values).any():
        raise ValueError(
            "Event keys must not be infinite: -inf and +inf are the windows' "
            "NO_EVENT and SESSION_END markers. Map those keys to other values."
        )
    return keys
