# SPDX-License-Identifier: BSD-3-Clause
"""The machine and versions a benchmark ran on, recorded with its results."""

import platform
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import sklearn_deeplog


def environment(threads=None):
    """Versions, machine and date.

    Parameters
    ----------
    threads : int, default=None
        The torch threads of the run; None: torch's setting now.
    """
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu,
        "torch_threads": torch.get_num_threads() if threads is None else threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "scikit-learn": version("scikit-learn"),
        "skorch": version("skorch"),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "sklearn-deeplog": sklearn_deeplog.__version__,
    }
