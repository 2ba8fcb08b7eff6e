# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklearn_deeplog import NO_EVENT, SESSION_END, SequenceWindower

P = NO_EVENT


def test_windows_follow_groups_and_keep_row_order():
    events = pd.DataFrame({"g": ["a", "b", "a", "b", "a"], "key": [1, 10, 2, 20, 3]})
    windows = SequenceWindower(window=2, event="key", group="g").fit_transform(events)
    assert_array_equal(
        windows,
        [[P, P, 1], [P, P, 10], [P, 1, 2], [P, 10, 20], [1, 2, 3]],
    )
    assert windows.dtype == np.float64


def test_time_orders_entries_within_groups_but_output_keeps_input_order():
    events = pd.DataFrame({"t": [3.0, 1.0, 2.0, 2.0], "key": ["c", "a", "b", "b2"]})
    windows = SequenceWindower(window=3, event="key", time="t").fit_transform(events)
    # Time order: a (t=1), b (t=2, row 2), b2 (t=2, row 3: ties keep row order), c.
    expected = [
        ["a", "b", "b2", "c"],
        [P, P, P, "a"],
        [P, P, "a", "b"],
        [P, "a", "b", "b2"],
    ]
    assert_array_equal(windows, np.array(expected, dtype=object))


def test_datetime_times_and_timeout_drop_old_context():
    times = pd.to_datetime(
        ["2026-01-01 00:00:00", "2026-01-01 00:00:05", "2026-01-01 00:01:00"]
    )
    events = pd.DataFrame({"time": times, "key": [1, 2, 3]})
    windower = SequenceWindower(window=2, event="key", time="time", timeout=10)
    assert_array_equal(
        windower.fit_transform(events), [[P, P, 1], [P, 1, 2], [P, P, 3]]
    )
    # Without the timeout the whole context is kept.
    windower.set_params(timeout=None)
    assert_array_equal(windower.fit_transform(events)[2], [1, 2, 3])


def test_timeout_keeps_context_within_the_limit():
    events = np.array([[0.0, 1], [1.0, 2], [2.5, 3]])
    windows = SequenceWindower(window=2, time=0, timeout=1.5).fit_transform(events)
    # Entry 3 at t=2.5: entry 2 (t=1.0) is 1.5 s old (kept), entry 1 is 2.5 s old.
    assert_array_equal(windows[2], [P, 2, 3])


def test_complete_sessions_marks_the_last_entry_of_each_group():
    events = np.array([[1, 5], [2, 7], [1, 6], [2, 8], [2, 9]])
    windower = SequenceWindower(window=1, group=0, complete_sessions=True)
    windows = windower.fit_transform(events)
    assert_array_equal(windows[:, -1], [P, P, SESSION_END, P, SESSION_END])
    assert_array_equal(windows[:, :2], [[P, 5], [P, 7], [5, 6], [7, 8], [8, 9]])
    assert list(windower.get_feature_names_out()) == ["key_lag1", "key", "session_end"]


def test_window_zero_is_the_key_alone():
    windows = SequenceWindower(window=0).fit_transform([[3], [4]])
    assert_array_equal(windows, [[3], [4]])


def test_huge_integer_keys_stay_exact():
    big = 2**60
    windows = SequenceWindower(window=1).fit_transform(np.array([[big], [big + 1]]))
    assert windows.dtype == object
    assert windows[1, 0] == big and windows[1, 1] == big + 1


def test_pandas_output_keeps_the_index():
    events = pd.DataFrame({"key": [1, 2]}, index=[10, 20])
    windower = SequenceWindower(window=1).set_output(transform="pandas")
    out = windower.fit_transform(events)
    assert list(out.columns) == ["key_lag1", "key"]
    assert list(out.index) == [10, 20]


@pytest.mark.parametrize(
    "params, X, error, match",
    [
        (
            {"event": "missing"},
            pd.DataFrame({"k": [1]}),
            ValueError,
            "'missing' is not in X",
        ),
        ({"event": "k"}, np.array([[1]]), ValueError, "has no column names"),
        ({"event": 3}, np.array([[1, 2]]), ValueError, "out of range"),
        ({"window": -1}, np.array([[1]]), ValueError, "window"),
        ({"timeout": 5}, np.array([[1]]), ValueError, "timeout needs a time column"),
        ({}, np.array([[1.0], [np.inf]]), ValueError, "must not be infinite"),
        ({}, np.array([1, 2]), ValueError, "2D array"),
        ({}, np.empty((0, 2)), ValueError, "0 sample"),
        ({}, pd.DataFrame({"k": []}), ValueError, "at least one row"),
        ({"time": 0}, np.array([[np.nan, 1]]), ValueError, "missing values"),
        ({"time": 0}, np.array([["noon", 1]], dtype=object), ValueError, "numeric"),
    ],
)
def test_bad_input_is_explained(params, X, error, match):
    with pytest.raises(error, match=match):
        SequenceWindower(**params).fit_transform(X)


def test_transform_checks_columns_against_fit():
    windower = SequenceWindower(event="key").fit(pd.DataFrame({"key": [1], "x": [0]}))
    with pytest.raises(ValueError, match="feature names"):
        windower.transform(pd.DataFrame({"other": [1], "x": [0]}))
