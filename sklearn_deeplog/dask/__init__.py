# SPDX-License-Identifier: BSD-3-Clause
"""DeepLog on a Dask cluster: training from window counts, scoring by partition.

Needs the ``dask`` extra: ``pip install "sklearn-deeplog[dask]"``.
"""

from ._cluster import aggregate_sessions, count_windows, detect, fit, read_events

__all__ = ["aggregate_sessions", "count_windows", "detect", "fit", "read_events"]
