# SPDX-License-Identifier: BSD-3-Clause
"""The DeepLog paper's HDFS log-key sessions, shipped with the package."""

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..io import read_txt
from ..io._readers import sessions_table

__all__ = ["load_hdfs"]

DESCR = """\
HDFS log keys of the DeepLog paper
==================================

Sessions of log keys from the Hadoop Distributed File System (HDFS) logs of Xu et
al., as used by the DeepLog paper: one session per HDFS block, the keys of the
block's log entries in time order. Key ``k`` is Loghub's HDFS template ``Ek``
(e.g. 5 = "Receiving block <*> src: <*> dest: <*>", 22 = "BLOCK* NameSystem.
allocateBlock: <*>").

- ``train``: 4,855 normal sessions, the paper's training set (the sessions of the
  first 100,000 log entries); 14 distinct keys.
- ``test_abnormal``: 16,838 anomalous sessions, the paper's abnormal test set.
- ``test_normal``: 2,791 normal sessions sampled at random from HDFS_v1 (the
  paper's 553,366 normal test sessions are not shipped); groups are the blocks'
  ids. Scale its false-positive rate to 553,366 sessions to compare with the paper.

Labels are per session (1 anomalous, 0 normal) and repeated on each entry.

References: M. Du, F. Li, G. Zheng, V. Srikumar, "DeepLog: Anomaly Detection and
Diagnosis from System Logs through Deep Learning", ACM CCS 2017. W. Xu, L. Huang,
A. Fox, D. Patterson, M. Jordan, "Detecting Large-Scale System Problems by Mining
Console Logs", SOSP 2009. J. Zhu, S. He, P. He, J. Liu, M. R. Lyu, "Loghub: A Large
Collection of System Log Datasets for AI-driven Log Analytics", ISSRE 2023 (the
data is free for research and academic use).
"""

_SUBSETS = {
    "all": ("train", "test_normal", "test_abnormal"),
    "train": ("train",),
    "test": ("test_normal", "test_abnormal"),
    "test_normal": ("test_normal",),
    "test_abnormal": ("test_abnormal",),
}


def load_hdfs(*, subset="all", as_frame=False, return_X_y=False):
    """Load the HDFS log-key sessions of the DeepLog paper (bundled, offline).

    ============================  ========================================
    Sessions (train / normal /    4,855 / 2,791 / 16,838
    abnormal test)
    Log entries                   95,125 / 54,019 / 284,818
    Distinct keys in training     14
    ============================  ========================================

    Parameters
    ----------
    subset : {'all', 'train', 'test', 'test_normal', 'test_abnormal'}, \
            default='all'
        Which sessions to load.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame and ``target`` a Series; else arrays.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``data``: the event table, one row per log entry, columns ``group``
          (session id, unique across subsets), ``time`` (position in the
          session) and ``event`` (the log key, an int);
        - ``target``: 1 if the entry's session is anomalous, else 0;
        - ``session_target``: Series of the session labels, indexed by group;
        - ``subset``: the subset of each entry;
        - ``feature_names``, ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from sklearn_deeplog.datasets import load_hdfs
    >>> hdfs = load_hdfs(subset="train", as_frame=True)
    >>> hdfs.data["group"].nunique(), len(hdfs.data)
    (4855, 95125)
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {sorted(_SUBSETS)}, got {subset!r}.")
    parts = [_read_subset(name) for name in _SUBSETS[subset]]
    events = pd.concat(parts, ignore_index=True)
    target = events.pop("label")
    subsets = events.pop("subset")
    events["event"] = events["event"].astype(np.int64)
    session_target = target.groupby(events["group"], sort=False).first()
    if return_X_y:
        return (events, target) if as_frame else (events.to_numpy(), target.to_numpy())
    return Bunch(
        data=events if as_frame else events.to_numpy(),
        target=target if as_frame else target.to_numpy(),
        session_target=session_target,
        subset=subsets if as_frame else subsets.to_numpy(),
        feature_names=list(events.columns),
        DESCR=DESCR,
    )


def _read_subset(name):
    data = resources.files(__package__) / "data"
    if name == "test_normal":
        with resources.as_file(data / "hdfs_test_normal_sample.csv.gz") as path:
            blocks = pd.read_csv(path)
        events = sessions_table(
            list(zip(blocks["block_id"], blocks["keys"].str.split(), strict=True))
        )
    else:
        file = {
            "train": "hdfs_train.txt.gz",
            "test_abnormal": "hdfs_test_abnormal.txt.gz",
        }
        with resources.as_file(data / file[name]) as path:
            events = read_txt(path)
        prefix = {"train": "train", "test_abnormal": "abnormal"}[name]
        events["group"] = prefix + "-" + events["group"].astype(str)
    return events.assign(label=int(name == "test_abnormal"), subset=name)
