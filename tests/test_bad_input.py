# SPDX-License-Identifier: BSD-3-Clause
"""The bad-input matrix of SequenceWindower and DeepLogDetector.

Each case either gives the correct result (checked) or raises an error whose
message says what is wrong and how to fix it (matched on a distinctive part).
"""

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError

from sklearn_deeplog import NO_EVENT, SESSION_END, DeepLogDetector, SequenceWindower

P, E = NO_EVENT, SESSION_END
CYCLE = np.array([1, 2, 3, 4] * 6)[:, None]


class Raises(NamedTuple):
    error: type
    match: str


def tiny(**params):
    """A tiny, quick detector; top_g=9 exceeds the test vocabularies."""
    return DeepLogDetector(
        **{
            "hidden_size": 8,
            "num_layers": 1,
            "embedding_dim": 4,
            "max_epochs": 2,
            "random_state": 0,
            **params,
        }
    )


def windows(events, **params):
    return SequenceWindower(**params).fit_transform(events)


def frame(**columns):
    return pd.DataFrame(columns)


def fit_predict(X_fit, X_predict, **params):
    return tiny(**params).fit(X_fit).predict(X_predict)


def with_warnings(action):
    """``action()`` and the messages of the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = action()
    return result, [str(w.message) for w in caught]


def equals(expected, dtype=None):
    """A check that the result equals ``expected`` (and has ``dtype``)."""

    def check(result):
        assert_array_equal(result, np.array(expected, dtype=result.dtype))
        if dtype is not None:
            assert result.dtype == dtype

    return check


# -- checks of the cases that give a result -------------------------------------


def check_mixed_keys_stay_distinct(result):
    assert [type(key) for key in result[:, 1]] == [int, str, int]
    assert result[2, 0] == "1"


def check_huge_int_keys_exact(result):
    assert result.dtype == object
    assert list(result[1]) == [2**62, 2**62 + 1]
    assert isinstance(result[1, 1], int)


def check_mixed_vocabulary(keys):
    assert len(keys) == 3
    assert 1 in list(keys) and "1" in list(keys) and "b" in list(keys)


def check_foreign_key_type_warns_and_is_new(result):
    predictions, messages = result
    assert_array_equal(predictions, [-1])
    assert any("string log keys (e.g. '3') but" in m for m in messages), messages


def check_single_entry_sessions(detector):
    assert detector.session_end_
    assert list(detector.keys_) == [5, 6]
    assert_array_equal(detector.predict([[P, P, 5, E], [P, P, 7, E]]), [1, -1])


def check_top_g_beyond_vocabulary(detector):
    # Every known key is in the top 50 of 4, whatever the model learned.
    predictions = detector.predict([[1, 2, 4], [4, 4, 4], [P, 3, 1], [1, 2, 8]])
    assert_array_equal(predictions, [1, 1, 1, -1])
    keys, _ = detector.predict_next([[1, 2, 3]])
    assert sorted(keys[0]) == [1, 2, 3, 4]


def huge_int_keys():
    big = 2**62  # beyond float64's exact integers
    keys = np.array([big, big + 1, big + 2] * 4, dtype=object)[:, None]
    detector = tiny().fit(windows(keys, window=2))
    assert list(detector.keys_) == [big, big + 1, big + 2]
    expected, _ = detector.predict_next([[big, big + 1, big + 2]], k=3)
    assert set(expected[0]) == {big, big + 1, big + 2}
    return detector.predict([[big, big + 1, big + 2], [big, big + 1, big + 3]])


def partial_fit_first():
    """``partial_fit`` on an unfitted detector, and ``fit`` for one epoch."""
    X = windows(CYCLE, window=2)
    online = tiny().partial_fit(X)
    assert online.offset_ == 0.0 and list(online.keys_) == [1, 2, 3, 4]
    return online.score_samples(X), tiny(max_epochs=1).fit(X).score_samples(X)


def check_same_scores(scores):
    assert_array_equal(*scores)


WINDOWER_CASES = [
    # -- empty input and a single row
    pytest.param(
        lambda: windows(frame(key=[])),
        Raises(ValueError, "needs at least one row"),
        id="windower-empty-frame",
    ),
    pytest.param(
        lambda: windows(np.empty((0, 1))),
        Raises(ValueError, "0 sample"),
        id="windower-empty-array",
    ),
    pytest.param(
        lambda: windows([[5]], window=2),
        equals([[P, P, 5]], np.float64),
        id="windower-one-row",
    ),
    # -- missing keys and groups
    pytest.param(
        lambda: tiny().fit(windows(np.array([[1.0], [np.nan]]), window=1)),
        Raises(ValueError, "a log key is missing. Drop or fill missing keys"),
        id="windower-nan-key-passes-to-detector-which-explains",
    ),
    pytest.param(
        lambda: tiny().fit(windows(frame(key=["a", None, "b"]), window=1)),
        Raises(ValueError, "a log key is missing. Drop or fill missing keys"),
        id="windower-none-key-passes-to-detector-which-explains",
    ),
    pytest.param(
        lambda: windows(
            frame(g=[1, np.nan, 1, None], key=[1, 2, 3, 4]),
            event="key",
            group="g",
            window=1,
        ),
        # Missing groups (NaN or None) form one group together.
        equals([[P, 1], [P, 2], [1, 3], [2, 4]]),
        id="windower-nan-and-none-groups-are-one-group",
    ),
    # -- key types and values
    pytest.param(
        lambda: windows(np.array([[1], ["1"], [2]], dtype=object), window=1),
        check_mixed_keys_stay_distinct,
        id="windower-mixed-int-and-str-keys-stay-distinct",
    ),
    pytest.param(
        lambda: windows(
            np.array([[1, 10], ["1", 20], [1, 30]], dtype=object), group=0, window=1
        ),
        equals([[P, 10], [P, 20], [10, 30]]),
        id="windower-groups-1-and-str-1-differ",
    ),
    pytest.param(
        lambda: windows(np.array([[2**62], [2**62 + 1]]), window=1),
        check_huge_int_keys_exact,
        id="windower-huge-int-keys-exact",
    ),
    pytest.param(
        lambda: windows(np.array([[1e300], [-1e300], [2.0]]), window=1),
        equals([[P, 1e300], [1e300, -1e300], [-1e300, 2.0]], np.float64),
        id="windower-huge-float-keys",
    ),
    pytest.param(
        lambda: windows(
            frame(sessión=["Ω", "日本", "Ω"], 鍵=["é", "🙂", "日本"]),
            event="鍵",
            group="sessión",
            window=1,
        ),
        equals([[P, "é"], [P, "🙂"], ["é", "日本"]], object),
        id="windower-unicode-keys-groups-and-column-names",
    ),
    pytest.param(
        lambda: windows(np.array([[np.inf], [1.0]])),
        Raises(ValueError, "must not be infinite: -inf and \\+inf are the windows'"),
        id="windower-infinite-key",
    ),
    # -- columns at transform time
    pytest.param(
        lambda: SequenceWindower().fit([[1, 2]]).transform([[1, 2, 3]]),
        Raises(ValueError, "X has 3 features, but SequenceWindower is expecting 2"),
        id="windower-wrong-column-count",
    ),
    pytest.param(
        lambda: (
            SequenceWindower(event="key")
            .fit(frame(key=[1], x=[0]))
            .transform(frame(kee=[1], x=[0]))
        ),
        Raises(ValueError, "feature names should match those that were passed"),
        id="windower-wrong-column-names",
    ),
    pytest.param(
        lambda: SequenceWindower(event="key").fit(frame(key=[1])).transform([[1]]),
        Raises(ValueError, "names a column, but X has no column names"),
        marks=pytest.mark.filterwarnings("ignore:X does not have valid feature names"),
        id="windower-array-where-frame-was-fitted",
    ),
    pytest.param(
        lambda: windows(frame(key=[1]), event="missing"),
        Raises(ValueError, "'missing' is not in X; its columns are \\['key'\\]"),
        id="windower-unknown-column-name",
    ),
    pytest.param(
        lambda: windows(np.array([[1, 2]]), event=True),
        Raises(ValueError, "event=True is not a column: give a column name"),
        id="windower-boolean-column-spec",
    ),
    # -- timestamps
    pytest.param(
        lambda: windows(np.array([[3.0, 30], [1.0, 10], [2.0, 20]]), time=0, window=2),
        equals([[10, 20, 30], [P, P, 10], [P, 10, 20]]),
        id="windower-unsorted-times-are-sorted",
    ),
    pytest.param(
        lambda: windows(np.array([[5.0, 30], [5.0, 10], [1.0, 20]]), time=0, window=2),
        # Ties keep the row order: 20 (t=1), then 30 and 10 (both t=5).
        equals([[P, 20, 30], [20, 30, 10], [P, P, 20]]),
        id="windower-duplicate-times-keep-row-order",
    ),
    pytest.param(
        lambda: windows(
            np.array([[-3.0, 30], [-2.5, 10], [-1.0, 20]]), time=0, timeout=1, window=2
        ),
        equals([[P, P, 30], [P, 30, 10], [P, P, 20]]),
        id="windower-negative-times-with-timeout",
    ),
    pytest.param(
        lambda: windows(np.array([[np.nan, 1], [1.0, 2]]), time=0),
        Raises(ValueError, "1 missing values \\(first at row 0\\): drop or fill"),
        id="windower-nan-time",
    ),
    pytest.param(
        lambda: windows(
            frame(t=pd.to_datetime(["2026-01-01", None]), key=[1, 2]),
            event="key",
            time="t",
        ),
        Raises(ValueError, "1 missing values \\(first at row 1\\): drop or fill"),
        id="windower-nat-time",
    ),
    pytest.param(
        lambda: windows(
            np.array([[0.0, 1], [np.inf, 2], [1.0, 3]]), time=0, timeout=5, window=1
        ),
        Raises(ValueError, "1 infinite values \\(first at row 1\\): times must be"),
        id="windower-infinite-time",
    ),
    pytest.param(
        lambda: windows(np.array([["noon", 1]], dtype=object), time=0),
        Raises(ValueError, "must hold numeric seconds or datetimes"),
        id="windower-unreadable-time",
    ),
    pytest.param(
        lambda: windows(np.array([[1]]), timeout=5),
        Raises(ValueError, "timeout needs a time column: set time=<column>"),
        id="windower-timeout-without-time",
    ),
    # -- sessions and window sizes
    pytest.param(
        lambda: windows(
            np.array([[1, 5], [2, 6], [2, 7]]),
            group=0,
            window=2,
            complete_sessions=True,
        ),
        equals([[P, P, 5, E], [P, P, 6, P], [P, 6, 7, E]]),
        id="windower-group-with-a-single-entry",
    ),
    pytest.param(
        lambda: windows(np.array([[1, 5], [2, 6], [2, 7]]), group=0, window=6),
        equals([[P] * 6 + [5], [P] * 6 + [6], [P] * 5 + [6, 7]]),
        id="windower-window-longer-than-every-session",
    ),
    pytest.param(
        lambda: windows(
            np.array([[1, 5], [2, 6], [2, 7]]),
            group=0,
            window=0,
            complete_sessions=True,
        ),
        equals([[5, E], [6, P], [7, E]]),
        id="windower-window-0",
    ),
    pytest.param(
        lambda: windows([[1]], window=-1),
        Raises(ValueError, "'window' parameter of SequenceWindower must be an int"),
        id="windower-negative-window",
    ),
    pytest.param(
        lambda: SequenceWindower().transform([[1]]),
        Raises(NotFittedError, "not fitted yet"),
        id="windower-transform-before-fit",
    ),
]

X_CYCLE = windows(CYCLE, window=2)
X_SESSIONS = windows(
    np.array([[s, k] for s in range(6) for k in (1, 2, 3)]),
    group=0,
    window=2,
    complete_sessions=True,
)

DETECTOR_CASES = [
    # -- empty input and a single row
    pytest.param(
        lambda: tiny().fit(np.empty((0, 3))),
        Raises(ValueError, "0 sample"),
        id="detector-fit-empty",
    ),
    pytest.param(
        lambda: tiny().fit(X_CYCLE).predict(np.empty((0, 3))),
        Raises(ValueError, "0 sample"),
        id="detector-predict-empty",
    ),
    pytest.param(
        # One key, one output: it is the most likely, an unseen key is not.
        lambda: fit_predict([[P, P, 5.0]], [[P, P, 5.0], [5.0, 5.0, 5.0], [P, P, 6.0]]),
        equals([1, 1, -1]),
        id="detector-one-row",
    ),
    # -- missing keys
    pytest.param(
        lambda: tiny().fit([[1.0, np.nan, 2.0]]),
        Raises(ValueError, "a log key is missing. Drop or fill missing keys"),
        id="detector-nan-context",
    ),
    pytest.param(
        lambda: tiny().fit(X_CYCLE).predict(np.array([[1, 2, None]], dtype=object)),
        Raises(ValueError, "a log key is missing. Drop or fill missing keys"),
        id="detector-none-key",
    ),
    pytest.param(
        lambda: tiny().fit(np.array([[P, 1, pd.NA]], dtype=object)),
        Raises(ValueError, "a log key is missing. Drop or fill missing keys"),
        id="detector-pandas-na-key",
    ),
    # -- key types and values
    pytest.param(
        lambda: (
            tiny()
            .fit(
                np.array([[P, 1, "1"], [1, "1", "b"], ["1", "b", 1]] * 3, dtype=object)
            )
            .keys_
        ),
        check_mixed_vocabulary,
        id="detector-mixed-int-and-str-keys",
    ),
    pytest.param(
        lambda: with_warnings(
            lambda: tiny().fit(X_CYCLE).predict(np.array([[1, 2, "3"]], dtype=object))
        ),
        check_foreign_key_type_warns_and_is_new,
        id="detector-str-keys-to-a-number-model-warn-and-are-new",
    ),
    pytest.param(
        huge_int_keys,
        equals([1, -1]),
        id="detector-huge-int-keys-exact",
    ),
    pytest.param(
        lambda: fit_predict(
            np.array([[P, 1e300], [1e300, -1e300], [-1e300, 1e300]] * 3),
            [[1e300, -1e300], [1e300, 1e299]],
        ),
        equals([1, -1]),
        id="detector-huge-float-keys",
    ),
    pytest.param(
        lambda: fit_predict(
            np.array([[P, "é"], ["é", "日本"], ["日本", "🙂"]] * 3, dtype=object),
            np.array([["é", "🙂"], ["🙂", "ü"]]),
        ),
        equals([1, -1]),
        id="detector-unicode-keys",
    ),
    pytest.param(
        lambda: tiny().fit(np.array([[np.inf, 1.0]])),
        Raises(ValueError, "contains \\+inf \\(inf\\) outside the end-of-session"),
        id="detector-infinite-key",
    ),
    pytest.param(
        lambda: tiny().fit(np.array([[1.0, 2.0, P], [2.0, 3.0, P]])),
        Raises(ValueError, "last column holds only -inf: log keys must be finite"),
        id="detector-fit-key-column-all-no-event",
    ),
    pytest.param(
        lambda: tiny().fit(np.array([[1.0, 2.0, E], [2.0, 3.0, E]])),
        Raises(ValueError, "last column holds only \\+inf, yet the windows have"),
        id="detector-fit-key-column-all-session-end",
    ),
    pytest.param(
        lambda: tiny().fit(np.array([["a", "b", E], ["b", "a", E]], dtype=object)),
        Raises(ValueError, "last column holds only \\+inf, yet the windows have"),
        id="detector-fit-string-windows-key-column-all-session-end",
    ),
    pytest.param(
        lambda: tiny().fit(np.array([[{"a": 1}, "a"]], dtype=object)),
        Raises(TypeError, "Log keys must be hashable: each key argument must be"),
        id="detector-unhashable-key",
    ),
    pytest.param(
        lambda: tiny().fit(np.array([["2026-01-01", "2026-01-02"]], "datetime64[D]")),
        Raises(TypeError, "must be numbers or strings; got windows of dtype"),
        id="detector-datetime-keys",
    ),
    # -- columns and layout at predict time
    pytest.param(
        lambda: tiny().fit(X_CYCLE).predict([[1, 2]]),
        Raises(ValueError, "X has 2 features, but DeepLogDetector is expecting 3"),
        id="detector-wrong-column-count",
    ),
    pytest.param(
        lambda: (
            tiny()
            .fit(pd.DataFrame(X_CYCLE, columns=["a", "b", "key"]))
            .predict(pd.DataFrame(X_CYCLE, columns=["a", "b", "kee"]))
        ),
        Raises(ValueError, "feature names should match those that were passed"),
        id="detector-wrong-column-names",
    ),
    pytest.param(
        lambda: tiny().fit(X_SESSIONS[:, :3]).predict(X_SESSIONS[:, 1:]),
        Raises(ValueError, "the model was trained without one. Build the windows"),
        id="detector-end-column-unknown-to-the-model",
    ),
    pytest.param(
        lambda: tiny().fit(X_SESSIONS).predict(X_SESSIONS[:, [0, 1, 2, 2]]),
        Raises(ValueError, "trained with an end-of-session column"),
        id="detector-end-column-missing",
    ),
    pytest.param(
        lambda: tiny().fit(X_CYCLE).predict([[1, 2, P]]),
        Raises(ValueError, "column 2 of the windows\\) holds the NO_EVENT marker"),
        id="detector-no-event-as-key",
    ),
    pytest.param(
        lambda: tiny().fit(X_CYCLE).predict([[1, 2, 3], [1, 2, P]]),
        Raises(ValueError, "column 2 of the windows\\) holds the NO_EVENT marker"),
        id="detector-no-event-as-key-among-keys",
    ),
    pytest.param(
        lambda: tiny().fit(X_SESSIONS).predict([[1, 2, P, E]]),
        Raises(ValueError, "column 2 of the windows\\) holds the NO_EVENT marker"),
        id="detector-no-event-as-key-before-the-end-column",
    ),
    # -- sessions and window sizes
    pytest.param(
        lambda: tiny().fit(
            windows(
                np.array([[1, 5], [2, 6]]), group=0, window=2, complete_sessions=True
            )
        ),
        check_single_entry_sessions,
        id="detector-groups-with-a-single-entry",
    ),
    pytest.param(
        lambda: fit_predict(
            windows(CYCLE[:3], window=6), [[P] * 6 + [3.0], [P] * 5 + [1.0, 9.0]]
        ),
        equals([1, -1]),
        id="detector-window-longer-than-every-session",
    ),
    pytest.param(
        lambda: fit_predict(windows(CYCLE, window=0), [[4.0], [1.0], [9.0]]),
        equals([1, 1, -1]),
        id="detector-window-0",
    ),
    pytest.param(
        lambda: tiny(top_g=50).fit(X_CYCLE),
        check_top_g_beyond_vocabulary,
        id="detector-top-g-larger-than-the-vocabulary",
    ),
    # -- unfitted models
    pytest.param(
        partial_fit_first,
        check_same_scores,
        id="detector-partial-fit-before-fit-is-a-first-epoch",
    ),
    pytest.param(
        lambda: tiny().predict(X_CYCLE),
        Raises(NotFittedError, "not fitted yet. Call 'fit'"),
        id="detector-predict-unfitted",
    ),
    pytest.param(
        lambda: tiny().predict_next(X_CYCLE),
        Raises(NotFittedError, "not fitted yet. Call 'fit'"),
        id="detector-predict-next-unfitted",
    ),
    pytest.param(
        lambda: tiny().score(X_CYCLE),
        Raises(NotFittedError, "not fitted yet. Call 'fit'"),
        id="detector-score-unfitted",
    ),
    pytest.param(
        lambda: tiny().fit(X_CYCLE).predict_next(X_CYCLE, k=1.5),
        Raises(ValueError, "k must be a positive integer or None, got 1.5"),
        id="detector-predict-next-non-integer-k",
    ),
    pytest.param(
        lambda: tiny().fit(X_CYCLE).predict_next(X_CYCLE, k=0),
        Raises(ValueError, "k must be a positive integer or None, got 0"),
        id="detector-predict-next-zero-k",
    ),
    # -- parameters changed after fit
    pytest.param(
        lambda: tiny().fit(X_CYCLE).set_params(top_g=0).predict(X_CYCLE),
        Raises(ValueError, "'top_g' parameter of DeepLogDetector must be an int"),
        id="detector-top-g-0-set-after-fit",
    ),
    pytest.param(
        lambda: (
            tiny()
            .fit(X_SESSIONS)
            .set_params(min_end_probability=-1)
            .predict(X_SESSIONS)
        ),
        Raises(ValueError, "'min_end_probability' parameter of DeepLogDetector"),
        id="detector-negative-min-end-probability-set-after-fit",
    ),
]


@pytest.mark.parametrize("action, expected", WINDOWER_CASES + DETECTOR_CASES)
def test_bad_input(action, expected):
    if isinstance(expected, Raises):
        with pytest.raises(expected.error, match=expected.match):
            action()
    else:
        expected(action())
