# SPDX-License-Identifier: BSD-3-Clause
"""The command line: its commands in-process, its entry points in a subprocess."""

import contextlib
import io
import subprocess
import sys
from types import SimpleNamespace

import joblib
import pandas as pd
import pytest

from sklearn_deeplog._cli import main
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
    """Run ``sklearn-deeplog *args``; its exit status and outputs."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            returncode = main(list(map(str, args)))
        except SystemExit as exit:  # argparse's usage errors
            returncode = exit.code
    result = SimpleNamespace(
        returncode=returncode, stdout=stdout.getvalue(), stderr=stderr.getvalue()
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
    # The command line learns keys as strings, whatever their type in the file.
    events["event"] = events["event"].astype(str).astype(object)
    assert set(pipeline[-1].keys_) <= set(events["event"])
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


def test_a_model_saved_from_python_works_on_the_command_line(files, tmp_path):
    _, train, test, model = files
    pipeline = joblib.load(model)
    pipeline[-1].set_params(top_g=1)  # stricter: flags more
    joblib.dump(pipeline, tmp_path / "python.joblib")
    strict = run("detect", tmp_path / "python.joblib", test, "-q").stdout
    default = run("detect", model, test, "-q").stdout
    assert len(strict.splitlines()) > len(default.splitlines())


@pytest.mark.parametrize("trained_in", ["cli", "python"])
def test_a_new_non_integer_key_leaves_the_other_keys_matched(
    files, tmp_path, trained_in
):
    # With one key "NEW", the reader types the whole file's keys as strings;
    # they must still match the model's keys (strings from the command line,
    # numbers from Python), so only the session holding "NEW" changes.
    _, train, test, model = files
    if trained_in == "python":
        pipeline = joblib.load(model)
        events = pd.read_csv(train).rename(
            columns={"timestamp": "time", "machine": "group"}
        )
        pipeline.fit(events[["group", "time", "event"]])  # int keys
        model = tmp_path / "python.joblib"
        joblib.dump(pipeline, model)
    table = pd.read_csv(test)
    changed = table.astype({"event": object})
    changed.loc[len(changed) // 2, "event"] = "NEW"
    changed.to_csv(tmp_path / "changed.csv", index=False)

    def scores(path):
        result = run("detect", model, path, "--all", "-q")
        assert "Warning" not in result.stderr
        return pd.read_csv(io.StringIO(result.stdout))

    before, after = scores(test), scores(tmp_path / "changed.csv")
    other = (table["machine"] != table.loc[len(table) // 2, "machine"]).to_numpy()
    assert other.sum() > len(table) / 2
    assert before["score"][other].to_numpy() == pytest.approx(
        after["score"][other].to_numpy()
    )
    assert after["anomaly"][len(table) // 2]


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
    assert "is not a model written by" in not_a_model.stderr
    unlabeled = tmp_path / "unlabeled.csv"
    pd.read_csv(test).drop(columns="label").to_csv(unlabeled, index=False)
    no_labels = run("evaluate", model, unlabeled, check=False)
    assert no_labels.returncode == 1 and "no label column" in no_labels.stderr
    usage = run("train", test, check=False)  # no -o
    assert usage.returncode == 2 and "required" in usage.stderr


def test_demo_runs_on_the_bundled_data():
    report = run("demo", "--epochs", "1", "-q").stdout
    assert report.splitlines()[1].startswith("sessions")


def test_python_dash_m_runs_the_command_line(files):
    _, _, test, model = files
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_deeplog", "evaluate", model, test, "-q"],
        capture_output=True,
        text=True,
        env={"OMP_NUM_THREADS": "1", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == run("evaluate", model, test, "-q").stdout


def test_console_script_entry_point():
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="sklearn-deeplog")
    assert script.value == "sklearn_deeplog._cli:main"
