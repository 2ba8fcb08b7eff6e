# SPDX-License-Identifier: BSD-3-Clause
"""The command line: its commands in-process, its entry points in a subprocess."""

import contextlib
import io
import subprocess
import sys
import warnings
from types import SimpleNamespace

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sklearn_deeplog import DeepLog, load_model, save_model
from sklearn_deeplog._cli import main
from sklearn_deeplog.datasets import make_logs, make_performance_logs

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
    model = tmp / "model.skops"
    run("train", train, "-o", model, *SMALL_MODEL)
    return tmp, train, test, model


@pytest.fixture(scope="module")
def models(files):
    """Models of the same training file, by the way they were trained."""
    tmp, train, _, model = files
    complete = tmp / "complete.skops"
    # A timeout cuts windows at gaps of over 2 s: context entries need their time.
    run(
        "train",
        train,
        "-o",
        complete,
        *SMALL_MODEL,
        "--complete-sessions",
        "--timeout",
        "2",
    )
    pipeline = load_model(model)
    events = pd.read_csv(train).rename(
        columns={"timestamp": "time", "machine": "group"}
    )
    pipeline.fit(events[["group", "time", "event"]])  # int keys
    python = tmp / "python.skops"
    save_model(pipeline, python)
    return {"cli": model, "complete sessions": complete, "python": python}


@pytest.fixture(scope="module")
def small_test(files):
    """A small labelled event file: 179 entries, 26 chunks of 7."""
    tmp = files[0]
    return event_file(
        tmp / "small.csv", make_logs(30, anomaly_ratio=0.3, random_state=4)
    )


def detect_all(model, path, *options):
    """Every entry's row of ``sklearn-deeplog detect --all``."""
    result = run("detect", model, path, "--all", "-q", *options)
    assert result.stderr == ""  # no progress bar with --quiet
    return pd.read_csv(io.StringIO(result.stdout))


def test_train_writes_a_model_the_python_api_loads(files):
    _, _, test, model = files
    pipeline = load_model(model)
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
    rows = pd.read_json(io.StringIO(everything.stdout), lines=True, precise_float=True)
    assert len(rows) == len(truth)
    assert (rows["time"] == truth["timestamp"]).all()  # no precision lost

    # The format follows the suffix under a compression suffix too.
    compressed = tmp / "flagged.ndjson.gz"
    run("detect", model, test, "-o", compressed, "-q")
    rows = pd.read_json(compressed, lines=True, compression="gzip")
    assert_frame_equal(rows[flagged.columns], flagged, check_dtype=False)


def test_a_model_saved_from_python_works_on_the_command_line(files, tmp_path):
    _, train, test, model = files
    pipeline = load_model(model)
    pipeline[-1].set_params(top_g=1)  # stricter: flags more
    save_model(pipeline, tmp_path / "python.skops")
    strict = run("detect", tmp_path / "python.skops", test, "-q").stdout
    default = run("detect", model, test, "-q").stdout
    assert len(strict.splitlines()) > len(default.splitlines())


@pytest.mark.parametrize("trained_in", ["cli", "python"])
def test_a_new_non_integer_key_leaves_the_other_keys_matched(
    files, models, tmp_path, trained_in
):
    # With one key "NEW", the reader types the whole file's keys as strings;
    # they must still match the model's keys (strings from the command line,
    # numbers from Python), so only the session holding "NEW" changes.
    _, _, test, _ = files
    model = models[trained_in]
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


@pytest.mark.parametrize("model_name", ["cli", "complete sessions"])
def test_detect_in_chunks_writes_the_rows_of_the_whole_file(
    models, small_test, model_name
):
    whole = detect_all(models[model_name], small_test)
    chunked = detect_all(models[model_name], small_test, "--chunksize", 7)
    entry = ["group", "time"]
    assert len(whole) == len(pd.read_csv(small_test))
    assert len(chunked) == len(whole) and not chunked.duplicated(entry).any()
    if model_name == "complete sessions":
        # A group's last entry in a chunk waits for the group's next chunk.
        assert not chunked[entry].equals(whole[entry])
    else:
        assert chunked[entry].equals(whole[entry])
    whole, chunked = (t.sort_values(entry, ignore_index=True) for t in (whole, chunked))
    # Equal to float64 rounding: the same windows are scored in other batches.
    assert chunked["score"].to_numpy() == pytest.approx(
        whole["score"].to_numpy(), rel=1e-12, abs=1e-12
    )
    pd.testing.assert_frame_equal(
        chunked.drop(columns="score"), whole.drop(columns="score")
    )


def test_detect_in_chunks_warns_once_when_a_file_is_not_in_time_order(
    models, small_test, tmp_path
):
    shuffled = tmp_path / "shuffled.csv"
    events = pd.read_csv(small_test)
    events.sample(frac=1, random_state=0).to_csv(shuffled, index=False)
    with pytest.warns(UserWarning, match="not in time order") as warned:
        detect_all(models["cli"], shuffled, "--chunksize", 7)
    assert len(warned) == 1
    # Whole, the file is sorted by the windower: nothing to warn about.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detect_all(models["cli"], shuffled)


@pytest.mark.parametrize("model_name", ["cli", "complete sessions"])
def test_evaluate_in_chunks_prints_the_table_of_the_whole_file(
    models, small_test, model_name
):
    whole = run("evaluate", models[model_name], small_test, "-q").stdout
    chunked = run(
        "evaluate", models[model_name], small_test, "-q", "--chunksize", 7
    ).stdout
    assert chunked == whole
    assert [line.split()[0] for line in whole.splitlines()[1:]] == [
        "entries",
        "sessions",
    ]


@pytest.mark.parametrize("trained_in", ["cli", "python"])
def test_a_key_type_change_between_chunks_still_matches(
    models, small_test, tmp_path, trained_in
):
    # In chunks of 7 entries, those before the key "E1" hold only integer keys,
    # its own a string key too: all must match the model's keys (strings from
    # the command line, numbers from Python), and be written alike.
    table = pd.read_csv(small_test)
    changed = table.astype({"event": object})
    row = 2 * len(table) // 3
    changed.loc[row, "event"] = "E1"
    changed.to_csv(tmp_path / "changed.csv", index=False)

    model = models[trained_in]
    before = detect_all(model, small_test, "--chunksize", 7)
    whole = detect_all(model, tmp_path / "changed.csv")
    chunked = detect_all(model, tmp_path / "changed.csv", "--chunksize", 7)
    assert chunked["score"].to_numpy() == pytest.approx(
        whole["score"].to_numpy(), rel=1e-12, abs=1e-12
    )
    pd.testing.assert_frame_equal(
        chunked.drop(columns="score"), whole.drop(columns="score")
    )
    other = (table["machine"] != table.loc[row, "machine"]).to_numpy()
    assert chunked["score"][other].to_numpy() == pytest.approx(
        before["score"][other].to_numpy(), rel=1e-12, abs=1e-12
    )
    assert (
        chunked["event"].astype(str)[other].equals(before["event"].astype(str)[other])
    )
    assert chunked["anomaly"][row]


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
    updated = tmp / "updated.skops"
    result = run("update", model, tmp / "fp.csv", "-o", updated, "--max-updates", "200")
    assert "-> 0 of 4 entries flagged" in result.stderr
    flagged = run("detect", updated, tmp / "fp.csv", "-q").stdout
    assert len(pd.read_csv(io.StringIO(flagged))) == 0


def performance_file(path, **params):
    """Write make_performance_logs as an event file: sessions are the groups."""
    events = make_performance_logs(random_state=len(params), **params)
    table = events.rename(columns={"time": "timestamp", "machine": "host"})
    table.rename(columns={"session": "machine"}).to_csv(path, index=False)
    return path, events


def test_values_train_detect_evaluate_update_with_the_value_model(tmp_path):
    train, _ = performance_file(tmp_path / "train.csv", n_sessions=150)
    test, truth = performance_file(
        tmp_path / "test.csv", n_sessions=60, n_slow=3, n_large=3
    )
    model = tmp_path / "model.skops"
    run("train", train, "-o", model, *SMALL_MODEL, "--values", "size", "-q")
    assert isinstance(load_model(model), DeepLog)

    flagged = pd.read_csv(io.StringIO(run("detect", model, test, "-q").stdout))
    assert {"size", "flagged_by", "expected"} <= set(flagged.columns)
    anomalies = truth[truth["label"] == 1]
    assert set(anomalies["time"]) <= set(flagged["time"])  # all flagged...
    by_value = flagged["time"].isin(anomalies["time"])
    assert (flagged["flagged_by"][by_value] == "value").all()  # ...by the values
    assert len(flagged) <= len(anomalies) + 0.05 * len(truth)

    report = run("evaluate", model, test, "-q").stdout
    sessions = report.splitlines()[-1].split()
    assert sessions[0] == "sessions" and float(sessions[2]) == 1.0  # recall

    updated = tmp_path / "updated.skops"
    run("update", model, train, "-o", updated, "-q")
    assert isinstance(load_model(updated), DeepLog)

    no_values = run("train", train, "-o", model, "--values", "bytes", check=False)
    assert no_values.returncode == 1 and "no column 'bytes'" in no_values.stderr


def test_detect_in_chunks_with_the_value_model_scores_as_the_whole_file(tmp_path):
    train, _ = performance_file(tmp_path / "train.csv", n_sessions=150)
    test, _ = performance_file(tmp_path / "test.csv", n_sessions=40, n_slow=2)
    model = tmp_path / "model.skops"
    run("train", train, "-o", model, *SMALL_MODEL, "--values", "size", "-q")
    whole = detect_all(model, test)
    # Sessions interleave in the file: most chunks cut some of them.
    chunked = detect_all(model, test, "--chunksize", 7)
    entry = ["group", "time"]
    assert chunked[entry].equals(whole[entry])
    assert chunked["flagged_by"].equals(whole["flagged_by"])
    assert (whole["flagged_by"] == "value").any()
    # Mostly the value model's decisions: the key model flags few entries.
    assert chunked["score"].to_numpy() == pytest.approx(
        whole["score"].to_numpy(), rel=1e-12, abs=1e-12
    )


def test_errors_exit_1_with_one_line_and_usage_errors_exit_2(files, tmp_path):
    _, _, test, model = files
    missing = run("detect", model, tmp_path / "absent.csv", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0 and "absent.csv" in missing.stderr
    not_a_model = run("detect", test, test, check=False)
    assert not_a_model.returncode == 1
    assert "is not a model file of sklearn-deeplog" in not_a_model.stderr
    unlabeled = tmp_path / "unlabeled.csv"
    pd.read_csv(test).drop(columns="label").to_csv(unlabeled, index=False)
    no_labels = run("evaluate", model, unlabeled, check=False)
    assert no_labels.returncode == 1 and "no label column" in no_labels.stderr
    usage = run("train", test, check=False)  # no -o
    assert usage.returncode == 2 and "required" in usage.stderr


def test_demo_runs_on_the_bundled_data():
    report = run("demo", "--epochs", "1", "-q").stdout
    assert report.splitlines()[1].startswith("sessions")


def test_python_dash_m_chains_train_detect_evaluate_update_detect(tmp_path):
    # End to end, in fresh interpreters: the output of each command is the
    # input of the next.
    def cli(*args):
        result = subprocess.run(
            [sys.executable, "-m", "sklearn_deeplog", *map(str, args)],
            capture_output=True,
            text=True,
            env={"OMP_NUM_THREADS": "1", "PATH": ""},
        )
        assert result.returncode == 0, result.stderr
        return result

    train = event_file(tmp_path / "train.csv", make_logs(200, random_state=2))
    test = event_file(
        tmp_path / "test.csv", make_logs(40, anomaly_ratio=0.3, random_state=3)
    )
    model, updated = tmp_path / "model.skops", tmp_path / "updated.skops"

    cli("train", train, "-o", model, *SMALL_MODEL)
    assert load_model(model)[-1].keys_.tolist() == ["1", "2", "3", "4", "5", "6"]

    detected = cli("detect", model, test, "-o", tmp_path / "flagged.csv")
    assert "scoring" in detected.stderr  # the progress bar
    flagged = pd.read_csv(tmp_path / "flagged.csv")
    assert f"{len(flagged)} of {len(pd.read_csv(test))} entries flagged" in (
        detected.stderr
    )
    truth = pd.read_csv(test)
    injected = truth[truth["label"] == 1]
    assert set(zip(injected["machine"], injected["timestamp"], strict=True)) <= set(
        zip(flagged["group"], flagged["time"], strict=True)
    )

    evaluated = cli("evaluate", model, test, "--chunksize", "50", "-q")
    assert evaluated.stderr == ""
    assert evaluated.stdout == run("evaluate", model, test, "-q").stdout

    # A session with a key the model never saw: flagged, learned, then normal.
    new = pd.DataFrame(
        {"timestamp": [0.0, 1.0, 2.0, 3.0], "machine": "x", "event": [1, 2, 42, 5]}
    )
    new.to_csv(tmp_path / "fp.csv", index=False)
    learned = cli("update", model, tmp_path / "fp.csv", "-o", updated)
    assert "-> 0 of 4 entries flagged" in learned.stderr
    assert cli("detect", updated, tmp_path / "fp.csv", "-q").stdout == (
        "group,time,event,score,anomaly,expected\n"
    )


def test_console_script_entry_point():
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="sklearn-deeplog")
    assert script.value == "sklearn_deeplog._cli:main"
