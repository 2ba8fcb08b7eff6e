# SPDX-License-Identifier: BSD-3-Clause
"""Torch threads and DeepLog's speed: training epochs and scoring on the HDFS demo.

DeepLog's networks are small (one LSTM layer of 64 units by default): on a
machine with few cores, torch's default of one thread per core can make each
matrix product wait for threads that spin on OpenMP barriers. This script
measures what ``n_threads`` (``--threads`` on the command line) does on the
data of ``sklearn-deeplog demo``:

1. windows the bundled HDFS training sessions as the demo does (window 10,
   complete sessions);
2. for each setting of ``--threads`` (a number, or ``default``: the detector
   leaves torch's own setting, one thread per core), in a fresh process,
   fits the default detector for ``--epochs`` epochs and records each epoch's
   time (skorch's ``dur``), then scores the test sessions' windows;
3. repeats this ``--repeats`` times, the settings interleaved so that a busy
   moment of the machine does not fall on one setting only, and reports per
   setting the median epochs per second, the slowest epoch (stalls are the
   symptom) and the median scoring throughput;
4. does it all again with ``--busy`` other processes spinning on the cpu, as on
   a shared machine, a CI runner or beside a test run (unless ``--busy 0``).

Usage::

    python benchmarks/threads.py                    # 1, 2 and default threads
    python benchmarks/threads.py --threads 1 4 default --repeats 5 --busy 0
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        nargs="+",
        default=["1", "2", "default"],
        help="settings to compare: numbers of threads, or 'default' "
        "(default: %(default)s)",
    )
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--busy",
        type=int,
        default=1,
        help="processes kept busy beside the measurement in its second half "
        "(default: %(default)s)",
    )
    parser.add_argument("--output", type=Path, default=HERE / "threads_results.json")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)  # in a child process
    return parser.parse_args(argv)


def run_one(setting, epochs):
    """Fit and score with one thread setting; print the timings as JSON."""
    import torch

    from sklearn_deeplog import DeepLogDetector, SequenceWindower
    from sklearn_deeplog.datasets import load_hdfs

    data = load_hdfs(as_frame=True)
    windower = SequenceWindower(
        event="event", group="group", time="time", complete_sessions=True
    )
    windows = windower.fit_transform(data.data)
    train = (data.subset == "train").to_numpy()
    n_threads = None if setting == "default" else int(setting)
    detector = DeepLogDetector(max_epochs=epochs, n_threads=n_threads, random_state=0)
    detector.fit(windows[train])
    started = time.perf_counter()
    detector.decision_function(windows[~train])
    scoring = time.perf_counter() - started
    print(
        json.dumps(
            {
                "setting": setting,
                "torch_threads": n_threads or torch.get_num_threads(),
                "epoch_seconds": [row["dur"] for row in detector.net_.history],
                "scoring_windows_per_second": int((~train).sum()) / scoring,
            }
        )
    )


def child(setting, epochs):
    """Run one setting in a fresh interpreter (fresh thread pools)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    result = subprocess.run(
        [sys.executable, __file__, "--run-one", setting, "--epochs", str(epochs)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(result.stdout.splitlines()[-1])


def busy_processes(n):
    """Start `n` processes that spin on the cpu until killed."""
    return [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)
    ]


def measure(args, busy):
    """The runs of every setting, with `busy` spinning processes beside them."""
    runs = []
    spinning = busy_processes(busy)
    try:
        for repeat in range(args.repeats):
            for setting in args.threads:
                print(
                    f"{busy} busy, run {repeat + 1}/{args.repeats}: threads {setting}",
                    flush=True,
                )
                runs.append({**child(setting, args.epochs), "busy": busy})
    finally:
        for process in spinning:
            process.kill()
            process.wait()
    return runs


def summary(runs):
    """Per setting: median epochs/s, slowest epoch, median scoring throughput."""
    rows = {}
    for run in runs:
        rows.setdefault((run["busy"], run["setting"]), []).append(run)
    table = []
    for (busy, setting), results in rows.items():
        epochs = np.concatenate([r["epoch_seconds"] for r in results])
        table.append(
            {
                "busy": busy,
                "setting": setting,
                "torch_threads": results[0]["torch_threads"],
                "epochs_per_second": float(np.median(1 / epochs)),
                "slowest_epoch_seconds": float(epochs.max()),
                "scoring_windows_per_second": float(
                    np.median([r["scoring_windows_per_second"] for r in results])
                ),
            }
        )
    return table


def markdown(table, args):
    """The results as a Markdown table."""
    lines = [
        f"{args.repeats} runs of {args.epochs} epochs per setting, "
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}).",
        "",
        "| busy processes | threads | epochs/s (median) | slowest epoch (s) "
        "| scoring (windows/s) |",
        "|---|---|---|---|---|",
    ]
    for row in table:
        name = row["setting"]
        if name == "default":
            name = f"default ({row['torch_threads']})"
        lines.append(
            f"| {row['busy']} | {name} | {row['epochs_per_second']:.2f} | "
            f"{row['slowest_epoch_seconds']:.2f} | "
            f"{row['scoring_windows_per_second']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.run_one is not None:
        run_one(args.run_one, args.epochs)
        return
    runs = measure(args, busy=0)
    if args.busy:
        runs += measure(args, busy=args.busy)
    table = summary(runs)
    args.output.write_text(json.dumps({"runs": runs, "summary": table}, indent=1))
    print(markdown(table, args))


if __name__ == "__main__":
    main()
