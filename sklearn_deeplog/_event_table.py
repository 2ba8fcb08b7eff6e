# SPDX-License-Identifier: BSD-3-Clause
"""Reading an event table: its columns, its times, and the order of its entries.

One definition shared by everything that reads event tables (the windower, the
value model, the stream detector), so that they order entries alike.
"""

import numpy as np
import pandas as pd

__all__ = ["column_of", "group_time_order", "to_seconds"]


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
