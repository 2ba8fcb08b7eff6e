# SPDX-License-Identifier: BSD-3-Clause
"""Session-level results from per-entry predictions or scores."""

import numpy as np
import pandas as pd

__all__ = ["aggregate_sessions"]


def aggregate_sessions(values, groups):
    """Aggregate per-entry predictions or scores to their sessions.

    DeepLog flags a session when any of its entries is flagged. Both that rule and
    the session's score are the minimum over its entries: a session's prediction is
    -1 (anomaly) if any entry's is, and its score is its least normal entry's.

    Parameters
    ----------
    values : array-like of shape (n_entries,)
        Per-entry predictions (+1 normal / -1 anomaly), scores or decision values
        (higher is more normal).
    groups : array-like of shape (n_entries,)
        The session (group) of each entry.

    Returns
    -------
    session_values : pandas.Series
        The minimum of ``values`` per session, indexed by session (sorted when the
        session ids are sortable).

    Examples
    --------
    >>> from sklearn_deeplog import aggregate_sessions
    >>> aggregate_sessions([1, -1, 1, 1], groups=["a", "a", "b", "b"])
    a   -1
    b    1
    dtype: int64
    """
    values = np.asarray(values)
    groups = np.asarray(groups)
    if values.ndim != 1 or groups.shape != values.shape:
        raise ValueError(
            "values and groups must be 1-D with one entry each per log entry; got "
            f"shapes {values.shape} and {groups.shape}."
        )
    return pd.Series(values).groupby(groups, sort=True).min().rename_axis(None)
