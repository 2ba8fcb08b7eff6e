# SPDX-License-Identifier: BSD-3-Clause
"""Peak memory of scoring 10 million windows over a 1,000-key vocabulary.

``DeepLogDetector`` scores windows in chunks of rows and runs the distinct
contexts of a chunk through the network in batches, sized within scikit-learn's
``working_memory`` (1024 MiB by default; the bytes budgeted per window value,
log-probability and gate value are ``_CHUNK_BYTES_PER_VALUE``,
``_BATCH_BYTES_PER_LOG_PROBABILITY`` and ``_BATCH_BYTES_PER_GATE`` in
``_detector.py``), so its working memory does not grow with the input. This
script measures it, at the default ``working_memory``:

1. generates logs from a random workflow over ``--keys`` log keys (each key is
   followed by one of four keys, with probabilities 0.85, 0.1, 0.04 and 0.01: a
   usual path and rarer branches, so windows repeat as in real logs), fits a
   detector with the default network on a small part (``--train-windows``, one
   epoch: the model's quality does not matter here, its size does);
2. builds ``--windows`` windows of ``window=10`` keys (float64, as
   ``SequenceWindower`` makes them) and scores them with ``decision_function``;
3. reports the resident memory of the scoring process before scoring (model and
   windows) and its peak during scoring, read from ``/proc/self/status``
   (``VmRSS``, ``VmHWM``; the peak is reset before scoring through
   ``/proc/self/clear_refs``, so Linux only);
4. scores ``--reference-windows`` windows the same way, then as one chunk (the
   detector's behaviour before chunking, batches of 16,384 contexts): the
   reference, which would need over 10 GiB at 10 million windows; unless
   ``--skip-reference``. Checks that both give the same scores.

Each measurement runs in a fresh process, so that memory kept by the allocator
from one does not hide the next one's.

Usage::

    python benchmarks/memory.py                  # 10M windows, 1,000 keys (minutes)
    python benchmarks/memory.py --windows 1000000 --skip-reference   # smoke run
"""

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sklearn
import torch

import sklearn_deeplog
from sklearn_deeplog import NO_EVENT, DeepLogDetector
from sklearn_deeplog import _detector as detector_module

HERE = Path(__file__).resolve().parent
WINDOW = 10
#: Contexts per forward pass before scoring was chunked.
REFERENCE_BATCH_CONTEXTS = 16384
MIB = 2**20
#: How often each key's first to fourth successor follows it.
SUCCESSOR_PROBABILITIES = [0.85, 0.1, 0.04, 0.01]


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=10_000_000)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--train-windows", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reference-windows", type=int, default=1_000_000)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--output", type=Path, default=HERE / "memory_results.json")
    # Internal: one measurement in a fresh process (see run_child).
    parser.add_argument("--child-scores", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--child-one-chunk", action="store_true", help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def workflow_logs(n_entries, n_keys, rng, n_streams=1000):
    """Windows of ``n_streams`` random walks over a fixed random workflow."""
    successors = np.random.default_rng(1).integers(0, n_keys, (n_keys, 4))
    length = -(-n_entries // n_streams)
    walks = np.empty((n_streams, length), dtype=np.int64)
    walks[:, 0] = rng.integers(0, n_keys, n_streams)
    for step in range(1, length):
        choice = rng.choice(4, n_streams, p=SUCCESSOR_PROBABILITIES)
        walks[:, step] = successors[walks[:, step - 1], choice]
    padded = np.concatenate(
        [np.full((n_streams, WINDOW), NO_EVENT), walks.astype(np.float64)], axis=1
    )
    windows = np.lib.stride_tricks.sliding_window_view(padded, WINDOW + 1, axis=1)
    return windows.reshape(-1, WINDOW + 1)[:n_entries].copy()


def memory_mib(field):
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found in /proc/self/status")


def measure(detector, windows):
    """Score the windows; return the scores and the memory and time figures."""
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to VmRSS
    before = memory_mib("VmRSS")
    start = time.perf_counter()
    scores = detector.decision_function(windows)
    seconds = time.perf_counter() - start
    peak = memory_mib("VmHWM")
    figures = {
        "rss_before_mib": round(before, 1),
        "peak_rss_mib": round(peak, 1),
        "scoring_working_memory_mib": round(peak - before, 1),
        "seconds": round(seconds, 2),
        "windows_per_second": round(len(windows) / seconds),
    }
    return scores, figures


def run_child(args, windows, one_chunk, scores_path):
    """Measure one configuration in a fresh process; return its figures."""
    command = [
        sys.executable,
        __file__,
        "--windows",
        str(windows),
        "--keys",
        str(args.keys),
        "--train-windows",
        str(args.train_windows),
        "--threads",
        str(args.threads),
        "--child-scores",
        str(scores_path),
    ] + (["--child-one-chunk"] if one_chunk else [])
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def child(args):
    """Fit, build the windows, score them once; print the figures as JSON."""
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    train = workflow_logs(args.train_windows, args.keys, rng)
    detector = DeepLogDetector(max_epochs=1, random_state=0).fit(train)
    windows = workflow_logs(args.windows, args.keys, rng)
    if args.child_one_chunk:
        # All the windows in one chunk, and a working memory that makes batches
        # of REFERENCE_BATCH_CONTEXTS contexts.
        detector_module._row_chunks = lambda X: [X]
        context_bytes = max(
            detector_module._BATCH_BYTES_PER_LOG_PROBABILITY * len(detector.keys_),
            detector_module._BATCH_BYTES_PER_GATE * 4 * detector.hidden_size,
        )
        sklearn.set_config(
            working_memory=REFERENCE_BATCH_CONTEXTS * context_bytes / MIB
        )
    scores, figures = measure(detector, windows)
    np.save(args.child_scores, scores)
    figures["keys"] = len(detector.keys_)
    figures["windows_mib"] = round(windows.nbytes / MIB, 1)
    print(json.dumps(figures))


def main(argv=None):
    args = parse_args(argv)
    if args.child_scores:
        return child(args)
    results = {
        "window": WINDOW,
        "torch_threads": args.threads,
        "versions": {
            "sklearn_deeplog": sklearn_deeplog.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
    runs = [("bounded", args.windows, False)]
    if not args.skip_reference:
        runs += [
            ("bounded_on_reference", args.reference_windows, False),
            ("one_chunk_on_reference", args.reference_windows, True),
        ]
    with tempfile.TemporaryDirectory() as folder:
        for name, n_windows, one_chunk in runs:
            print(f"{name}: {n_windows:,} windows...", flush=True)
            path = Path(folder) / f"{name}.npy"
            results[name] = {"windows": n_windows}
            results[name].update(run_child(args, n_windows, one_chunk, path))
            print(results[name], flush=True)
        if not args.skip_reference:
            bounded = np.load(Path(folder) / "bounded_on_reference.npy")
            one_chunk = np.load(Path(folder) / "one_chunk_on_reference.npy")
            results["max_score_difference"] = float(np.abs(bounded - one_chunk).max())
            results["working_memory_ratio"] = round(
                results["bounded_on_reference"]["scoring_working_memory_mib"]
                / results["one_chunk_on_reference"]["scoring_working_memory_mib"],
                3,
            )
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
