# SPDX-License-Identifier: BSD-3-Clause
"""The parameter-value model and its combination with the key model."""

import copy

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from skorch import NeuralNet

from sklearn_deeplog import (
    DeepLog,
    DeepLogDetector,
    LogTemplateMiner,
    ParameterValueDetector,
    SequenceWindower,
    load_model,
    numeric_parameters,
    save_model,
)
from sklearn_deeplog._network import ValueLSTM
from sklearn_deeplog.datasets import make_performance_logs
from sklearn_deeplog.io import LOGHUB_FORMATS, read_raw_log

TINY = dict(hidden_size=8, max_epochs=15, random_state=0)


def value_model(**params):
    return ParameterValueDetector(
        event="event", group="session", time="time", values=["size"], **TINY, **params
    )


def key_model():
    return make_pipeline(
        SequenceWindower(window=3, event="event", group="session", time="time"),
        DeepLogDetector(
            top_g=3, hidden_size=8, num_layers=1, max_epochs=40, random_state=0
        ),
    )


@pytest.fixture(scope="module")
def logs():
    train = make_performance_logs(150, random_state=0)
    test = make_performance_logs(100, n_slow=4, n_large=4, random_state=1)
    return train, test


@pytest.fixture(scope="module")
def fitted(logs):
    return DeepLog(key_model=key_model(), value_model=value_model()).fit(logs[0])


def test_value_model_flags_the_performance_anomalies(logs, fitted):
    train, test = logs
    detector = fitted.value_model_
    # Key 1 opens each session: no elapsed time, no size, so it is not modelled.
    assert set(detector.modelled_keys_) == {2, 3, 4, 5, 6}
    assert detector.n_unmodelled_ == (train["event"] == 1).sum()
    assert list(detector.value_names_) == ["size", "elapsed"]
    assert_array_equal(
        detector.dimensions_[list(detector.modelled_keys_).index(3)], [True, True]
    )

    flags = detector.predict(test)
    anomalous = test["label"].to_numpy() == 1
    assert (flags[anomalous] == -1).all()
    # A few normal entries too: squared errors are skewed (chi-square-like), so
    # the paper's Gaussian at confidence 0.99 flags about 4% of normal entries
    # here, not 1%. The anomalies lie thousands of standard deviations out.
    assert (flags[~anomalous] == -1).mean() <= 0.05
    assert detector.score_samples(test)[anomalous].max() < -1000
    assert (detector.decision_function(test)[test["event"] == 1] >= 0).all()

    # The key sequences are normal: the key model alone lets the anomalies pass.
    assert (fitted.key_model_.predict(test)[anomalous] == 1).all()
    # Together: flagged, by the value model.
    assert (fitted.predict(test)[anomalous] == -1).all()
    assert set(fitted.flagged_by(test)[anomalous]) == {"value"}


def test_combined_model_defers_to_the_key_model(logs, fitted):
    test = logs[1].copy()
    test.loc[test["event"] == 4, "event"] = 99  # a key never seen: key anomaly
    who = fitted.flagged_by(test)
    assert set(who[test["event"] == 99]) == {"key"}
    decision = fitted.decision_function(test)
    key_decision = fitted.key_model_.decision_function(test)
    value_decision = fitted.value_model_.decision_function(test)
    assert_array_equal(
        decision, np.where(key_decision < 0, key_decision, value_decision)
    )
    assert_array_equal(fitted.predict(test) == -1, who != "")
    # An unseen key is never a value anomaly: its values are not modelled.
    assert (value_decision[test["event"] == 99] >= 0).all()


def test_score_samples_is_the_standardised_error(logs, fitted):
    detector = fitted.value_model_
    test = logs[1]
    scores = detector.score_samples(test)
    assert scores.dtype == np.float64 and np.isfinite(scores).all()
    assert detector.offset_ == pytest.approx(-2.3263478740)
    assert_array_equal(detector.predict(test) == -1, scores < detector.offset_)
    assert detector.score(logs[0]) > detector.score(test)


def test_fewer_than_min_samples_are_not_modelled():
    events = pd.DataFrame({"key": ["a"] * 30 + ["b"] * 5, "v": np.arange(35.0)})
    detector = ParameterValueDetector(event="key", min_samples=10, **TINY).fit(events)
    assert list(detector.modelled_keys_) == ["a"]
    assert detector.n_unmodelled_ == 5
    test = pd.DataFrame({"key": ["b", "c", "a"], "v": [1e6, 1e6, np.nan]})
    assert_array_equal(detector.score_samples(test), [0.0, 0.0, 0.0])


def test_partial_fit_models_new_keys_and_keeps_the_old():
    rng = np.random.RandomState(0)
    events = pd.DataFrame({"key": [1] * 40, "v": rng.normal(5, 1, 40)})
    detector = ParameterValueDetector(event="key", **TINY).fit(events)
    before = detector.error_mean_.copy()
    new = pd.DataFrame({"key": [2] * 20 + [3] * 2, "v": rng.normal(50, 1, 22)})
    detector.partial_fit(new)
    assert list(detector.modelled_keys_) == [1, 2]  # 3 has too few entries
    assert detector.error_mean_[0] == before[0]
    assert detector.n_unmodelled_ == 2
    assert detector.predict(pd.DataFrame({"key": [2, 2], "v": [50.0, 500.0]}))[1] == -1

    first = ParameterValueDetector(event="key", **TINY).partial_fit(events)
    assert list(first.modelled_keys_) == [1]


def test_persistence_round_trips(logs, fitted, tmp_path):
    test = logs[1]
    expected = fitted.decision_function(test)
    joblib.dump(fitted, tmp_path / "model.joblib")
    assert_array_equal(
        joblib.load(tmp_path / "model.joblib").decision_function(test), expected
    )
    save_model(fitted, tmp_path / "model.skops")
    restored = load_model(tmp_path / "model.skops")
    assert_array_equal(restored.decision_function(test), expected)
    assert_array_equal(restored.flagged_by(test), fitted.flagged_by(test))


@pytest.mark.parametrize(
    "method", ["score_samples", "decision_function", "predict", "score"]
)
def test_parameters_changed_after_fit_are_checked_when_scoring(logs, fitted, method):
    value_detector = copy.deepcopy(fitted.value_model_).set_params(confidence=2)
    with pytest.raises(ValueError, match="'confidence' parameter of ParameterValue"):
        getattr(value_detector, method)(logs[1])
    model = copy.deepcopy(fitted).set_params(value_model="a detector")
    if method != "score":  # DeepLog has no score
        with pytest.raises(ValueError, match="'value_model' parameter of DeepLog"):
            getattr(model, method)(logs[1])


def test_verbose_is_one_progress_bar_read_at_each_call(capsys):
    events = pd.DataFrame({"key": [1, 2] * 20, "v": np.arange(40.0)})
    detector = ParameterValueDetector(event="key", **TINY, verbose=1).fit(events)
    out, err = capsys.readouterr()
    assert out == "" and "15/15" in err and "loss=" in err
    assert "train_loss" not in err and "\x1b[" not in err  # no epoch table
    detector.set_params(verbose=0).partial_fit(events)
    assert capsys.readouterr() == ("", "")


def test_torch_runs_on_n_threads_then_is_restored(monkeypatch):
    seen = []
    forward = ValueLSTM.forward

    def recording_forward(module, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return forward(module, *args, **kwargs)

    monkeypatch.setattr(ValueLSTM, "forward", recording_forward)
    events = pd.DataFrame({"key": [1, 2] * 20, "v": np.arange(40.0)})
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        detector = ParameterValueDetector(event="key", **TINY).fit(events)
        detector.partial_fit(events).predict(events)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
    assert seen and set(seen) == {1}


def test_scoring_in_small_batches_changes_nothing(logs, fitted, monkeypatch):
    # Entries run through the network in batches within scikit-learn's
    # working_memory; float64 scoring makes the errors independent of them.
    detector, test = fitted.value_model_, logs[1]
    whole = detector.score_samples(test)
    batches = []
    forward = ValueLSTM.forward

    def recording_forward(module, key, history):
        batches.append(len(key))
        return forward(module, key, history)

    monkeypatch.setattr(ValueLSTM, "forward", recording_forward)
    with sklearn.config_context(working_memory=0.05):
        assert_array_equal(detector.score_samples(test), whole)
    assert len(batches) > 1 and sum(batches) == np.count_nonzero(whole)


def test_ctrl_c_during_training_keeps_a_usable_model_and_says_so(logs, monkeypatch):
    calls = {"n": 0}
    train_step = NeuralNet.train_step

    def interrupted_train_step(net, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return train_step(net, *args, **kwargs)

    monkeypatch.setattr(NeuralNet, "train_step", interrupted_train_step)
    with pytest.warns(UserWarning, match=r"interrupted \(Ctrl-C\) after \d+ of 15"):
        detector = value_model().fit(logs[0])
    assert detector.predict(logs[1]).shape == (len(logs[1]),)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_ctrl_c_outside_training_leaves_the_detector_unfitted(
    logs, fitted, monkeypatch, method
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ParameterValueDetector, "_fit_gaussians", interrupted)
    detector = copy.deepcopy(fitted.value_model_)
    with pytest.raises(KeyboardInterrupt):
        getattr(detector, method)(logs[1])
    assert not [name for name in vars(detector) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        detector.predict(logs[1])


@pytest.mark.parametrize(
    "values, error, match",
    [
        (["x", "y"], ValueError, "holds text"),
        ([1.0, np.inf], ValueError, "infinite"),
        ([{"a": 1}, 2.0], TypeError, "non-numeric"),
    ],
)
def test_bad_values_are_refused(values, error, match):
    events = pd.DataFrame({"key": [1, 1], "v": pd.Series(values, dtype=object)})
    with pytest.raises(error, match=match):
        ParameterValueDetector(event="key").fit(events)


def test_missing_keys_are_refused():
    events = pd.DataFrame({"key": [1, None], "v": [1.0, 2.0]})
    with pytest.raises(ValueError, match="missing keys"):
        ParameterValueDetector(event="key").fit(events)


def test_numeric_parameters():
    values = numeric_parameters([["blk_1", "64", "1.5"], [], ["-3", "10.0.0.1:50010"]])
    assert_array_equal(values, [[np.nan, 64, 1.5], [np.nan] * 3, [-3, np.nan, np.nan]])
    assert numeric_parameters([]).shape == (0, 0)


def test_hdfs_2k_values(shared_data):
    pytest.importorskip("drain3")
    directory = shared_data / "loghub_2k" / "HDFS"
    table = read_raw_log(directory / "HDFS_2k.log", LOGHUB_FORMATS["HDFS"])
    miner = LogTemplateMiner().fit(table)
    values = numeric_parameters(miner.extract_parameters(table))
    events = pd.DataFrame(values, columns=[f"p{j}" for j in range(values.shape[1])])
    events.insert(0, "event", miner.transform(table).ravel())
    detector = ParameterValueDetector(event="event", **TINY).fit(events)
    flags = detector.predict(events)
    assert flags.shape == (len(table),) == (2000,)
    assert np.isfinite(detector.score_samples(events)).all()
    assert len(detector.modelled_keys_) >= 2
    flagged = (flags == -1).mean()
    assert 0 < flagged <= 0.05
