# SPDX-License-Identifier: BSD-3-Clause
import gzip
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from sklearn_deeplog.datasets import (
    ANOMALY_KINDS,
    load_hdfs,
    make_logs,
    make_workflow_logs,
)

SESSIONS = {"train": 4855, "test_normal": 2791, "test_abnormal": 16838}
ENTRIES = {"train": 95125, "test_normal": 54019, "test_abnormal": 284818}


@pytest.fixture(scope="module")
def hdfs():
    return load_hdfs(as_frame=True)


def test_load_hdfs_counts(hdfs):
    assert hdfs.data.groupby(hdfs.subset)["group"].nunique().to_dict() == SESSIONS
    assert hdfs.subset.value_counts().to_dict() == ENTRIES
    assert hdfs.session_target.value_counts().to_dict() == {
        1: SESSIONS["test_abnormal"],
        0: SESSIONS["train"] + SESSIONS["test_normal"],
    }


def test_load_hdfs_event_table_and_labels(hdfs):
    assert list(hdfs.data.columns) == hdfs.feature_names == ["group", "time", "event"]
    assert hdfs.data.dtypes.astype(str).tolist() == ["object", "int64", "int64"]
    assert hdfs.data["event"].between(1, 28).all()
    assert_frame_equal(hdfs.frame.drop(columns="target"), hdfs.data)
    assert (hdfs.target == (hdfs.subset == "test_abnormal")).all()
    by_group = hdfs.target.groupby(hdfs.data["group"], sort=False).max()
    assert_series_equal(hdfs.session_target, by_group)
    # Groups are unique across subsets; time is the position in the session.
    positions = hdfs.data.groupby("group", sort=False).cumcount()
    assert (hdfs.data["time"] == positions).all()
    groups = hdfs.data["group"].drop_duplicates()
    assert groups.str.startswith(("train-", "abnormal-", "blk_")).all()
    assert hdfs.data.groupby(hdfs.subset)["group"].nunique().sum() == len(groups)
    assert hdfs.target_names == ["normal", "anomalous"]
    for citation in ("CCS 2017", "SOSP 2009", "ISSRE 2023", "Ek"):
        assert citation in hdfs.DESCR
    # Every key of the data has its template, also listed in DESCR's table.
    assert set(hdfs.data["event"]) <= set(hdfs.templates) == set(range(1, 29))
    assert "allocateBlock" in hdfs.templates[22]
    for key, template in hdfs.templates.items():
        assert " ".join(hdfs.DESCR.split()).count(f"{key} {template}") == 1


@pytest.mark.parametrize("subset", ["train", "test", "test_normal", "test_abnormal"])
def test_load_hdfs_subsets(hdfs, subset):
    bunch = load_hdfs(subset=subset, as_frame=True)
    rows = hdfs.subset.isin(
        ["test_normal", "test_abnormal"] if subset == "test" else [subset]
    )
    assert_frame_equal(bunch.data, hdfs.data[rows].reset_index(drop=True))
    assert (bunch.target.to_numpy() == hdfs.target[rows].to_numpy()).all()


def test_load_hdfs_arrays_and_return_x_y():
    bunch = load_hdfs(subset="test_normal")
    assert isinstance(bunch.data, np.ndarray) and bunch.data.shape == (54019, 3)
    assert bunch.frame is None and not bunch.target.any()
    assert isinstance(bunch.session_target, pd.Series)
    X, y = load_hdfs(subset="test", return_X_y=True)
    assert X.shape == (54019 + 284818, 3) and y.shape == (len(X),)
    X, y = load_hdfs(subset="train", return_X_y=True, as_frame=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    with pytest.raises(ValueError, match="'subset' parameter of load_hdfs"):
        load_hdfs(subset="validation")


def test_load_hdfs_data_is_bundled_and_small():
    files = list((resources.files("sklearn_deeplog.datasets") / "data").iterdir())
    names = {f.name for f in files}
    assert {
        "hdfs_train.txt.gz",
        "hdfs_test_abnormal.txt.gz",
        "hdfs_test_normal_sample.csv.gz",
    } <= names
    assert sum(len(f.read_bytes()) for f in files) < 1_000_000
    assert all(f.read_bytes()[:2] == b"\x1f\x8b" for f in files)  # gzip


def test_load_hdfs_matches_the_shared_files(hdfs, shared_data):
    directory = shared_data / "hdfs"
    for subset, name in [
        ("train", "hdfs_train"),
        ("test_abnormal", "hdfs_test_abnormal"),
    ]:
        text = (directory / name).read_text()
        events = hdfs.data[hdfs.subset == subset]
        assert events["event"].tolist() == [int(k) for k in text.split()]
        assert events["group"].nunique() == len(text.splitlines())
    blocks = pd.read_csv(directory / "hdfs_test_normal_sample.csv")
    normal = hdfs.data[hdfs.subset == "test_normal"]
    keys = normal.groupby("group", sort=False)["event"].agg(
        lambda k: " ".join(map(str, k))
    )
    assert keys.index.tolist() == blocks["block_id"].tolist()
    assert keys.tolist() == blocks["keys"].tolist()
    bundled = resources.files("sklearn_deeplog.datasets") / "data" / "hdfs_train.txt.gz"
    assert (
        gzip.decompress(bundled.read_bytes()) == (directory / "hdfs_train").read_bytes()
    )


def test_make_logs_labels_one_entry_per_anomalous_session():
    events = make_logs(100, anomaly_ratio=0.2, random_state=0)
    assert events.groupby("session")["label"].sum().value_counts().to_dict() == {
        0: 80,
        1: 20,
    }
    assert events["time"].is_monotonic_increasing


def _pairs(events):
    """Each session's pairs of consecutive keys, with a start and an end marker."""
    keys = events.groupby("session")["event"].agg(lambda k: ["<", *k, ">"])
    return keys.map(lambda k: set(zip(k[:-1], k[1:], strict=True)))


def test_make_workflow_logs_sessions_labels_and_kinds():
    train, test = make_workflow_logs(
        6, n_train=2000, n_normal=100, n_anomalous=200, random_state=0
    )
    assert train["session"].nunique() == 2000 and (train["label"] == 0).all()
    assert (train["anomaly"] == "").all()
    assert train.columns.equals(test.columns)
    assert (
        train.groupby("session")["time"]
        .agg(list)
        .map(lambda t: t == list(range(len(t))))
        .all()
    )
    kinds = test.groupby("session")["anomaly"].first()
    assert kinds.tolist() == [""] * 100 + list(ANOMALY_KINDS) * 50
    labels = test.groupby("session")["label"].sum()
    assert_series_equal(labels, (kinds != "").astype("int64"), check_names=False)
    # Training has seen every transition of a 6-key workflow: each anomaly of
    # order holds one it has not, with known keys only; a normal session none.
    seen = set().union(*_pairs(train))
    novel = _pairs(test).map(lambda pairs: not pairs <= seen)
    assert not novel[kinds == ""].any()
    assert novel[kinds != ""].all()
    known = set(train["event"])
    flagged = test[test["label"] == 1].set_index("session")
    unseen = flagged["event"][kinds[flagged.index] == "unseen key"]
    assert (~unseen.isin(known)).all() and (unseen >= 1000).all()
    ordered = test[test["anomaly"] != "unseen key"]
    assert ordered["event"].isin(known).all()
    # The anomalous entry is where the session first leaves the workflow.
    for _, session in test[test["anomaly"] != ""].groupby("session"):
        path = ["<", *session["event"], ">"]
        pairs = list(zip(path[:-1], path[1:], strict=True))
        first = next(i for i, pair in enumerate(pairs) if pair not in seen)
        labelled = np.flatnonzero(session["label"].to_numpy())
        assert labelled.tolist() == [min(first, len(session) - 1)]


def test_make_workflow_logs_is_reproducible_per_seed_and_size():
    sizes = dict(n_train=20, n_normal=5, n_anomalous=8)
    first = make_workflow_logs(30, **sizes, random_state=3)
    for a, b in zip(
        first, make_workflow_logs(30, **sizes, random_state=3), strict=True
    ):
        assert_frame_equal(a, b)
    assert not first[0].equals(make_workflow_logs(30, **sizes, random_state=4)[0])
    many = make_workflow_logs(300, **sizes, random_state=3)[0]
    assert set(many["event"]) <= set(range(300)) and many["event"].max() > 30
