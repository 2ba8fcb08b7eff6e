# SPDX-License-Identifier: BSD-3-Clause
"""The ``sklearn-deeplog`` command line: train, detect, evaluate, update, demo."""

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support
from sklearn.pipeline import Pipeline

from . import __version__
from ._detector import DeepLogDetector
from ._sessions import aggregate_sessions
from ._windower import SequenceWindower

__all__ = ["build_parser", "main"]

# The detector's warning about keys of a type it never learned.
_FOREIGN_KEY_WARNING = r"X holds (string|number) log keys"
# Columns of the event tables the readers produce.
_GROUP, _TIME, _EVENT, _LABEL = "group", "time", "event", "label"


def build_parser():
    """The argument parser of the ``sklearn-deeplog`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with one sub-parser per command.
    """
    parser = argparse.ArgumentParser(
        prog="sklearn-deeplog",
        description="DeepLog log anomaly detection (Du et al., CCS 2017).",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    train = commands.add_parser(
        "train", help="learn normal behaviour from an event file and save the model"
    )
    _add_input(train)
    train.add_argument("-o", "--model", required=True, help="where to save the model")
    _add_hyper_parameters(train)
    _add_quiet(train)

    detect = commands.add_parser(
        "detect", help="flag anomalous entries of an event file"
    )
    _add_model(detect)
    _add_input(detect)
    detect.add_argument(
        "-o", "--output", default="-", help="CSV or NDJSON file (default: stdout)"
    )
    detect.add_argument(
        "--output-format",
        choices=["csv", "ndjson"],
        help="default: from the output file's suffix, else csv",
    )
    detect.add_argument(
        "--all", action="store_true", help="write every entry, not only the flagged"
    )
    detect.add_argument(
        "--top-k",
        type=_positive_int,
        default=3,
        help="expected keys to list per entry (default: %(default)s)",
    )
    _add_quiet(detect)

    evaluate = commands.add_parser(
        "evaluate", help="precision, recall and F1 on a labelled event file"
    )
    _add_model(evaluate)
    _add_input(evaluate)
    _add_quiet(evaluate)

    update = commands.add_parser(
        "update",
        help="online update: learn entries an operator marked as false positives",
    )
    _add_model(update)
    _add_input(update, "normal events to learn, with their sessions' context")
    update.add_argument(
        "-o", "--output", help="where to save the updated model (default: in place)"
    )
    update.add_argument(
        "--max-updates",
        type=_positive_int,
        default=100,
        help="partial_fit passes at most; stops once every entry is normal "
        "(default: %(default)s)",
    )
    _add_quiet(update)

    demo = commands.add_parser(
        "demo", help="train and evaluate on the bundled HDFS data of the paper"
    )
    demo.add_argument(
        "--epochs",
        type=_positive_int,
        default=DeepLogDetector().max_epochs,
        help="training epochs (default: %(default)s)",
    )
    demo.add_argument("--random-state", type=int, default=0)
    _add_quiet(demo)
    return parser


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` means ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 on a data or model error, 2 on a usage error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            # _read gave the keys the model's type: a key of another is a new key.
            warnings.filterwarnings("ignore", message=_FOREIGN_KEY_WARNING)
            _COMMANDS[args.command](args)
    except (ValueError, TypeError, OSError, KeyError) as err:
        print(f"sklearn-deeplog {args.command}: error: {err}", file=sys.stderr)
        return 1
    return 0


# -- commands --------------------------------------------------------------------


def _train(args):
    events = _read(args)
    windower = SequenceWindower(
        window=args.window,
        event=_EVENT,
        group=_GROUP if _GROUP in events else None,
        time=_TIME if _TIME in events else None,
        timeout=args.timeout,
        complete_sessions=args.complete_sessions,
    )
    detector = DeepLogDetector(
        top_g=args.top_g,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        embedding_dim=args.embedding_dim,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        device=args.device,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    model = Pipeline([("windower", windower), ("detector", detector)])
    model.fit(events.drop(columns=_LABEL, errors="ignore"))
    _save(model, args.model)
    _say(args, f"trained on {len(events):,} log entries; model saved to {args.model}")


def _detect(args):
    model = _load(args.model)
    events = _read(args, model)
    windows, scores = _score(model, events, args)
    results = events.drop(columns=_LABEL, errors="ignore").assign(
        score=scores, anomaly=scores < 0
    )
    expected, probabilities = model[-1].predict_next(windows, k=args.top_k)
    results["expected"] = [
        " ".join(f"{key}:{p:.3f}" for key, p in zip(keys, probs, strict=True))
        for keys, probs in zip(expected, probabilities, strict=True)
    ]
    if not args.all:
        results = results[results["anomaly"]]
    _write(results, args.output, args.output_format)
    _say(args, f"{int((scores < 0).sum()):,} of {len(events):,} entries flagged")


def _evaluate(args):
    model = _load(args.model)
    events = _read(args, model)
    if _LABEL not in events:
        raise ValueError(
            f"{args.input} has no label column: evaluate needs one label per entry "
            "(1 anomalous, 0 normal)."
        )
    _, scores = _score(model, events, args)
    flagged = np.where(scores < 0, 1, 0)
    rows = [("entries", events[_LABEL].to_numpy(), flagged)]
    if _GROUP in events:
        sessions = events[_GROUP]
        rows.append(
            (
                "sessions",
                -aggregate_sessions(-events[_LABEL].to_numpy(), sessions).to_numpy(),
                -aggregate_sessions(-flagged, sessions).to_numpy(),
            )
        )
    print(_metrics_table(rows))


def _update(args):
    model = _load(args.model)
    events = _read(args, model)
    windows = model[0].transform(events.drop(columns=_LABEL, errors="ignore"))
    detector = model[-1].set_params(verbose=0)
    flagged_before = flagged = int((detector.predict(windows) == -1).sum())
    n_updates = 0
    while flagged and n_updates < args.max_updates:
        detector.partial_fit(windows)
        n_updates += 1
        flagged = int((detector.predict(windows) == -1).sum())
    output = args.output or args.model
    _save(model, output)
    _say(
        args,
        f"{n_updates} update(s): {flagged_before:,} -> {flagged:,} of "
        f"{len(events):,} entries flagged; model saved to {output}",
    )


def _demo(args):
    from .datasets import load_hdfs

    data = load_hdfs(as_frame=True)
    events, subset = data.data, data.subset
    model = Pipeline(
        [
            (
                "windower",
                SequenceWindower(
                    event=_EVENT, group=_GROUP, time=_TIME, complete_sessions=True
                ),
            ),
            (
                "detector",
                DeepLogDetector(
                    max_epochs=args.epochs,
                    random_state=args.random_state,
                    verbose=0 if args.quiet else 1,
                ),
            ),
        ]
    )
    train = (subset == "train").to_numpy()
    _say(args, f"training on {train.sum():,} entries of normal HDFS sessions")
    model.fit(events[train])
    test = events[~train]
    flagged = np.where(model.predict(test) == -1, 1, 0)
    sessions = test[_GROUP]
    truth = -aggregate_sessions(-data.target[~train].to_numpy(), sessions).to_numpy()
    predicted = -aggregate_sessions(-flagged, sessions).to_numpy()
    print(_metrics_table([("sessions", truth, predicted)]))


_COMMANDS = {
    "train": _train,
    "detect": _detect,
    "evaluate": _evaluate,
    "update": _update,
    "demo": _demo,
}


# -- helpers ---------------------------------------------------------------------


def _add_input(parser, help="event file: .csv, .txt, .json, .ndjson (.gz too)"):
    parser.add_argument("input", help=help)
    parser.add_argument(
        "--format",
        choices=["csv", "txt", "json", "ndjson"],
        help="input format (default: from the file's suffix)",
    )


def _add_model(parser):
    parser.add_argument("model", help="a model file written by 'train'")


def _add_quiet(parser):
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress or summary"
    )


def _add_hyper_parameters(parser):
    windower, detector = SequenceWindower(), DeepLogDetector()
    options = [
        ("--window", int, windower.window, "previous keys per window (h)"),
        ("--timeout", float, windower.timeout, "seconds after which context is old"),
        ("--top-g", int, detector.top_g, "normal if among the g most likely keys"),
        ("--hidden-size", int, detector.hidden_size, "LSTM units per layer"),
        ("--num-layers", int, detector.num_layers, "LSTM layers"),
        ("--embedding-dim", int, detector.embedding_dim, "key embedding size"),
        ("--epochs", int, detector.max_epochs, "training epochs"),
        ("--batch-size", int, detector.batch_size, "distinct windows per step"),
        ("--lr", float, detector.lr, "Adam learning rate"),
        ("--device", str, detector.device, "auto, cpu, cuda, cuda:1, ..."),
        ("--random-state", int, 0, "seed"),
    ]
    for flag, kind, default, help in options:
        parser.add_argument(
            flag, type=kind, default=default, help=f"{help} (default: %(default)s)"
        )
    parser.add_argument(
        "--complete-sessions",
        action="store_true",
        help="groups are complete sessions: a session that ends early is an anomaly",
    )


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _read(args, model=None):
    """The event table of the input file, its keys of the model's key type.

    The readers type keys from the file's content: ``5`` in a file of integer
    keys, ``"5"`` beside a key ``E1``. Keys are strings in the models that
    ``train`` writes, and are given the type of the model's keys (strings, or
    numbers for a model trained in Python on numbers) so that the same key
    always matches.
    """
    from .io import read_events

    events = read_events(args.input, format=args.format)
    keys = events[_EVENT]
    learned = None if model is None else model[-1].keys_
    if learned is not None and all(not isinstance(key, str) for key in learned):
        numbers = pd.to_numeric(keys, errors="coerce")
        events[_EVENT] = keys.where(numbers.isna(), numbers)
    else:
        events[_EVENT] = keys.astype(str).astype(object)
    return events


def _score(model, events, args):
    windows = model[0].transform(events.drop(columns=_LABEL, errors="ignore"))
    detector = model[-1].set_params(verbose=0 if args.quiet else 2)
    return windows, detector.decision_function(windows)


def _load(path):
    try:
        model = joblib.load(path)
    except OSError:
        raise
    except Exception as err:  # unpickling garbage raises about anything
        raise ValueError(
            f"{path} is not a model written by 'sklearn-deeplog train' (cannot "
            f"load it: {type(err).__name__}: {err})."
        ) from err
    if not isinstance(model, Pipeline) or not isinstance(model[-1], DeepLogDetector):
        raise ValueError(f"{path} is not a model written by 'sklearn-deeplog train'.")
    return model


def _save(model, path):
    """Write the model atomically: a failed write leaves no half-written file."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(descriptor)
    try:
        joblib.dump(model, temporary)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _write(results, output, output_format):
    if output_format is None:
        output_format = (
            "ndjson" if str(output).endswith((".ndjson", ".jsonl")) else "csv"
        )
    target = sys.stdout if output == "-" else output
    if output_format == "csv":
        results.to_csv(target, index=False)
    else:
        results.to_json(target, orient="records", lines=True, date_format="iso")


def _metrics_table(rows):
    """Precision, recall, F1 and confusion counts, anomalies as the positive class."""
    lines = [
        f"{'':10}{'precision':>10}{'recall':>10}{'f1':>10}{'TP':>9}{'FP':>9}"
        f"{'FN':>9}{'TN':>9}"
    ]
    for name, truth, predicted in rows:
        precision, recall, f1, _ = precision_recall_fscore_support(
            truth, predicted, average="binary", pos_label=1, zero_division=0
        )
        counts = pd.crosstab(
            pd.Categorical(truth, [0, 1]),
            pd.Categorical(predicted, [0, 1]),
            dropna=False,
        ).to_numpy()
        (tn, fp), (fn, tp) = counts
        lines.append(
            f"{name:10}{precision:>10.4f}{recall:>10.4f}{f1:>10.4f}"
            f"{tp:>9,}{fp:>9,}{fn:>9,}{tn:>9,}"
        )
    return "\n".join(lines)


def _say(args, message):
    if not args.quiet:
        print(message, file=sys.stderr)
