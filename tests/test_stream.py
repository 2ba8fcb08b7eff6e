# SPDX-License-Identifier: BSD-3-Clause
"""StreamDetector: the decisions of whole-log scoring, entry by entry."""

from copy import deepcopy

import numpy as np
import pandas as pd
import pytest
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
from sklearn_deeplog import _stream as stream_module
from sklearn_deeplog.datasets import make_logs, make_performance_logs

COLUMNS = dict(event="event", group="session", time="time")
NETWORK = dict(top_g=2, hidden_size=16, max_epochs=15, random_state=0)


def key_model(train, **windower):
    return make_pipeline(
        SequenceWindower(window=3, **COLUMNS, **windower), DeepLogDetector(**NETWORK)
    ).fit(train)


@pytest.fixture(scope="module")
def logs():
    train = make_logs(80, random_state=0)
    test = make_logs(30, anomaly_ratio=0.3, random_state=1)
    return train, test.sort_values("time", kind="stable")  # in arrival order


@pytest.fixture(scope="module")
def models(logs):
    train, _ = logs
    performance = make_performance_logs(n_sessions=60, random_state=0)
    value_model = ParameterValueDetector(
        **COLUMNS, values=["size"], hidden_size=8, max_epochs=5, random_state=0
    )
    return {
        "plain": key_model(train),
        "complete sessions": key_model(train, complete_sessions=True),
        "timeout": key_model(train, timeout=1.0),
        "key and values": DeepLog(
            key_model=key_model(performance, complete_sessions=True),
            value_model=value_model,
        ).fit(performance),
    }


def stream_all(stream, log, batch_size):
    """Feed `log` in batches, then flush; every decision, by entry."""
    decided = [
        stream.update(log.iloc[start : start + batch_size])
        for start in range(0, len(log), batch_size)
    ]
    decided.append(stream.flush())
    return pd.concat(decided)


def log_for(name, logs):
    """The test log of a model: performance logs for the value model."""
    if name == "key and values":
        log = make_performance_logs(n_sessions=20, n_slow=2, random_state=3)
        return log.sort_values("time", kind="stable")
    return logs[1]


@pytest.mark.parametrize(
    "name", ["plain", "complete sessions", "timeout", "key and values"]
)
@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_decisions_are_those_of_the_whole_log(models, logs, name, batch_size):
    model, log = models[name], log_for(name, logs)
    decided = stream_all(StreamDetector(model), log, batch_size)
    assert sorted(decided.index) == sorted(log.index)  # each entry once
    decided = decided.loc[log.index]
    whole = model.decision_function(log)
    np.testing.assert_allclose(decided["score"], whole, rtol=1e-12, atol=1e-12)
    assert (decided["anomaly"] == (whole < 0)).all()
    pd.testing.assert_frame_equal(decided[log.columns], log)  # entries as they came
    if name == "key and values":
        assert (decided["flagged_by"] == model.flagged_by(log)).all()
        assert (decided["flagged_by"] == "value").any()


def test_expected_keys_are_the_key_model_s(models, logs):
    model, log = models["plain"], logs[1]
    decided = stream_all(StreamDetector(model, top_k=2), log, 5).loc[log.index]
    keys, probabilities = model[-1].predict_next(model[0].transform(log), k=2)
    expected = decided["expected"].tolist()
    assert [[key for key, _ in pairs] for pairs in expected] == keys.tolist()
    streamed = [[p for _, p in pairs] for pairs in expected]
    np.testing.assert_allclose(streamed, probabilities, rtol=1e-12)
    assert "expected" not in StreamDetector(model, top_k=None).update(log)


def test_state_holds_the_last_window_of_each_open_group(models, logs):
    model, log = models["complete sessions"], logs[1]
    stream = StreamDetector(model)
    for start in range(0, len(log), 3):
        stream.update(log.iloc[start : start + 3])
        tail = stream._tail.all()[0]
        per_group = tail.groupby("session").size()
        assert (per_group <= model[0].window + 1).all()
        assert stream.n_open_groups == log.iloc[: start + 3]["session"].nunique()
    # One held-back entry per group, decided by flush as its session's end.
    assert len(stream.flush()) == log["session"].nunique()
    assert stream.n_open_groups == 0 and stream._tail.all() is None


def test_idle_groups_are_closed_and_their_ends_judged(models, logs):
    model, log = models["complete sessions"], logs[1]
    sessions = log.groupby("session")["time"].agg(["min", "max"])
    # A timeout shorter than any gap between sessions' ends and later entries
    # would close a session before its end: take one longer than every
    # session's inner gaps.
    gaps = log.groupby("session")["time"].diff().max()
    stream = StreamDetector(model, idle_timeout=float(gaps) + 1e-9)
    decided = [stream.update(log.iloc[[i]]) for i in range(len(log))]
    closed_early = sum(len(d) for d in decided)
    assert closed_early > len(log) - len(sessions)  # some ends judged on the way
    assert stream.n_open_groups < len(sessions)
    decided.append(stream.flush())
    decided = pd.concat(decided).loc[log.index]
    whole = model.decision_function(log)
    np.testing.assert_allclose(decided["score"], whole, rtol=1e-12, atol=1e-12)


def test_max_groups_closes_the_groups_idle_longest(models, logs):
    model, log = models["plain"], logs[1]
    stream = StreamDetector(model, max_groups=2)
    for i in range(len(log)):
        stream.update(log.iloc[[i]])
        assert stream.n_open_groups <= 2
    assert set(stream._groups) <= set(log["session"].iloc[-10:])


def test_a_restarted_process_resumes_from_the_saved_state(models, logs, tmp_path):
    model, log = models["key and values"], log_for("key and values", logs)
    half = len(log) // 2
    straight = StreamDetector(model)
    expected = stream_all(straight, log, 4)
    stream = StreamDetector(model)
    first = [stream.update(log.iloc[s : s + 4]) for s in range(0, half, 4)]
    save_model(stream, tmp_path / "stream.skops")
    restored = load_model(tmp_path / "stream.skops")
    rest = stream_all(restored, log.iloc[len(first) * 4 :], 4)
    resumed = pd.concat([*first, rest])
    pd.testing.assert_frame_equal(resumed, expected)


def test_entries_out_of_time_order_are_warned_once(models, logs):
    model, log = models["plain"], logs[1]
    stream = StreamDetector(model)
    stream.update(log.iloc[10:20])
    with pytest.warns(UserWarning, match="arrive out of time order") as warned:
        stream.update(log.iloc[:10])
        stream.update(log.iloc[:10])
    assert len(warned) == 1


def test_wrong_models_and_inputs_are_refused(models, logs):
    with pytest.raises(ValueError, match="needs a fitted model"):
        StreamDetector(make_pipeline(SequenceWindower(), DeepLogDetector()))
    with pytest.raises(TypeError, match="needs a pipeline of a SequenceWindower"):
        StreamDetector(make_pipeline(SequenceWindower()))
    with pytest.raises(TypeError, match="takes a pandas DataFrame"):
        StreamDetector(models["plain"]).update(logs[1].to_numpy())
    with pytest.raises(ValueError, match="idle_timeout"):
        StreamDetector(models["plain"], idle_timeout=0)


def test_empty_batches_and_entries_without_a_group_are_handled(models, logs):
    model, log = models["complete sessions"], logs[1]
    stream = StreamDetector(model)
    assert len(stream.update(log.iloc[:0])) == 0  # nothing yet, no columns needed
    orphans = log.astype({"session": object})
    orphans.iloc[:5, orphans.columns.get_loc("session")] = None  # one group: none
    decided = stream_all(stream, orphans, 7)
    assert sorted(decided.index) == sorted(log.index)  # flushed, the orphans too
    assert stream.n_open_groups == 0 and stream._tail.all() is None


def test_a_stream_with_a_workflow_says_how_to_save_it(models, tmp_path):
    from sklearn_deeplog import Workflow

    train = make_logs(20, random_state=0)
    stream = StreamDetector(models["plain"], workflow=Workflow(**COLUMNS).fit(train))
    with pytest.raises(TypeError, match="set its workflow to None to save it"):
        save_model(stream, tmp_path / "stream.skops")


def test_decisions_follow_the_model_after_an_online_update(models, logs):
    # A stream keeps the decisions of the windows it has seen: an update of
    # the model (partial_fit) must not leave it with the old model's.
    model, log = deepcopy(models["plain"]), logs[1]
    half = len(log) // 2
    windows = [set(map(tuple, model[0].transform(part))) for part in (log, log[:half])]
    assert len(windows[0] - windows[1]) < len(windows[0]) / 2  # seen before
    stream = StreamDetector(model)
    stream.update(log.iloc[:half])
    before = model.decision_function(log)
    model[-1].partial_fit(model[0].transform(log.iloc[:half]))
    after = model.decision_function(log)
    assert not np.allclose(before[half:], after[half:])
    decided = stream_all(stream, log.iloc[half:], 7).loc[log.index[half:]]
    np.testing.assert_allclose(decided["score"], after[half:], rtol=1e-12, atol=1e-12)


def test_decisions_are_exact_when_more_windows_come_than_are_kept(
    models, logs, monkeypatch
):
    monkeypatch.setattr(stream_module, "_KNOWN_WINDOWS", 3)  # forgotten often
    model, log = models["complete sessions"], logs[1]
    decided = stream_all(StreamDetector(model, top_k=2), log, 5).loc[log.index]
    np.testing.assert_allclose(
        decided["score"], model.decision_function(log), rtol=1e-12, atol=1e-12
    )
    keys, _ = model[-1].predict_next(model[0].transform(log), k=2)
    expected = decided["expected"].tolist()
    assert [[key for key, _ in pairs] for pairs in expected] == keys.tolist()
