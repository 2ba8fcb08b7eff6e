# SPDX-License-Identifier: BSD-3-Clause
"""The command line: its commands in-process, its entry points in a subprocess."""

import contextlib
import io
import json
import subprocess
import sys
import zipfile
from types import SimpleNamespace

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sklearn_deeplog import DeepLog, load_model, save_model
from sklearn_deeplog._cli import main
from sklearn_deeplog.datasets import load_hdfs, make_logs, make_performance_logs

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
    # The entries' columns keep the input's names: update reads the output back.
    assert set(flagged.columns) == {
        "machine",
        "timestamp",
        "event",
        "score",
        "anomaly",
        "expected",
    }
    assert (flagged["score"] < 0).all() and flagged["anomaly"].all()
    # Every injected anomaly is among the flagged entries.
    injected = truth[truth["label"] == 1]
    assert set(zip(injected["machine"], injected["timestamp"], strict=True)) <= set(
        zip(flagged["machine"], flagged["timestamp"], strict=True)
    )
    # The top-k=3 expected keys and probabilities, as JSON text.
    expected = flagged["expected"].map(json.loads)
    assert expected.map(len).eq(3).all()
    assert all(isinstance(p, float) for pairs in expected for _, p in pairs)

    everything = run("detect", model, test, "--all", "--output-format", "ndjson", "-q")
    rows = pd.read_json(io.StringIO(everything.stdout), lines=True, precise_float=True)
    assert len(rows) == len(truth)
    assert (rows["timestamp"] == truth["timestamp"]).all()  # no precision lost

    # The format follows the suffix under a compression suffix too.
    compressed = tmp / "flagged.ndjson.gz"
    run("detect", model, test, "-o", compressed, "-q")
    rows = pd.read_json(compressed, lines=True, compression="gzip", precise_float=True)
    rows["expected"] = rows["expected"].map(json.dumps)  # a list in NDJSON
    flagged["expected"] = expected.map(json.dumps)
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
    entry = ["machine", "timestamp"]
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
    chunked = run("detect", models["cli"], shuffled, "--chunksize", 7, "-q")
    # One line for the user, without Python's file, line and source.
    (warning,) = chunked.stderr.splitlines()
    assert warning.startswith("sklearn-deeplog detect: warning: Entries of group ")
    assert "out of time order" in warning and "np.int64" not in warning
    # Whole, the file is sorted by the windower: nothing to warn about.
    assert run("detect", models["cli"], shuffled, "-q").stderr == ""


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
    assert set(anomalies["time"]) <= set(flagged["timestamp"])  # all flagged...
    by_value = flagged["timestamp"].isin(anomalies["time"])
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
    entry = ["machine", "timestamp"]
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
    assert usage.stderr.count("\n") == 1 and "see sklearn-deeplog train --help" in (
        usage.stderr
    )
    # An option the command does not have: said by the command, with its help.
    unknown = run(
        "train", test, "-o", tmp_path / "m.skops", "--label", "x", check=False
    )
    assert unknown.returncode == 2 and unknown.stderr == (
        "sklearn-deeplog train: error: unrecognized arguments: --label x "
        "(see sklearn-deeplog train --help)\n"
    )
    # Option values are named as the user knows them, not by a function's name.
    for option, value, message in [
        ("--epochs", "abc", "--epochs: invalid integer value: 'abc'"),
        ("--epochs", "0", "--epochs: must be a positive integer, got 0"),
        ("--lr", "x", "--lr: invalid number value: 'x'"),
        ("--lr", "-1", "--lr: must be a positive number, got -1"),
    ]:
        wrong = run(
            "train", test, "-o", tmp_path / "m.skops", option, value, check=False
        )
        assert wrong.returncode == 2 and message in wrong.stderr


def altered_model(model, path, name, value):
    """A copy of a model file whose detector's parameter `name` is `value`."""
    with zipfile.ZipFile(model) as archive:
        members = {member: archive.read(member) for member in archive.namelist()}
    schema = json.loads(members["schema.json"])

    def estimators(node):  # every estimator's attributes in the skops schema
        if isinstance(node, dict):
            if isinstance(node.get("content"), dict) and name in node["content"]:
                yield node["content"]
            for child in node.values():
                yield from estimators(child)
        elif isinstance(node, list):
            for child in node:
                yield from estimators(child)

    (attributes,) = estimators(schema)
    attributes[name] = {**attributes[name], "content": json.dumps(value)}
    attributes[name].pop("__id__", None)  # a value of its own
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


@pytest.mark.parametrize(
    "case",
    [
        "device-mps",
        "device-meta",
        "altered-model",
        "workflow-not-graphml",
        "workflow-unknown-suffix",
        "workflow-without-networkx",
        "ndjson-list-key",
        "json-output",
        "evaluate-odd-label",
    ],
)
def test_each_failure_is_one_line_without_traceback(files, tmp_path, monkeypatch, case):
    _, train, test, model = files
    if case.startswith("device"):
        device = case.split("-")[1]
        args = ["train", train, "-o", tmp_path / "m.skops", "--device", device]
        expected = f"--device {device} is not available on this machine"
    elif case == "altered-model":
        altered = altered_model(model, tmp_path / "bad.skops", "hidden_size", 10**8)
        args, expected = ["detect", altered, test], "is damaged"
    elif case == "workflow-not-graphml":
        args = ["detect", model, test, "--workflow", test]
        expected = "is not a GraphML workflow"
    elif case == "workflow-unknown-suffix":
        args = ["workflow", train, "-o", tmp_path / "workflow.txt"]
        expected = "name it with one of .graphml, .dot"
    elif case == "workflow-without-networkx":
        monkeypatch.setitem(sys.modules, "networkx", None)
        args = ["workflow", train, "-o", tmp_path / "workflow.graphml"]
        expected = 'Workflow needs networkx: pip install "sklearn-deeplog[workflow]"'
    elif case == "json-output":
        args = ["detect", model, test, "-o", tmp_path / "flagged.json"]
        expected = "detect writes CSV or NDJSON"
    elif case == "evaluate-odd-label":
        odd = tmp_path / "odd.csv"
        pd.read_csv(test).assign(label="unknown").to_csv(odd, index=False)
        args, expected = (
            ["evaluate", model, odd],
            "neither 0 (normal) nor 1 (anomalous).",
        )
    else:
        events = tmp_path / "events.ndjson"
        events.write_text(
            '{"timestamp": 1, "machine": "m", "event": 5}\n'
            '{"timestamp": 2, "machine": "m", "event": [1, 2]}\n'
        )
        args, expected = ["detect", model, events], "events.ndjson, line 2: event"
    result = run(*args, "-q", check=False)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert expected in result.stderr
    assert list(tmp_path.glob("m.skops")) == []


def test_columns_are_named_by_options(tmp_path):
    # make_logs's own CSV: columns session, time, event, label.
    logs = tmp_path / "logs.csv"
    make_logs(100, random_state=0).to_csv(logs, index=False)
    model = tmp_path / "model.skops"
    missing = run("train", logs, "-o", model, *SMALL_MODEL, check=False)
    assert missing.returncode == 1
    assert "no column 'timestamp'" in missing.stderr
    assert "pass --time COLUMN to name it, or pass --time none." in missing.stderr
    columns = ["--group", "session", "--time", "time"]
    run("train", logs, "-o", model, *SMALL_MODEL, *columns)
    flagged = run("detect", model, logs, "--all", "-q", *columns)
    assert pd.read_csv(io.StringIO(flagged.stdout)).columns[:3].tolist() == [
        "session",
        "time",
        "event",
    ]

    # A file of keys alone: one stream, in file order.
    keys = tmp_path / "keys.csv"
    make_logs(30, random_state=1)[["event"]].to_csv(keys, index=False)
    run("train", keys, "-o", model, *SMALL_MODEL, "--group", "none", "--time", "none")
    assert load_model(model)[0].get_params()["group"] is None
    alone = run(
        "detect", model, keys, "--all", "-q", "--group", "none", "--time", "none"
    )
    assert pd.read_csv(io.StringIO(alone.stdout)).columns[0] == "event"


def test_detect_output_reads_back_into_update_and_evaluate(files, tmp_path):
    _, _, test, model = files
    output = tmp_path / "flagged.csv"
    run("detect", model, test, "--all", "--label", "label", "-o", output, "-q")
    assert "label" in pd.read_csv(output)
    report = run("evaluate", model, output, "-q").stdout
    assert report == run("evaluate", model, test, "-q").stdout
    updated = run("update", model, output, "-o", tmp_path / "updated.skops", "-q")
    assert updated.stdout == updated.stderr == ""  # quiet: nothing of the update
    assert load_model(tmp_path / "updated.skops")[-1].keys_ is not None


def test_an_unused_label_column_does_not_block(files, tmp_path):
    tmp, train, test, model = files
    odd = tmp_path / "odd.csv"
    pd.read_csv(test).assign(label="unknown").to_csv(odd, index=False)
    run("train", odd, "-o", tmp_path / "model.skops", *SMALL_MODEL)
    run("detect", model, odd, "-q")
    labelled = run("evaluate", model, odd, check=False)
    assert labelled.returncode == 1 and "--label none" not in labelled.stderr
    assert "'unknown' is neither 0 (normal) nor 1" in labelled.stderr


@pytest.mark.parametrize("suffix", [".csv", ".ndjson"])
def test_expected_keys_round_trip_whatever_they_hold(tmp_path, suffix):
    spaced = {1: "open a:b", 2: 'say "hi", go', 3: "close", 4: "x y", 5: "5", 6: ":"}
    events = make_logs(100, random_state=0)
    events["event"] = events["event"].map(spaced)
    data = event_file(tmp_path / "keys.csv", events)
    model = tmp_path / "model.skops"
    run("train", data, "-o", model, *SMALL_MODEL)
    output = tmp_path / f"flagged{suffix}"
    run("detect", model, data, "--all", "--top-k", 6, "-o", output, "-q")
    if suffix == ".csv":
        expected = pd.read_csv(output, keep_default_na=False)["expected"]
        expected = expected.map(json.loads)
    else:
        expected = pd.read_json(output, lines=True)["expected"]
    assert {key for pairs in expected for key, _ in pairs} == set(spaced.values())


def test_the_metrics_table_keeps_large_counts_apart():
    from sklearn_deeplog._cli import _metrics_table

    table = _metrics_table([("sessions", [[12_345_678, 1_234_567], [7, 98_765_432]])])
    header, row = (line.split() for line in table.splitlines())
    assert header == ["precision", "recall", "f1", "TP", "FP", "FN", "TN"]
    assert row[4:] == ["98,765,432", "1,234,567", "7", "12,345,678"]


def test_help_and_the_readers_load_no_torch():
    code = (
        "import sys, contextlib, io\n"
        "import sklearn_deeplog.io\n"
        "from sklearn_deeplog._cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for command in ([], ['train'], ['detect']):\n"
        "        try:\n"
        "            main([*command, '--help'])\n"
        "        except SystemExit:\n"
        "            pass\n"
        "assert 'torch' not in sys.modules and 'skorch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_readme_walk_through_prints_the_demo_numbers(tmp_path):
    # README.rst's command-line steps on the bundled HDFS sessions.
    hdfs = load_hdfs(as_frame=True)
    events = hdfs.data.assign(label=hdfs.target)
    train, test = tmp_path / "hdfs_train.csv", tmp_path / "hdfs_test.csv"
    events[hdfs.subset == "train"].to_csv(train, index=False)
    events[hdfs.subset != "train"].to_csv(test, index=False)
    model, columns = tmp_path / "hdfs.skops", ["--group", "group", "--time", "time"]
    epochs = ["--epochs", "2", "-q"]
    run("train", train, "-o", model, *columns, "--complete-sessions", *epochs)
    report = run("evaluate", model, test, *columns, "-q").stdout
    demo = run("demo", *epochs).stdout
    assert demo.splitlines()[1].startswith("sessions")
    assert demo.splitlines()[1].split() == report.splitlines()[2].split()


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
    # No progress bar, nor its escape codes, when stderr is not a terminal.
    assert "scoring" not in detected.stderr and "\x1b" not in detected.stderr
    flagged = pd.read_csv(tmp_path / "flagged.csv")
    assert f"{len(flagged)} of {len(pd.read_csv(test))} entries flagged" in (
        detected.stderr
    )
    truth = pd.read_csv(test)
    injected = truth[truth["label"] == 1]
    assert set(zip(injected["machine"], injected["timestamp"], strict=True)) <= set(
        zip(flagged["machine"], flagged["timestamp"], strict=True)
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
        "machine,timestamp,event,score,anomaly,expected\n"
    )


def test_console_script_entry_point():
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="sklearn-deeplog")
    assert script.value == "sklearn_deeplog._cli:main"


@pytest.mark.filterwarnings("always::UserWarning")  # setup.cfg ignores it elsewhere
def test_train_warns_in_options_when_top_g_covers_every_key(files, tmp_path):
    train = files[1]  # 6 keys
    result = run("train", train, "-o", tmp_path / "model.skops", "--epochs", 1)
    (warning,) = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warning.startswith("sklearn-deeplog train: warning: --top-g 9 is at least")
    assert warning.endswith(
        "Set --top-g below 6, or a false-alarm budget instead (e.g. "
        "--false-alarms 0.01)."
    )


@pytest.mark.parametrize("values", [[], ["--values", "size"]], ids=["keys", "values"])
def test_train_with_a_false_alarm_budget_holds_out_groups(tmp_path, values):
    train, events = performance_file(tmp_path / "train.csv", n_sessions=150)
    model = tmp_path / "model.skops"
    result = run(
        "train", train, "-o", model, "--epochs", 5, "--false-alarms", 0.05, *values
    )
    detector = (load_model(model).key_model_ if values else load_model(model))[-1]
    assert detector.false_alarms == 0.05
    # Whole groups (the file's sessions) held out, not entries.
    assert detector.n_validation_ == round(0.2 * events["session"].nunique())
    summary = result.stderr.splitlines()[-1]
    assert summary.startswith(
        "key model's threshold: a key is anomalous below probability "
    )
    assert summary.endswith(
        f"of the {detector.n_validation_} held-out groups (budget 5.00%)"
    )


def test_train_refuses_a_false_alarm_budget_outside_0_1(files, tmp_path):
    result = run(
        "train", files[1], "-o", tmp_path / "m.skops", "--false-alarms", 1, check=False
    )
    assert result.returncode == 2
    assert "--false-alarms: must be a positive number below 1, got 1" in result.stderr
    assert not (tmp_path / "m.skops").exists()


@pytest.mark.filterwarnings("always::UserWarning")  # as a command-line warning
def test_train_warns_in_options_when_too_few_groups_are_held_out(files, tmp_path):
    options = ("--epochs", 1, "--false-alarms", 0.001, "-q")
    result = run("train", files[1], "-o", tmp_path / "model.skops", *options)
    (warning,) = [line for line in result.stderr.splitlines() if "warning" in line]
    assert "Only 60 groups to set the threshold on" in warning
    assert warning.endswith("Train on more groups or raise --false-alarms.")
