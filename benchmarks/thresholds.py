# SPDX-License-Identifier: BSD-3-Clause
"""Defaults against simple rules: is DeepLog better than a lookup table?

With default settings, at equal false alarms, on several systems. For each system
(sessions judged whole: a session is flagged when any of its entries is, or by
the end-of-session rule of complete sessions), this script

1. fits ``SequenceWindower(window=10, complete_sessions=True)`` followed by
   ``DeepLogDetector(random_state=0)`` with the package's default parameters
   (as ``benchmarks/hdfs.py`` does) on normal training sessions, records the
   warnings of the fit, and measures the session-level false-alarm rate (normal
   test sessions flagged / normal test sessions) and recall (anomalous test
   sessions flagged / anomalous test sessions);
2. re-scores the same fitted model with ``set_params(top_g=g)`` for every g from
   1 to the number of outputs (1..20 then a log-spaced subset beyond 40 outputs):
   DeepLog's trade-off curve, checked against the ranks of one ``predict_next``
   pass;
3. applies the simple rules of Landauer et al. (FSE 2024), learned from the same
   training sessions: a session is flagged when it holds a key never seen in
   training; a 2-gram never seen; a 3-gram never seen (n-grams include a start
   and an end marker: the stronger rule); its length is outside the min-max of
   the training lengths; and the union "unseen 2-gram or length";
4. says whether the defaults' (false-alarm rate, recall) point lies on or above
   the piecewise-linear line through the rules' points (sorted by false-alarm
   rate, with (0, 0) and (1, 1) added): never worse than a lookup table at equal
   false alarms;
5. fits ``DeepLogDetector(false_alarms=budget, random_state=0)`` for each
   budget of ``BUDGETS``, given the training sessions as groups (it holds out
   20% of them, trains on the others and sets a probability threshold that
   flags at most the budget of the held-out ones), and measures the same
   false-alarm rate and recall, and the line check: does the threshold hold on
   the normal test sessions, and is it never worse than a lookup table?
6. compares two session scores for a threshold rule, from one ``predict_next``
   pass (the end of a complete session is an output too): a session's worst
   rank of an observed output (the g rule) and its lowest probability of one (a
   probability threshold), by their recall at false-alarm rates of 0.1%, 1% and
   5% (thresholds set on the normal test sessions) and their ROC AUC.

The systems: the bundled HDFS sessions (``load_hdfs``, the paper's split: the
4,855 training sessions; the 2,791 normal and 16,838 abnormal test sessions),
and generated workflow logs of 6, 30 and 300 keys (``make_workflow_logs``: a
seeded random workflow of steps with branches, optional steps and loops;
sessions are random walks through it; anomalous test sessions hold one anomaly
each, in equal shares: two adjacent keys swapped, a key dropped, a key
repeated, or a key never seen in training inserted; a swapped, dropped or
repeated session is never a possible walk of the workflow).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/thresholds.py          # about 5 minutes
    OMP_NUM_THREADS=1 python benchmarks/thresholds.py --quick  # smoke run, ~20 s

The results are printed (with markdown tables) and saved as JSON (``--output``).
"""

import argparse
import json
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _environment import environment
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import SESSION_END, DeepLogDetector, SequenceWindower
from sklearn_deeplog.datasets import ANOMALY_KINDS, load_hdfs, make_workflow_logs

HERE = Path(__file__).resolve().parent

WINDOW = 10
#: Keys of the generated workflows.
WORKFLOW_KEYS = (6, 30, 300)
#: Generated sessions: training (normal), and test (normal, and as many anomalous).
TRAIN_SESSIONS = 2000
TEST_SESSIONS = 1000
#: A quick run: this many epochs, generated sessions and HDFS test sessions.
QUICK_EPOCHS = 2
QUICK_TRAIN_SESSIONS = 300
QUICK_TEST_SESSIONS = 200
QUICK_HDFS_TEST_FRACTION = 0.1
#: False-alarm rates at which the session scores are compared.
FAR_TARGETS = (0.001, 0.01, 0.05)
#: False-alarm budgets of DeepLogDetector(false_alarms=...).
BUDGETS = (0.01, 0.005)
#: Every g up to this many outputs; beyond, 1..DENSE_G then LOG_G log-spaced values.
ALL_G_UP_TO = 40
DENSE_G = 20
LOG_G = 12
#: Markers of the start and end of a session in the n-gram rules.
NGRAM_START = "<start>"
NGRAM_END = "<end>"
#: Rows of windows per predict_next call (k = every output: bounded memory).
PREDICT_ROWS = 16384
RULES = (
    "unseen key",
    "unseen 2-gram",
    "unseen 3-gram",
    "length",
    "unseen 2-gram or length",
)


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_EPOCHS} epochs, {QUICK_TRAIN_SESSIONS} training "
        f"and {QUICK_TEST_SESSIONS} + {QUICK_TEST_SESSIONS} test sessions per "
        f"generated system, {QUICK_HDFS_TEST_FRACTION:.0%} of the HDFS tests",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON file of the results (default: benchmarks/thresholds_results.json"
        ", or benchmarks/thresholds_results_quick.json with --quick)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the detector and of the generated logs (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.output is None:
        suffix = "_quick" if args.quick else ""
        args.output = HERE / f"thresholds_results{suffix}.json"
    return args


# -- systems ---------------------------------------------------------------------


def hdfs_system(quick):
    """The bundled HDFS sessions, the paper's split.

    Parameters
    ----------
    quick : bool
        Keep only a random ``QUICK_HDFS_TEST_FRACTION`` of each class of test
        sessions.

    Returns
    -------
    system : dict
        ``train`` (list of key sequences), ``test`` (list of key sequences),
        ``labels`` (ndarray, 1 anomalous, 0 normal) and ``kinds`` (None).
    """
    train = _sequences(load_hdfs(subset="train", as_frame=True).data)
    bunch = load_hdfs(subset="test", as_frame=True)
    target = bunch.session_target
    if quick:
        target = target.groupby(target).sample(
            frac=QUICK_HDFS_TEST_FRACTION, random_state=0
        )
    test = _sequences(bunch.data[bunch.data["group"].isin(target.index)])
    labels = target.reindex(test.index).to_numpy()
    return {
        "train": list(train),
        "test": list(test),
        "labels": labels,
        "kinds": None,
    }


def _sequences(events):
    """Each group's keys in time order (ties keep the row order), by group."""
    ordered = events.sort_values(["group", "time"], kind="stable")
    return ordered.groupby("group", sort=True)["event"].agg(list)


def workflow_system(n_keys, n_train, n_test, seed):
    """Normal and anomalous sessions of a generated workflow (make_workflow_logs).

    Parameters
    ----------
    n_keys : int
        Steps (log keys) of the workflow.
    n_train, n_test : int
        Normal training sessions; normal test sessions, and as many anomalous
        ones (each kind of ``ANOMALY_KINDS`` in equal shares).
    seed : int
        Seed of the workflow and of the sessions.

    Returns
    -------
    system : dict
        ``train``, ``test`` (lists of key sequences), ``labels`` (ndarray, 1
        anomalous, 0 normal), ``kinds`` (the anomaly of each test session,
        ``"normal"`` for a normal one) and ``workflow`` (its size).
    """
    train, test = make_workflow_logs(
        n_keys, n_train=n_train, n_normal=n_test, n_anomalous=n_test, random_state=seed
    )
    kinds = test.groupby("session")["anomaly"].first().replace("", "normal")
    return {
        "train": list(_sequences(train.rename(columns={"session": "group"}))),
        "test": list(_sequences(test.rename(columns={"session": "group"}))),
        "labels": (kinds != "normal").to_numpy().astype(int),
        "kinds": kinds.tolist(),
        "workflow": {
            "n_keys": n_keys,
            "n_keys_seen_in_training": int(train["event"].nunique()),
        },
    }


def event_table(sessions):
    """Event table of sessions: ``group`` (session number), ``time``, ``event``."""
    lengths = [len(s) for s in sessions]
    return pd.DataFrame(
        {
            "group": np.repeat(np.arange(len(sessions)), lengths),
            "time": np.concatenate([np.arange(n) for n in lengths]),
            "event": np.concatenate([np.asarray(s, dtype=np.int64) for s in sessions]),
        }
    )


# -- simple rules ----------------------------------------------------------------


def simple_rules(train, test):
    """Sessions flagged by the simple rules learned from the training sessions.

    Parameters
    ----------
    train, test : list of sequences
        Key sequences of the training and test sessions.

    Returns
    -------
    flags : dict of str to ndarray of bool
        For each rule of ``RULES``, whether each test session is flagged.
    """
    keys, bigrams, trigrams = set(), set(), set()
    for session in train:
        marked = [NGRAM_START, *session, NGRAM_END]
        keys.update(session)
        bigrams.update(zip(marked, marked[1:], strict=False))
        trigrams.update(zip(marked, marked[1:], marked[2:], strict=False))
    lengths = [len(session) for session in train]
    shortest, longest = min(lengths), max(lengths)
    flags = {rule: np.zeros(len(test), dtype=bool) for rule in RULES}
    for index, session in enumerate(test):
        marked = [NGRAM_START, *session, NGRAM_END]
        flags["unseen key"][index] = not keys.issuperset(session)
        flags["unseen 2-gram"][index] = not bigrams.issuperset(
            zip(marked, marked[1:], strict=False)
        )
        flags["unseen 3-gram"][index] = not trigrams.issuperset(
            zip(marked, marked[1:], marked[2:], strict=False)
        )
        flags["length"][index] = not shortest <= len(session) <= longest
    flags["unseen 2-gram or length"] = flags["unseen 2-gram"] | flags["length"]
    return flags


# -- metrics ---------------------------------------------------------------------


def rates(flags, labels, kinds=None):
    """Session-level false-alarm rate and recall (and recall by anomaly kind).

    Parameters
    ----------
    flags : ndarray of bool of shape (n_sessions,)
    labels : ndarray of shape (n_sessions,)
        1 anomalous, 0 normal.
    kinds : list of str, default=None
        Anomaly kind of each session.

    Returns
    -------
    metrics : dict
        ``FAR``, ``recall``, ``FP``, ``TP`` and, with ``kinds``,
        ``recall_by_kind``.
    """
    normal, anomalous = labels == 0, labels == 1
    result = {
        "FAR": float(flags[normal].mean()),
        "recall": float(flags[anomalous].mean()),
        "FP": int(flags[normal].sum()),
        "TP": int(flags[anomalous].sum()),
    }
    if kinds is not None:
        kinds = np.asarray(kinds)
        result["recall_by_kind"] = {
            kind: float(flags[kinds == kind].mean()) for kind in ANOMALY_KINDS
        }
    return result


def line_check(point, rule_points):
    """Whether a (FAR, recall) point lies on or above the rules' line.

    The line runs through the rules' points sorted by false-alarm rate, with
    (0, 0) and (1, 1) added (rules with the same false-alarm rate: the highest
    recall).

    Parameters
    ----------
    point : dict
        ``FAR`` and ``recall``.
    rule_points : dict of str to dict
        Each rule's ``FAR`` and ``recall``.

    Returns
    -------
    check : dict
        ``line_recall`` (the line at the point's false-alarm rate), ``margin``
        (recall minus it), ``on_or_above``, ``margin_to_best_rule`` (recall minus
        the best recall of the rules with no more false alarms; the line may dip
        between rules, this does not) and ``dominated_by`` (rules with no more
        false alarms and a higher recall, or fewer false alarms and no lower
        recall).
    """
    best = {0.0: 0.0, 1.0: 1.0}
    for m in rule_points.values():
        best[m["FAR"]] = max(best.get(m["FAR"], 0.0), m["recall"])
    far = np.array(sorted(best))
    recall = np.array([best[f] for f in far])
    line = float(np.interp(point["FAR"], far, recall))
    margin = point["recall"] - line
    no_more_alarms = [
        m["recall"] for m in rule_points.values() if m["FAR"] <= point["FAR"]
    ]
    dominated_by = [
        name
        for name, m in rule_points.items()
        if (m["FAR"] <= point["FAR"] and m["recall"] > point["recall"])
        or (m["FAR"] < point["FAR"] and m["recall"] >= point["recall"])
    ]
    return {
        "line_recall": line,
        "margin": float(margin),
        "on_or_above": bool(margin >= -1e-12),
        "margin_to_best_rule": float(point["recall"] - max(no_more_alarms, default=0)),
        "dominated_by": dominated_by,
    }


def threshold_recalls(scores, labels):
    """Recall of a threshold on a session score at each of ``FAR_TARGETS``.

    A session is flagged when its score (higher: more anomalous) is above the
    threshold; the threshold is the lowest that flags at most the target's share
    of the normal test sessions (ties are never split).

    Returns
    -------
    result : dict
        ``AUC`` (ROC AUC), and for each target a dict of ``threshold``, ``FAR``
        (achieved) and ``recall``.
    """
    normal = np.sort(scores[labels == 0])[::-1]
    anomalous = scores[labels == 1]
    result = {"AUC": float(roc_auc_score(labels, scores))}
    for target in FAR_TARGETS:
        allowed = int(np.floor(target * len(normal) + 1e-9))
        threshold = normal[allowed] if allowed < len(normal) else -np.inf
        result[f"{target:g}"] = {
            "threshold": float(threshold),
            "FAR": float(np.mean(normal > threshold)),
            "recall": float(np.mean(anomalous > threshold)),
        }
    return result


# -- DeepLog ---------------------------------------------------------------------


def g_values(n_outputs):
    """Every g up to ``ALL_G_UP_TO`` outputs; beyond, 1..DENSE_G then log-spaced."""
    if n_outputs <= ALL_G_UP_TO:
        return list(range(1, n_outputs + 1))
    spaced = np.geomspace(DENSE_G, n_outputs, LOG_G).round().astype(int)
    return sorted(set(range(1, DENSE_G + 1)) | {int(g) for g in spaced})


def run_deeplog(system, max_epochs, random_state):
    """Fit DeepLog with the defaults; the defaults' flags, the g curve and scores.

    Parameters
    ----------
    system : dict
        ``train``, ``test``, ``labels`` and ``kinds`` (see :func:`hdfs_system`).
    max_epochs : int or None
        Epochs (None: the default).
    random_state : int
        The detector's seed.

    Returns
    -------
    result : dict
        Warnings of the fit, timings, the defaults' metrics, the curve over g and
        the rank and probability session scores' threshold recalls.
    """
    labels, kinds = system["labels"], system["kinds"]
    params = {} if max_epochs is None else {"max_epochs": max_epochs}
    windower = SequenceWindower(
        window=WINDOW, event="event", group="group", time="time", complete_sessions=True
    )
    detector = DeepLogDetector(random_state=random_state, **params)
    train_table, test_table = event_table(system["train"]), event_table(system["test"])
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_pipeline(windower, detector).fit(train_table)
    fit_seconds = time.perf_counter() - start
    fit_warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
    for message in fit_warnings:
        print(f"    warning at fit: {message}", flush=True)

    windows = windower.transform(test_table)
    sessions = test_table["group"].to_numpy()
    n_sessions = len(system["test"])
    default_g = detector.top_g
    entry_flags = detector.predict(windows) == -1
    defaults = rates(_any_per_session(entry_flags, sessions, n_sessions), labels, kinds)

    start = time.perf_counter()
    outputs = _ranks_and_probabilities(detector, windows)
    predict_next_seconds = time.perf_counter() - start
    n_outputs = outputs["n_outputs"]
    end_failed = np.zeros(len(windows), dtype=bool)
    end_failed[outputs["ends"]] = (
        outputs["end_probability"] < detector.min_end_probability
    )

    start = time.perf_counter()
    curve = []
    for g in g_values(n_outputs):
        detector.set_params(top_g=g)
        flags = detector.decision_function(windows) < 0
        from_ranks = (outputs["rank"] > g) | end_failed
        curve.append(
            {
                "g": g,
                **rates(_any_per_session(flags, sessions, n_sessions), labels, kinds),
                "entries_flagged": int(flags.sum()),
                "mismatches_with_ranks": int(np.sum(flags != from_ranks)),
            }
        )
    detector.set_params(top_g=default_g)
    curve_seconds = time.perf_counter() - start

    budgets = {}
    for budget in BUDGETS:
        budgeted = DeepLogDetector(
            false_alarms=budget, random_state=random_state, **params
        )
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            budgeted.fit(windower.transform(train_table), groups=train_table["group"])
        flags = budgeted.predict(windows) == -1
        budgets[f"{budget:g}"] = {
            **rates(_any_per_session(flags, sessions, n_sessions), labels, kinds),
            "probability_threshold": float(np.exp(budgeted.offset_)),
            "held_out_FAR": budgeted.validation_false_alarms_,
            "n_held_out": budgeted.n_validation_,
            "fit_seconds": time.perf_counter() - start,
            "fit_warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        }

    worst_rank = np.zeros(n_sessions)
    np.maximum.at(worst_rank, sessions, outputs["rank"])
    np.maximum.at(worst_rank, sessions[outputs["ends"]], outputs["end_rank"])
    lowest_probability = np.ones(n_sessions)
    np.minimum.at(lowest_probability, sessions, outputs["probability"])
    np.minimum.at(
        lowest_probability, sessions[outputs["ends"]], outputs["end_probability"]
    )
    return {
        "fit_warnings": fit_warnings,
        "params": detector.get_params(),
        "n_keys": len(detector.keys_),
        "n_outputs": n_outputs,
        "n_train_windows": len(train_table),
        "n_test_windows": len(windows),
        "fit_seconds": fit_seconds,
        "predict_next_seconds": predict_next_seconds,
        "curve_seconds": curve_seconds,
        "defaults": {"g": default_g, **defaults},
        "budgets": budgets,
        "curve": curve,
        "session_scores": {
            "worst rank": threshold_recalls(worst_rank, labels),
            "lowest probability": threshold_recalls(-lowest_probability, labels),
        },
    }


def _any_per_session(entry_flags, sessions, n_sessions):
    """Whether any entry of each session is flagged."""
    return np.bincount(sessions, weights=entry_flags, minlength=n_sessions) > 0


def _ranks_and_probabilities(detector, windows):
    """Rank and probability of each entry's key and of each session's end.

    The end of a complete session is predicted from the context that ends with
    its last key: the window shifted by one (``predict_next`` reads only the
    context, so the key column just repeats the last key). A key never seen in
    training ranks after every output, with probability 0.

    Returns
    -------
    outputs : dict
        ``n_outputs``; ``rank`` and ``probability`` of each entry's key; ``ends``
        (indices of the sessions' last entries) with ``end_rank`` and
        ``end_probability``: those of the end after them.
    """
    n_outputs = len(detector.keys_) + int(detector.session_end_)
    ends = np.flatnonzero(windows[:, -1] == SESSION_END)
    end_queries = np.column_stack(
        [windows[ends, 1 : WINDOW + 1], windows[ends, WINDOW:]]
    )
    queries = np.concatenate([windows, end_queries])
    targets = np.concatenate(
        [windows[:, WINDOW], np.full(len(ends), SESSION_END, dtype=windows.dtype)]
    )
    rank = np.empty(len(queries))
    probability = np.empty(len(queries))
    for first in range(0, len(queries), PREDICT_ROWS):
        rows = slice(first, first + PREDICT_ROWS)
        keys, probabilities = detector.predict_next(queries[rows], k=n_outputs)
        hits = keys == targets[rows, None]
        found = hits.any(axis=1)
        rank[rows] = np.where(found, hits.argmax(axis=1) + 1.0, n_outputs + 1.0)
        probability[rows] = np.where(hits, probabilities, 0.0).sum(axis=1)
    n = len(windows)
    return {
        "n_outputs": n_outputs,
        "rank": rank[:n],
        "probability": probability[:n],
        "ends": ends,
        "end_rank": rank[n:],
        "end_probability": probability[n:],
    }


def best_g(curve):
    """The curve's point of highest recall minus false-alarm rate (Youden's J;
    ties: the fewest false alarms)."""
    return max(curve, key=lambda m: (m["recall"] - m["FAR"], -m["FAR"]))


# -- report ----------------------------------------------------------------------


def _cell(m):
    return f"{m['FAR']:.4f} / {m['recall']:.3f}"


def markdown(results):
    """The results as markdown tables."""
    systems = results["systems"]
    names = list(systems)
    lines = []
    if results["quick"]:
        lines += ["**Quick smoke run**: not the benchmark's result.", ""]
    lines += [
        "Session-level false-alarm rate / recall (normal test sessions flagged / "
        "anomalous test sessions flagged):",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "--:|" * len(names),
        "| test sessions (normal + anomalous) | "
        + " | ".join(
            f"{s['n_normal']:,} + {s['n_anomalous']:,}" for s in systems.values()
        )
        + " |",
        "| outputs (keys + end) | "
        + " | ".join(str(s["deeplog"]["n_outputs"]) for s in systems.values())
        + " |",
        "| **DeepLog, defaults** | "
        + " | ".join(
            f"**{_cell(s['deeplog']['defaults'])}** (g={s['deeplog']['defaults']['g']})"
            for s in systems.values()
        )
        + " |",
        *(
            f"| DeepLog, false_alarms={budget} (recall - line) | "
            + " | ".join(
                f"{_cell(s['deeplog']['budgets'][budget])} "
                f"({s['budget_lines'][budget]['margin']:+.3f})"
                for s in systems.values()
            )
            + " |"
            for budget in map("{:g}".format, BUDGETS)
        ),
        "| DeepLog, best g (max recall - FAR) | "
        + " | ".join(
            f"{_cell(s['best_g'])} (g={s['best_g']['g']})" for s in systems.values()
        )
        + " |",
    ]
    for rule in RULES:
        lines.append(
            f"| {rule} | "
            + " | ".join(_cell(s["rules"][rule]) for s in systems.values())
            + " |"
        )
    lines += [
        "| defaults on or above the rules' line? (recall - line) | "
        + " | ".join(
            f"{'yes' if s['line']['on_or_above'] else 'no'} "
            f"({s['line']['margin']:+.3f})"
            for s in systems.values()
        )
        + " |",
        "| recall - best rule with no more false alarms | "
        + " | ".join(
            f"{s['line']['margin_to_best_rule']:+.3f}" for s in systems.values()
        )
        + " |",
        "| g on or above the rules' line | "
        + " | ".join(_g_ranges(s["g_on_or_above"]) for s in systems.values())
        + " |",
        "",
    ]
    kinds = [n for n, s in systems.items() if s["kinds"]]
    if kinds:
        lines += [
            "Recall by anomaly kind (generated systems):",
            "",
            "| system | detector | " + " | ".join(ANOMALY_KINDS) + " |",
            "|---|---|" + "--:|" * len(ANOMALY_KINDS),
        ]
        for name in kinds:
            s = systems[name]
            rows = [
                ("DeepLog, defaults", s["deeplog"]["defaults"]),
                *(
                    (f"DeepLog, false_alarms={budget}", m)
                    for budget, m in s["deeplog"]["budgets"].items()
                ),
                (f"DeepLog, g={s['best_g']['g']}", s["best_g"]),
                *((rule, s["rules"][rule]) for rule in RULES),
            ]
            for label, m in rows:
                lines.append(
                    f"| {name} | {label} | "
                    + " | ".join(
                        f"{m['recall_by_kind'][kind]:.3f}" for kind in ANOMALY_KINDS
                    )
                    + " |"
                )
        lines.append("")
    lines += [
        "Session scores for a threshold rule: recall at a false-alarm rate of at "
        "most 0.1%, 1%, 5% (threshold set on the normal test sessions; the "
        "achieved rate in brackets), and ROC AUC:",
        "",
        "| system | session score | "
        + " | ".join(f"recall @ {t:.1%}" for t in FAR_TARGETS)
        + " | AUC |",
        "|---|---|" + "--:|" * (len(FAR_TARGETS) + 1),
    ]
    for name, s in systems.items():
        for score, r in s["deeplog"]["session_scores"].items():
            cells = [
                f"{r[f'{t:g}']['recall']:.3f} ({r[f'{t:g}']['FAR']:.2%})"
                for t in FAR_TARGETS
            ]
            lines.append(
                f"| {name} | {score} | " + " | ".join(cells) + f" | {r['AUC']:.4f} |"
            )
    env = results["environment"]
    lines += [
        "",
        f"{env['date']}; {env['cpu']}; torch threads: {env['torch_threads']}; "
        f"total {results['seconds']:.0f} s; Python {env['python']}, torch "
        f"{env['torch']}, scikit-learn {env['scikit-learn']}, numpy {env['numpy']}, "
        f"sklearn-deeplog {env['sklearn-deeplog']}.",
    ]
    return "\n".join(lines)


def _g_ranges(values):
    """``[1, 2, 3, 7]`` -> ``"1-3, 7"`` (``"none"`` when empty)."""
    if not values:
        return "none"
    parts, first = [], values[0]
    for previous, current in zip(values, [*values[1:], None], strict=True):
        if current is None or current != previous + 1:
            parts.append(str(first) if first == previous else f"{first}-{previous}")
            first = current
    return ", ".join(parts)


def print_curves(results):
    """The g curves, compactly."""
    for name, s in results["systems"].items():
        curve = s["deeplog"]["curve"]
        print(f"\n{name}: g -> FAR / recall (mismatches with the ranks' flags)")
        print(
            "  "
            + "; ".join(
                f"{m['g']}: {_cell(m)}"
                + (
                    f" ({m['mismatches_with_ranks']})"
                    if m["mismatches_with_ranks"]
                    else ""
                )
                for m in curve
            )
        )


def run_system(name, system, max_epochs, random_state):
    """Rules, DeepLog and their comparison on one system."""
    labels, kinds = system["labels"], system["kinds"]
    lengths = [len(s) for s in system["train"]]
    print(
        f"{name}: {len(system['train']):,} training sessions (length "
        f"{min(lengths)}-{max(lengths)}, mean {np.mean(lengths):.1f}), "
        f"{int(np.sum(labels == 0)):,} + {int(np.sum(labels == 1)):,} test sessions",
        flush=True,
    )
    start = time.perf_counter()
    rule_flags = simple_rules(system["train"], system["test"])
    rules = {rule: rates(f, labels, kinds) for rule, f in rule_flags.items()}
    rules_seconds = time.perf_counter() - start
    deeplog = run_deeplog(system, max_epochs, random_state)
    curve = deeplog["curve"]
    result = {
        "n_train": len(system["train"]),
        "train_length": {
            "min": min(lengths),
            "max": max(lengths),
            "mean": float(np.mean(lengths)),
        },
        "n_normal": int(np.sum(labels == 0)),
        "n_anomalous": int(np.sum(labels == 1)),
        "kinds": kinds is not None,
        "workflow": system.get("workflow"),
        "rules": rules,
        "rules_seconds": rules_seconds,
        "deeplog": deeplog,
        "best_g": best_g(curve),
        "line": line_check(deeplog["defaults"], rules),
        "budget_lines": {
            budget: line_check(m, rules) for budget, m in deeplog["budgets"].items()
        },
        "g_on_or_above": [m["g"] for m in curve if line_check(m, rules)["on_or_above"]],
    }
    d = deeplog["defaults"]
    print(
        f"  fit {deeplog['fit_seconds']:.1f} s, curve {deeplog['curve_seconds']:.1f} s"
        f"; defaults (g={d['g']}): FAR {d['FAR']:.4f}, recall {d['recall']:.3f}; "
        f"on or above the rules' line: {result['line']['on_or_above']} "
        f"(margin {result['line']['margin']:+.3f})",
        flush=True,
    )
    for budget, m in deeplog["budgets"].items():
        print(
            f"  false_alarms={budget}: FAR {m['FAR']:.4f}, recall {m['recall']:.3f}"
            f" (held out: {m['held_out_FAR']:.4f} of {m['n_held_out']}); on or "
            f"above: {result['budget_lines'][budget]['on_or_above']} (margin "
            f"{result['budget_lines'][budget]['margin']:+.3f})",
            flush=True,
        )
    return result


def main(argv=None):
    """Run the benchmark; see the module docstring."""
    args = parse_args(argv)
    started = time.perf_counter()
    n_train = QUICK_TRAIN_SESSIONS if args.quick else TRAIN_SESSIONS
    n_test = QUICK_TEST_SESSIONS if args.quick else TEST_SESSIONS
    max_epochs = QUICK_EPOCHS if args.quick else None

    systems = {"HDFS": hdfs_system(args.quick)}
    for n_keys in WORKFLOW_KEYS:
        systems[f"workflow, {n_keys} keys"] = workflow_system(
            n_keys, n_train, n_test, args.random_state
        )
    results = {
        "quick": args.quick,
        "random_state": args.random_state,
        "window": WINDOW,
        "ngram_markers": True,
        "far_targets": list(FAR_TARGETS),
        "systems": {},
    }
    for name, system in systems.items():
        results["systems"][name] = run_system(
            name, system, max_epochs, args.random_state
        )
    results["seconds"] = time.perf_counter() - started
    results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["environment"] = environment()
    print_curves(results)
    print()
    print(markdown(results))
    args.output.write_text(json.dumps(results, indent=2, default=_json) + "\n")
    print(f"\nSaved {args.output}")


def _json(value):
    """JSON for numpy scalars."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


if __name__ == "__main__":
    main(sys.argv[1:])
