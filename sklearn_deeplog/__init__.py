# SPDX-License-Identifier: BSD-3-Clause
"""DeepLog log anomaly detection as scikit-learn estimators."""

from ._detector import DeepLogDetector
from ._sessions import aggregate_sessions
from ._windower import NO_EVENT, SESSION_END, SequenceWindower

__version__ = "0.1.0.dev0"

__all__ = [
    "NO_EVENT",
    "SESSION_END",
    "DeepLogDetector",
    "SequenceWindower",
    "__version__",
    "aggregate_sessions",
]
