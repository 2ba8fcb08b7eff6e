# SPDX-License-Identifier: BSD-3-Clause
"""Generated logs with a known workflow and labelled anomalies."""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["make_logs", "make_performance_logs"]

# A task's workflow: key -> the keys that may follow it (None ends the session).
# 1 open, 2 read, 3 write, 4 flush, 5 close, 6 exit: after a read comes another
# read, a write or a flush, so the key model must count on its context.
_WORKFLOW = {1: [2], 2: [2, 3, 4], 3: [5], 4: [5], 5: [6], 6: [None]}
_MAX_READS = 3
_UNSEEN_KEY = 99
# Seconds each step takes in make_performance_logs (open, read, write, flush,
# close, exit), +-5%, and the bytes a write writes, +-2%.
_STEP_SECONDS = {1: 1.0, 2: 0.5, 3: 2.0, 4: 1.5, 5: 0.3, 6: 0.2}
_WRITE_SIZE = 1000.0


def _normal_session(rng):
    keys = [1]
    n_reads = rng.randint(1, _MAX_READS + 1)
    keys += [2] * n_reads
    keys += [rng.choice([3, 4]), 5, 6]
    return keys


def _anomalous_session(rng):
    """A normal session with one injected anomaly; returns keys and its position."""
    keys = _normal_session(rng)
    kind = rng.randint(3)
    if kind == 0:  # a wrong transition: skip the write/flush step
        position = len(keys) - 3
        del keys[position]
    elif kind == 1:  # a key never seen in normal logs
        position = rng.randint(1, len(keys))
        keys[position] = _UNSEEN_KEY
    else:  # close before any read
        position = 1
        keys = [1, 5, 6]
    return keys, position


def make_logs(n_sessions=200, *, anomaly_ratio=0.0, n_machines=4, random_state=None):
    """Generate interleaved task logs with a known workflow and injected anomalies.

    Each session (task) follows the workflow open (1) -> read (2, one to three
    times) -> write (3) or flush (4) -> close (5) -> exit (6). Sessions run
    concurrently on a few machines, so their entries interleave in time. An
    anomalous session carries one injected anomaly: a skipped step, a key never
    seen in normal logs (99), or a close right after the open.

    Parameters
    ----------
    n_sessions : int, default=200
        Number of sessions.
    anomaly_ratio : float, default=0.0
        Proportion of anomalous sessions.
    n_machines : int, default=4
        Number of machines the sessions run on.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    events : pandas.DataFrame
        One row per log entry, in time order, with columns ``machine``,
        ``session``, ``time`` (seconds), ``event`` (the log key) and ``label`` (1
        for the injected anomalous entry, else 0).

    Examples
    --------
    >>> from sklearn_deeplog.datasets import make_logs
    >>> events = make_logs(n_sessions=3, random_state=0)
    >>> list(events.columns)
    ['machine', 'session', 'time', 'event', 'label']
    """
    rng = check_random_state(random_state)
    n_anomalous = int(round(anomaly_ratio * n_sessions))
    anomalous = set(rng.choice(n_sessions, n_anomalous, replace=False).tolist())
    rows = []
    for session in range(n_sessions):
        if session in anomalous:
            keys, position = _anomalous_session(rng)
        else:
            keys, position = _normal_session(rng), -1
        start = rng.uniform(0, n_sessions)
        times = start + np.cumsum(rng.exponential(1.0, size=len(keys)))
        machine = f"m{rng.randint(n_machines)}"
        for index, (key, time) in enumerate(zip(keys, times, strict=True)):
            rows.append((machine, session, time, key, int(index == position)))
    events = pd.DataFrame(
        rows, columns=["machine", "session", "time", "event", "label"]
    )
    return events.sort_values("time", kind="stable", ignore_index=True)


def make_performance_logs(n_sessions=200, *, n_slow=0, n_large=0, random_state=None):
    """Generate task logs with step durations, write sizes and performance anomalies.

    The sessions of :func:`make_logs` (normal key sequences), where each step
    takes its usual time (open 1 s, read 0.5 s, write 2 s, flush 1.5 s, close
    0.3 s, exit 0.2 s; +-5 %) and each write (key 3) writes about 1,000 bytes
    (+-2 %). Performance anomalies leave the key sequence normal: ``n_slow``
    sessions have a close (key 5) that takes 10 times longer, ``n_large`` others a
    write of 3 times the usual size. The data of DeepLog's parameter-value model
    (:class:`~sklearn_deeplog.ParameterValueDetector`).

    Parameters
    ----------
    n_sessions : int, default=200
        Number of sessions.
    n_slow : int, default=0
        Number of sessions with a slow close.
    n_large : int, default=0
        Number of sessions with a large write (among those with a write).
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    events : pandas.DataFrame
        One row per log entry, in time order, with the columns of
        :func:`make_logs` and ``size`` (bytes written; NaN but for writes); the
        ``label`` is 1 for the slow closes and large writes, else 0.

    Examples
    --------
    >>> from sklearn_deeplog.datasets import make_performance_logs
    >>> events = make_performance_logs(n_sessions=20, n_slow=1, random_state=0)
    >>> list(events.columns)
    ['machine', 'session', 'time', 'event', 'size', 'label']
    >>> events.loc[events["label"] == 1, "event"].tolist()
    [5]
    """
    rng = check_random_state(random_state)
    events = make_logs(n_sessions, random_state=rng)
    events = events.sort_values(["session", "time"], ignore_index=True)
    key = events["event"].to_numpy()
    session = events["session"].to_numpy()
    seconds = np.array([_STEP_SECONDS[k] for k in key])
    seconds *= 1 + 0.05 * rng.standard_normal(len(key))
    noise = 1 + 0.02 * rng.standard_normal(len(key))
    size = np.where(key == 3, _WRITE_SIZE * noise, np.nan)
    label = np.zeros(len(key), dtype=np.int64)
    order = rng.permutation(n_sessions)
    slow = [np.flatnonzero((session == s) & (key == 5))[0] for s in order[:n_slow]]
    writes = [np.flatnonzero((session == s) & (key == 3)) for s in order[n_slow:]]
    large = [rows[0] for rows in writes if len(rows)][:n_large]
    seconds[slow] *= 10
    size[large] *= 3
    label[slow + large] = 1
    start = events.groupby("session")["time"].transform("min").to_numpy()
    elapsed = pd.Series(seconds).groupby(session).cumsum().to_numpy()
    events = events.assign(time=start + elapsed, size=size, label=label)
    events = events[["machine", "session", "time", "event", "size", "label"]]
    return events.sort_values("time", kind="stable", ignore_index=True)
