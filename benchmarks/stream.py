# SPDX-License-Identifier: BSD-3-Clause
"""Detection as a stream: throughput by batch size, and follow mode's latency.

1. Trains the demo's model on the bundled HDFS training sessions (complete
   sessions, ``--epochs`` epochs: the model's quality does not matter here).
2. Scores the HDFS test entries (339,637) as a whole with
   ``decision_function``: the reference throughput.
3. Feeds them to a :class:`~sklearn_deeplog.StreamDetector` in batches of
   10,000, 100 and 1 entries (batches of 1 on the first ``--single-entries``
   entries only), in file order, and checks that the decisions are the whole
   log's.
4. Runs ``sklearn-deeplog detect MODEL - --follow --format ndjson`` on a model
   of the same data without complete sessions (so that every entry is decided
   when it arrives), writes the test entries to its standard input at a steady
   ``--rate`` entries per second for ``--seconds`` seconds, and measures, for
   each flagged entry, the time from writing its line to reading its result
   line (p50, p99); and checks that the flagged entries are exactly those that
   whole-file ``detect`` flags.

Usage::

    python benchmarks/stream.py                     # about 3 minutes on 2 cores
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import (
    DeepLogDetector,
    SequenceWindower,
    StreamDetector,
    save_model,
)
from sklearn_deeplog.datasets import load_hdfs

HERE = Path(__file__).resolve().parent
COLUMNS = dict(event="event", group="group", time="time")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--single-entries", type=int, default=3000)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--output", type=Path, default=HERE / "stream_results.json")
    return parser.parse_args(argv)


def train(data, epochs, complete_sessions):
    """The demo's model, trained for `epochs` epochs."""
    train = (data.subset == "train").to_numpy()
    model = make_pipeline(
        SequenceWindower(**COLUMNS, complete_sessions=complete_sessions),
        DeepLogDetector(max_epochs=epochs, random_state=0),
    )
    return model.fit(data.data[train])


def throughput(model, test, single_entries):
    """Entries per second: whole-log scoring, and streams by batch size."""
    started = time.perf_counter()
    whole = model.decision_function(test)
    results = {"whole log": len(test) / (time.perf_counter() - started)}
    for batch_size in (10_000, 100, 1):
        log = test if batch_size > 1 else test.iloc[:single_entries]
        stream = StreamDetector(model, top_k=None)
        started = time.perf_counter()
        decided = [
            stream.update(log.iloc[start : start + batch_size])
            for start in range(0, len(log), batch_size)
        ]
        decided.append(stream.flush())
        seconds = time.perf_counter() - started
        scores = pd.concat(decided)["score"].reindex(log.index).to_numpy()
        reference = whole[: len(log)] if batch_size > 1 else None
        if reference is None:  # the first entries alone: their own whole log
            reference = model.decision_function(log)
        np.testing.assert_allclose(scores, reference, rtol=1e-12, atol=1e-12)
        results[f"batches of {batch_size:,}"] = len(log) / seconds
        print(f"batches of {batch_size:,}: {len(log) / seconds:,.0f} entries/s")
    return results


def follow_latency(model_path, test, rate, seconds):
    """Latency of detect --follow on standard input at a steady rate."""
    log = test.iloc[: int(rate * seconds)]
    lines = [json.dumps(record) + "\n" for record in log.to_dict("records")]
    process = subprocess.Popen(
        [sys.executable, "-m", "sklearn_deeplog", "detect", str(model_path), "-",
         "--follow", "--format", "ndjson", "--group", "group", "--time", "time",
         "-q"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
    )  # fmt: skip
    sent, received = {}, []

    def read():
        for line in process.stdout:
            received.append((time.perf_counter(), json.loads(line)))

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(8)  # the command starts and loads its model
    burst = max(1, rate // 100)  # a burst every 10 ms
    started = time.perf_counter()
    for first in range(0, len(lines), burst):
        due = started + first / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        now = time.perf_counter()
        for index in range(first, min(first + burst, len(lines))):
            sent[(log["group"].iat[index], log["time"].iat[index])] = now
        process.stdin.write("".join(lines[first : first + burst]))
        process.stdin.flush()
    process.stdin.close()
    process.wait()
    reader.join()
    latencies = np.array(
        [moment - sent[(entry["group"], entry["time"])] for moment, entry in received]
    )
    return log, received, latencies


def main(argv=None):
    args = parse_args(argv)
    data = load_hdfs(as_frame=True)
    test = data.data[(data.subset != "train").to_numpy()].reset_index(drop=True)
    test = test.assign(group=test["group"].astype(str))
    results = {"entries": len(test)}
    print("training the complete-sessions model")
    model = train(data, args.epochs, complete_sessions=True)
    results["throughput"] = throughput(model, test, args.single_entries)

    print("training the model for follow mode (no complete sessions)")
    plain = train(data, args.epochs, complete_sessions=False)
    with tempfile.TemporaryDirectory() as directory:
        model_path = Path(directory) / "model.skops"
        save_model(plain, model_path)
        log, received, latencies = follow_latency(
            model_path, test, args.rate, args.seconds
        )
    flagged = plain.decision_function(log) < 0
    expected = set(zip(log["group"][flagged], log["time"][flagged], strict=True))
    got = {(entry["group"], entry["time"]) for _, entry in received}
    results["follow"] = {
        "rate": args.rate,
        "entries": len(log),
        "flagged": len(received),
        "same_as_whole_file": got == expected,
        "latency_p50_ms": float(np.percentile(latencies, 50) * 1000),
        "latency_p99_ms": float(np.percentile(latencies, 99) * 1000),
    }
    print(json.dumps(results, indent=1))
    args.output.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
