# SPDX-License-Identifier: BSD-3-Clause
import pytest

from sklearn_deeplog import aggregate_sessions


def test_a_session_is_anomalous_if_any_entry_is_and_scores_its_minimum():
    groups = ["s2", "s1", "s2", "s1", "s3"]
    predictions = aggregate_sessions([1, 1, -1, 1, -1], groups)
    assert predictions.to_dict() == {"s1": 1, "s2": -1, "s3": -1}
    scores = aggregate_sessions([0.5, 2.0, -1.5, 0.1, 3.0], groups)
    assert scores.to_dict() == {"s1": 0.1, "s2": -1.5, "s3": 3.0}


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="one entry each"):
        aggregate_sessions([1, -1], ["a"])
