# SPDX-License-Identifier: BSD-3-Clause
"""The DeepLog paper's HDFS log-key sessions, shipped with the package."""

import textwrap
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ..io import read_txt

__all__ = ["load_hdfs"]

_DESCR_HEAD = """\
.. _hdfs_dataset:

HDFS log keys of the DeepLog paper
----------------------------------

**Data Set Characteristics:**

:Sessions: 4,855 (train), 2,791 (test_normal), 16,838 (test_abnormal)
:Log entries: 95,125 (train), 54,019 (test_normal), 284,818 (test_abnormal)
:Log keys: integers 1 to 28 (14 of them occur in train)
:Labels: per session, 1 anomalous, 0 normal; repeated on each entry

Sessions of log keys from the Hadoop Distributed File System (HDFS) logs of
Xu et al. (HDFS_v1 in Loghub), as used by the DeepLog paper: one session per
HDFS block, the keys of the block's log entries in time order.

- ``train``: 4,855 normal sessions, the paper's training set (the sessions of
  the first 100,000 log entries). Groups ``train-<i>``.
- ``test_abnormal``: 16,838 anomalous sessions, the paper's abnormal test set.
  Groups ``abnormal-<i>``.
- ``test_normal``: 2,791 normal sessions sampled at random from HDFS_v1; groups
  are the blocks' ids (``blk_...``). The paper's 553,366 normal test sessions
  are not shipped: to compare with the paper, scale the false-positive rate
  measured here to 553,366 sessions.

Within a session, ``time`` is the position of the entry (0, 1, ...).

Key ``k`` is Loghub's HDFS template ``Ek`` (``<*>`` marks a parameter):

"""

_DESCR_TAIL = """\

Origin: the DeepLog paper's data as published with public DeepLog
reimplementations; the normal sample from Loghub's HDFS_v1. Loghub's data is
free for research and academic use.

.. rubric:: References

- M. Du, F. Li, G. Zheng, V. Srikumar. "DeepLog: Anomaly Detection and
  Diagnosis from System Logs through Deep Learning". ACM CCS 2017.
- W. Xu, L. Huang, A. Fox, D. Patterson, M. I. Jordan. "Detecting
  Large-Scale System Problems by Mining Console Logs". ACM SOSP 2009.
- J. Zhu, S. He, P. He, J. Liu, M. R. Lyu. "Loghub: A Large Collection of
  System Log Datasets for AI-driven Log Analytics". IEEE ISSRE 2023.
"""

#: Loghub's HDFS template ``Ek`` of each key ``k``; ``<*>`` marks a parameter.
_TEMPLATES = {
    1: "<*>Adding an already existing block<*>",
    2: "<*>Verification succeeded for<*>",
    3: "<*>Served block<*>to<*>",
    4: "<*>Got exception while serving<*>to<*>",
    5: "<*>Receiving block<*>src:<*>dest:<*>",
    6: "<*>Received block<*>src:<*>dest:<*>of size<*>",
    7: "<*>writeBlock<*>received exception<*>",
    8: "<*>PacketResponder<*>for block<*>Interrupted<*>",
    9: "<*>Received block<*>of size<*>from<*>",
    10: "<*>PacketResponder<*>Exception<*>",
    11: "<*>PacketResponder <*> for block <*> terminating<*>",
    12: "<*>:Exception writing block<*>to mirror<*>",
    13: "<*>Receiving empty packet for block<*>",
    14: "<*>Exception in receiveBlock for block<*>",
    15: "<*>Changing block file offset of block<*>from<*>to<*>meta file offset to<*>",
    16: "<*>:Transmitted block<*>to<*>",
    17: "<*>:Failed to transfer<*>to<*>got<*>",
    18: "<*>Starting thread to transfer block<*>to<*>",
    19: "<*>Reopen Block<*>",
    20: (
        "<*>Unexpected error trying to delete block<*>BlockInfo not found in "
        "volumeMap<*>"
    ),
    21: "<*>Deleting block<*>file<*>",
    22: "<*>BLOCK* NameSystem<*>allocateBlock:<*>",
    23: "<*>BLOCK* NameSystem<*>delete:<*>is added to invalidSet of<*>",
    24: (
        "<*>BLOCK* Removing block<*>from neededReplications as it does not "
        "belong to any file<*>"
    ),
    25: "<*>BLOCK* ask<*>to replicate<*>to<*>",
    26: (
        "<*>BLOCK* NameSystem<*>addStoredBlock: blockMap updated:<*>is added "
        "to<*>size<*>"
    ),
    27: (
        "<*>BLOCK* NameSystem<*>addStoredBlock: Redundant addStoredBlock "
        "request received for<*>on<*>size<*>"
    ),
    28: (
        "<*>BLOCK* NameSystem<*>addStoredBlock: addStoredBlock request received"
        " for<*>on<*>size<*>But it does not belong to any file."
    ),
}


def _template_table(templates, width=74):
    """The templates as a simple reStructuredText table, long ones wrapped."""
    rule = "====  " + "=" * width
    lines = [rule, "Key   Template", rule]
    for key, template in templates.items():
        first, *rest = textwrap.wrap(template, width, break_on_hyphens=False)
        lines += [f"{key:<4}  {first}"] + ["      " + line for line in rest]
    return "\n".join([*lines, rule]) + "\n"


DESCR = _DESCR_HEAD + _template_table(_TEMPLATES) + _DESCR_TAIL

_SUBSETS = {
    "all": ("train", "test_normal", "test_abnormal"),
    "train": ("train",),
    "test": ("test_normal", "test_abnormal"),
    "test_normal": ("test_normal",),
    "test_abnormal": ("test_abnormal",),
}


@validate_params(
    {
        "subset": [StrOptions(set(_SUBSETS))],
        "as_frame": ["boolean"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_hdfs(*, subset="all", as_frame=False, return_X_y=False):
    """Load the HDFS log-key sessions of the DeepLog paper (bundled, offline).

    =================  ==============================================
    Subsets            train / test_normal / test_abnormal
    Sessions           4,855 / 2,791 / 16,838
    Log entries        95,125 / 54,019 / 284,818
    Log keys           integers 1 to 28 (14 of them in train)
    Labels             per session: 1 anomalous, 0 normal
    =================  ==============================================

    Parameters
    ----------
    subset : {'all', 'train', 'test', 'test_normal', 'test_abnormal'}, \
            default='all'
        Which sessions to load; ``'test'`` is test_normal and test_abnormal.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame and ``target`` and ``subset`` are
        Series; else numpy arrays (``data`` of dtype object).
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : {ndarray, DataFrame} of shape (n_entries, 3)
            The event table, one row per log entry, columns ``group`` (the
            session's id, a string unique across subsets), ``time`` (the
            position of the entry in its session) and ``event`` (the log key,
            int64). Sessions follow one another, entries in time order.
        target : {ndarray, Series} of shape (n_entries,)
            1 if the entry's session is anomalous, else 0.
        frame : DataFrame of shape (n_entries, 4)
            ``data`` and ``target`` together. Only when ``as_frame=True``.
        session_target : Series of shape (n_sessions,)
            The label of each session, indexed by group.
        subset : {ndarray, Series} of shape (n_entries,)
            The subset of each entry: ``'train'``, ``'test_normal'`` or
            ``'test_abnormal'``.
        feature_names : list of str
            The columns of ``data``.
        target_names : list of str
            ``['normal', 'anomalous']``, the meaning of targets 0 and 1.
        templates : dict of int to str
            Loghub's HDFS template of each key 1 to 28 (``<*>`` marks a
            parameter), e.g. to label a workflow graph or a diagnosis.
        DESCR : str
            Description of the dataset: origin, references and the log
            template of each key.

    (data, target) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` as in the Bunch.

    Examples
    --------
    >>> from sklearn_deeplog.datasets import load_hdfs
    >>> hdfs = load_hdfs(subset="train", as_frame=True)
    >>> hdfs.data.head(3)
         group  time  event
    0  train-0     0      5
    1  train-0     1      5
    2  train-0     2      5
    >>> hdfs.data["group"].nunique(), len(hdfs.data), int(hdfs.target.sum())
    (4855, 95125, 0)
    >>> X, y = load_hdfs(subset="test", return_X_y=True)
    >>> X.shape, int(y.sum())
    ((338837, 3), 284818)
    """
    parts = [_read_subset(name) for name in _SUBSETS[subset]]
    frame = pd.concat(parts, ignore_index=True)
    subsets = frame.pop("subset")
    data, target = frame.drop(columns="target"), frame["target"]
    if return_X_y:
        return (data, target) if as_frame else (data.to_numpy(), target.to_numpy())
    return Bunch(
        data=data if as_frame else data.to_numpy(),
        target=target if as_frame else target.to_numpy(),
        frame=frame if as_frame else None,
        session_target=target.groupby(data["group"], sort=False).first(),
        subset=subsets if as_frame else subsets.to_numpy(),
        feature_names=list(data.columns),
        target_names=["normal", "anomalous"],
        templates=dict(_TEMPLATES),
        DESCR=DESCR,
    )


def _read_subset(name):
    """The event table of a subset, with its ``target`` and ``subset`` columns."""
    data = resources.files(__package__) / "data"
    if name == "test_normal":
        with resources.as_file(data / "hdfs_test_normal_sample.csv.gz") as path:
            blocks = pd.read_csv(path, dtype=str)
        entries = blocks.assign(event=blocks["keys"].str.split()).explode(
            "event", ignore_index=True
        )
        events = pd.DataFrame(
            {
                "group": entries["block_id"].astype(object),
                "time": entries.groupby("block_id", sort=False).cumcount(),
                "event": entries["event"].astype(np.int64),
            }
        )
    else:
        file, prefix = {
            "train": ("hdfs_train.txt.gz", "train-"),
            "test_abnormal": ("hdfs_test_abnormal.txt.gz", "abnormal-"),
        }[name]
        with resources.as_file(data / file) as path:
            events = read_txt(path)
        events["group"] = (prefix + events["group"].astype(str)).astype(object)
    return events.assign(target=int(name == "test_abnormal"), subset=name)
