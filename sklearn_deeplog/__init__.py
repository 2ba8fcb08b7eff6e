# SPDX-License-Identifier: BSD-3-Clause
"""DeepLog log anomaly detection as scikit-learn estimators."""

from ._detector import DeepLogDetector
from ._persistence import load_model, save_model
from ._sessions import aggregate_sessions
from ._template_miner import DEFAULT_MASKING, UNKNOWN_TEMPLATE, LogTemplateMiner
from ._windower import NO_EVENT, SESSION_END, SequenceWindower

__version__ = "0.1.0.dev0"

__all__ = [
    "DEFAULT_MASKING",
    "UNKNOWN_TEMPLATE",
    "NO_EVENT",
    "SESSION_END",
    "DeepLogDetector",
    "LogTemplateMiner",
    "SequenceWindower",
    "__version__",
    "aggregate_sessions",
    "load_model",
    "save_model",
]
