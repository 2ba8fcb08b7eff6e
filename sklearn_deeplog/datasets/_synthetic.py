# SPDX-License-Identifier: BSD-3-Clause
"""Generated logs with a known workflow and labelled anomalies."""

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["make_logs"]

# A task's workflow: key -> the keys that may follow it (None ends the session).
# 1 open, 2 read, 3 write, 4 flush, 5 close, 6 exit: after a read comes another
# read, a write or a flush, so the key model must count on its context.
_WORKFLOW = {1: [2], 2: [2, 3, 4], 3: [5], 4: [5], 5: [6], 6: [None]}
_MAX_READS = 3
_UNSEEN_KEY = 99


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
