# SPDX-License-Identifier: BSD-3-Clause
"""The ``sklearn-deeplog`` command: train, detect, evaluate, update, workflow, demo.

``detect`` and ``evaluate`` feed event files chunk by chunk to a
:class:`StreamDetector`, in bounded memory, with the results of scoring the whole
file at once provided each group's entries appear in time order in the file;
``detect --follow`` feeds it entries as they arrive. ``train`` and ``update`` read
whole files.
"""

import argparse
import bz2
import contextlib
import functools
import gc
import glob
import gzip
import importlib
import io
import itertools
import json
import logging
import lzma
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from tqdm import tqdm

from ._deeplog import DeepLog, key_and_value_models
from ._detector import DeepLogDetector
from ._follow import follow_lines
from ._optional import import_optional
from ._outputs import check_output, output_target, replacing, writing_text
from ._parameter_values import ParameterValueDetector
from ._persistence import load_model, save_model
from ._sessions import aggregate_sessions
from ._stream import DECISION_COLUMNS, StreamDetector
from ._version import __version__
from ._windower import SequenceWindower
from ._workflow import START, Workflow, read_workflow, workflow_format
from .io import read_events
from .io._readers import file_format

__all__ = ["build_parser", "main"]

# The detector's warning about keys of a type it never learned.
_FOREIGN_KEY_WARNING = r"X holds (string|number) log keys"
# Columns of the event tables the readers produce.
_GROUP, _TIME, _EVENT, _LABEL = "group", "time", "event", "label"
# Columns holding lists, written as JSON text in CSV.
_LIST_COLUMNS = ("expected", "usual_next")
# Compressed outputs, by suffix.
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

_IN_CHUNKS = (
    "The file is read and scored in chunks of --chunksize entries, in bounded "
    "memory: the results are those of scoring the whole file at once provided "
    "each group's entries appear in time order in the file, and a warning says "
    "when they do not. (JSON files are parsed whole: use NDJSON for files larger "
    "than memory.)"
)
_WHOLE_FILE = "The whole file is read into memory."
_INPUT_HELP = "event file: .csv, .txt, .json, .ndjson (.gz, .bz2, .xz too)"


def build_parser():
    """The argument parser of the ``sklearn-deeplog`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser, with one sub-parser per command.
    """
    parser = _Parser(
        prog="sklearn-deeplog",
        description="DeepLog log anomaly detection (Du et al., CCS 2017).",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    train = commands.add_parser(
        "train",
        help="learn normal behaviour from an event file and save the model",
        description=f"Learn normal behaviour from an event file. {_WHOLE_FILE}",
    )
    _add_input(train)
    train.add_argument(
        "-o",
        "--model",
        required=True,
        help="where to save the model (a safe skops file, e.g. model.skops)",
    )
    _add_hyper_parameters(train)
    train.add_argument(
        "--values",
        nargs="*",
        metavar="COLUMN",
        help="also learn DeepLog's parameter-value model: of the time since the "
        "previous entry of the group (when the file has times) and of these "
        "numeric columns of the file, if any (not with .txt files)",
    )
    train.add_argument(
        "--confidence",
        type=float,
        default=ParameterValueDetector().confidence,
        help="with --values, an entry's values are anomalous beyond this "
        "confidence level (default: %(default)s)",
    )
    _add_threads(train)
    _add_scheduler(train)
    _add_quiet(train)

    detect = commands.add_parser(
        "detect",
        help="flag anomalous entries of an event file",
        description=f"Flag anomalous entries of an event file. {_IN_CHUNKS} With a "
        "model trained with --complete-sessions, the last entry of a group in a "
        "chunk is written once a later chunk continues the group, or at the end: "
        "rows are then not in file order, and their group and time identify them.",
    )
    _add_model(detect)
    _add_input(detect, label="none")
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
    detect.add_argument(
        "--workflow",
        help="a GraphML workflow written by 'workflow': adds to each flagged "
        "entry where it left the workflow (diverged_after, diverged_to), the keys "
        "that usually follow there and how often training saw the transition",
    )
    detect.add_argument(
        "--follow",
        action="store_true",
        help="judge entries as they arrive: follow the input as it grows, as "
        "'tail -F' does (across rotation), or read standard input ('-', with "
        "--format ndjson or csv); write each flagged entry at once, one NDJSON "
        "line; Ctrl-C or the end of standard input judges what is held back "
        "and stops",
    )
    detect.add_argument(
        "--idle-timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="with --follow, close a group (judge the end of a complete "
        "session) after this many seconds without an entry: of the entries' "
        "times, or of the clock when the model reads none (default: groups "
        "stay open)",
    )
    _add_chunksize(detect)
    _add_threads(detect)
    _add_scheduler(detect)
    _add_quiet(detect)

    evaluate = commands.add_parser(
        "evaluate",
        help="precision, recall and F1 on a labelled event file",
        description="Precision, recall and F1 of the entries, and of the sessions "
        f"(groups), of a labelled event file. {_IN_CHUNKS}",
    )
    _add_model(evaluate)
    _add_input(evaluate, label="label")
    _add_chunksize(evaluate)
    _add_threads(evaluate)
    _add_scheduler(evaluate)
    _add_quiet(evaluate)

    update = commands.add_parser(
        "update",
        help="online update: learn entries an operator marked as false positives",
        description="Online update: learn the entries of an event file, marked as "
        f"false positives by an operator, as normal. {_WHOLE_FILE}",
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
    _add_threads(update)
    _add_quiet(update)

    workflow = commands.add_parser(
        "workflow",
        help="draw and save the workflow of the sessions of an event file",
        description="Build the workflow of the sessions (groups) of an event file "
        "of normal logs: which log key follows which, from START to END. "
        f"{_WHOLE_FILE}",
    )
    _add_input(workflow)
    workflow.add_argument(
        "-o",
        "--output",
        action="append",
        required=True,
        help="file to write, by suffix: .graphml (for detect --workflow), .dot, "
        "or a picture (.png, .svg, .pdf); repeat for several",
    )
    workflow.add_argument(
        "--min-frequency",
        type=float,
        default=Workflow().min_frequency,
        help="transitions rarer than this share of their key's are left out of "
        "the workflow (default: %(default)s)",
    )
    _add_quiet(workflow)

    demo = commands.add_parser(
        "demo",
        help="train and evaluate on the bundled HDFS data of the paper",
        description="The DeepLog paper's HDFS experiment on the sessions bundled "
        "with the package: train on the normal training sessions (complete "
        "sessions), then print precision, recall and F1 of the test sessions.",
    )
    demo.add_argument(
        "--epochs",
        type=_positive_int,
        default=DeepLogDetector().max_epochs,
        help="training epochs (default: %(default)s)",
    )
    demo.add_argument(
        "--random-state", type=int, default=0, help="seed (default: %(default)s)"
    )
    _add_threads(demo)
    _add_quiet(demo)
    return parser


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, with where to look."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` means ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 on a data or model error, 2 on a usage error, 130 when
        interrupted by Ctrl-C (SIGINT) and 143 when terminated (SIGTERM): an
        interrupted command writes nothing, and leaves existing files as they
        were. ``detect --follow`` stops on either with 0, once it has judged and
        written what it held back.
    """
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    prefix = f"sklearn-deeplog {args.command}"
    if unknown:  # said by the command, whose help lists its options
        _Parser(prog=prefix).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        with warnings.catch_warnings(), _stopped_by_signals():
            warnings.showwarning = functools.partial(
                _show_warning, prefix, args.command
            )
            # _match_keys gave the keys the model's type: one of another is new.
            warnings.filterwarnings("ignore", message=_FOREIGN_KEY_WARNING)
            if args.command in _TORCH_COMMANDS:
                # Stopped in the middle of its import, torch is left half
                # initialized and the process aborts (SIGABRT) at exit: the
                # signals wait until it is imported.
                with _signals_held():
                    import torch  # noqa: F401
            _COMMANDS[args.command](args)
    except _Stopped as stop:
        name = signal.Signals(stop.signum).name
        print(f"{prefix}: stopped by {name}; no file was changed.", file=sys.stderr)
        return 128 + stop.signum
    except BrokenPipeError:  # the reader of the output went away (| head)
        sys.stdout = open(os.devnull, "w")  # nothing more to flush at exit
        return 128 + signal.SIGPIPE
    except ImportError as err:
        print(f"{prefix}: error: {err}", file=sys.stderr)
        return 1
    except RecursionError:
        print(f"{prefix}: error: a file is nested too deeply to read.", file=sys.stderr)
        return 1
    except Exception as err:  # a line for the user, never a traceback
        message = str(err)
        if isinstance(err, OSError) and err.filename is not None:
            message = f"{err.filename}: {err.strerror}"
        message = " ".join(_as_options(message, args.command).split())
        if not isinstance(err, (ValueError, TypeError, OSError, KeyError)):
            message = f"{type(err).__name__}: {message}"
        print(f"{prefix}: error: {message}", file=sys.stderr)
        return 1
    return 0


class _Stopped(BaseException):
    """Raised in the main thread on SIGINT or SIGTERM.

    Not a KeyboardInterrupt: skorch ends training on one and returns normally,
    which would save an under-trained model.
    """

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _stopped_by_signals():
    """Turn SIGINT and SIGTERM into :class:`_Stopped`, once; restore on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    signals = (signal.SIGINT, signal.SIGTERM)

    def stop(signum, frame):
        for other in signals:  # a second signal must not interrupt the cleanup
            signal.signal(other, signal.SIG_IGN)
        raise _Stopped(signum)

    previous = {signum: signal.signal(signum, stop) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _show_warning(
    prefix, command, message, category, filename, lineno, file=None, line=None
):
    """Print a warning as one line for the user, without Python source."""
    print(f"{prefix}: warning: {_as_options(str(message), command)}", file=sys.stderr)


def _as_options(message, command=None):
    """Say the Python arguments that messages advise as command-line options.

    ``evaluate`` needs its labels: advice to ignore them is left out.
    """
    if command == "evaluate":
        message = re.sub(r",? or pass label=None[^.]*", "", message)
    message = re.sub(r"pass (\w+)=None", r"pass --\1 none", message)
    message = re.sub(r"pass (\w+)=<column>", r"pass --\1 COLUMN", message)
    message = re.sub(r"pass format='(\w+)'", r"pass --format \1", message)
    message = re.sub(r"device='([^']*)'", r"--device \1", message)
    message = re.sub(r"top_g=(\d+)", r"--top-g \1", message)
    message = message.replace("Set top_g below", "Set --top-g below")
    message = re.sub(r"false_alarms=([\d.]+)", r"--false-alarms \1", message)
    message = message.replace("raise false_alarms", "raise --false-alarms")
    message = message.replace("false_alarms needs", "--false-alarms needs")
    return message.replace("pass format=", "pass --format")


# -- commands --------------------------------------------------------------------


def _train(args):
    check_output(args.model, {"input": args.input}, option="-o", regular="a model")
    if args.scheduler is not None:
        _check_output_beside_inputs(args.model, args.input)
    if args.scheduler is not None and args.false_alarms is not None:
        raise ValueError(
            "--false-alarms holds sessions out of training, which --scheduler "
            "does not do: train on the cluster with --top-g, or without "
            "--scheduler for a budget."
        )
    with _cluster(args) as client:
        if client is None:
            events = _read(args, values=args.values)
            _say(args, f"training on {len(events):,} log entries")
        else:
            events = _events_on_cluster(args, values=args.values)
            _say(args, f"training on {args.input} on the cluster {_name(client)}")
        model = _new_model(args, events.columns)
        if client is None:
            # With --false-alarms, whole groups are held out to set the threshold.
            groups = events[_GROUP] if _GROUP in events else None
            if isinstance(model, DeepLog):
                model.fit(_features(events), groups=groups)
            else:
                model.fit(_features(events), detector__groups=groups)
            trained = f"{len(events):,} log entries"
        else:
            _on_dask().fit(model, _features(events))
            trained = args.input
    save_model(model, args.model)
    _say(args, f"trained on {trained}; model saved to {args.model}")
    if args.false_alarms is not None:
        detector = key_and_value_models(model)[0][-1]
        units = "entries" if _GROUP not in events else "groups"
        _say(
            args,
            f"key model's threshold: a key is anomalous below probability "
            f"{np.exp(detector.offset_):.3g}; it flags "
            f"{detector.validation_false_alarms_:.2%} of the "
            f"{detector.n_validation_:,} held-out {units} (budget "
            f"{args.false_alarms:.2%})",
        )


def _new_model(args, columns):
    """The model that ``train`` fits on an event table of these columns."""
    windower = SequenceWindower(
        window=args.window,
        event=_EVENT,
        group=_GROUP if _GROUP in columns else None,
        time=_TIME if _TIME in columns else None,
        timeout=args.timeout,
        complete_sessions=args.complete_sessions,
    )
    detector = DeepLogDetector(
        top_g=args.top_g,
        false_alarms=args.false_alarms,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        embedding_dim=args.embedding_dim,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        device=args.device,
        n_threads=args.threads,
        random_state=args.random_state,
        verbose=_verbose(args),
    )
    model = Pipeline([("windower", windower), ("detector", detector)])
    if args.values is not None:
        model = DeepLog(
            key_model=model,
            value_model=ParameterValueDetector(
                event=_EVENT,
                group=_GROUP if _GROUP in columns else None,
                time=_TIME if _TIME in columns else None,
                values=args.values,
                confidence=args.confidence,
                max_epochs=args.epochs,
                device=args.device,
                n_threads=args.threads,
                random_state=args.random_state,
                verbose=_verbose(args),
            ),
        )
    return model


def _detect(args):
    inputs = {"input": args.input, "model": args.model, "workflow": args.workflow}
    check_output(args.output, inputs, option="-o")
    for option in ("event", "group", "time", "label"):
        if getattr(args, option) in DECISION_COLUMNS:
            raise ValueError(
                f"--{option} {getattr(args, option)}: the input's column has the "
                "name of a column that detect writes; rename it in the input."
            )
    if args.scheduler is not None:
        _check_output_beside_inputs(args.output, args.input)
    model = _load(args)
    workflow = None if args.workflow is None else read_workflow(args.workflow)
    stream = StreamDetector(
        model, top_k=args.top_k, idle_timeout=args.idle_timeout, workflow=workflow
    )
    if args.follow:
        if args.scheduler is not None:
            raise ValueError("--follow reads one growing file: leave out --scheduler.")
        _detect_following(args, model, stream)
        return
    if args.idle_timeout is not None:
        raise ValueError(
            "--idle-timeout closes groups as entries arrive: use it with --follow."
        )
    output_format = args.output_format or _output_format(args.output)
    opener = _OPENERS.get(Path(args.output).suffix.lower(), open)
    n_entries = n_flagged = 0
    with (
        _decided_tables(args, model, stream, keep_all=args.all) as tables,
        writing_text(args.output, opener) as file,
    ):
        for written, n_decided, n_anomalies in tables:
            _write(_presented(written, args), file, output_format, header=not n_entries)
            n_entries += n_decided
            n_flagged += n_anomalies
    _say(args, f"{n_flagged:,} of {n_entries:,} entries flagged")


def _evaluate(args):
    if args.label is None or _input_format(args) == "txt":
        raise ValueError(
            "evaluate needs the label of each entry (1 anomalous, 0 normal): give "
            "a CSV, NDJSON or JSON file with a label column, named with --label "
            "COLUMN (.txt files have no labels)."
        )
    model = _load(args)
    entries_counts, sessions = np.zeros((2, 2), dtype=np.int64), None
    stream = StreamDetector(model, top_k=None)
    with _decided_tables(args, model, stream, needs_labels=True) as tables:
        for decided, _, _ in tables:
            labels = decided[_LABEL].to_numpy()
            flagged = decided["anomaly"].to_numpy().astype(np.int64)
            entries_counts += _confusion(labels, flagged)
            if _GROUP in decided:
                sessions = _flag_sessions(sessions, decided[_GROUP], labels, flagged)
    rows = [("entries", entries_counts)]
    if sessions is not None:
        rows.append(("sessions", _confusion(sessions[_LABEL], sessions["flagged"])))
    print(_metrics_table(rows))


@contextmanager
def _decided_tables(args, model, stream, needs_labels=False, keep_all=True):
    """The decisions of the input, table by table: see :func:`_kept`.

    Chunk by chunk through `stream`, or with ``--scheduler`` file by file
    (partition by partition) on the cluster, in the input's order; the flagged
    entries are picked out there. With `needs_labels`, an input without a
    label column is refused.
    """
    with _cluster(args) as client:
        if client is None:
            with (
                _progress(args) as progress,
                _read_chunks(args, model, progress) as tables,
            ):
                first = next(tables)
                if needs_labels:
                    _check_label_column(first, args)
                decided = _decided(stream, itertools.chain([first], tables))
                yield (_kept(table, keep_all) for table in decided)
        else:
            events = _events_on_cluster(args, model)
            if needs_labels:
                _check_label_column(events, args)
            decided = _on_dask().detect(
                model, events, top_k=stream.top_k, workflow=stream.workflow
            )
            delayed = importlib.import_module("dask").delayed
            parts = [delayed(_kept)(part, keep_all) for part in decided.to_delayed()]
            yield _computed(client, parts, args)


def _kept(decided, keep_all):
    """A table of decisions, its flagged entries only unless `keep_all`.

    Returns
    -------
    kept : pandas.DataFrame
    n_entries, n_flagged : int
        The entries of `decided`, and those flagged.
    """
    flagged = decided["anomaly"].to_numpy(dtype=bool)
    return decided if keep_all else decided[flagged], len(decided), int(flagged.sum())


def _check_label_column(events, args):
    if _LABEL not in events.columns:
        raise ValueError(
            f"{args.input} has no label column {args.label!r}: evaluate needs "
            "one label per entry (1 anomalous, 0 normal); name its column with "
            "--label."
        )


def _computed(client, parts, args):
    """The results of `parts` computed on the cluster, in order, but empty ones.

    Every part is computed at once (a shuffle's tasks are shared between the
    parts); each result is let go once taken.
    """
    futures = client.compute(parts)
    with tqdm(
        total=len(futures),
        unit="partition",
        file=sys.stderr,
        disable=args.quiet or not sys.stderr.isatty(),
    ) as progress:
        for number in range(len(futures)):
            kept, n_entries, n_flagged = futures[number].result()
            futures[number] = None  # the cluster may forget it
            progress.update()
            if n_entries:
                yield kept, n_entries, n_flagged


def _update(args):
    output = args.model if args.output is None else args.output
    # In place by default: the model is replaced only once the update is complete.
    check_output(output, {"input": args.input}, option="-o", regular="a model")
    model = _load(args)
    events = _read(args, model)
    _say(args, f"updating the model on {len(events):,} log entries")
    features = _features(events)
    key_model, value_model = key_and_value_models(model)
    windows = key_model[0].transform(features)
    detector = key_model[-1]
    flagged_before = int((model.predict(features) == -1).sum())
    flagged = int((detector.predict(windows) == -1).sum())
    n_updates = 0
    while flagged and n_updates < args.max_updates:
        detector.partial_fit(windows)
        n_updates += 1
        flagged = int((detector.predict(windows) == -1).sum())
    if value_model is not None:  # one epoch, as DeepLog's online update
        value_model.partial_fit(features)
        n_updates += 1
    flagged = int((model.predict(features) == -1).sum())
    save_model(model, output)
    _say(
        args,
        f"{n_updates} update(s): {flagged_before:,} -> {flagged:,} of "
        f"{len(events):,} entries flagged; model saved to {output}",
    )


def _workflow(args):
    targets = [output_target(path) for path in args.output]
    if len(set(targets)) < len(targets):
        raise ValueError("-o names the same file twice; name each output once.")
    for path in args.output:
        check_output(path, {"input": args.input}, option="-o", regular="a workflow")
        workflow_format(path)  # an unknown suffix is refused before any work
    events = _read(args)
    workflow = Workflow(
        event=_EVENT,
        group=_GROUP if _GROUP in events else None,
        time=_TIME if _TIME in events else None,
        min_frequency=args.min_frequency,
    ).fit(_features(events))
    with contextlib.ExitStack() as outputs:  # all files move into place, or none
        for path in args.output:
            workflow.write(outputs.enter_context(replacing(path)))
    _say(
        args,
        f"workflow of {workflow.graph_.number_of_nodes() - 2} keys written to "
        + ", ".join(args.output),
    )


def _demo(args):
    from .datasets import load_hdfs

    data = load_hdfs(as_frame=True)
    # Keys as 'train' learns them, so that the demo's numbers are those of
    # 'train' and 'evaluate' on the same sessions.
    events, subset = _match_keys(data.data, None), data.subset
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
                    n_threads=args.threads,
                    random_state=args.random_state,
                    verbose=_verbose(args),
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
    print(_metrics_table([("sessions", _confusion(truth, predicted))]))


# The commands that build, train, score or restore a network.
_TORCH_COMMANDS = {"train", "detect", "evaluate", "update", "demo"}

_COMMANDS = {
    "train": _train,
    "detect": _detect,
    "evaluate": _evaluate,
    "update": _update,
    "workflow": _workflow,
    "demo": _demo,
}


# -- arguments -------------------------------------------------------------------


def _add_input(parser, help=_INPUT_HELP, label=None):
    """The input file, its format and the names of its columns.

    `label` is the default label column; None when the command reads no labels.
    """
    parser.add_argument("input", help=help)
    parser.add_argument(
        "--format",
        choices=["csv", "txt", "json", "ndjson"],
        help="input format (default: from the file's suffix)",
    )
    columns = parser.add_argument_group(
        "columns",
        "the input's columns (CSV) or fields (JSON, NDJSON) by name, or 'none' for "
        "a file without one; .txt files have none to name",
    )
    names = [
        ("--event", "event", "the log key"),
        ("--group", "machine", "the machine or session (none: one single stream)"),
        ("--time", "timestamp", "the time, seconds or ISO 8601 (none: file order)"),
    ]
    if label is not None:
        names.append(
            (
                "--label",
                label,
                "the label, 1 anomalous or 0 normal (detect copies it to its "
                "output, which evaluate reads)",
            )
        )
    for flag, default, help in names:
        columns.add_argument(
            flag,
            type=_column_name,
            default=default,
            metavar="COLUMN",
            help=f"{help} (default: {default})",
        )
    if label is None:
        parser.set_defaults(label=None)


def _column_name(text):
    """A column name of the command line: ``none`` is None."""
    return None if text.lower() == "none" else text


def _add_model(parser):
    parser.add_argument("model", help="a model file written by 'train'")


def _add_chunksize(parser):
    parser.add_argument(
        "--chunksize",
        type=_positive_int,
        # As fast as a million, in less memory, and the progress bar moves
        # about once a second (HDFS, two cores).
        default=100_000,
        help="log entries read and scored at a time; memory holds a chunk, the "
        "last window of entries of each group and, with a value model, the last "
        "entries of each key of each group (default: %(default)s)",
    )


def _add_quiet(parser):
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress or summary"
    )


def _add_threads(parser):
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=DeepLogDetector().n_threads,
        help="torch threads on the cpu; one is fastest for DeepLog's small "
        "networks (default: %(default)s)",
    )


def _add_scheduler(parser):
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster: the address of its scheduler "
        "(tcp://host:8786), or 'local' for a cluster of this machine's cores. "
        "The input may then be a glob pattern of event files, quoted (their "
        "concatenation in name order), or a Parquet dataset (a directory or "
        ".parquet file); each file is read where it is scored. Needs "
        'pip install "sklearn-deeplog[dask]"',
    )


def _add_hyper_parameters(parser):
    windower, detector = SequenceWindower(), DeepLogDetector()
    options = [
        ("--window", _positive_int, windower.window, "previous keys per window (h)"),
        (
            "--timeout",
            _positive_float,
            windower.timeout,
            "seconds until context is old",
        ),
        ("--top-g", _positive_int, detector.top_g, "normal if among the g likeliest"),
        (
            "--false-alarms",
            _fraction,
            detector.false_alarms,
            "instead of --top-g, a false-alarm budget of the key model: the "
            "share of new normal groups (entries with --group none) it may flag; "
            "some training groups are held out to set its probability threshold",
        ),
        ("--hidden-size", _positive_int, detector.hidden_size, "LSTM units per layer"),
        ("--num-layers", _positive_int, detector.num_layers, "LSTM layers"),
        (
            "--embedding-dim",
            _positive_int,
            detector.embedding_dim,
            "key embedding size",
        ),
        (
            "--epochs",
            _positive_int,
            detector.max_epochs,
            "training epochs (both models)",
        ),
        (
            "--batch-size",
            _positive_int,
            detector.batch_size,
            "distinct windows per step",
        ),
        ("--lr", _positive_float, detector.lr, "Adam learning rate"),
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


def _positive(kind, name, below=None):
    """An argparse type: a positive value of `kind` (argparse names it `name`)."""

    def positive(text):
        value = kind(text)
        if not (value > 0 and (below is None or value < below)):
            bound = "" if below is None else f" below {below}"
            raise argparse.ArgumentTypeError(
                f"must be a positive {name}{bound}, got {text}"
            )
        return value

    positive.__name__ = name  # argparse says "invalid <name> value: 'x'"
    return positive


_positive_float = _positive(float, "number")
_positive_int = _positive(int, "integer")
_fraction = _positive(float, "number", below=1)


# -- reading and windowing -------------------------------------------------------


@contextmanager
def _cluster(args):
    """A client of the ``--scheduler``'s Dask cluster; None without one."""
    if args.scheduler is None:
        yield None
        return
    distributed = import_optional("distributed", needed_by="--scheduler", extra="dask")
    with contextlib.ExitStack() as stack:
        address = args.scheduler
        if address == "local":
            address = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=os.cpu_count(),
                    threads_per_worker=1,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                    preload=[_IGNORE_SIGINT],
                )
            )
        try:
            client = stack.enter_context(distributed.Client(address, timeout="10s"))
        except OSError as err:
            raise ValueError(
                f"--scheduler {args.scheduler}: no Dask scheduler answers there "
                f"({err}). Start one ('dask scheduler'), or use --scheduler local."
            ) from err
        yield client


def _check_output_beside_inputs(output, pattern):
    """Refuse an output that is one of the files `pattern` names, or in its dataset.

    ``--scheduler`` reads a glob of files or a Parquet dataset (a directory).
    """
    if str(output) == "-":
        return
    for path in glob.glob(pattern) if glob.has_magic(pattern) else [pattern]:
        check_output(output, {"input": path}, option="-o")
        if os.path.isdir(path) and output_target(path) in output_target(output).parents:
            raise ValueError(
                f"-o {output} is in the input dataset {path}: it would become "
                "part of the dataset. Choose an output outside it."
            )


# Run by each worker of --scheduler local as it starts. Ctrl-C reaches every
# process of the terminal's group, and the command stops its cluster itself:
# workers that took it too would each print a traceback.
_IGNORE_SIGINT = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"


def _name(client):
    return client.scheduler.address


def _on_dask():
    """The Dask module of the package, imported when a command needs it."""
    return importlib.import_module("sklearn_deeplog.dask")


def _events_on_cluster(args, model=None, values=None):
    """The input as a dask DataFrame of events, keys matched to `model`'s."""
    if args.input == "-":
        raise ValueError(
            "--scheduler reads files where they are scored: name them, not "
            "standard input."
        )
    values = _value_columns(model) if values is None else values
    events = _on_dask().read_events(
        args.input, format=args.format, **_columns(args, values)
    )
    return events.map_partitions(
        _match_keys, model, meta=_match_keys(events._meta.copy(), model)
    )


def _read(args, model=None, values=None):
    """The event table of the whole input, keys matched to `model`'s.

    It holds the `values` columns, by default those of `model`'s value model.
    """
    values = _value_columns(model) if values is None else values
    with _input(args) as file:
        events = read_events(
            _NamedReader(file, args.input),
            format=_input_format(args),
            **_columns(args, values),
        )
    return _match_keys(events, model)


@contextmanager
def _read_chunks(args, model, progress):
    """The event tables of the input's chunks, keys matched to `model`'s.

    The input is checked (it exists, has entries and the columns) at once,
    before the first chunk is read; `progress` follows the bytes read.
    """
    with _input(args, twice=True) as file:
        tables = read_events(
            _NamedReader(file, args.input, progress),
            format=_input_format(args),
            chunksize=args.chunksize,
            **_columns(args, _value_columns(model)),
        )
        yield (_match_keys(table, model) for table in tables)


@contextmanager
def _input(args, twice=False):
    """The input as a binary file: standard input for ``-``.

    The readers read a file twice to read it in chunks: an input that cannot
    be (standard input, a pipe) is then copied to a temporary file first.
    """
    with contextlib.ExitStack() as stack:
        if args.input == "-":
            file = sys.stdin.buffer
        else:
            file = stack.enter_context(open(args.input, "rb"))
        if twice and not file.seekable():
            copy = stack.enter_context(tempfile.TemporaryFile())
            shutil.copyfileobj(file, copy)
            copy.seek(0)
            file = copy
        yield file


class _NamedReader:
    """A binary file read under the input's name, its reads moving a progress bar.

    The event readers read a file twice in chunks: once to check it and fix the
    types of its columns, then to read its chunks. Seeking back to the start
    starts the bar again, now for scoring.
    """

    def __init__(self, file, name, progress=None):
        self.file, self.name, self.progress = file, name, progress
        if progress is not None:
            progress.reset(total=os.fstat(file.fileno()).st_size)
            progress.set_description("checking")

    def read(self, size=-1):
        data = self.file.read(size)
        if self.progress is not None:
            self.progress.update(len(data))
        return data

    def seek(self, offset, whence=os.SEEK_SET):
        if self.progress is not None:
            self.progress.reset()
            self.progress.set_description("scoring")
        return self.file.seek(offset, whence)

    def seekable(self):
        return self.file.seekable()

    def tell(self):
        return self.file.tell()


def _columns(args, values):
    """The readers' options for the input's columns (.txt files have none)."""
    if _input_format(args) == "txt":
        return {}
    columns = {
        "event": args.event,
        "group": args.group,
        "time": args.time,
        "label": args.label,
    }
    if columns["event"] is None:
        raise ValueError("--event cannot be none: every log entry needs its key.")
    return {**columns, "values": values} if values else columns


def _input_format(args):
    """The input's format: --format, else its suffix's (None if unknown)."""
    return args.format if args.format is not None else file_format(args.input)[0]


def _named_as_input(entries, args):
    """Entries with their columns under the input's names, for detect's output.

    So that ``update`` and ``evaluate`` read the output back with the options
    that read the input.
    """
    names = {_EVENT: args.event, _GROUP: args.group, _TIME: args.time}
    return entries.rename(columns={**names, _LABEL: args.label})


def _match_keys(events, model):
    """Give the event keys of a table the type of the model's keys.

    The readers type keys from the file's content: ``5`` in a file of integer
    keys, ``"5"`` beside a key ``E1``. Keys are strings in the models that
    ``train`` writes, and are given the type of the model's keys (strings, or
    numbers for a model trained in Python on numbers) so that the same key
    always matches. Each key is converted on its own, so that a key is the same
    in every chunk of a file, whatever other keys a chunk holds.
    """
    keys = events[_EVENT]
    learned = None if model is None else key_and_value_models(model)[0][-1].keys_
    if learned is None or any(isinstance(key, str) for key in learned):
        events[_EVENT] = keys.astype(str).astype(object)
    elif not pd.api.types.is_numeric_dtype(keys):  # objects or Arrow text
        numbers = {key: _number(key) for key in pd.unique(keys)}
        events[_EVENT] = keys.map(numbers).astype(object)
    return events


def _number(key):
    """The number a key is written as, or the key if it is not one."""
    number = pd.to_numeric(key, errors="coerce")
    return key if pd.isna(number) else number


def _features(events):
    """The columns of an event table that the windower reads: all but the label."""
    return events.drop(columns=_LABEL, errors="ignore")


def _decided(stream, tables):
    """The decisions of an event file's chunks, fed to a stream detector.

    Those of scoring the whole file at once, provided each group's entries
    appear in time order in the file; no batch is empty.
    """
    for table in tables:
        decided = stream.update(table)
        if len(decided):
            yield decided
    decided = stream.flush()
    if len(decided):
        yield decided


def _detect_following(args, model, stream):
    """``detect --follow``: judge entries as they arrive, write flagged ones at once.

    A line that cannot be read is skipped with a warning. Ctrl-C and SIGTERM
    are taken between two batches only, while waiting for lines: a batch is
    judged and written whole. Then, or at the end of standard input, what is
    held back is judged and written, and the command stops.
    """
    format = _follow_format(args)
    if args.output_format == "csv" or (
        args.output != "-" and _output_format(args.output) != "ndjson"
    ):
        raise ValueError(
            "--follow writes NDJSON lines as entries are judged: name the output "
            ".ndjson (not compressed), or - for standard output."
        )
    n_entries = n_flagged = n_lines = 0
    header = empty = None
    new_file = False  # after a rotation: a header only if it is the same again
    with _collections_without_what_is_loaded(), _live_output(args.output) as file:

        def write(decided):
            written = decided if args.all else decided[decided["anomaly"].to_numpy()]
            _write(_presented(written, args), file, "ndjson", header=False)
            file.flush()
            return len(decided), int(decided["anomaly"].sum())

        try:
            for lines in follow_lines(args.input):
                with _signals_held():
                    if lines is None:  # a new file, after a rotation
                        new_file, n_lines = True, 0
                        continue
                    if format == "csv" and lines and (header is None or new_file):
                        if header is None or lines[0] == header:
                            header, lines = lines[0], lines[1:]
                            n_lines += 1
                        new_file = False
                    table = _parse_lines(args, model, lines, header, format, n_lines)
                    n_lines += len(lines)
                    empty = table.iloc[:0] if len(table) else empty
                    # With nothing new, an update only closes idle groups.
                    idle = empty is not None and stream.idle_timeout is not None
                    if len(table) or idle:
                        update = stream.update(table if len(table) else empty)
                        counts = write(update)
                        n_entries += counts[0]
                        n_flagged += counts[1]
        except _Stopped:
            pass  # judge what is held back, then stop
        counts = write(stream.flush())
        n_entries, n_flagged = n_entries + counts[0], n_flagged + counts[1]
    _say(args, f"{n_flagged:,} of {n_entries:,} entries flagged")


@contextmanager
def _collections_without_what_is_loaded():
    """Leave the objects alive now out of Python's garbage collections.

    Full collections walk every object, the model's and the libraries' too:
    they stalled ``detect --follow`` for 0.3 s (its p99 latency in
    benchmarks/stream.py). The objects are put back at the end.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back until the block ends (main thread, POSIX)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    signals = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _follow_format(args):
    """The format of a followed input: NDJSON or CSV, one entry per line."""
    format = _input_format(args)
    if format not in ("csv", "ndjson") or file_format(args.input)[1] is not None:
        raise ValueError(
            "--follow reads one entry per line: NDJSON, or CSV with a header; "
            "give --format ndjson or --format csv (a compressed file cannot be "
            "followed)."
        )
    return format


def _parse_lines(args, model, lines, header, format, first_line):
    """The event table of the lines that arrived; unreadable lines skipped.

    Lines are numbered in the input from `first_line` + 1. Groups are read as
    text, so that a group is the same whatever the other entries of its batch.
    """
    numbered = [
        (number, line)
        for number, line in enumerate(lines, first_line + 1)
        if line.strip()
    ]
    if not numbered:
        return pd.DataFrame()
    try:
        table = _read_lines(args, model, [line for _, line in numbered], header, format)
    except ValueError as err:  # find the lines at fault, keep the others
        if "no column" in str(err):  # the header or the options, not a line
            raise
        tables = []
        for number, line in numbered:
            try:
                tables.append(_read_lines(args, model, [line], header, format))
            except ValueError as err:
                problem = re.sub(r"^<stream>(, line \d+)?: ", "", str(err))
                warnings.warn(
                    f"{args.input}, line {number} skipped: {problem}", stacklevel=2
                )
        if not tables:
            return pd.DataFrame()
        table = pd.concat(tables, ignore_index=True)
    if _GROUP in table:
        table[_GROUP] = table[_GROUP].astype(str)
    return table


def _read_lines(args, model, lines, header, format):
    """The event table of some lines of a followed input, keys matched."""
    text = b"\n".join(([header] if header is not None else []) + lines)
    events = read_events(
        io.BytesIO(text), format=format, **_columns(args, _value_columns(model))
    )
    return _match_keys(events, model)


@contextmanager
def _live_output(path):
    """Standard output, a special file, or a new file, written as lines come.

    An existing file is never replaced: the output is written as entries are
    judged, not moved into place at the end.
    """
    if path == "-":
        yield sys.stdout
        return
    target = output_target(path)
    if target.exists() and target.is_file():
        raise ValueError(
            f"-o {path} exists: with --follow, results are written as they come, "
            "so -o names a new file (or -, standard output)."
        )
    with open(target, "w" if target.exists() else "x", encoding="utf-8") as file:
        yield file


def _progress(args):
    """A progress bar over the input's bytes, on a terminal's stderr.

    Off with ``--quiet``, and when stderr is not a terminal: no escape codes in
    files.
    """
    return tqdm(
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=args.quiet or not sys.stderr.isatty(),
    )


# -- results ---------------------------------------------------------------------


def _presented(decided, args):
    """Decisions as detect writes them: the input's column names, keys as JSON.

    Probabilities and frequencies are rounded to 4 digits; the markers START
    and END of the workflow columns are written as their names.
    """
    results = _named_as_input(decided, args)
    pairs = {
        name: results[name].map(
            lambda pairs: (
                [[_json_key(k), round(p, 4)] for k, p in dict(pairs).items()]
                if pairs is not None
                else None
            )
        )
        for name in _LIST_COLUMNS
        if name in results
    }
    keys = {
        name: results[name].map(_json_key)
        for name in ("diverged_after", "diverged_to")
        if name in results
    }
    return results.assign(**pairs, **keys)


def _json_key(key):
    """A key as written: the workflow's markers START and END by name."""
    if isinstance(key, float) and math.isinf(key):
        return "START" if key == START else "END"
    return key


def _flag_sessions(sessions, groups, labels, flagged):
    """Per session, whether any of its entries is anomalous, and any is flagged.

    Parameters
    ----------
    sessions : pandas.DataFrame or None
        Columns ``label`` and ``flagged`` (1 or 0) per session so far, indexed
        by session; None before the first batch of entries.
    groups, labels, flagged : array-like of shape (n_entries,)
        A batch of entries: their sessions, labels and flags.

    Returns
    -------
    sessions : pandas.DataFrame
        `sessions` updated with the batch.
    """
    batch = pd.DataFrame(
        {
            _LABEL: -aggregate_sessions(-labels, groups),
            "flagged": -aggregate_sessions(-flagged, groups),
        }
    )
    if sessions is None:
        return batch
    return pd.concat([sessions, batch]).groupby(level=0).max()


def _confusion(truth, predicted):
    """The confusion counts ``[[tn, fp], [fn, tp]]`` of 0/1 labels and flags."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    return np.bincount(2 * truth + predicted, minlength=4).reshape(2, 2)


def _metrics_table(rows):
    """Precision, recall, F1 and confusion counts, anomalies as the positive class.

    `rows` are ``(name, confusion counts)`` pairs; a ratio of zero to zero is 0.
    The count columns are as wide as their largest number.
    """
    header = ["", "precision", "recall", "f1", "TP", "FP", "FN", "TN"]
    table = [header]
    for name, ((tn, fp), (fn, tp)) in rows:
        precision = tp / (tp + fp) if tp else 0.0
        recall = tp / (tp + fn) if tp else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        ratios = [f"{ratio:.4f}" for ratio in (precision, recall, f1)]
        table.append([name, *ratios, *(f"{count:,}" for count in (tp, fp, fn, tn))])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join(
        f"{row[0]:<{widths[0]}}"
        + "".join(
            f"  {cell:>{width}}"
            for cell, width in zip(row[1:], widths[1:], strict=True)
        )
        for row in table
    )


def _output_format(path):
    """'ndjson' for a .ndjson or .jsonl file (compressed too), else 'csv'.

    A .json file is refused: detect writes one JSON object per line (NDJSON),
    not the JSON array such a file would hold.
    """
    if file_format(path)[0] == "json":
        raise ValueError(
            f"-o {path}: detect writes CSV or NDJSON (one JSON object per line); "
            "name the output .csv or .ndjson, or give --output-format."
        )
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    if suffixes and suffixes[-1] in _OPENERS:
        suffixes.pop()
    return "ndjson" if suffixes and suffixes[-1] in (".ndjson", ".jsonl") else "csv"


def _write(results, file, output_format, header):
    """Append ``results`` to ``file`` as CSV or NDJSON, losing no precision.

    Lists (the expected keys) are JSON arrays in NDJSON, and the same JSON text
    in a CSV field (quoted as CSV quotes any field).
    """
    if output_format == "csv":
        lists = {
            name: results[name].map(_json_text)
            for name in _LIST_COLUMNS
            if name in results
        }
        results.assign(**lists).to_csv(file, index=False, header=header)
    else:  # json, not pandas' to_json: that rounds floats to 15 digits
        for record in results.to_dict("records"):
            file.write(json.dumps(record, default=_json_value) + "\n")


def _json_text(value):
    """JSON text of a list; None (no value) stays None, an empty CSV field."""
    return None if value is None else json.dumps(value)


def _json_value(value):
    """JSON form of what ``json`` cannot write: times as ISO 8601 text."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as JSON")


# -- files -----------------------------------------------------------------------


def _load(args):
    """The model of ``args.model`` (safe format: loading runs no code), quiet.

    A pipeline of a windower and a key model, or a :class:`DeepLog` of one and a
    value model (``train --values``); set to ``--threads``.
    """
    path = args.model
    model = load_model(path)
    key_model, value_model = key_and_value_models(model)
    if (
        not isinstance(key_model, Pipeline)
        or not isinstance(key_model[-1], DeepLogDetector)
        or not isinstance(value_model, (ParameterValueDetector, type(None)))
    ):
        raise ValueError(f"{path} is not a model written by 'sklearn-deeplog train'.")
    for torch_model in (key_model[-1], value_model):
        if torch_model is not None:  # the progress bar is ours
            torch_model.set_params(verbose=0, n_threads=args.threads)
    return model


def _value_columns(model):
    """The value model's columns of the event file: none without one."""
    value_model = None if model is None else key_and_value_models(model)[1]
    return [] if value_model is None else list(value_model.values)


def _say(args, message):
    if not args.quiet:
        print(message, file=sys.stderr)


def _verbose(args):
    """Training's verbosity: a progress bar on a terminal, else nothing."""
    return 0 if args.quiet or not sys.stderr.isatty() else 1
