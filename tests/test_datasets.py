# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pytest

from sklearn_deeplog.datasets import load_hdfs, make_logs


def test_load_hdfs_counts_and_labels():
    hdfs = load_hdfs(as_frame=True)
    sessions = hdfs.data.groupby(hdfs.subset)["group"].nunique()
    assert sessions.to_dict() == {
        "train": 4855,
        "test_normal": 2791,
        "test_abnormal": 16838,
    }
    assert (hdfs.target == (hdfs.subset == "test_abnormal")).all()
    assert hdfs.session_target.sum() == 16838
    assert hdfs.data["event"].dtype == np.int64
    assert "Du" in hdfs.DESCR and "Loghub" in hdfs.DESCR


def test_load_hdfs_matches_the_shared_files(shared_data):
    hdfs = shared_data / "hdfs"
    train = load_hdfs(subset="train", as_frame=True).data
    tokens = (hdfs / "hdfs_train").read_text().split()
    assert train["event"].tolist() == [int(t) for t in tokens]
    abnormal = load_hdfs(subset="test_abnormal", as_frame=True).data
    assert len(abnormal) == len((hdfs / "hdfs_test_abnormal").read_text().split())


def test_load_hdfs_return_x_y_and_arrays():
    X, y = load_hdfs(subset="test", return_X_y=True)
    assert X.shape == (54019 + 284818, 3) and y.shape == (len(X),)
    with pytest.raises(ValueError, match="subset must be one of"):
        load_hdfs(subset="validation")


def test_make_logs_labels_one_entry_per_anomalous_session():
    events = make_logs(100, anomaly_ratio=0.2, random_state=0)
    assert events.groupby("session")["label"].sum().value_counts().to_dict() == {
        0: 80,
        1: 20,
    }
    assert events["time"].is_monotonic_increasing
