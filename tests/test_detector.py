# SPDX-License-Identifier: BSD-3-Clause
import copy
import pickle
import warnings

import numpy as np
import pytest
import sklearn
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import NO_EVENT, SESSION_END, DeepLogDetector, SequenceWindower
from sklearn_deeplog._network import LogKeyLSTM, WeightedNeuralNet, grow_state_dict
from sklearn_deeplog._torch_nets import resolve_device
from sklearn_deeplog.datasets import make_logs

P = NO_EVENT
# A cyclic log 1 2 3 4 5 1 2 ... with a fork: after 5 comes 1 or 6 (then 1).
CYCLE = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 6]


def small_detector(**params):
    defaults = dict(
        hidden_size=16,
        num_layers=1,
        embedding_dim=8,
        max_epochs=60,
        lr=0.01,
        batch_size=32,
        random_state=0,
    )
    return DeepLogDetector(**{**defaults, **params})


def cyclic_windows(n_repeats=20, window=3):
    keys = np.array(CYCLE * n_repeats)[:, None]
    return SequenceWindower(window=window).fit_transform(keys)


@pytest.fixture(scope="module")
def fitted():
    X = cyclic_windows()
    return small_detector(top_g=2).fit(X), X


def test_normal_windows_are_normal_and_wrong_transitions_flagged(fitted):
    detector, X = fitted
    assert (detector.predict(X) == 1).all()
    wrong = np.array([[1, 2, 3, 5], [3, 4, 5, 3]], dtype=float)
    assert_array_equal(detector.predict(wrong), [-1, -1])


def test_top_g_rule_is_exactly_decision_function_sign(fitted):
    detector, X = fitted
    contexts = X[:10, :-1]
    for key in detector.keys_:
        windows = np.column_stack([contexts, np.full(len(contexts), key)])
        expected_keys, _ = detector.predict_next(windows, k=detector.top_g)
        in_top_g = (expected_keys == key).any(axis=1)
        assert_array_equal(detector.decision_function(windows) >= 0, in_top_g)
        assert_array_equal(detector.predict(windows) == 1, in_top_g)


def test_unseen_key_scores_below_every_seen_key_and_never_warns(fitted):
    detector, X = fitted
    context = X[7, :-1]
    seen = [np.r_[context, key] for key in detector.keys_]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unseen_score = detector.score_samples([np.r_[context, 42.0]])
        seen_scores = detector.score_samples(seen)
    assert np.isfinite(unseen_score).all()
    assert unseen_score[0] < seen_scores.min()
    assert detector.predict([np.r_[context, 42.0]])[0] == -1
    # An unseen key in the context is read, not an error.
    assert np.isfinite(detector.score_samples([[42.0, 1, 2, 3]])).all()


def test_padding_is_context_only(fitted):
    detector, X = fitted
    keys, probabilities = detector.predict_next(X, k=len(detector.keys_))
    assert not np.isin(keys, [NO_EVENT, SESSION_END]).any()
    assert set(detector.keys_) == {1, 2, 3, 4, 5, 6}
    assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (np.diff(probabilities, axis=1) <= 0).all()
    with pytest.raises(ValueError, match="cannot be a key to check"):
        detector.predict([[1, 2, 3, P]])


def test_score_is_higher_on_normal_than_on_shuffled_logs(fitted):
    detector, X = fitted
    shuffled = X.copy()
    np.random.RandomState(0).shuffle(shuffled[:, -1])
    assert detector.score(X) > detector.score(shuffled)
    assert detector.score(X) <= 0


def test_float_contamination_flags_that_share_of_training_entries():
    X = cyclic_windows()
    detector = small_detector(contamination=0.1, max_epochs=5).fit(X)
    assert detector.offset_ != 0
    flagged = (detector.predict(X) == -1).mean()
    assert 0.0 < flagged <= 0.2


def test_string_and_mixed_keys():
    keys = np.array([str(k) for k in CYCLE] * 10, dtype=object)
    keys[::11] = 7  # mixed int and str keys
    X = SequenceWindower(window=2).fit_transform(keys[:, None])
    detector = small_detector(max_epochs=5).fit(X)
    assert 7 in list(detector.keys_) and "2" in list(detector.keys_)
    assert detector.score_samples(X).dtype == np.float64


def test_same_random_state_same_model_and_other_seeds_differ():
    X = cyclic_windows(5)
    scores = [
        small_detector(random_state=seed, max_epochs=3).fit(X).score_samples(X)
        for seed in (1, 1, 2)
    ]
    assert_array_equal(scores[0], scores[1])
    assert not np.allclose(scores[0], scores[2])
    # torch's global random state is left alone.
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    small_detector(max_epochs=1).fit(X)
    assert torch.rand(1) == expected


def test_partial_fit_learns_new_keys_and_keeps_learned_weights(fitted):
    detector, X = fitted
    detector = pickle.loads(pickle.dumps(detector))
    before = detector.score_samples(X)
    new = np.array([[3, 4, 5, 77]], dtype=float)
    assert detector.predict(new)[0] == -1
    detector.partial_fit(new)
    assert 77 in detector.keys_ and len(detector.keys_) == 7
    assert_array_equal(detector.predict(X), 1)
    assert_allclose(detector.score_samples(X), before, atol=0.5)


def test_scores_follow_the_weights_after_more_training(fitted):
    # The float64 copy of the network that scores is kept between calls: more
    # training must replace it.
    detector, X = fitted
    detector = pickle.loads(pickle.dumps(detector))
    before = detector.score_samples(X)
    detector.partial_fit(X[:12])
    after = detector.score_samples(X)
    assert not np.allclose(before, after)
    assert_array_equal(after, copy.deepcopy(detector).score_samples(X))
    # Weights replaced rather than changed in place are noticed too.
    output = detector.net_.module_.output
    output.bias.data = torch.zeros_like(output.bias)
    replaced = detector.score_samples(X)
    assert not np.allclose(replaced, after)
    assert_array_equal(replaced, copy.deepcopy(detector).score_samples(X))


def test_growing_the_vocabulary_keeps_every_learned_logit():
    torch.manual_seed(0)
    old = LogKeyLSTM(4, 3, 5, 1, session_end=True)
    new = LogKeyLSTM(6, 3, 5, 1, session_end=True)
    new.load_state_dict(grow_state_dict(old.state_dict(), new.state_dict(), 4, True))
    context = torch.tensor([[0, 2, 3], [1, 5, 4]])
    old_logits, new_logits = old(context), new(context)
    assert torch.equal(new_logits[:, :5], old_logits)
    lowest_bias = old.output.bias.min()
    assert torch.equal(new_logits[:, 5:], lowest_bias.expand(2, 2))


def test_complete_sessions_flag_a_session_that_stops_early():
    sessions = np.array([[s, k] for s in range(30) for k in (1, 2, 3, 4)])
    windower = SequenceWindower(window=3, group=0, complete_sessions=True)
    detector = small_detector(top_g=1).fit(windower.fit_transform(sessions))
    assert detector.session_end_
    truncated = np.array([[0, 1], [0, 2], [1, 1], [1, 2], [1, 3], [1, 4]])
    windows = windower.transform(truncated)
    assert_array_equal(detector.predict(windows), [1, -1, 1, 1, 1, 1])
    # After a whole session, the model expects its end.
    keys, _ = detector.predict_next([[2, 3, 4, 1, P]], k=1)
    assert keys[0, 0] == SESSION_END
    with pytest.raises(ValueError, match="layout"):
        detector.predict(SequenceWindower(window=4).fit_transform(truncated[:, 1:]))


@pytest.mark.parametrize("complete_sessions", [False, True])
def test_scoring_in_small_chunks_and_batches_changes_nothing(
    complete_sessions, monkeypatch
):
    # Bounded memory: scoring works on row chunks and context batches within
    # scikit-learn's working_memory; results must not depend on their sizes
    # (including sessions split across chunks).
    rng = np.random.default_rng(0)
    events = np.column_stack([np.repeat(np.arange(40), 6), rng.integers(0, 5, 240)])
    windower = SequenceWindower(window=3, group=0, complete_sessions=complete_sessions)
    X = windower.fit_transform(events)
    detector = small_detector(max_epochs=5).fit(X)
    whole = (detector.score_samples(X), detector.score(X), detector.predict_next(X))
    chunks, batches = [], []
    score_chunk = DeepLogDetector._score_chunk
    forward = LogKeyLSTM.forward_shared_prefixes

    def recording_score_chunk(detector, chunk):
        chunks.append(len(chunk))
        return score_chunk(detector, chunk)

    def recording_forward(module, context):
        batches.append(len(context))
        return forward(module, context)

    monkeypatch.setattr(DeepLogDetector, "_score_chunk", recording_score_chunk)
    monkeypatch.setattr(LogKeyLSTM, "forward_shared_prefixes", recording_forward)
    with sklearn.config_context(working_memory=0.025):  # 25.6 kB
        assert_allclose(detector.score_samples(X), whole[0], rtol=0, atol=1e-9)
        assert detector.score(X) == pytest.approx(whole[1], abs=1e-9)
        keys, probabilities = detector.predict_next(X)
    assert sum(chunks) == len(X) and 1 < len(chunks) < len(X)
    assert max(batches) < len(np.unique(X[:, :3], axis=0))
    assert_array_equal(keys, whole[2][0])
    assert_allclose(probabilities, whole[2][1], rtol=0, atol=1e-12)


def test_persistence_round_trip_gives_identical_predictions(fitted):
    detector, X = fitted
    restored = pickle.loads(pickle.dumps(detector))
    assert_array_equal(restored.score_samples(X), detector.score_samples(X))
    restored.partial_fit(X[:5])  # the optimizer state came along


@pytest.mark.parametrize("device", ["cuda", "cuda:1", "mps", "meta", "nonsense"])
def test_model_trained_on_a_device_not_available_here_loads_on_cpu(
    fitted, monkeypatch, device
):
    detector, X = fitted
    state = detector.__getstate__()
    state["device_"] = device
    restored = DeepLogDetector.__new__(DeepLogDetector)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.warns(UserWarning, match=f"trained on device '{device}'.*on the cpu"):
        restored.__setstate__(state)
    assert restored.device_ == "cpu"
    assert_array_equal(restored.score_samples(X), detector.score_samples(X))


def test_device_resolution(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cpu") == "cpu"
    for device in ["cuda", "cuda:1", "mps", "meta", "xla"]:
        with pytest.raises(ValueError, match=f"device='{device}' is not available"):
            resolve_device(device)
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("gpu-please")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:1") == "cuda:1"
    assert resolve_device("mps") == "mps"


def test_an_unavailable_device_is_refused_before_training():
    with pytest.raises(ValueError, match="Use device='auto' or device='cpu'"):
        small_detector(device="meta").fit(cyclic_windows(2))


def test_fit_on_cpu_device_places_the_network_there():
    detector = small_detector(device="cpu", max_epochs=1).fit(cyclic_windows(2))
    assert detector.device_ == "cpu"
    assert next(detector.net_.module_.parameters()).device.type == "cpu"


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[1.0, np.nan]]), ValueError, "NaN"),
        (np.array([[None, "a"]], dtype=object), ValueError, "NaN"),
        (np.array([[{"a": 1}, "a"]], dtype=object), TypeError, "string or a number"),
        (np.array([[np.inf, 1.0]]), ValueError, "inf"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.array([1, 2, 3]), ValueError, "2D array"),
        (
            np.array([["2026-01-01"]], dtype="datetime64[D]"),
            TypeError,
            "numbers or strings",
        ),
    ],
)
def test_bad_input_is_explained(X, error, match):
    with pytest.raises(error, match=match):
        small_detector(max_epochs=1).fit(X)


def test_wrong_number_of_columns_and_unfitted_use(fitted):
    detector, _ = fitted
    with pytest.raises(ValueError, match="X has 2 features"):
        detector.predict([[1, 2]])
    with pytest.raises(NotFittedError):
        DeepLogDetector().predict([[1, 2]])


def test_keys_of_a_type_never_learned_raise_a_warning():
    numbers = np.array([[1.0, 2.0], [2.0, 1.0]] * 10)
    detector = small_detector(max_epochs=1).fit(numbers)
    strings = numbers.astype(int).astype(str).astype(object)
    with pytest.warns(UserWarning, match="string log keys .e.g. '1'. but the model"):
        detector.predict(strings)
    with pytest.warns(UserWarning, match="string log keys"):
        detector.partial_fit(strings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detector.predict(np.array([[1.0, 7.0]]))  # unseen, but a number


@pytest.mark.parametrize("window", [1, 2, 6])
@pytest.mark.parametrize("num_layers", [1, 3])
def test_shared_prefix_forward_equals_the_lstm(window, num_layers):
    torch.manual_seed(0)
    module = LogKeyLSTM(
        n_keys=5,
        embedding_dim=3,
        hidden_size=4,
        num_layers=num_layers,
        session_end=True,
    ).double()
    rng = np.random.default_rng(0)
    # Few codes, many rows: duplicated rows and shared prefixes, in any order,
    # and sorted row-wise as the detector gives them (distinct prefixes are then
    # found without sorting).
    context = rng.integers(0, 7, size=(300, window))
    ordered = context[np.lexsort(context.T[::-1])]
    for rows in (context, ordered):
        with torch.no_grad():
            expected = module(torch.as_tensor(rows))
            shared = module.forward_shared_prefixes(rows)
        assert shared.shape == (300, 6)
        assert_allclose(shared.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def interrupt_training_after(monkeypatch, n_steps):
    """Make the n-th training step raise KeyboardInterrupt, as Ctrl-C would."""
    calls = {"n": 0}
    train_step = WeightedNeuralNet.train_step

    def interrupted_train_step(net, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n_steps:
            raise KeyboardInterrupt
        return train_step(net, *args, **kwargs)

    monkeypatch.setattr(WeightedNeuralNet, "train_step", interrupted_train_step)


def test_ctrl_c_during_training_keeps_a_usable_model_and_says_so(monkeypatch):
    X = cyclic_windows()
    interrupt_training_after(monkeypatch, n_steps=5)
    detector = small_detector(batch_size=4)  # 11 distinct windows: 3 steps/epoch
    with pytest.warns(UserWarning, match=r"interrupted \(Ctrl-C\) after 1 of 60"):
        detector.fit(X)
    assert detector.predict(X).shape == (len(X),)
    with pytest.warns(UserWarning, match=r"after 0 of 1 epoch"):
        interrupt_training_after(monkeypatch, n_steps=1)
        detector.partial_fit(X)


def test_ctrl_c_outside_training_leaves_the_detector_unfitted(fitted, monkeypatch):
    detector = copy.deepcopy(fitted[0]).set_params(contamination=0.1)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(DeepLogDetector, "_score_rows", interrupted)
    with pytest.raises(KeyboardInterrupt):
        detector.fit(fitted[1])
    with pytest.raises(NotFittedError):
        detector.predict(fitted[1])
    monkeypatch.setattr(DeepLogDetector, "_grow", interrupted)
    detector = copy.deepcopy(fitted[0])
    with pytest.raises(KeyboardInterrupt):
        detector.partial_fit([[1, 2, 3, 99]])
    assert not [name for name in vars(detector) if name.endswith("_")]


def test_an_epoch_is_one_shuffled_pass_over_the_distinct_windows(monkeypatch):
    X = cyclic_windows()
    detector = small_detector(batch_size=5, max_epochs=2)
    batches = []
    train_step = WeightedNeuralNet.train_step

    def recording_train_step(net, batch, **kwargs):
        batches.append(batch)
        return train_step(net, batch, **kwargs)

    monkeypatch.setattr(WeightedNeuralNet, "train_step", recording_train_step)
    detector.fit(X)
    inputs, targets = detector._training_data(X)
    n_batches = -(-len(targets) // 5)
    sizes = [5] * (n_batches - 1) + [len(targets) - 5 * (n_batches - 1)]
    assert [len(y) for _, y in batches] == sizes * 2
    distinct = {
        (*row, y) for row, y in zip(inputs["context"].tolist(), targets, strict=True)
    }
    epochs = []
    for epoch in (batches[:n_batches], batches[n_batches:]):
        rows = [
            (*context, int(y))
            for batch_inputs, batch_targets in epoch
            for context, y in zip(
                batch_inputs["context"].tolist(), batch_targets, strict=True
            )
        ]
        assert sorted(rows) == sorted(distinct)
        epochs.append(rows)
    assert epochs[0] != epochs[1]


@pytest.mark.parametrize(
    "method", ["score_samples", "decision_function", "predict", "score", "predict_next"]
)
@pytest.mark.parametrize(
    "param, value", [("top_g", 0), ("min_end_probability", -1.0), ("n_threads", 0)]
)
def test_parameters_changed_after_fit_are_checked_when_scoring(
    fitted, method, param, value
):
    detector, X = fitted
    detector = copy.deepcopy(detector).set_params(**{param: value})
    with pytest.raises(ValueError, match=f"'{param}' parameter of DeepLogDetector"):
        getattr(detector, method)(X)


def test_verbose_1_shows_one_progress_bar_over_the_epochs_on_stderr(capsys):
    X = cyclic_windows(2)
    detector = small_detector(max_epochs=3, verbose=1).fit(X)
    out, err = capsys.readouterr()
    assert out == ""
    assert "training" in err and "3/3" in err and "loss=" in err
    assert "train_loss" not in err and "\x1b[" not in err  # no epoch table
    # verbose as set now, e.g. by `update -q`: the update prints nothing.
    detector.set_params(verbose=0).partial_fit(X)
    assert capsys.readouterr() == ("", "")
    detector.set_params(verbose=1).partial_fit(X)
    assert "1/1" in capsys.readouterr().err


def test_verbose_0_prints_nothing(capsys):
    small_detector(max_epochs=2).fit(cyclic_windows(2))
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("n_threads, expected", [(1, 1), (None, 2)])
def test_torch_runs_on_n_threads_while_fitting_and_scoring_then_restored(
    monkeypatch, n_threads, expected
):
    seen = []
    train_step = WeightedNeuralNet.train_step
    forward = LogKeyLSTM.forward_shared_prefixes

    def recording_train_step(net, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return train_step(net, *args, **kwargs)

    def recording_forward(module, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return forward(module, *args, **kwargs)

    monkeypatch.setattr(WeightedNeuralNet, "train_step", recording_train_step)
    monkeypatch.setattr(LogKeyLSTM, "forward_shared_prefixes", recording_forward)
    X = cyclic_windows(2)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        detector = small_detector(max_epochs=1, n_threads=n_threads).fit(X)
        assert torch.get_num_threads() == 2
        detector.partial_fit(X)
        assert torch.get_num_threads() == 2
        detector.predict(X)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
    assert len(seen) == 3 and set(seen) == {expected}


@pytest.mark.parametrize(
    "added", [("n_threads",), ("false_alarms", "validation_fraction")]
)
def test_a_model_saved_before_parameters_existed_loads(fitted, added):
    detector, X = fitted
    state = detector.__getstate__()
    for name in added:
        del state[name]
    restored = DeepLogDetector.__new__(DeepLogDetector)
    restored.__setstate__(state)
    assert restored.get_params() == detector.get_params()
    assert_array_equal(restored.score_samples(X), detector.score_samples(X))


def test_a_top_g_that_covers_every_key_is_warned_about():
    X = cyclic_windows()  # 6 keys
    with pytest.warns(UserWarning, match=r"top_g=6 is at least .* \(6 keys\)"):
        small_detector(top_g=6, max_epochs=1).fit(X)
    with pytest.warns(UserWarning, match="Set top_g below 6"):
        small_detector(top_g=9, max_epochs=1).partial_fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small_detector(top_g=5, max_epochs=1).fit(X)
        # A float contamination's threshold flags known keys: no warning.
        small_detector(top_g=9, max_epochs=1, contamination=0.1).fit(X)


@pytest.mark.parametrize("complete_sessions", [False, True])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_distinct_windows_weighted_by_their_counts_give_the_model_of_all(
    complete_sessions, method
):
    logs = make_logs(200, random_state=0)
    windows = SequenceWindower(
        window=3,
        event="event",
        group="session",
        time="time",
        complete_sessions=complete_sessions,
    ).fit_transform(logs)
    distinct, counts = np.unique(windows, axis=0, return_counts=True)
    assert len(distinct) < len(windows) / 10
    every, weighted = small_detector(max_epochs=5), small_detector(max_epochs=5)
    getattr(every, method)(windows)
    getattr(weighted, method)(distinct, sample_weight=counts)
    assert_array_equal(weighted.keys_, every.keys_)
    assert_array_equal(
        weighted.decision_function(windows), every.decision_function(windows)
    )


def test_a_window_of_weight_zero_is_left_out_and_negative_weights_refused():
    X = cyclic_windows()
    weights = np.ones(len(X))
    weights[X[:, -1] == 6] = 0  # every window of key 6 (6 stays in contexts)
    weighted = small_detector(max_epochs=5).fit(X, sample_weight=weights)
    without = small_detector(max_epochs=5).fit(X[weights > 0])
    assert_array_equal(weighted.keys_, without.keys_)
    assert_array_equal(weighted.decision_function(X), without.decision_function(X))
    with pytest.raises(ValueError, match="Negative values"):
        small_detector().fit(X, sample_weight=-weights)


def test_pipelines_pass_sample_weight_to_the_detector():
    logs = make_logs(100, random_state=0)
    windower = SequenceWindower(window=3, event="event", group="session", time="time")
    weights = np.where(logs["event"] == 4, 0.0, 1.0)  # forget the flushes
    model = make_pipeline(windower, small_detector(max_epochs=5))
    model.fit(logs, deeplogdetector__sample_weight=weights)
    windows = windower.transform(logs)
    alone = small_detector(max_epochs=5).fit(windows, sample_weight=weights)
    unweighted = small_detector(max_epochs=5).fit(windows)
    assert_array_equal(model.decision_function(logs), alone.decision_function(windows))
    assert not np.array_equal(
        alone.decision_function(windows), unweighted.decision_function(windows)
    )
