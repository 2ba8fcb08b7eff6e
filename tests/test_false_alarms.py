# SPDX-License-Identifier: BSD-3-Clause
"""A threshold from a false-alarm budget: ``DeepLogDetector(false_alarms=...)``."""

import copy
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import (
    DeepLog,
    DeepLogDetector,
    ParameterValueDetector,
    SequenceWindower,
    StreamDetector,
    load_model,
    save_model,
)
from sklearn_deeplog.datasets import make_logs

SMALL = dict(hidden_size=16, embedding_dim=8, max_epochs=10, random_state=0)


def windower():
    return SequenceWindower(
        window=3, event="event", group="session", time="time", complete_sessions=True
    )


@pytest.fixture(scope="module")
def logs():
    return make_logs(300, random_state=0)


@pytest.fixture(scope="module")
def budgeted(logs):
    """A pipeline fitted with a 5% budget on held-out sessions."""
    model = make_pipeline(windower(), DeepLogDetector(false_alarms=0.05, **SMALL))
    return model.fit(logs, deeplogdetector__groups=logs["session"])


def worst_per_group(scores, groups):
    """Each group's lowest score: a group is flagged when any entry is."""
    codes = np.unique(groups, return_inverse=True)[1]
    worst = np.full(codes.max() + 1, np.inf)
    np.minimum.at(worst, codes, scores)
    return worst


def test_the_threshold_flags_at_most_the_budget_of_held_out_groups(budgeted, logs):
    detector = budgeted[-1]
    n_sessions = logs["session"].nunique()
    assert detector.n_validation_ == round(0.2 * n_sessions)
    assert 0 <= detector.validation_false_alarms_ <= 0.05
    # The held-out sessions are among the training ones: on all of them, the
    # threshold is that of some session's worst entry.
    worst = worst_per_group(budgeted.score_samples(logs), logs["session"])
    assert np.isclose(worst, detector.offset_).any()


def test_scores_are_the_log_probabilities_of_the_keys(budgeted, logs):
    windows = budgeted[0].transform(logs)
    detector = budgeted[-1]
    keys, probabilities = detector.predict_next(windows, k=detector._n_outputs)
    observed = windows[:, -2]  # the key (the last column marks session ends)
    is_key = keys == observed[:, None]
    known = is_key.any(axis=1)
    expected = np.log((probabilities * is_key).sum(axis=1))
    scores = detector.score_samples(windows)
    not_last = windows[:, -1] != np.inf  # a last entry also answers for its end
    assert_allclose(scores[known & not_last], expected[known & not_last], rtol=1e-6)
    assert (scores[not_last] <= expected[not_last] + 1e-9).all()
    assert_array_equal(detector.predict(windows) == -1, scores < detector.offset_)


def test_calibrate_takes_the_conformal_rank_of_the_groups_scores(budgeted, logs):
    detector = copy.deepcopy(budgeted[-1])
    windows = budgeted[0].transform(logs)
    groups = logs["session"].to_numpy()
    for budget in (0.01, 0.05, 0.29):
        detector.set_params(false_alarms=budget).calibrate(windows, groups)
        worst = worst_per_group(detector.score_samples(windows), groups)
        # The k-th lowest, k = floor(budget * (n + 1)): 3, 15 and 87 of 300
        # (0.29 * 301 is 87.29, though 0.29 is a float below 0.29).
        rank = {0.01: 3, 0.05: 15, 0.29: 87}[budget]
        assert detector.offset_ == np.sort(worst)[rank - 1]
        assert detector.validation_false_alarms_ == np.mean(worst < detector.offset_)
        assert detector.n_validation_ == len(worst) == 300
        flagged_groups = np.unique(groups[detector.predict(windows) == -1])
        assert len(flagged_groups) == np.sum(worst < detector.offset_) < rank


def test_a_new_normal_group_is_flagged_at_most_at_the_budget(budgeted, monkeypatch):
    """Split conformal: with exchangeable scores, P(flagged) = k / (n + 1)."""
    detector = copy.deepcopy(budgeted[-1]).set_params(false_alarms=0.05)
    rng = np.random.default_rng(0)
    monkeypatch.setattr(detector, "_score_rows", lambda X: rng.normal(size=len(X)))
    windows = budgeted[0].transform(make_logs(30, random_state=1))[:100]
    flagged = []
    for _ in range(4000):  # 100 groups: k = floor(0.05 * 101) = 5
        detector.calibrate(windows, groups=np.arange(len(windows)))
        flagged.append(rng.normal() < detector.offset_)
    # 5 / 101 = 0.0495 (the next rank up would flag 6 / 101 = 0.0594).
    assert abs(np.mean(flagged) - 5 / 101) < 0.008


def test_without_groups_the_last_entries_are_held_out_and_entries_counted(logs):
    windows = windower().fit_transform(logs)
    detector = DeepLogDetector(false_alarms=0.05, **SMALL)
    with pytest.warns(UserWarning, match="no groups were given: .* counts entries"):
        detector.fit(windows)  # complete sessions: groups are missing
    assert detector.n_validation_ == round(0.2 * len(windows))
    held = windows[-detector.n_validation_ :]
    flagged = detector.predict(held) == -1
    assert flagged.mean() == detector.validation_false_alarms_ <= 0.05
    # Trained on the other entries: the same network as fitting those alone,
    # up to the vocabulary (it has the keys of all the entries).
    alone = DeepLogDetector(**SMALL).fit(windows[: -detector.n_validation_])
    assert_array_equal(alone.keys_, detector.keys_)
    assert_allclose(
        alone.predict_next(held, k=3)[1], detector.predict_next(held, k=3)[1]
    )


def test_too_few_held_out_groups_for_the_budget_is_warned_about(logs):
    windows = windower().fit_transform(logs)
    detector = DeepLogDetector(false_alarms=0.001, **SMALL)
    with pytest.warns(UserWarning, match=r"Only 60 groups .* needs at least 999 "):
        detector.fit(windows, groups=logs["session"])
    assert detector.validation_false_alarms_ == 0.0


@pytest.mark.parametrize(
    "params, groups, match",
    [
        (dict(contamination=0.1), None, "Both false_alarms and contamination"),
        ({}, np.zeros(5), "one group per window"),
        ({}, "same", "at least 2 training groups, one to train on"),
    ],
)
def test_bad_budget_settings_are_explained(logs, params, groups, match):
    windows = windower().fit_transform(logs)
    if isinstance(groups, str):
        groups = np.zeros(len(windows))
    detector = DeepLogDetector(false_alarms=0.05, **{**SMALL, **params})
    with pytest.raises(ValueError, match=match):
        detector.fit(windows, groups=groups)


def test_the_rule_must_match_the_threshold_it_was_set_for(logs):
    windows = windower().fit_transform(logs)
    groups = logs["session"]
    detector = DeepLogDetector(top_g=2, **SMALL).fit(windows)
    with pytest.raises(ValueError, match="set its threshold with calibrate"):
        detector.set_params(false_alarms=0.05).predict(windows)
    detector.calibrate(windows, groups)
    assert detector.validation_false_alarms_ <= 0.05
    detector.predict(windows)
    with pytest.raises(ValueError, match="fit again to use the top-g rule"):
        detector.set_params(false_alarms=None).predict(windows)
    with pytest.raises(ValueError, match="set one first"):
        detector.calibrate(windows)
    # A new fit with the top-g rule forgets the budget's threshold.
    detector.fit(windows)
    assert not hasattr(detector, "n_validation_") and detector.offset_ == 0.0


def test_partial_fit_sets_the_threshold_once_then_keeps_it(logs):
    windows = windower().fit_transform(logs)
    groups = logs["session"].to_numpy()
    detector = DeepLogDetector(false_alarms=0.05, **SMALL)
    detector.partial_fit(windows, groups=groups)  # holds out, as fit does
    assert detector.n_validation_ == round(0.2 * len(np.unique(groups)))
    offset = detector.offset_
    detector.partial_fit(windows[:50])
    assert detector.offset_ == offset


def test_groups_reach_the_detector_by_metadata_routing(budgeted, logs):
    with sklearn.config_context(enable_metadata_routing=True):
        detector = DeepLogDetector(false_alarms=0.05, **SMALL)
        model = make_pipeline(windower(), detector.set_fit_request(groups=True))
        model.fit(logs, groups=logs["session"])
    assert model[-1].n_validation_ == budgeted[-1].n_validation_
    assert model[-1].offset_ == budgeted[-1].offset_


def test_grid_search_passes_each_split_its_groups(logs):
    model = make_pipeline(windower(), DeepLogDetector(false_alarms=0.05, **SMALL))
    search = GridSearchCV(
        model, {"deeplogdetector__hidden_size": [8, 16]}, cv=GroupKFold(2)
    )
    groups = logs["session"]
    search.fit(logs, groups=groups, deeplogdetector__groups=groups)
    n_sessions = groups.nunique()
    assert search.best_estimator_[-1].n_validation_ == round(0.2 * n_sessions)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_a_budgeted_model_saves_and_streams_as_it_scores(budgeted, logs, tmp_path):
    path = tmp_path / "model.skops"
    save_model(budgeted, path)
    loaded = load_model(path)
    for name in ("offset_", "validation_false_alarms_", "n_validation_"):
        assert getattr(loaded[-1], name) == getattr(budgeted[-1], name)
    assert_array_equal(loaded.decision_function(logs), budgeted.decision_function(logs))
    stream = StreamDetector(loaded, top_k=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decided = [stream.update(logs.iloc[i : i + 97]) for i in range(0, 2000, 97)]
    decided.append(stream.flush())
    scores = np.concatenate([d["score"].to_numpy() for d in decided])
    order = np.concatenate([d.index.to_numpy() for d in decided])
    assert_allclose(scores, budgeted.decision_function(logs.iloc[:2000])[order])


def test_a_refused_refit_leaves_the_fitted_detector_as_it_was(budgeted, logs):
    detector = copy.deepcopy(budgeted[-1])
    windows = budgeted[0].transform(logs)
    before = detector.decision_function(windows)
    other = windows.copy()
    other[:, :-1] = np.where(np.isfinite(other[:, :-1]), other[:, :-1] + 100, -np.inf)
    with pytest.raises(ValueError, match="at least 2 training groups"):
        detector.fit(other, groups=np.zeros(len(other)))
    assert_array_equal(detector.decision_function(windows), before)


# scikit-learn's Pipeline.score refuses the scorer's sample_weight under routing.
@pytest.mark.filterwarnings("ignore:Scoring failed", "ignore:One or more of the test")
def test_group_k_fold_search_with_metadata_routing_leaves_a_top_g_model_alone(logs):
    model = make_pipeline(windower(), DeepLogDetector(top_g=2, **SMALL))
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            model, {"deeplogdetector__hidden_size": [8]}, cv=GroupKFold(2)
        )
        search.fit(logs, groups=logs["session"])  # for the splitter only
    assert not hasattr(search.best_estimator_[-1], "n_validation_")


def test_deeplog_passes_groups_with_and_without_metadata_routing(logs):
    events = logs.assign(size=1.0)[["session", "time", "event", "size"]]
    values = ParameterValueDetector(
        event="event", group="session", time="time", max_epochs=1, random_state=0
    )
    held_out = []
    for routing in (False, True):
        with sklearn.config_context(enable_metadata_routing=routing):
            detector = DeepLogDetector(false_alarms=0.05, **SMALL)
            if routing:
                detector.set_fit_request(groups=True)
            model = DeepLog(make_pipeline(windower(), detector), values)
            model.fit(events, groups=events["session"])
        held_out.append(model.key_model_[-1].n_validation_)
    assert held_out == [60, 60]
