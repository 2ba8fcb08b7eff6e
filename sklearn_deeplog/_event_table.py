# SPDX-License-Identifier: BSD-3-Clause
"""Reading an event table: its columns, its times, and the order of its entries.

One definition shared by everything that reads event tables (the windower, the
value model, the stream detector), so that they read and order entries alike.
"""

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

__all__ = [
    "column_of",
    "group_and_times",
    "group_time_order",
    "positions_in_runs",
    "to_seconds",
    "validate_event_table",
]


def validate_event_table(estimator, X, reset):
    """Check an event table as `estimator`'s input, and its columns since fit.

    A DataFrame is kept as it is (its columns may be of any types); anything else
    becomes a 2-D array of any dtype, missing and infinite values included: the
    estimator checks the columns it reads.

    Parameters
    ----------
    estimator : estimator
        The estimator reading the table (see ``validate_data``).
    X : {array-like, DataFrame} of shape (n_entries, n_columns)
        The event table.
    reset : bool
        Whether the columns are learned (in fit) rather than checked.

    Returns
    -------
    table : DataFrame or ndarray of shape (n_entries, n_columns)
    """
    if isinstance(X, pd.DataFrame):
        validate_data(estimator, X, skip_check_array=True, reset=reset)
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(
                f"Found an event table of shape {X.shape}: "
                f"{type(estimator).__name__} needs at least one row and one column."
            )
        return X
    return validate_data(estimator, X, dtype=None, ensure_all_finite=False, reset=reset)


def group_and_times(table, group, time):
    """The group column and the time column in seconds of an event table.

    Parameters
    ----------
    table : DataFrame or ndarray of shape (n_entries, n_columns)
        The event table.
    group, time : str, int or None
        The columns (name or index); None for no such column.

    Returns
    -------
    groups : ndarray of shape (n_entries,) or None
    times : ndarray of shape (n_entries,), dtype float64, or None
        See :func:`to_seconds`.
    """
    groups = None if group is None else column_of(table, group, "group")
    times = None if time is None else to_seconds(column_of(table, time, "time"))
    return groups, times


def group_time_order(n_entries, groups, times):
    """The order of entries in their groups: by group, then time, then row.

    Parameters
    ----------
    n_entries : int
        Number of entries.
    groups : ndarray of shape (n_entries,) or None
        Group of each entry; None for one single stream.
    times : ndarray of shape (n_entries,) or None
        Time of each entry in seconds (see :func:`to_seconds`); None for row order.

    Returns
    -------
    order : ndarray of shape (n_entries,)
        Row indices in that order.
    sorted_groups : ndarray of shape (n_entries,)
        Integer code of each sorted entry's group (equal codes, equal groups).
    """
    rows = np.arange(n_entries)
    group_codes = (
        np.zeros(n_entries, dtype=np.intp)
        if groups is None
        else pd.factorize(groups, use_na_sentinel=False)[0]
    )
    # np.lexsort takes the last key first.
    order = np.lexsort(
        [rows, group_codes] if times is None else [rows, times, group_codes]
    )
    return order, group_codes[order]


def positions_in_runs(is_start):
    """Position of each entry in its run of consecutive entries (0 for the first).

    Parameters
    ----------
    is_start : ndarray of bool of shape (n_entries,)
        Whether each entry starts a run; the first entry must.

    Returns
    -------
    positions : ndarray of shape (n_entries,)
    """
    rows = np.arange(len(is_start))
    return rows - np.maximum.accumulate(np.where(is_start, rows, 0))


def column_of(table, spec, role):
    """Column ``spec`` (name or index) of a DataFrame or 2-D array."""
    if isinstance(spec, (bool, np.bool_)):
        raise ValueError(
            f"{role}={spec!r} is not a column: give a column name ({role}=<str>) or "
            f"a column index ({role}=<int>)."
        )
    if isinstance(spec, str):
        if not isinstance(table, pd.DataFrame):
            raise ValueError(
                f"{role}={spec!r} names a column, but X has no column names: pass a "
                f"pandas DataFrame, or give the column's index as {role}=<int>."
            )
        if spec not in table.columns:
            raise ValueError(
                f"{role} column {spec!r} is not in X; its columns are "
                f"{list(table.columns)}. Set {role}= to one of them."
            )
        column = table[spec]
    else:
        n_columns = table.shape[1]
        if not -n_columns <= spec < n_columns:
            raise ValueError(
                f"{role}={spec} is out of range for X with {n_columns} columns."
            )
        column = (
            table.iloc[:, spec] if isinstance(table, pd.DataFrame) else table[:, spec]
        )
    if isinstance(column, pd.Series):
        is_numpy = isinstance(column.dtype, np.dtype) and column.dtype.kind in "biufM"
        column = column.to_numpy() if is_numpy else column.to_numpy(dtype=object)
    return column


def to_seconds(times):
    """Times as float seconds, from numbers or datetimes; reject missing or inf."""
    if times.dtype.kind == "M":
        missing = np.isnat(times)
        seconds = times.astype("datetime64[ns]").astype(np.int64) / 1e9
    else:
        try:
            seconds = pd.to_numeric(times).astype(np.float64)
        except (TypeError, ValueError):
            try:
                parsed = pd.to_datetime(times, format="mixed")
            except (TypeError, ValueError) as err:
                raise ValueError(
                    "The time column must hold numeric seconds or datetimes; "
                    f"could not read it: {err}"
                ) from err
            return to_seconds(np.asarray(parsed, dtype="datetime64[ns]"))
        missing = np.isnan(seconds)
    if missing.any():
        raise ValueError(
            f"The time column has {missing.sum()} missing values (first at row "
            f"{np.flatnonzero(missing)[0]}): drop or fill them before windowing."
        )
    seconds = np.asarray(seconds, dtype=np.float64)
    infinite = np.isinf(seconds)
    if infinite.any():
        raise ValueError(
            f"The time column has {infinite.sum()} infinite values (first at row "
            f"{np.flatnonzero(infinite)[0]}): times must be finite seconds or "
            "datetimes; drop or fix those entries before windowing."
        )
    return seconds
