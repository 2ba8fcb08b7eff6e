# SPDX-License-Identifier: BSD-3-Clause
"""Logs of a random workflow of any size, with anomalies of order."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["ANOMALY_KINDS", "make_workflow_logs"]

#: The anomalies of :func:`make_workflow_logs`, in the order they are dealt out.
ANOMALY_KINDS = ("reorder", "skip", "repeat", "unseen key")

# The workflow's start and end, as steps.
_START = -1
_END = -2
# Keys never seen in training start here (plus the number of keys).
_UNSEEN_KEYS_FROM = 1000
_N_UNSEEN_KEYS = 5
# Walks of a session to try before giving up making one anomaly of a kind.
_MAX_ATTEMPTS = 1000


@validate_params(
    {
        "n_keys": [Interval(Integral, 3, None, closed="left")],
        "n_train": [Interval(Integral, 1, None, closed="left")],
        "n_normal": [Interval(Integral, 0, None, closed="left")],
        "n_anomalous": [Interval(Integral, 0, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def make_workflow_logs(
    n_keys=30, *, n_train=2000, n_normal=1000, n_anomalous=1000, random_state=None
):
    """Generate the logs of a random workflow: training and labelled test sessions.

    A workflow of ``n_keys`` steps (log keys) is drawn at random: a main line
    from step 0 to the last step, branches that skip ahead over optional steps
    (the steps near the end may end the session), and loops back of one to three
    steps; each step's next steps have random probabilities. A session is a
    random walk through it, from the start to the end. The training sessions are
    normal; the test sessions are normal, then anomalous ones, each with one
    anomaly of the kinds of ``ANOMALY_KINDS``, dealt out in turn:

    - ``"reorder"``: two adjacent keys swapped;
    - ``"skip"``: a key dropped;
    - ``"repeat"``: a key repeated;
    - ``"unseen key"``: a key never seen in training inserted.

    A reordered, skipped or repeated session is never a possible walk of the
    workflow: each of these breaks it with known keys only, the anomalies of
    order that DeepLog's key model is for, beyond unseen keys.

    Parameters
    ----------
    n_keys : int, default=30
        Steps of the workflow, keys 0 to ``n_keys - 1``.
    n_train : int, default=2000
        Normal training sessions.
    n_normal : int, default=1000
        Normal test sessions.
    n_anomalous : int, default=1000
        Anomalous test sessions.
    random_state : int or None, default=None
        Seeds the workflow and the sessions, drawn in turn: the same seed and
        ``n_keys`` give the same workflow, and with the same numbers of
        sessions, the same logs.

    Returns
    -------
    train : pandas.DataFrame
        One row per log entry, by session then time: columns ``session``
        (numbered from 0), ``time`` (the entry's position in its session, in
        seconds), ``event`` (the key, int64), ``label`` (1 for the anomalous
        entry of a session, else 0) and ``anomaly`` (the kind of anomaly of the
        entry's session, "" for a normal one): all normal here.
    test : pandas.DataFrame
        The test entries, with the same columns (sessions numbered from 0, the
        normal ones first). The anomalous entry of a session is where it first
        leaves the workflow: the first entry whose key cannot follow the key
        before it (or start a session), or the last entry when the session
        cannot end there.

    See Also
    --------
    make_logs : Interleaved logs of one small fixed workflow.

    Examples
    --------
    >>> from sklearn_deeplog.datasets import make_workflow_logs
    >>> train, test = make_workflow_logs(6, n_train=50, n_normal=4, n_anomalous=4,
    ...                                  random_state=0)
    >>> test.columns.tolist()
    ['session', 'time', 'event', 'label', 'anomaly']
    >>> test.groupby("session")["anomaly"].first().tolist()
    ['', '', '', '', 'reorder', 'skip', 'repeat', 'unseen key']
    """
    rng = np.random.default_rng(
        None if random_state is None else [random_state, n_keys]
    )
    workflow = _make_workflow(n_keys, rng)
    edges = {(step, nxt) for step, (succ, _) in workflow.items() for nxt in succ}
    max_length = 5 * n_keys + 20
    train = [_walk(workflow, rng, max_length) for _ in range(n_train)]
    test = [(_walk(workflow, rng, max_length), None, "") for _ in range(n_normal)]
    unseen_keys = np.arange(_N_UNSEEN_KEYS) + n_keys + _UNSEEN_KEYS_FROM
    for index in range(n_anomalous):
        kind = ANOMALY_KINDS[index % len(ANOMALY_KINDS)]
        test.append(
            _anomalous_session(workflow, edges, kind, rng, max_length, unseen_keys)
        )
    return _event_table([(keys, None, "") for keys in train]), _event_table(test)


def _make_workflow(n_keys, rng):
    """A random workflow: each step's next steps and their probabilities."""
    span = max(2, n_keys // 10)
    workflow = {}
    first = [0, *rng.choice(np.arange(1, min(span, n_keys - 1) + 1), 1)]
    workflow[_START] = _branch_probabilities(first, rng)
    for step in range(n_keys):
        ahead = list(range(step + 2, min(step + 1 + span, n_keys)))
        if step >= n_keys - span:
            ahead.append(_END)
        nxt = [step + 1 if step + 1 < n_keys else _END]
        ahead = [a for a in ahead if a not in nxt]
        n_branches = min(int(rng.integers(0, 3)), len(ahead))
        if n_branches:
            nxt += list(rng.choice(ahead, n_branches, replace=False))
        succ, prob = _branch_probabilities(nxt, rng)
        if step >= 1 and rng.random() < 0.15:  # a loop back
            back = step - int(rng.integers(1, min(step, 3) + 1))
            succ = np.append(succ, back)
            prob = np.append(prob * 0.8, 0.2)
        workflow[step] = (succ, prob)
    return workflow


def _branch_probabilities(successors, rng):
    """Successors as an array and random (Dirichlet) probabilities for them."""
    successors = np.array([int(s) for s in successors])
    return successors, rng.dirichlet(np.ones(len(successors)))


def _walk(workflow, rng, max_length):
    """A normal session: a walk from the start to the end, of at most max_length."""
    while True:
        session, step = [], _START
        while len(session) <= max_length:
            succ, prob = workflow[step]
            step = int(rng.choice(succ, p=prob))
            if step == _END:
                return session
            session.append(step)


def _anomalous_session(workflow, edges, kind, rng, max_length, unseen_keys):
    """A walk with one anomaly of `kind`: its keys, the anomalous entry, the kind."""
    for _ in range(_MAX_ATTEMPTS):
        keys = _anomaly(_walk(workflow, rng, max_length), kind, edges, rng, unseen_keys)
        if keys is not None:
            return keys, _first_break(keys, edges), kind
    raise ValueError(
        f"No {kind!r} anomaly could be made from {_MAX_ATTEMPTS} sessions of this "
        "workflow: give it more keys."
    )


def _anomaly(session, kind, edges, rng, unseen_keys):
    """The session with one anomaly of `kind`.

    Positions are tried in random order until the result is not a possible walk
    of the workflow (a key never seen never is one); None if none is possible.
    """
    if kind == "unseen key":
        position = int(rng.integers(0, len(session) + 1))
        key = int(rng.choice(unseen_keys))
        return session[:position] + [key] + session[position:]
    for position in rng.permutation(len(session)):
        if kind == "reorder":
            if position + 1 >= len(session) or (
                session[position] == session[position + 1]
            ):
                continue
            changed = list(session)
            changed[position], changed[position + 1] = (
                changed[position + 1],
                changed[position],
            )
        elif kind == "skip":
            if len(session) < 2:
                continue
            changed = session[:position] + session[position + 1 :]
        else:  # repeat
            changed = session[: position + 1] + session[position:]
        if _first_break(changed, edges) is not None:
            return changed
    return None


def _first_break(session, edges):
    """Where the session first leaves the workflow; None for a possible walk.

    The first entry whose key cannot follow the one before it (or start a
    session), or the last entry when the session cannot end there.
    """
    path = [_START, *session, _END]
    for position, pair in enumerate(zip(path[:-1], path[1:], strict=True)):
        if pair not in edges:
            return min(position, len(session) - 1)
    return None


def _event_table(sessions):
    """The event table of (keys, anomalous entry or None, kind) sessions."""
    keys = [np.asarray(session[0], dtype=np.int64) for session in sessions]
    lengths = np.array([len(k) for k in keys], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    label = np.zeros(lengths.sum(), dtype=np.int64)
    for start, (_, entry, _) in zip(starts, sessions, strict=True):
        if entry is not None:
            label[start + entry] = 1
    kinds = np.array([kind for _, _, kind in sessions], dtype=object)
    return pd.DataFrame(
        {
            "session": np.repeat(np.arange(len(sessions)), lengths),
            "time": np.arange(lengths.sum()) - np.repeat(starts, lengths),
            "event": np.concatenate([np.zeros(0, dtype=np.int64), *keys]),
            "label": label,
            "anomaly": np.repeat(kinds, lengths),
        }
    )
