# SPDX-License-Identifier: BSD-3-Clause
"""Safe persistence (save_model/load_model) and the versions stored in models."""

import json
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
import torch
from numpy.testing import assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import sklearn_deeplog
from sklearn_deeplog import (
    DeepLog,
    DeepLogDetector,
    LogTemplateMiner,
    ParameterValueDetector,
    SequenceWindower,
    StreamDetector,
    load_model,
    save_model,
)
from sklearn_deeplog._network import LogKeyLSTM, ValueLSTM
from sklearn_deeplog._persistence import (
    _TRUSTED_TYPES,
    _compatible_versions,
    _write,
    current_version,
)
from sklearn_deeplog.datasets import make_logs

TINY = dict(hidden_size=8, num_layers=1, embedding_dim=4, max_epochs=3, top_g=2)
TINY_VALUES = dict(hidden_size=8, max_epochs=2, min_samples=5, random_state=0)


def tiny_pipeline(complete_sessions=False):
    return make_pipeline(
        SequenceWindower(
            window=3,
            event="event",
            group="session",
            time="time",
            complete_sessions=complete_sessions,
        ),
        DeepLogDetector(**TINY, random_state=0),
    )


@pytest.fixture(scope="module")
def logs():
    return make_logs(40, random_state=0), make_logs(
        30, anomaly_ratio=0.3, random_state=1
    )


@pytest.fixture(scope="module")
def model(logs):
    return tiny_pipeline().fit(logs[0])


def forged_version(monkeypatch, version):
    """Make the package report `version` while saving."""
    monkeypatch.setattr(sklearn_deeplog._version, "__version__", version)


def rewrite_member(path, name, transform):
    """Rewrite archive member `name` of `path` as ``transform(bytes)``."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[name] = transform(members[name])
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)


def set_saved_attribute(path, name, value):
    """Alter attribute `name` of the estimator saved alone in `path` to `value`."""

    def alter(data):
        schema = json.loads(data)
        node = schema["content"]["content"][name]
        node["content"] = json.dumps(value)
        del node["__id__"]  # a value of its own, not shared with equal ones
        return json.dumps(schema).encode()

    rewrite_member(path, "schema.json", alter)


class Payload:
    """A type of nobody's: loading must never build it."""

    def __init__(self):
        self.command = "echo owned"


def _double(X):
    return 2 * X


# -- round trips -------------------------------------------------------------------


def test_trusted_types_are_exactly_the_package_estimators():
    estimators = (
        DeepLog,
        DeepLogDetector,
        LogTemplateMiner,
        ParameterValueDetector,
        SequenceWindower,
        StreamDetector,
    )
    names = {f"{cls.__module__}.{cls.__qualname__}" for cls in estimators}
    assert set(_TRUSTED_TYPES) == names


@pytest.mark.parametrize("complete_sessions", [False, True])
def test_pipeline_round_trip_gives_identical_scores(logs, tmp_path, complete_sessions):
    train, test = logs
    model = tiny_pipeline(complete_sessions).fit(train)
    path = tmp_path / "model.skops"
    save_model(model, path)
    restored = load_model(path)

    assert_array_equal(restored.decision_function(test), model.decision_function(test))
    assert_array_equal(restored.predict(test), model.predict(test))
    windows = model[0].transform(test)
    detector, loaded = model[-1], restored[-1]
    assert loaded.session_end_ is complete_sessions
    for expected, found in zip(
        detector.predict_next(windows, k=3),
        loaded.predict_next(windows, k=3),
        strict=True,
    ):
        assert_array_equal(found, expected)
    # The weights are numpy arrays in the file: no torch object anywhere.
    with zipfile.ZipFile(path) as archive:
        assert b"torch" not in archive.read("schema.json")
    # The optimizer state came along: the online update continues identically.
    detector.partial_fit(windows[:20])
    loaded.partial_fit(windows[:20])
    assert_array_equal(loaded.score_samples(windows), detector.score_samples(windows))


def test_a_single_detector_with_string_keys_round_trips(tmp_path):
    X = np.array([["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]] * 5, dtype=object)
    detector = DeepLogDetector(**TINY, contamination=0.1, random_state=0).fit(X)
    save_model(detector, tmp_path / "detector.skops")
    restored = load_model(tmp_path / "detector.skops")
    assert_array_equal(restored.keys_, detector.keys_)
    assert restored.offset_ == detector.offset_
    assert_array_equal(restored.score_samples(X), detector.score_samples(X))


def test_pipeline_with_the_template_miner_round_trips(tmp_path):
    pytest.importorskip("drain3")
    messages = [
        "user alice logged in from 10.0.0.1",
        "user bob logged in from 10.0.0.2",
        "disk sda1 is full",
        "user carol logged out",
        "disk sdb2 is full",
    ]
    table = pd.DataFrame(
        {
            "Content": messages * 8,
            "group": np.repeat(np.arange(8), 5),
            "line": np.arange(40),
        }
    )
    to_events = ColumnTransformer(
        [
            ("parse", LogTemplateMiner(max_clusters=3), ["Content"]),
            ("keep", "passthrough", ["group", "line"]),
        ],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    model = make_pipeline(
        to_events,
        SequenceWindower(window=2, event="event", group="group", time="line"),
        DeepLogDetector(**TINY, random_state=0),
    ).fit(table)
    save_model(model, tmp_path / "model.skops")
    restored = load_model(tmp_path / "model.skops")

    assert_array_equal(
        restored.decision_function(table), model.decision_function(table)
    )
    miner, loaded = (
        model[0].named_transformers_["parse"],
        restored[0].named_transformers_["parse"],
    )
    assert loaded.templates_ == miner.templates_
    # Drain's whole state came along, its least-recently-used order included (the
    # two new templates evict two of the three old ones): the loaded miner keeps
    # mining exactly like the original.
    more = ["printer p1 jammed", "printer p2 jammed", "fan f1 failed"]
    probe = messages + more + ["something else entirely"]
    miner.partial_fit(more)
    loaded.partial_fit(more)
    assert loaded.templates_ == miner.templates_
    assert_array_equal(loaded.transform(probe), miner.transform(probe))
    assert loaded.extract_parameters(probe) == miner.extract_parameters(probe)


def test_template_miner_state_is_plain_json():
    pytest.importorskip("drain3")
    miner = LogTemplateMiner().fit(["a 1 b", "a 2 b", "c d"])
    state = miner.__getstate__()
    assert isinstance(state["_drain_state"], str)
    assert json.loads(state["_drain_state"])["clusters"] == [
        [1, ["a", "<NUM>", "b"], 2],
        [2, ["c", "d"], 1],
    ]
    # drain3's own snapshots are jsonpickle, which builds objects: never read.
    state["_drain_state"] = json.dumps(
        {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": ["echo owned"]}]}
    )
    with pytest.raises(ValueError, match="state of the template miner is invalid"):
        LogTemplateMiner.__new__(LogTemplateMiner).__setstate__(state)


# -- refused files -----------------------------------------------------------------


def test_a_file_with_an_untrusted_type_is_refused(model, tmp_path):
    path = tmp_path / "model.skops"
    save_model(model, path)

    def windower_to_popen(schema):
        def walk(node):
            if isinstance(node, dict):
                if node.get("__class__") == "SequenceWindower":
                    node["__class__"], node["__module__"] = "Popen", "subprocess"
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        tree = json.loads(schema)
        walk(tree)
        return json.dumps(tree).encode()

    rewrite_member(path, "schema.json", windower_to_popen)
    with pytest.raises(ValueError, match=r"does not trust: \['subprocess.Popen'\]"):
        load_model(path)


def test_a_file_with_a_made_up_class_is_refused(model, tmp_path):
    path = tmp_path / "model.skops"
    # As an attacker would: a valid file (even its version), any content.
    data = skops.io.dumps({"model": model, "extra": Payload()})
    _write(data, path, current_version())
    with pytest.raises(ValueError, match=r"does not trust: \[.*Payload'\]"):
        load_model(path)


def test_saving_an_untrusted_type_is_refused_up_front(tmp_path):
    model = make_pipeline(FunctionTransformer(_double), DeepLogDetector(**TINY))
    with pytest.raises(TypeError, match="_double"):
        save_model(model, tmp_path / "model.skops")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("damage", ["truncate", "schema", "weights"])
def test_a_damaged_file_is_reported_as_damaged(model, tmp_path, damage):
    path = tmp_path / "model.skops"
    save_model(model, path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
        if damage == "schema":
            info = next(i for i in infos if i.filename == "schema.json")
        else:
            info = max(
                (i for i in infos if i.filename.endswith(".npy")),
                key=lambda i: i.compress_size,
            )
        # Local header: 30 bytes, then the name and the extra field.
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is damaged"):
        load_model(path)


@pytest.mark.parametrize(
    "module, params",
    [
        (LogKeyLSTM, dict(embedding_dim=3, hidden_size=5, num_layers=1)),
        (LogKeyLSTM, dict(embedding_dim=4, hidden_size=2, num_layers=3)),
        (ValueLSTM, dict(n_values=2, embedding_dim=3, hidden_size=5, num_layers=2)),
    ],
)
@pytest.mark.parametrize("n_keys", [1, 7])
def test_the_state_shapes_a_load_checks_are_those_of_the_module(module, params, n_keys):
    if module is LogKeyLSTM:
        params = {**params, "session_end": n_keys > 1}
    built = module(n_keys=n_keys, **params).state_dict()
    assert module.state_shapes(n_keys=n_keys, **params) == {
        name: tuple(tensor.shape) for name, tensor in built.items()
    }


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("hidden_size", 9, "'lstm.weight_ih_l0' has shape \\(32, 4\\), the param"),
        # 25 GB of weights if the network were built: refused before.
        ("hidden_size", 100_000_000, "weights do not match the model's parameters"),
        ("embedding_dim", 5, "'embedding.weight' has shape"),
        ("top_g", -1, "'top_g' parameter of DeepLogDetector must be"),
        ("device", 3, "'device' parameter of DeepLogDetector must be"),
    ],
)
def test_an_altered_model_is_reported_as_damaged(model, tmp_path, name, value, match):
    path = tmp_path / "detector.skops"
    save_model(model[-1], path)
    set_saved_attribute(path, name, value)
    with pytest.raises(ValueError, match=f"is damaged .*{match}"):
        load_model(path)


def test_an_altered_value_model_is_reported_as_damaged(tmp_path):
    events = pd.DataFrame({"key": [1, 2] * 10, "v": np.arange(20.0)})
    path = tmp_path / "values.skops"
    save_model(ParameterValueDetector(event="key", **TINY_VALUES).fit(events), path)
    set_saved_attribute(path, "num_layers", 2)
    with pytest.raises(ValueError, match="is damaged .*'lstm.weight_ih_l1' has shape"):
        load_model(path)


@pytest.mark.parametrize("device", ["cuda", "mps", "meta", "nonsense"])
def test_a_model_saved_on_a_device_not_available_here_loads_on_cpu(
    model, logs, tmp_path, device, monkeypatch
):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = tmp_path / "detector.skops"
    save_model(model[-1], path)
    set_saved_attribute(path, "device_", device)
    with pytest.warns(UserWarning, match=f"device '{device}'.*loaded on the cpu"):
        restored = load_model(path)
    assert restored.device_ == "cpu"
    windows = model[0].transform(logs[1])
    assert_array_equal(
        restored.score_samples(windows), model[-1].score_samples(windows)
    )


def test_deeply_nested_json_is_reported_as_damaged(model, tmp_path):
    path = tmp_path / "model.skops"
    save_model(model, path)
    rewrite_member(path, "schema.json", lambda _: b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError, match="is damaged .*RecursionError"):
        load_model(path)


def test_a_joblib_file_is_not_a_model_file(model, tmp_path):
    joblib.dump(model, tmp_path / "model.joblib")
    with pytest.raises(ValueError, match="not a model file of sklearn-deeplog"):
        load_model(tmp_path / "model.joblib")
    # Nor is a skops file that save_model did not write.
    skops.io.dump(model, tmp_path / "model.skops")
    with pytest.raises(ValueError, match="not a model file of sklearn-deeplog"):
        load_model(tmp_path / "model.skops")


# -- versions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "saved, current, compatible",
    [
        ("0.1.0.dev0", "0.1.0", True),
        ("0.1.3", "0.1.0", True),
        ("0.1.0", "0.2.0", False),
        ("0.2.0", "0.1.0", False),
        ("1.2.0", "1.4.1", True),
        ("1.5.0", "1.4.1", False),
        ("1.0.0", "2.0.0", False),
        (None, "0.1.0", False),
        ("unknown", "0.1.0", False),
    ],
)
def test_version_rule(saved, current, compatible):
    assert _compatible_versions(saved, current) is compatible


def check_version_error(error, saved):
    message = str(error.value)
    assert f"saved by sklearn-deeplog {saved}" in message
    assert f"loaded by sklearn-deeplog {current_version()}" in message
    assert (
        "Re-train" in message and f'pip install "sklearn-deeplog=={saved}"' in message
    )


def test_safe_format_refuses_an_incompatible_version(model, tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        forged_version(patch, "0.0.1")
        save_model(model, tmp_path / "model.skops")
    with pytest.raises(ValueError) as error:
        load_model(tmp_path / "model.skops")
    check_version_error(error, "0.0.1")


@pytest.mark.parametrize("what", ["detector", "pipeline", "miner"])
def test_pickle_refuses_an_incompatible_version(model, monkeypatch, what):
    if what == "miner":
        pytest.importorskip("drain3")
        obj = LogTemplateMiner().fit(["a 1 b", "a 2 b"])
    else:
        obj = model[-1] if what == "detector" else model
    with monkeypatch.context() as patch:
        forged_version(patch, "9.3.0")
        data = pickle.dumps(obj)
    with pytest.raises(ValueError) as error:
        pickle.loads(data)
    check_version_error(error, "9.3.0")
    # A compatible version loads.
    assert type(pickle.loads(pickle.dumps(obj))) is type(obj)


def test_a_state_without_version_is_refused(model):
    state = model[-1].__getstate__()
    del state["_deeplog_version"]
    with pytest.raises(ValueError, match="did not record its version"):
        DeepLogDetector.__new__(DeepLogDetector).__setstate__(state)
