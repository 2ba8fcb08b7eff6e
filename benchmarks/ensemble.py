# SPDX-License-Identifier: BSD-3-Clause
"""Seed variance on HDFS: one network, or an ensemble of three averaged in probability.

Issue #18, item 3: the default detector's F1 on HDFS moves from seed to seed. Does
averaging the output probabilities of a few networks narrow the spread and lower
the false alarms at equal recall? This script

1. windows the HDFS sessions as ``benchmarks/hdfs.py`` does
   (``SequenceWindower(window=10, complete_sessions=True)``, the paper's split;
   data loading and session metrics are imported from ``hdfs.py``);
2. fits ``DeepLogDetector(random_state=s, n_threads=1)`` (package defaults) for
   s = 0 .. ``--seeds`` + ``--members`` - 2 on the training windows, timing each
   fit, and keeps each model's probabilities of every output (the keys and the
   end of a session) for every distinct test context, from one
   ``predict_next(..., k=n_outputs)`` pass; checks that the g rule applied to
   them flags exactly the entries ``detector.predict`` flags;
3. single models (seeds 0 .. ``--seeds`` - 1): an entry is flagged when its key
   ranks below the g-th output (ties with the g-th are normal, as in the
   detector; a key never seen in training always is), or, for a session's last
   entry, when the end of the session has less than ``min_end_probability``
   (the default, 1e-3); a session is flagged when any entry is;
4. ensembles (i = 0 .. ``--seeds`` - 1): the same rule on the mean of the output
   probabilities of the models of seeds i .. i + ``--members`` - 1;
5. for both, the :func:`hdfs.session_metrics` at g = 9 (the default), their mean,
   std, median, min and max over seeds (the ensembles share members, so they are
   not independent: the disjoint ones are summarised too), and the false alarms
   at matched recall (``--recall``, 0.96): over g = 1..15 (end check on at every
   g), the fewest false positives among the points reaching it; and, finer, the
   false positives of the lowest threshold on a session's lowest probability of
   an observed output (key or end) that reaches it;
6. compares each ensemble with the mean of its members alone (paired);
7. checks the single models against :func:`hdfs.seed_spread` (which refits) for
   the first ``--check-seeds`` seeds.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/ensemble.py          # about 4 minutes (2 cores)
    OMP_NUM_THREADS=1 python benchmarks/ensemble.py --quick  # smoke run, ~10 s

The results are printed as markdown tables and saved as JSON (``--output``).
"""

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _environment import environment

from sklearn_deeplog import SESSION_END, DeepLogDetector, SequenceWindower

HERE = Path(__file__).resolve().parent


def _import_hdfs():
    """``benchmarks/hdfs.py`` as a module (its data loading and metrics)."""
    spec = importlib.util.spec_from_file_location("hdfs_benchmark", HERE / "hdfs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hdfs = _import_hdfs()
WINDOW = hdfs.WINDOW
TOP_G = hdfs.TOP_G
G_VALUES = hdfs.G_VALUES
#: Single models compared, and networks per ensemble.
N_SEEDS = 20
MEMBERS = 3
#: Recall at which false alarms are compared.
RECALL_TARGET = 0.96
#: A quick run: epochs, seeds (single models and ensembles), checked seeds.
QUICK_EPOCHS = 2
QUICK_SEEDS = 2
QUICK_CHECK_SEEDS = 1
#: Metrics summarised over seeds.
SUMMARY_METRICS = ("F1_est", "recall", "FP", "FN", "FP_est")
#: Values of the paired comparison, with +1 where higher is better, -1 where lower.
PAIRED = {
    "F1_est": 1,
    "recall": 1,
    "FP": -1,
    "matched_FP": -1,
    "matched_probability_FP": -1,
}


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_EPOCHS} epochs, {QUICK_SEEDS} seeds, "
        f"{hdfs.QUICK_TEST_FRACTION:.0%} of the test sessions",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        help=f"single models and ensembles compared (default: {N_SEEDS}, "
        f"{QUICK_SEEDS} with --quick)",
    )
    parser.add_argument(
        "--members",
        type=int,
        default=MEMBERS,
        help="networks per ensemble (default: %(default)s)",
    )
    parser.add_argument(
        "--recall",
        type=float,
        default=RECALL_TARGET,
        help="recall of the matched-recall comparison (default: %(default)s)",
    )
    parser.add_argument(
        "--check-seeds",
        type=int,
        help="seeds refitted by hdfs.seed_spread as a check (default: 2, "
        f"{QUICK_CHECK_SEEDS} with --quick; 0: none)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON file of the results (default: benchmarks/ensemble_results.json, "
        "or benchmarks/ensemble_results_quick.json with --quick)",
    )
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = QUICK_SEEDS if args.quick else N_SEEDS
    if args.check_seeds is None:
        args.check_seeds = QUICK_CHECK_SEEDS if args.quick else 2
    if args.seeds < 1 or args.members < 1:
        parser.error("--seeds and --members must be at least 1")
    if not 0 <= args.check_seeds <= args.seeds:
        parser.error("--check-seeds must be between 0 and --seeds")
    args.params = {"n_threads": 1}
    if args.quick:
        args.params["max_epochs"] = QUICK_EPOCHS
    if args.output is None:
        suffix = "_quick" if args.quick else ""
        args.output = HERE / f"ensemble_results{suffix}.json"
    return args


# -- queries and probabilities ---------------------------------------------------


def test_queries(windows):
    """The (context, output) queries of the test windows, on distinct contexts.

    Every window asks for its key after its context; a session's last window also
    asks for the end of the session after the context that ends with its key (the
    window shifted by one), as the detector does.

    Parameters
    ----------
    windows : ndarray of shape (n_entries, window + 2)
        Test windows with the end-of-session column.

    Returns
    -------
    queries : dict
        ``contexts``: windows of the distinct contexts (what ``predict_next``
        reads), ``context_index``: the distinct context of each query (the
        entries', then the ends'), ``targets``: the observed key of each query
        (:data:`SESSION_END` for the ends), ``ends``: the entries that end their
        session, ``n_entries``.
    """
    ends = np.flatnonzero(windows[:, -1] == SESSION_END)
    end_queries = np.column_stack(
        [windows[ends, 1 : WINDOW + 1], windows[ends, WINDOW:]]
    )
    queries = np.concatenate([windows, end_queries])
    _, first, context_index = np.unique(
        queries[:, :WINDOW], axis=0, return_index=True, return_inverse=True
    )
    targets = np.concatenate([windows[:, WINDOW], np.full(len(ends), SESSION_END)])
    return {
        "contexts": queries[first],
        "context_index": context_index.ravel(),
        "targets": targets,
        "ends": ends,
        "n_entries": len(windows),
    }


def output_probabilities(detector, queries):
    """Probabilities of every output after each distinct context.

    Returns
    -------
    probabilities : ndarray of shape (n_distinct_contexts, n_outputs)
        Columns in the order of :func:`outputs` (the end of a session first, then
        the detector's ``keys_``).
    """
    outputs = output_keys(detector)
    keys, probabilities = detector.predict_next(queries["contexts"], k=len(outputs))
    columns = pd.Index(outputs).get_indexer(keys.ravel()).reshape(keys.shape)
    full = np.zeros((len(keys), len(outputs)))
    np.put_along_axis(full, columns, probabilities, axis=1)
    return full


def output_keys(detector):
    """The detector's outputs: :data:`SESSION_END`, then its keys."""
    return np.concatenate([[SESSION_END], detector.keys_])


def entry_outputs(probabilities, queries, outputs, min_end_probability):
    """Rank and probability of each entry's key, with the session's end folded in.

    Parameters
    ----------
    probabilities : ndarray of shape (n_distinct_contexts, n_outputs)
        A model's (or an ensemble's mean) output probabilities.
    queries : dict
        :func:`test_queries`.
    outputs : ndarray of shape (n_outputs,)
        The outputs of the columns.
    min_end_probability : float
        The end of a session is normal with at least this probability.

    Returns
    -------
    ranks : ndarray of shape (n_entries,)
        1 + the number of outputs strictly more likely than the entry's key
        (ties with the g-th are normal, as in the detector); ``inf`` for a key
        never seen in training, and for a session's last entry whose end has less
        than ``min_end_probability``. An entry is flagged at g when its rank > g.
    lowest : ndarray of shape (n_entries,)
        The probability of the entry's key (0 for a key never seen in training),
        for a session's last entry the lower of it and the end's.
    """
    rows = probabilities[queries["context_index"]]
    columns = pd.Index(outputs).get_indexer(queries["targets"])
    observed = np.take_along_axis(rows, np.maximum(columns, 0)[:, None], axis=1)
    observed = np.where(columns[:, None] < 0, 0.0, observed)
    rank = 1.0 + np.sum(rows > observed, axis=1)
    rank[columns < 0] = np.inf
    n, ends = queries["n_entries"], queries["ends"]
    ranks = rank[:n]
    end_probability = observed[n:, 0]
    ranks[ends[end_probability < min_end_probability]] = np.inf
    lowest = observed[:n, 0].copy()
    lowest[ends] = np.minimum(lowest[ends], end_probability)
    return ranks, lowest


# -- metrics ---------------------------------------------------------------------


def evaluate(ranks, lowest, groups, session_target, recall_target):
    """Session metrics at ``TOP_G`` and the false alarms at matched recall.

    Parameters
    ----------
    ranks, lowest : ndarray of shape (n_entries,)
        :func:`entry_outputs`.
    groups : ndarray of shape (n_entries,)
        The session of each entry.
    session_target : pandas.Series
        Test session labels.
    recall_target : float
        Recall of the matched-recall points.

    Returns
    -------
    result : dict
        The :func:`hdfs.session_metrics` at ``TOP_G``; ``curve``: ``g``, ``FP``,
        ``FN``, ``recall``, ``F1_est`` for each g of ``G_VALUES``; ``matched``: the
        curve's point of recall >= ``recall_target`` with the fewest false
        positives (ties: the highest recall), or ``None``; ``matched_probability``:
        the same for a threshold on a session's lowest probability of an observed
        output (:func:`probability_threshold_point`).
    """
    metrics = hdfs.session_metrics(ranks > TOP_G, groups, session_target)
    # A session is flagged at g when its worst rank is above g.
    sessions = pd.DataFrame({"rank": ranks, "lowest": lowest}).groupby(
        groups, sort=False
    )
    worst = sessions["rank"].max()
    curve = []
    for g in G_VALUES:
        m = hdfs.session_metrics(
            worst.to_numpy() > g, worst.index.to_numpy(), session_target
        )
        curve.append({"g": g, **{k: m[k] for k in ("FP", "FN", "recall", "F1_est")}})
    top_g = curve[TOP_G - 1]
    if (top_g["FP"], top_g["FN"]) != (metrics["FP"], metrics["FN"]):
        raise RuntimeError("session-level curve disagrees with entry-level metrics")
    reaching = [m for m in curve if m["recall"] >= recall_target]
    matched = min(reaching, key=lambda m: (m["FP"], -m["recall"]), default=None)
    return {
        **metrics,
        "curve": curve,
        "matched": matched,
        "matched_probability": probability_threshold_point(
            sessions["lowest"].min(), session_target, recall_target
        ),
    }


def probability_threshold_point(lowest, session_target, recall_target):
    """False positives of the probability threshold of recall >= ``recall_target``.

    A session is flagged when its lowest probability of an observed output is at
    most the threshold; the threshold is the lowest reaching the recall.

    Parameters
    ----------
    lowest : pandas.Series
        A session's lowest probability of an observed output, by session.
    session_target : pandas.Series
        Test session labels.
    recall_target : float
        The recall to reach.

    Returns
    -------
    point : dict
        ``threshold``, ``FP``, ``FN``, ``recall``.
    """
    abnormal = session_target.reindex(lowest.index).to_numpy() == 1
    scores = lowest.to_numpy()
    n_abnormal = int(abnormal.sum())
    needed = int(np.ceil(recall_target * n_abnormal - 1e-9))
    threshold = float(np.sort(scores[abnormal])[needed - 1])
    flagged = scores <= threshold
    tp = int(np.sum(flagged & abnormal))
    return {
        "threshold": threshold,
        "FP": int(np.sum(flagged & ~abnormal)),
        "FN": n_abnormal - tp,
        "recall": tp / n_abnormal,
    }


def row_values(row):
    """The summarised values of one model or ensemble: ``SUMMARY_METRICS`` at
    ``TOP_G``, and the FP, recall (and g) of the matched-recall points (NaN where
    no g reaches the recall)."""
    matched = row["matched"] or {"FP": np.nan, "recall": np.nan, "g": np.nan}
    return {
        **{name: row[name] for name in SUMMARY_METRICS},
        "matched_FP": matched["FP"],
        "matched_recall": matched["recall"],
        "matched_g": matched["g"],
        "matched_probability_FP": row["matched_probability"]["FP"],
        "matched_probability_recall": row["matched_probability"]["recall"],
    }


def summary(rows):
    """Mean, std (ddof=1), median, min and max over ``rows`` of :func:`row_values`
    (NaN skipped)."""
    table = pd.DataFrame([row_values(row) for row in rows], dtype=float)
    result = {
        name: {
            "mean": float(column.mean()),
            "std": float(column.std()) if column.count() > 1 else 0.0,
            "median": float(column.median()),
            "min": float(column.min()),
            "max": float(column.max()),
        }
        for name, column in table.items()
    }
    result["n"] = len(rows)
    result["n_without_matched_point"] = int(table["matched_FP"].isna().sum())
    return result


def paired(ensembles, singles):
    """Each ensemble against the mean of its members alone, on ``PAIRED``.

    Parameters
    ----------
    ensembles : list of dict
        :func:`score_members` of the ensembles.
    singles : list of dict
        :func:`score_members` of every fitted model.

    Returns
    -------
    comparison : dict
        For each value of ``PAIRED``: ``mean_difference`` (ensemble - members'
        mean), and how many ensembles are ``better``, ``worse`` or ``tied``.
    """
    by_seed = {row["random_states"][0]: row_values(row) for row in singles}
    differences = pd.DataFrame(
        [
            {
                name: row_values(ensemble)[name]
                - np.mean([by_seed[seed][name] for seed in ensemble["random_states"]])
                for name in PAIRED
            }
            for ensemble in ensembles
        ],
        dtype=float,
    )
    return {
        name: {
            "mean_difference": float(differences[name].mean()),
            "better": int(np.sum(differences[name] * sign > 0)),
            "worse": int(np.sum(differences[name] * sign < 0)),
            "tied": int(np.sum(differences[name] == 0)),
        }
        for name, sign in PAIRED.items()
    }


# -- runs ------------------------------------------------------------------------


def fit_models(train_windows, test_windows, queries, seeds, params):
    """Fit one detector per seed; keep its output probabilities and fit time.

    Each model's g rule on its probabilities is checked against
    ``detector.predict`` on the test windows (``predict_mismatches``: entries
    flagged by one and not the other; 0 expected).

    Returns
    -------
    models : list of dict
        ``random_state``, ``fit_seconds``, ``predict_next_seconds``,
        ``predict_mismatches``, ``probabilities`` (not saved to JSON).
    outputs : ndarray
        The outputs of the probability columns (the same for every model).
    min_end_probability : float
        The detectors' default.
    """
    models, outputs = [], None
    for seed in seeds:
        detector = DeepLogDetector(random_state=seed, **params)
        start = time.perf_counter()
        detector.fit(train_windows)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        probabilities = output_probabilities(detector, queries)
        predict_next_seconds = time.perf_counter() - start
        if outputs is None:
            outputs = output_keys(detector)
        elif not np.array_equal(outputs, output_keys(detector)):
            raise RuntimeError("the models' outputs differ")
        ranks, _ = entry_outputs(
            probabilities, queries, outputs, detector.min_end_probability
        )
        flags = detector.predict(test_windows) == -1
        models.append(
            {
                "random_state": seed,
                "fit_seconds": fit_seconds,
                "predict_next_seconds": predict_next_seconds,
                "predict_mismatches": int(np.sum(flags != (ranks > TOP_G))),
                "probabilities": probabilities,
            }
        )
        print(
            f"  seed {seed}: fit {fit_seconds:.1f} s, predict_next "
            f"{predict_next_seconds:.2f} s, mismatches with predict: "
            f"{models[-1]['predict_mismatches']}",
            flush=True,
        )
    return models, outputs, detector.min_end_probability


def score_members(models, members, context, recall_target, min_end_probability):
    """Metrics of the mean output probabilities of ``models[members]``.

    ``context`` holds ``queries``, ``outputs``, ``groups`` and ``session_target``.
    """
    probabilities = np.mean([models[i]["probabilities"] for i in members], axis=0)
    ranks, lowest = entry_outputs(
        probabilities, context["queries"], context["outputs"], min_end_probability
    )
    return {
        "random_states": [models[i]["random_state"] for i in members],
        **evaluate(
            ranks, lowest, context["groups"], context["session_target"], recall_target
        ),
    }


def check_seed_spread(windows, groups, session_target, params, singles, n_seeds):
    """Refit the first ``n_seeds`` seeds with :func:`hdfs.seed_spread` and compare
    their FP and FN with the single models' (``equal``: all metrics equal)."""
    if n_seeds < 1:
        return []
    rows = hdfs.seed_spread(windows, groups, session_target, params, range(n_seeds))
    checks = []
    for row, single in zip(rows, singles[:n_seeds], strict=True):
        names = ("TP", "FP", "FN", "TN", "F1_est")
        checks.append(
            {
                "random_state": row["random_state"],
                "seed_spread": {name: row[name] for name in names},
                "ensemble_py": {name: single[name] for name in names},
                "equal": all(row[name] == single[name] for name in names),
            }
        )
    return checks


# -- report ----------------------------------------------------------------------


def markdown(results):
    """The comparison as markdown tables."""
    recall = results["recall_target"]
    lines = [
        f"| g={TOP_G} | F1 est. mean | std | min | max | recall mean | min | max "
        "| FP mean | min | max | FN mean |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, s in _summaries(results):
        f1, rec, fp, fn = s["F1_est"], s["recall"], s["FP"], s["FN"]
        lines.append(
            f"| {name} (n={s['n']}) | {f1['mean']:.3f} | {f1['std']:.3f} "
            f"| {f1['min']:.3f} | {f1['max']:.3f} | {rec['mean']:.3f} "
            f"| {rec['min']:.3f} | {rec['max']:.3f} | {fp['mean']:.1f} "
            f"| {fp['min']:.0f} | {fp['max']:.0f} | {fn['mean']:,.0f} |"
        )
    lines += [
        "",
        f"False alarms at matched recall (recall >= {recall}): FP (of the normal "
        "sample) at the g of 1..15 reaching it with the fewest FP (the end check on "
        "at every g), and at the lowest threshold on a session's lowest probability "
        "of an observed output (key or end) reaching it.",
        "",
        f"| recall >= {recall} | g: FP mean | std | median | min | max "
        "| recall mean | g mean | no such g | threshold: FP mean | std | median "
        "| min | max |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, s in _summaries(results):
        fp, rec, g = s["matched_FP"], s["matched_recall"], s["matched_g"]
        pfp = s["matched_probability_FP"]
        lines.append(
            f"| {name} | {fp['mean']:.1f} | {fp['std']:.1f} | {fp['median']:.1f} "
            f"| {fp['min']:.0f} | {fp['max']:.0f} | {rec['mean']:.3f} "
            f"| {g['mean']:.1f} | {s['n_without_matched_point']} "
            f"| {pfp['mean']:.1f} | {pfp['std']:.1f} | {pfp['median']:.1f} "
            f"| {pfp['min']:.0f} | {pfp['max']:.0f} |"
        )
    lines += [
        "",
        f"Per seed i: the single model of seed i; the ensemble of seeds i.."
        f"i+{results['members'] - 1}. Matched: FP at recall >= {recall} (g rule, "
        "its g; probability threshold).",
        "",
        "| i | single FP | FN | F1 est. | matched FP (g); thr. "
        "| ensemble FP | FN | F1 est. | matched FP (g); thr. |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for single, ensemble in zip(results["singles"], results["ensembles"], strict=False):
        lines.append(
            f"| {single['random_states'][0]} | {single['FP']} | {single['FN']:,} "
            f"| {single['F1_est']:.3f} | {_matched(single)} | {ensemble['FP']} "
            f"| {ensemble['FN']:,} | {ensemble['F1_est']:.3f} | {_matched(ensemble)} |"
        )
    lines += [
        "",
        "Paired: each ensemble against the mean of its members alone (difference "
        "ensemble - members' mean; better / worse / tied ensembles).",
        "",
        "| value | mean difference | better | worse | tied |",
        "|---|--:|--:|--:|--:|",
    ]
    for name, p in results["paired"].items():
        lines.append(
            f"| {name} | {p['mean_difference']:+.4g} | {p['better']} | {p['worse']} "
            f"| {p['tied']} |"
        )
    fits = [m["fit_seconds"] for m in results["models"]]
    lines += [
        "",
        f"Fit per model: mean {np.mean(fits):.1f} s (min {min(fits):.1f}, max "
        f"{max(fits):.1f}); an ensemble of {results['members']} costs "
        f"{results['members']}x the training and scoring. Mismatches between the "
        "rule on the stored probabilities and `predict`: "
        f"{sum(m['predict_mismatches'] for m in results['models'])} entries.",
    ]
    return "\n".join(lines)


def _summaries(results):
    yield "single", results["summary"]["single"]
    yield f"ensemble of {results['members']}", results["summary"]["ensemble"]
    yield "ensemble, disjoint", results["summary"]["ensemble_disjoint"]


def _matched(m):
    matched = m["matched"]
    g_rule = f"{matched['FP']} ({matched['g']})" if matched else "-"
    return f"{g_rule}; {m['matched_probability']['FP']}"


def main(argv=None):
    """Run the comparison; see the module docstring."""
    args = parse_args(argv)
    torch.set_num_threads(1)
    wall_start = time.perf_counter()

    train, test, session_target = hdfs.load_data(args.quick)
    windower = SequenceWindower(
        window=WINDOW, event="event", group="group", time="time", complete_sessions=True
    )
    windows = {"train": windower.fit_transform(train), "test": windower.transform(test)}
    groups = test["group"].to_numpy()
    queries = test_queries(windows["test"])
    print(
        f"Training windows: {len(windows['train']):,}; test windows: "
        f"{len(windows['test']):,} ({len(queries['contexts']):,} distinct contexts). "
        f"Fitting {args.seeds + args.members - 1} models...",
        flush=True,
    )
    models, outputs, min_end_probability = fit_models(
        windows["train"],
        windows["test"],
        queries,
        range(args.seeds + args.members - 1),
        args.params,
    )
    context = {
        "queries": queries,
        "outputs": outputs,
        "groups": groups,
        "session_target": session_target,
    }
    # Every model alone (the last members - 1 only for the paired comparison).
    singles = [
        score_members(models, [i], context, args.recall, min_end_probability)
        for i in range(len(models))
    ]
    ensembles = [
        score_members(
            models,
            range(i, i + args.members),
            context,
            args.recall,
            min_end_probability,
        )
        for i in range(args.seeds)
    ]
    print("Checking against hdfs.seed_spread...", flush=True)
    checks = check_seed_spread(
        windows, groups, session_target, args.params, singles, args.check_seeds
    )
    disjoint = ensembles[:: args.members]
    results = {
        "quick": args.quick,
        "detector_params": args.params,
        "min_end_probability": min_end_probability,
        "top_g": TOP_G,
        "members": args.members,
        "n_seeds": args.seeds,
        "recall_target": args.recall,
        "n_test_windows": len(windows["test"]),
        "n_distinct_contexts": len(queries["contexts"]),
        "outputs": [str(key) for key in outputs],
        "models": [
            {k: v for k, v in m.items() if k != "probabilities"} for m in models
        ],
        "singles": singles,
        "ensembles": ensembles,
        "summary": {
            "single": summary(singles[: args.seeds]),
            "ensemble": summary(ensembles),
            "ensemble_disjoint": summary(disjoint),
        },
        "paired": paired(ensembles, singles),
        "seed_spread_check": checks,
        "environment": environment(),
    }
    results["wall_seconds"] = time.perf_counter() - wall_start
    print()
    print(markdown(results))
    for check in checks:
        print(
            f"seed_spread check, seed {check['random_state']}: "
            f"{'equal' if check['equal'] else 'DIFFERENT'} "
            f"({check['seed_spread']} vs {check['ensemble_py']})"
        )
    print(f"Wall time: {results['wall_seconds']:.0f} s")
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"Saved {args.output}")


if __name__ == "__main__":
    main(sys.argv[1:])
