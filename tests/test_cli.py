# SPDX-License-Identifier: BSD-3-Clause
"""The command line, run as users run it: in a subprocess."""

import io
import subprocess
import sys

import joblib
import pandas as pd
import pytest

from sklearn_deeplog.datasets import make_logs

SMALL_MODEL = [
    "--window",
    "5",
    "--top-g",
    "3",
    "--hidden-size",
    "16",
    "--num-layers",
    "1",
    "--epochs",
    "40",
    "--lr",
    "0.01",
    "-q",
]


def run(*args, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_deeplog", *map(str, args)],
        capture_output=True,
        text=True,
        env={"OMP_NUM_THREADS": "1", "PATH": ""},
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def event_file(path, events):
    table = events[["time", "session", "event", "label"]].rename(
        columns={"time": "timestamp", "session": "machine"}
    )
    table.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    train = event_file(tmp / "train.csv", make_logs(300, random_state=0))
    test = event_file(
        tmp / "test.csv", make_logs(100, anomaly_ratio=0.3, random_state=1)
    )
    model = tmp / "model.joblib"
    run("train", train, "-o", model, *SMALL_MODEL)
    return tmp, train, test, model


def test_train_writes_a_model_the_python_api_loads(files):
    _, _, test, model = files
    pipeline = joblib.load(model)
    events = pd.read_csv(test).rename(
        columns={"timestamp": "time", "machine": "group"}
    )[["group", "time", "event"]]
    events["event"] = events["event"].astype(str).astype(object)
    assert pipeline.predict(events).shape == (len(events),)


def test_detect_writes_flagged_entries_with_expected_keys(files):
    tmp, _, test, model = files
    out = tmp / "flagged.csv"
    run("detect", model, test, "-o", out, "-q")
    flagged = pd.read_csv(out)
    truth = pd.read_csv(test)
    assert set(flagged.columns) == {
        "group",
        "time",
        "event",
        "score",
        "anomaly",
        "expected",
    }
    assert (flagged["score"] < 0).all() and flagged["anomaly"].all()
    # Every injected anomaly is among the flagged entries.
    injected = truth[truth["label"] == 1]
    assert set(zip(injected["machine"], injected["timestamp"], strict=True)) <= set(
        zip(flagged["group"], flagged["time"], strict=True)
    )
    assert flagged["expected"].str.count(":").eq(3).all()  # top-k=3 "key:p" pairs

    everything = run("detect", model, test, "--all", "--output-format", "ndjson", "-q")
    rows = pd.read_json(io.StringIO(everything.stdout), lines=True)
    assert len(rows) == len(truth)


def test_evaluate_prints_entry_and_session_metrics(files):
    _, _, test, model = files
    report = run("evaluate", model, test, "-q").stdout
    lines = {line.split()[0]: line.split()[1:] for line in report.splitlines()[1:]}
    assert set(lines) == {"entries", "sessions"}
    precision, recall, f1 = map(float, lines["sessions"][:3])
    assert recall == 1.0 and f1 > 0.9


def test_update_learns_a_false_positive(files):
    tmp, _, _, model = files
    # A session with a key the model never saw: flagged, then learned.
    new = pd.DataFrame(
        {"timestamp": [0.0, 1.0, 2.0, 3.0], "machine": "x", "event": [1, 2, 42, 5]}
    )
    new.to_csv(tmp / "fp.csv", index=False)
    updated = tmp / "updated.joblib"
    result = run("update", model, tmp / "fp.csv", "-o", updated, "--max-updates", "200")
    assert "-> 0 of 4 entries flagged" in result.stderr
    flagged = run("detect", updated, tmp / "fp.csv", "-q").stdout
    assert len(pd.read_csv(io.StringIO(flagged))) == 0


def test_errors_exit_1_with_one_line_and_usage_errors_exit_2(files, tmp_path):
    _, _, test, model = files
    missing = run("detect", model, tmp_path / "absent.csv", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0 and "absent.csv" in missing.stderr
    not_a_model = run("detect", test, test, check=False)
    assert not_a_model.returncode == 1
    unlabeled = tmp_path / "unlabeled.csv"
    pd.read_csv(test).drop(columns="label").to_csv(unlabeled, index=False)
    no_labels = run("evaluate", model, unlabeled, check=False)
    assert no_labels.returncode == 1 and "no label column" in no_labels.stderr
    usage = run("train", test, check=False)  # no -o
    assert usage.returncode == 2 and "required" in usage.stderr


def test_demo_runs_on_the_bundled_data():
    report = run("demo", "--epochs", "1", "-q").stdout
    assert report.splitlines()[1].startswith("sessions")


def test_console_script_entry_point():
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="sklearn-deeplog")
    assert script.value == "sklearn_deeplog._cli:main"
