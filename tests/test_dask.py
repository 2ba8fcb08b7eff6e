# SPDX-License-Identifier: BSD-3-Clause
"""Training and detection on a Dask cluster: the results of doing it in memory."""

import importlib
import io
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import (
    DeepLog,
    DeepLogDetector,
    ParameterValueDetector,
    SequenceWindower,
    StreamDetector,
    aggregate_sessions,
    load_model,
    save_model,
)
from sklearn_deeplog.datasets import make_logs, make_performance_logs
from sklearn_deeplog.io import read_events

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")
from test_cli import SMALL_MODEL, event_file, run  # noqa: E402

from sklearn_deeplog import dask as on_dask  # noqa: E402

COLUMNS = dict(event="event", group="session", time="time")
NETWORK = dict(top_g=2, hidden_size=16, max_epochs=4, random_state=0, n_threads=1)


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each: what a small cluster does."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def logs():
    """Training and test logs, sessions interleaved in time as a log file has."""
    train = make_logs(120, random_state=0).sort_values("time", kind="stable")
    test = make_logs(40, anomaly_ratio=0.3, random_state=1)
    return train.reset_index(drop=True), test.sort_values("time", kind="stable")


def key_pipeline(**windower):
    return make_pipeline(
        SequenceWindower(window=3, **{**COLUMNS, **windower}),
        DeepLogDetector(**NETWORK),
    )


def assert_same_model(fitted, expected, log):
    np.testing.assert_allclose(
        fitted.decision_function(log), expected.decision_function(log), rtol=1e-12
    )


def assert_detects_as_in_memory(model, events, log):
    """detect's decisions on `events` are the model's on `log`, row by row."""
    decided = on_dask.detect(model, events).compute()
    assert decided.index.equals(log.index)
    np.testing.assert_allclose(
        decided["score"], model.decision_function(log), rtol=1e-12
    )


WINDOWERS = {
    "sessions": {},
    "complete sessions": {"complete_sessions": True},
    "one stream": {"group": None},
    "one stream, complete": {"group": None, "complete_sessions": True},
    "timeout": {"timeout": 1.0},
}


@pytest.mark.parametrize("name", WINDOWERS)
def test_window_counts_are_those_of_every_window(client, logs, name):
    train = logs[0]
    windower = SequenceWindower(window=3, **{**COLUMNS, **WINDOWERS[name]})
    counted = on_dask.count_windows(windower, dd.from_pandas(train, npartitions=5))
    windows = pd.DataFrame(
        windower.fit_transform(train), columns=windower.get_feature_names_out()
    )
    expected = windows.value_counts().rename("count").reset_index()
    pd.testing.assert_frame_equal(
        counted.sort_values(list(windows.columns), ignore_index=True),
        expected.sort_values(list(windows.columns), ignore_index=True),
    )
    assert counted["count"].sum() == len(train)


@pytest.mark.parametrize("name", WINDOWERS)
def test_fit_and_detect_give_the_in_memory_results(client, logs, name):
    train, test = logs
    model = key_pipeline(**WINDOWERS[name])
    in_memory = clone(model).fit(train)
    on_dask.fit(model, dd.from_pandas(train, npartitions=4))
    assert_same_model(model, in_memory, test)

    events = dd.from_pandas(test, npartitions=3)
    decided = on_dask.detect(model, events, top_k=2)
    assert decided.npartitions == events.npartitions
    decided = decided.compute()
    # Aligned with the input (Dask holds text as pyarrow strings).
    pd.testing.assert_frame_equal(decided[test.columns], test, check_dtype=False)
    whole = model.decision_function(test)
    np.testing.assert_allclose(decided["score"], whole, rtol=1e-12)
    assert (decided["anomaly"] == (whole < 0)).all()
    expected, probabilities = model[-1].predict_next(model[0].transform(test), k=2)
    assert [[key for key, _ in pairs] for pairs in decided["expected"]] == [
        list(keys) for keys in expected
    ]


def test_partitions_of_whole_groups_need_no_shuffle(client, logs):
    train, test = logs
    by_session = train.sort_values(["session", "time"], kind="stable")
    events = dd.from_pandas(by_session.set_index("session", drop=False), npartitions=4)
    assert events.known_divisions  # each session in one partition
    model = on_dask.fit(key_pipeline(), events, partitioned_by_group=True)
    assert_same_model(model, key_pipeline().fit(train), test)


def test_deeplog_with_a_value_model_gives_the_in_memory_results(client):
    train = make_performance_logs(n_sessions=60, random_state=0)
    test = make_performance_logs(n_sessions=20, n_slow=3, random_state=3)
    model = DeepLog(
        key_model=key_pipeline(complete_sessions=True),
        value_model=ParameterValueDetector(
            **COLUMNS, values=["size"], hidden_size=8, max_epochs=3, random_state=0
        ),
    )
    in_memory = clone(model).fit(train)
    assert on_dask.fit(model, dd.from_pandas(train, npartitions=3)) is model
    assert_same_model(model, in_memory, test)

    decided = on_dask.detect(model, dd.from_pandas(test, npartitions=3)).compute()
    np.testing.assert_allclose(
        decided["score"], model.decision_function(test), rtol=1e-12
    )
    assert (decided["flagged_by"] == model.flagged_by(test)).all()
    assert (decided["flagged_by"] == "value").any()


class RecordingValueDetector(ParameterValueDetector):
    """Remembers the entries it was fitted on."""

    def fit(self, X, y=None):
        self.seen_ = X
        return super().fit(X)


def test_the_value_model_learns_from_a_sample_of_whole_groups(client):
    train = make_performance_logs(n_sessions=100, random_state=0)
    model = DeepLog(
        key_model=key_pipeline(),
        value_model=RecordingValueDetector(
            **COLUMNS, values=["size"], hidden_size=8, max_epochs=1, random_state=0
        ),
    )
    events = dd.from_pandas(train, npartitions=3)
    on_dask.fit(model, events, max_value_entries=len(train) // 2)
    seen = model.value_model_.seen_
    assert 0.3 * len(train) < len(seen) < 0.7 * len(train)
    seen_sizes = seen["session"].value_counts()
    sizes = train["session"].value_counts().reindex(seen_sizes.index)
    assert (seen_sizes == sizes).all()  # whole sessions
    # The key model learned from every entry.
    assert_same_model(model.key_model_, key_pipeline().fit(train), train)


def test_one_stream_needs_the_entries_of_earlier_partitions(client):
    # Partitions shorter than the window: the context comes from several.
    log = pd.DataFrame({"event": [1, 2, 3, 4] * 30})
    model = make_pipeline(
        SequenceWindower(window=5, event="event"), DeepLogDetector(**NETWORK)
    )
    events = dd.from_pandas(log, npartitions=40)
    on_dask.fit(model, events)
    assert_detects_as_in_memory(model, events, log)


def test_sessions_are_aggregated_on_the_cluster(client, logs):
    train, test = logs
    model = key_pipeline().fit(train)
    decided = on_dask.detect(model, dd.from_pandas(test, npartitions=3))
    sessions = on_dask.aggregate_sessions(decided, "session").compute()
    expected = aggregate_sessions(model.decision_function(test), test["session"])
    np.testing.assert_allclose(
        sessions["score"].sort_index(), expected.sort_index(), rtol=1e-12
    )
    assert (sessions["anomaly"].sort_index() == (expected.sort_index() < 0)).all()


def test_the_stream_s_decisions_on_event_files(client, logs, tmp_path):
    # CSV files read by Dask: strings are pyarrow strings there.
    train, test = logs
    for name, table in (("train", train), ("test", test)):
        table = table.assign(event="E" + table["event"].astype(str))
        for part, rows in enumerate(np.array_split(np.arange(len(table)), 3)):
            table.iloc[rows].to_csv(tmp_path / f"{name}-{part}.csv", index=False)
    train_files = dd.read_csv(str(tmp_path / "train-*.csv"))
    model = on_dask.fit(key_pipeline(), train_files)
    in_memory = key_pipeline().fit(train_files.compute())
    test_table = dd.read_csv(str(tmp_path / "test-*.csv"))
    expected = StreamDetector(in_memory).update(test_table.compute())
    decided = on_dask.detect(model, test_table).compute()
    np.testing.assert_allclose(decided["score"], expected["score"], rtol=1e-12)


def test_grid_search_runs_on_the_cluster(client, logs):
    train = logs[0]
    search = GridSearchCV(
        key_pipeline(),
        {"deeplogdetector__top_g": [1, 3]},
        cv=GroupKFold(n_splits=2),
        n_jobs=2,
    )
    in_memory = clone(search).set_params(n_jobs=1).fit(train, groups=train["session"])
    with joblib.parallel_backend("dask"):
        search.fit(train, groups=train["session"])
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"],
        in_memory.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert search.best_params_ == in_memory.best_params_


def test_wrong_inputs_are_refused_with_the_fix(logs):
    train = logs[0]
    with pytest.raises(TypeError, match="must be a dask DataFrame.*from_pandas"):
        on_dask.fit(key_pipeline(), train)
    events = dd.from_pandas(train, npartitions=2)
    budget = key_pipeline()
    budget[-1].set_params(false_alarms=0.01)
    with pytest.raises(ValueError, match=r"calibrate\(windows, groups\)"):
        on_dask.fit(budget, events)
    with pytest.raises(TypeError, match="pipeline of a SequenceWindower"):
        on_dask.fit(DeepLogDetector(), events)
    with pytest.raises(ValueError, match="StreamDetector needs a fitted model"):
        on_dask.detect(key_pipeline(), events)
    clash = dd.from_pandas(train.assign(__sklearn_deeplog_index__=0), npartitions=2)
    with pytest.raises(ValueError, match="rename it"):
        on_dask.detect(key_pipeline().fit(train), clash)


def test_missing_dask_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    for name in ("sklearn_deeplog.dask", "sklearn_deeplog.dask._cluster"):
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError, match=r'pip install "sklearn-deeplog\[dask\]"'):
        importlib.import_module("sklearn_deeplog.dask")


# -- the command line ------------------------------------------------------------


@pytest.fixture(scope="module")
def event_files(tmp_path_factory):
    """A training and a test log, whole and split into three files each."""
    tmp = tmp_path_factory.mktemp("files")
    for name, log in (
        ("train", make_logs(150, random_state=0)),
        ("test", make_logs(50, anomaly_ratio=0.3, random_state=1)),
    ):
        log = log.sort_values("time", kind="stable")  # as a log file is
        event_file(tmp / f"{name}.csv", log)
        for part, rows in enumerate(np.array_split(np.arange(len(log)), 3)):
            event_file(tmp / f"{name}-{part}.csv", log.iloc[rows])
    return tmp


@pytest.mark.parametrize("values", [[], ["--values"]])
def test_commands_on_the_cluster_give_the_results_on_the_whole_file(
    client, event_files, values
):
    tmp, scheduler = event_files, ["--scheduler", client.scheduler.address]
    options = [*SMALL_MODEL, "--complete-sessions", *values]
    run("train", tmp / "train.csv", "-o", tmp / "local.skops", *options)
    run("train", tmp / "train-*.csv", "-o", tmp / "dask.skops", *options, *scheduler)
    test = tmp / "test.csv"
    entries = read_events(test).drop(columns="label")
    entries["event"] = entries["event"].astype(str).astype(object)  # as trained
    in_memory = load_model(tmp / "local.skops")
    assert_same_model(load_model(tmp / "dask.skops"), in_memory, entries)

    model = tmp / "dask.skops"
    run("detect", model, test, "-o", tmp / "local.csv", "--all")
    files = tmp / "test-*.csv"
    run("detect", model, files, "-o", tmp / "dask.csv", "--all", *scheduler)
    local, on_cluster = (pd.read_csv(tmp / name) for name in ("local.csv", "dask.csv"))
    # The same rows; held-back ends of sessions come later in the local file.
    pd.testing.assert_frame_equal(
        on_cluster.sort_values(["machine", "timestamp"], ignore_index=True),
        local.sort_values(["machine", "timestamp"], ignore_index=True),
    )
    in_file_order = pd.read_csv(test)["timestamp"]
    assert (on_cluster["timestamp"] == in_file_order).all()
    assert (
        run("evaluate", model, test).stdout
        == run("evaluate", model, files, *scheduler).stdout
    )


def test_the_command_line_refuses_what_the_cluster_cannot_do(client, event_files):
    tmp, scheduler = event_files, ["--scheduler", client.scheduler.address]
    model = tmp / "model.skops"
    failed = run(
        "train",
        tmp / "train-*.csv",
        "-o",
        model,
        "--false-alarms",
        "0.01",
        *scheduler,
        check=False,
    )
    assert failed.returncode == 1 and "--false-alarms" in failed.stderr
    assert "Traceback" not in failed.stderr and not model.exists()
    run("train", tmp / "train.csv", "-o", model, *SMALL_MODEL)
    before = (tmp / "test-1.csv").read_bytes()
    for args, message in [
        (
            ["detect", model, tmp / "test-*.csv", "-o", tmp / "test-1.csv"],
            "is the input",
        ),
        (["detect", model, tmp / "none-*.csv"], "no file matches"),
        (["detect", model, tmp / "test.csv", "--follow"], "leave out --scheduler"),
    ]:
        failed = run(*args, *scheduler, check=False)
        assert failed.returncode == 1 and message in failed.stderr
    assert (tmp / "test-1.csv").read_bytes() == before


def test_empty_partitions_and_fewer_groups_than_partitions(client, logs):
    train, test = logs
    three = train[train["session"].isin(train["session"].unique()[:3])]
    events = dd.from_pandas(three, npartitions=6)  # shuffled into empty ones
    model = on_dask.fit(key_pipeline(), events)
    assert_same_model(model, key_pipeline().fit(three), test)
    assert_detects_as_in_memory(model, events, three)


@pytest.mark.parametrize("complete_sessions", [False, True])
def test_one_stream_over_an_empty_partition(client, complete_sessions):
    log = pd.DataFrame({"event": [1, 2, 3, 4, 5] * 24})
    model = make_pipeline(
        SequenceWindower(window=3, event="event", complete_sessions=complete_sessions),
        DeepLogDetector(**NETWORK),
    )
    events = dd.from_pandas(log, npartitions=4)
    start, stop = events.divisions[1], events.divisions[2]

    def outside(frame):  # the second partition's entries left out
        return frame[(frame.index < start) | (frame.index >= stop)]

    events, log = events.map_partitions(outside), outside(log)
    assert 0 in events.map_partitions(len).compute().tolist()
    on_dask.fit(model, events)
    assert_same_model(model, clone(model).fit(log), log)
    assert_detects_as_in_memory(model, events, log)


def test_the_shuffled_decisions_are_found_by_their_index(client, logs):
    train, test = logs
    model = key_pipeline().fit(train)
    decided = on_dask.detect(model, dd.from_pandas(test, npartitions=3))
    label = test.index[len(test) // 2]
    row = decided.loc[label].compute()
    whole = pd.Series(model.decision_function(test), index=test.index)
    assert len(row) == 1 and row["score"].item() == pytest.approx(whole[label])
    # Sessions aggregate even when the index is named after the group column.
    by_session = test.set_index("session", drop=False)
    decided = on_dask.detect(
        model,
        dd.from_pandas(by_session, npartitions=3, sort=False),
        partitioned_by_group=False,
    )
    assert len(on_dask.aggregate_sessions(decided, "session").compute()) == (
        test["session"].nunique()
    )


def test_txt_globs_keep_the_sessions_of_each_file_apart(client, tmp_path):
    sessions = [[1, 2, 3, 4, 5, 6][: 3 + n % 4] for n in range(60)]
    lines = [" ".join(map(str, keys)) for keys in sessions]
    (tmp_path / "all.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "a-0.txt").write_text("\n".join(lines[:25]) + "\n")
    (tmp_path / "a-1.txt").write_text("\n".join(lines[25:]) + "\n")
    scheduler = ["--scheduler", client.scheduler.address]
    options = [*SMALL_MODEL, "--complete-sessions"]
    run("train", tmp_path / "all.txt", "-o", tmp_path / "local.skops", *options)
    run(
        "train",
        tmp_path / "a-*.txt",
        "-o",
        tmp_path / "dask.skops",
        *options,
        *scheduler,
    )
    entries = read_events(tmp_path / "all.txt")
    entries["event"] = entries["event"].astype(str).astype(object)
    in_memory = load_model(tmp_path / "local.skops")
    assert_same_model(load_model(tmp_path / "dask.skops"), in_memory, entries)
    model = tmp_path / "local.skops"
    local = run("detect", model, tmp_path / "all.txt", "--all").stdout
    on_cluster = run("detect", model, tmp_path / "a-*.txt", "--all", *scheduler).stdout
    local, on_cluster = (pd.read_csv(io.StringIO(text)) for text in (local, on_cluster))
    # detect names the columns of a .txt file by --group and --time's defaults.
    groups = on_cluster.pop("machine").str.split(":", expand=True)
    file, line = groups.T.astype(int).to_numpy()
    on_cluster.insert(0, "machine", line + 25 * file)  # the line in all.txt
    columns = ["machine", "timestamp"]
    pd.testing.assert_frame_equal(
        on_cluster.sort_values(columns, ignore_index=True),
        local.sort_values(columns, ignore_index=True),
    )


def test_a_parquet_dataset_and_a_model_of_numeric_keys(client, logs, tmp_path):
    train, test = logs
    model = make_pipeline(
        SequenceWindower(window=3, event="event", group="group", time="time"),
        DeepLogDetector(**NETWORK),
    )
    columns = {"session": "group", "time": "time", "event": "event"}
    save_model(
        model.fit(train.rename(columns=columns)[list(columns.values())]),
        tmp_path / "numbers.skops",
    )
    event_file(tmp_path / "test.csv", test)
    table = pd.read_csv(tmp_path / "test.csv").drop(columns="label")
    dataset = tmp_path / "test.parquet"
    dataset.mkdir()
    for part, rows in enumerate(np.array_split(np.arange(len(table)), 2)):
        table.iloc[rows].to_parquet(dataset / f"part.{part}.parquet")
    scheduler = ["--scheduler", client.scheduler.address]
    model = tmp_path / "numbers.skops"
    local = run("detect", model, tmp_path / "test.csv", "--all").stdout
    on_cluster = run("detect", model, dataset, "--all", *scheduler).stdout  # to stdout
    local, on_cluster = (pd.read_csv(io.StringIO(text)) for text in (local, on_cluster))
    assert on_cluster["anomaly"].mean() < 0.5  # numeric keys matched, not all unknown
    sort = ["machine", "timestamp"]
    pd.testing.assert_frame_equal(
        on_cluster.sort_values(sort, ignore_index=True),
        local.sort_values(sort, ignore_index=True),
    )


def test_times_written_as_text_are_read_as_in_memory(client, logs):
    train = logs[0].assign(
        time=lambda log: (
            pd.Timestamp("2026-01-01") + pd.to_timedelta(log["time"], unit="s")
        ).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    )
    model = on_dask.fit(key_pipeline(), dd.from_pandas(train, npartitions=3))
    assert_same_model(model, key_pipeline().fit(train), train)
