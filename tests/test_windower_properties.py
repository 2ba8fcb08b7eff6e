# SPDX-License-Identifier: BSD-3-Clause
"""Property-based tests: SequenceWindower against a plain loop over the rows."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from sklearn_deeplog import NO_EVENT, SESSION_END, SequenceWindower

SETTINGS = settings(max_examples=60, deadline=None)

# Few distinct values, so that groups, keys and times repeat and tie.
KEYS = st.one_of(
    st.lists(st.integers(-3, 3), min_size=1, max_size=12),
    st.lists(st.sampled_from(["a", "b", "é", "日本"]), min_size=1, max_size=12),
)
GROUPS = st.sampled_from([0, 1, 2, None])  # None: a missing group
TIMES = st.integers(0, 6).map(lambda t: t / 2)  # exact in float64, many ties
TIMEOUTS = st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, 2.5]))


def reference_windows(keys, groups, times, window, timeout, complete_sessions):
    """One window per row, by the definition, one row at a time."""
    n_rows = len(keys)
    times = list(range(n_rows)) if times is None else times
    rows = []
    for i in range(n_rows):
        # Entries of i's group in time order, ties in row order; missing groups
        # (None) are one group together.
        same = sorted(
            (j for j in range(n_rows) if groups[j] == groups[i]),
            key=lambda j: (times[j], j),
        )
        position = same.index(i)
        previous = same[max(position - window, 0) : position]
        context = [
            keys[j] if timeout is None or times[i] - times[j] <= timeout else NO_EVENT
            for j in previous
        ]
        row = [NO_EVENT] * (window - len(context)) + context + [keys[i]]
        if complete_sessions:
            row.append(SESSION_END if same[-1] == i else NO_EVENT)
        rows.append(row)
    return rows


@st.composite
def event_tables(draw, distinct_times=False):
    keys = draw(KEYS)
    n_rows = len(keys)
    groups = draw(st.lists(GROUPS, min_size=n_rows, max_size=n_rows))
    if distinct_times:
        times = draw(
            st.lists(
                st.integers(-50, 50), min_size=n_rows, max_size=n_rows, unique=True
            )
        )
        times = [float(t) for t in times]
    else:
        times = draw(
            st.one_of(st.none(), st.lists(TIMES, min_size=n_rows, max_size=n_rows))
        )
    return keys, groups, times


def windower_and_table(keys, groups, times, **params):
    table = {"group": groups, "key": keys}
    if times is not None:
        table["time"] = times
    windower = SequenceWindower(
        event="key", group="group", time=None if times is None else "time", **params
    )
    return windower, pd.DataFrame(table)


def as_expected_array(rows, keys):
    """The reference rows with the dtype the windower gives (floats for numbers)."""
    numeric = all(isinstance(key, int) for key in keys)
    return np.array(rows, dtype=np.float64 if numeric else object)


@SETTINGS
@given(
    table=event_tables(),
    window=st.integers(0, 4),
    timeout=TIMEOUTS,
    complete_sessions=st.booleans(),
)
def test_windows_equal_the_reference(table, window, timeout, complete_sessions):
    keys, groups, times = table
    if times is None:
        timeout = None  # a timeout needs a time column
    windower, events = windower_and_table(
        keys,
        groups,
        times,
        window=window,
        timeout=timeout,
        complete_sessions=complete_sessions,
    )
    windows = windower.fit_transform(events)

    expected = reference_windows(
        keys, groups, times, window, timeout, complete_sessions
    )
    assert windows.shape == (len(keys), window + 1 + int(complete_sessions))
    assert windows.dtype == as_expected_array(expected, keys).dtype
    assert_array_equal(windows, as_expected_array(expected, keys))
    # One output row per input row, in input order: each row ends with its own key.
    assert_array_equal(windows[:, window], as_expected_array(keys, keys))


@SETTINGS
@given(
    data=st.data(), table=event_tables(distinct_times=True), window=st.integers(0, 3)
)
def test_permuting_rows_permutes_windows_when_times_are_distinct(data, table, window):
    keys, groups, times = table
    windower, events = windower_and_table(
        keys, groups, times, window=window, timeout=30.0, complete_sessions=True
    )
    windows = windower.fit_transform(events)
    permutation = data.draw(st.permutations(range(len(keys))))
    permuted = windower.fit_transform(events.iloc[permutation])
    assert_array_equal(permuted, windows[permutation])


@SETTINGS
@given(table=event_tables(), window=st.integers(0, 3))
def test_end_column_marks_exactly_the_last_entry_of_each_group(table, window):
    keys, groups, times = table
    windower, events = windower_and_table(
        keys, groups, times, window=window, complete_sessions=True
    )
    end_column = windower.fit_transform(events)[:, -1]

    sort_times = np.arange(len(keys)) if times is None else np.asarray(times)
    last_rows = set()
    for group in set(groups):
        rows = [i for i in range(len(keys)) if groups[i] == group]
        last_rows.add(max(rows, key=lambda i: (sort_times[i], i)))
    is_end = np.array([value == SESSION_END for value in end_column])
    assert_array_equal(np.flatnonzero(is_end), sorted(last_rows))
    assert all(value == NO_EVENT for value in end_column[~is_end])
