# SPDX-License-Identifier: BSD-3-Clause
"""StreamDetector: the decisions of whole-log scoring, entry by entry."""

import warnings
from copy import deepcopy

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
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
    one_stream = dict(COLUMNS, group=None)
    return {
        "plain": key_model(train),
        "complete sessions": key_model(train, complete_sessions=True),
        "timeout": key_model(train, timeout=1.0),
        "key and values": DeepLog(
            key_model=key_model(performance, complete_sessions=True),
            value_model=value_model,
        ).fit(performance),
        # Each key's history reaches back across batches, and so does the time
        # elapsed before each of its entries.
        "values in one stream": DeepLog(
            key_model=make_pipeline(
                SequenceWindower(window=3, **one_stream), DeepLogDetector(**NETWORK)
            ),
            value_model=clone(value_model).set_params(**one_stream),
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
    if name in ("key and values", "values in one stream"):
        log = make_performance_logs(n_sessions=20, n_slow=2, random_state=3)
        return log.sort_values("time", kind="stable")
    return logs[1]


@pytest.mark.parametrize(
    "name",
    ["plain", "complete sessions", "timeout", "key and values", "values in one stream"],
)
@pytest.mark.parametrize("batch_size", [1, 7, 10_000])
def test_decisions_are_those_of_the_whole_log(models, logs, name, batch_size):
    model, log = models[name], log_for(name, logs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # in time order: nothing to warn about
        decided = stream_all(StreamDetector(model), log, batch_size)
    assert sorted(decided.index) == sorted(log.index)  # each entry once
    decided = decided.loc[log.index]
    whole = model.decision_function(log)
    np.testing.assert_allclose(decided["score"], whole, rtol=1e-12, atol=1e-12)
    assert (decided["anomaly"] == (whole < 0)).all()
    pd.testing.assert_frame_equal(decided[log.columns], log)  # entries as they came
    if isinstance(model, DeepLog):
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
    assert warned[0].filename == __file__  # said where the entries were given


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


def test_a_batch_that_is_refused_leaves_the_stream_as_it_was(models, logs):
    model, log = models["complete sessions"], logs[1]
    straight = stream_all(StreamDetector(model), log, 7)
    stream = StreamDetector(model)
    first = stream.update(log.iloc[:20])
    wrong = log.iloc[20:30].assign(time=np.nan)  # a missing time: refused
    with pytest.raises(ValueError, match="time"):
        stream.update(wrong)
    assert stream.n_open_groups == log.iloc[:20]["session"].nunique()
    rest = stream_all(stream, log.iloc[20:], 7)
    pd.testing.assert_frame_equal(
        pd.concat([first, rest]).loc[log.index], straight.loc[log.index]
    )


def test_decisions_do_not_depend_on_scikit_learn_s_output_setting(models, logs):
    model, log = models["complete sessions"], logs[1]
    expected = stream_all(StreamDetector(model), log, 7)
    with sklearn.config_context(transform_output="pandas"):
        decided = stream_all(StreamDetector(model), log, 7)
    pd.testing.assert_frame_equal(decided, expected)


def test_expected_keys_are_lists_of_each_decision_s_own(models, logs):
    # Decisions on the same window are computed once: a caller changing one
    # decision's list must change no other, now or later.
    model, log = models["plain"], logs[1]
    reference = StreamDetector(model, top_k=2)
    unchanged = [reference.update(log.iloc[:20]), reference.update(log.iloc[20:40])]
    stream = StreamDetector(model, top_k=2)
    first = stream.update(log.iloc[:20])
    assert first["expected"].map(str).duplicated().any()  # the same keys twice
    for pairs in first["expected"].iloc[::2]:
        pairs.append(["changed by the caller", 1.0])
    assert first["expected"].iloc[1::2].tolist() == (
        unchanged[0]["expected"].iloc[1::2].tolist()
    )
    later = stream.update(log.iloc[20:40])
    assert later["expected"].tolist() == unchanged[1]["expected"].tolist()


def test_a_group_that_opens_is_never_out_of_time_order(models):
    # Eight groups fill the first ids; the last has the latest time and goes
    # on in a batch where a group opens: that group has nothing before it.
    columns = dict(machine="m1", event=1, label=0)
    first = pd.DataFrame({"session": range(8), "time": [*range(7), 100.0], **columns})
    later = pd.DataFrame({"session": [7, 8], "time": [101.0, 9.0], **columns})
    stream = StreamDetector(models["plain"])
    stream.update(first[["machine", "session", "time", "event", "label"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stream.update(later[["machine", "session", "time", "event", "label"]])
    assert stream.n_open_groups == 9
