# SPDX-License-Identifier: BSD-3-Clause
"""DeepLog log anomaly detection as scikit-learn estimators."""

from ._deeplog import DeepLog
from ._detector import DeepLogDetector
from ._parameter_values import ParameterValueDetector, numeric_parameters
from ._persistence import load_model, save_model
from ._sessions import aggregate_sessions
from ._stream import StreamDetector
from ._template_miner import DEFAULT_MASKING, UNKNOWN_TEMPLATE, LogTemplateMiner
from ._version import __version__
from ._windower import NO_EVENT, SESSION_END, SequenceWindower
from ._workflow import END, START, Workflow, diagnose, read_workflow

__all__ = [
    "DEFAULT_MASKING",
    "UNKNOWN_TEMPLATE",
    "NO_EVENT",
    "SESSION_END",
    "START",
    "END",
    "DeepLog",
    "DeepLogDetector",
    "LogTemplateMiner",
    "ParameterValueDetector",
    "SequenceWindower",
    "StreamDetector",
    "Workflow",
    "__version__",
    "aggregate_sessions",
    "diagnose",
    "load_model",
    "numeric_parameters",
    "read_workflow",
    "save_model",
]
