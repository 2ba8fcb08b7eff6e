# SPDX-License-Identifier: BSD-3-Clause
"""Log datasets: the DeepLog paper's HDFS sessions and generated logs."""

from ._hdfs import load_hdfs
from ._synthetic import make_logs, make_performance_logs
from ._workflow_logs import ANOMALY_KINDS, make_workflow_logs

__all__ = [
    "ANOMALY_KINDS",
    "load_hdfs",
    "make_logs",
    "make_performance_logs",
    "make_workflow_logs",
]
