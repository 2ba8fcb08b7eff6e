# SPDX-License-Identifier: BSD-3-Clause
"""The whole chain on generated logs with a known workflow."""

import subprocess
import sys

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import DeepLogDetector, SequenceWindower, aggregate_sessions
from sklearn_deeplog.datasets import make_logs


def make_model(**detector_params):
    params = dict(
        top_g=3,
        hidden_size=16,
        num_layers=1,
        embedding_dim=8,
        max_epochs=40,
        batch_size=32,
        lr=0.01,
        random_state=0,
    )
    return make_pipeline(
        SequenceWindower(window=5, event="event", group="session", time="time"),
        DeepLogDetector(**{**params, **detector_params}),
    )


@pytest.fixture(scope="module")
def logs():
    train = make_logs(300, random_state=0)
    return train, make_logs(200, anomaly_ratio=0.3, random_state=1)


@pytest.fixture(scope="module")
def model(logs):
    return make_model().fit(logs[0])


def test_injected_anomalies_are_flagged_and_nothing_else(model, logs):
    _, test = logs
    predictions = model.predict(test)
    anomalous_sessions = aggregate_sessions(-test["label"], test["session"]) == -1
    in_anomalous_session = anomalous_sessions.loc[test["session"]].to_numpy()
    assert (predictions[test["label"] == 1] == -1).all()
    assert (predictions[~in_anomalous_session] == 1).all()
    session_predictions = aggregate_sessions(predictions, test["session"])
    assert_array_equal(session_predictions == -1, anomalous_sessions)


def test_grid_search_without_labels_uses_the_log_likelihood(logs):
    train, _ = logs
    grid = {
        "sequencewindower__window": [0, 5],
        "deeplogdetector__top_g": [2, 3],
        "deeplogdetector__hidden_size": [8, 16],
    }
    search = GridSearchCV(make_model(max_epochs=20), grid, cv=2).fit(train)
    # A window of 0 keys cannot learn the workflow: its likelihood is lower.
    assert search.best_params_["sequencewindower__window"] == 5
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_grid_search_with_labels_and_groups(logs):
    _, test = logs
    y = np.where(test["label"] == 1, -1, 1)
    search = GridSearchCV(
        make_model(max_epochs=20),
        {"deeplogdetector__top_g": [1, 3]},
        scoring=make_scorer(f1_score, pos_label=-1),
        cv=GroupKFold(n_splits=2),
    ).fit(test, y, groups=test["session"])
    # Normal logs have up to three possible next keys: top_g=1 flags normal entries.
    assert search.best_params_["deeplogdetector__top_g"] == 3


def test_joblib_round_trip_in_a_fresh_process(model, logs, tmp_path):
    _, test = logs
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    test.to_pickle(tmp_path / "test.pkl")
    script = (
        "import sys, joblib, pandas as pd, numpy as np, torch\n"
        "torch.set_num_threads(1)\n"
        "model, test = joblib.load(sys.argv[1]), pd.read_pickle(sys.argv[2])\n"
        "np.save(sys.argv[3], model.score_samples(test))\n"
    )
    paths = [path, tmp_path / "test.pkl", tmp_path / "scores.npy"]
    subprocess.run([sys.executable, "-c", script, *map(str, paths)], check=True)
    assert_array_equal(np.load(tmp_path / "scores.npy"), model.score_samples(test))


def test_online_update_accepts_a_false_positive_and_keeps_earlier_behaviour(logs):
    train, test = logs
    # Train on logs that never flush (4): a flush is a false positive at first.
    no_flush = train[~train["session"].isin(train.loc[train["event"] == 4, "session"])]
    model = make_model().fit(no_flush)
    anomalous = test.loc[test["label"] == 1, "session"]
    flushing = test.loc[test["event"] == 4, "session"]
    first = test[test["session"] == flushing[~flushing.isin(anomalous)].iloc[0]]
    assert (model.predict(first) == -1).any()
    flagged_before = model.predict(test) == -1

    windows = model[0].transform(first)
    detector = model[-1].set_params(lr=0.003)
    for _ in range(100):
        detector.partial_fit(windows)
        if (detector.predict(windows) == 1).all():
            break
    assert (model.predict(first) == 1).all()
    # What was normal stays normal, and flagged anomalies stay flagged.
    assert (model.predict(no_flush) == 1).all()
    anomalies = test["label"].to_numpy() == 1
    assert (model.predict(test)[anomalies & flagged_before] == -1).all()


def test_same_random_state_gives_identical_results(logs):
    train, test = logs
    first = make_model(max_epochs=5).fit(train).score_samples(test)
    second = make_model(max_epochs=5).fit(train).score_samples(test)
    assert_array_equal(first, second)
