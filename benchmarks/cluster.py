# SPDX-License-Identifier: BSD-3-Clause
"""Training and scoring on a Dask cluster against the same work in one process.

The log: ``--entries`` entries (20 million by default) of ``--groups`` sessions
(100,000) over 1,000 keys. Each session follows one of 50 workflows of 20 keys
round and round, with a key skipped or a key of its workflow inserted at 2 % of
the steps each: a log of repeated windows, as real ones are. The log is made
partition by partition (``--partitions`` of whole sessions), so that a worker
makes its partitions where it scores them.

1. In one process (a child process, for its own peak memory): make the whole
   log, fit the key pipeline on it (``--epochs``), score it with
   ``decision_function``.
2. On a ``LocalCluster`` of 1, then 2 workers of one thread each:
   - training from counts: :func:`sklearn_deeplog.dask.fit` on the lazily
     made partitions (``partitioned_by_group=True``: each worker holds one
     partition at a time), the network trained in this process from the
     reduced counts; checked equal to the in-memory model;
   - scoring: :func:`sklearn_deeplog.dask.detect` on the partitions, made and
     held in the workers' memory first (``persist``), reduced to the number of
     flagged entries; checked equal to the in-memory count.
   Peak memory per worker is each worker process's peak resident size.
3. Writes the throughputs, the speed-up of two workers over one, the ratio of
   training time to the in-memory fit, and the measured per-partition overhead
   and reduction size that the scaling estimate in benchmarks/README.md uses.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/cluster.py            # about 13 minutes
    OMP_NUM_THREADS=1 python benchmarks/cluster.py --quick    # 1M entries
"""

import argparse
import json
import multiprocessing
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _environment import environment
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import DeepLogDetector, SequenceWindower

HERE = Path(__file__).resolve().parent
N_WORKFLOWS, WORKFLOW_LENGTH = 50, 20  # 1,000 keys
PERTURBATION = 0.02  # of each kind, per step


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000_000)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="1M entries, 5k groups")
    parser.add_argument("--output", type=Path, default=HERE / "cluster_results.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.entries, args.groups, args.partitions = 1_000_000, 5_000, 8
    return args


def make_partition(number, n_groups, length):
    """Partition `number` of the log: `n_groups` whole sessions, interleaved.

    Seeded by the partition's number, so that any process makes it alike.
    """
    rng = np.random.default_rng(number)
    workflow = rng.integers(N_WORKFLOWS, size=n_groups)
    step = rng.integers(WORKFLOW_LENGTH, size=n_groups)  # where each one starts
    keys = np.empty((n_groups, length), dtype=np.int64)
    for t in range(length):
        draw = rng.random(n_groups)
        step = step + 1 + (draw < PERTURBATION)  # sometimes skip a key
        inserted = draw > 1 - PERTURBATION  # sometimes a key of the workflow
        position = np.where(
            inserted, rng.integers(WORKFLOW_LENGTH, size=n_groups), step
        )
        keys[:, t] = workflow * WORKFLOW_LENGTH + position % WORKFLOW_LENGTH
    sessions = number * n_groups + np.arange(n_groups)
    # One entry of each session in turn, as a log interleaves them.
    return pd.DataFrame(
        {
            "session": np.tile(sessions, length),
            "time": np.repeat(np.arange(length, dtype=np.float64), n_groups),
            "event": keys.T.ravel(),
        }
    )


def pipeline(epochs):
    return make_pipeline(
        SequenceWindower(event="event", group="session", time="time"),
        DeepLogDetector(max_epochs=epochs, random_state=0, n_threads=1),
    )


def peak_memory():
    """This process's peak resident size, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def in_one_process(args, shape, queue):
    start = time.perf_counter()
    log = pd.concat(
        [make_partition(number, *shape) for number in range(args.partitions)],
        ignore_index=True,
    )
    made = time.perf_counter() - start
    model = pipeline(args.epochs)
    start = time.perf_counter()
    model.fit(log)
    fitted = time.perf_counter() - start
    start = time.perf_counter()
    flagged = int((model.decision_function(log) < 0).sum())
    scored = time.perf_counter() - start
    queue.put(
        {
            "make_seconds": made,
            "fit_seconds": fitted,
            "score_seconds": scored,
            "flagged": flagged,
            "peak_memory_bytes": peak_memory(),
            "model": model,
        }
    )


def on_cluster(args, shape, n_workers, reference):
    import dask.dataframe as dd
    import distributed

    from sklearn_deeplog.dask import count_windows, detect, fit

    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            memory_limit="10GiB",
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(lambda: __import__("torch").set_num_threads(1))
        events = dd.from_map(
            make_partition, range(args.partitions), n_groups=shape[0], length=shape[1]
        )
        start = time.perf_counter()
        windows = count_windows(
            SequenceWindower(event="event", group="session", time="time"),
            events,
            partitioned_by_group=True,
        )
        counted = time.perf_counter() - start
        model = pipeline(args.epochs)
        start = time.perf_counter()
        fit(model, events, partitioned_by_group=True)
        fitted = time.perf_counter() - start
        first = make_partition(0, *shape)
        same = np.array_equal(
            model.decision_function(first), reference.decision_function(first)
        )
        train_memory = client.run(peak_memory)

        events = events.persist()
        distributed.wait(events)
        start = time.perf_counter()
        decided = detect(reference, events, partitioned_by_group=True)
        flagged = int(decided["anomaly"].sum().compute())
        scored = time.perf_counter() - start
        # The overhead of a partition: scoring partitions of one session each.
        tiny = dd.from_map(
            make_partition, range(4 * n_workers), n_groups=1, length=shape[1]
        ).persist()
        distributed.wait(tiny)
        start = time.perf_counter()
        int(
            detect(reference, tiny, partitioned_by_group=True)["anomaly"]
            .sum()
            .compute()
        )
        overhead = (time.perf_counter() - start) * n_workers / (4 * n_workers)
        return {
            "workers": n_workers,
            "count_seconds": counted,
            "fit_seconds": fitted,
            "fit_equal_to_in_memory": bool(same),
            "distinct_windows": len(windows),
            "reduction_bytes": int(windows.memory_usage(deep=True).sum()),
            "score_seconds": scored,
            "flagged": flagged,
            "seconds_per_tiny_partition": overhead,
            "peak_memory_per_worker_bytes": {
                "training": max(train_memory.values()),
                "scoring, partitions held": max(client.run(peak_memory).values()),
            },
        }


def main(argv=None):
    args = parse_args(argv)
    shape = (args.groups // args.partitions, args.entries // args.groups)
    n_entries = args.partitions * shape[0] * shape[1]
    print(f"{n_entries:,} entries, {args.partitions} partitions of {shape}")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=in_one_process, args=(args, shape, queue))
    child.start()
    memory = queue.get()
    child.join()
    reference = memory.pop("model")
    print("in one process:", memory)
    runs = []
    for n_workers in (1, 2):
        run = on_cluster(args, shape, n_workers, reference)
        run["flagged_equal_to_in_memory"] = run["flagged"] == memory["flagged"]
        print(f"{n_workers} worker(s):", run)
        runs.append(run)
    one, two = runs
    partition_bytes = int(make_partition(0, *shape).memory_usage(deep=True).sum())
    results = {
        "entries": n_entries,
        "groups": args.partitions * shape[0],
        "partitions": args.partitions,
        "partition_bytes": partition_bytes,
        "epochs": args.epochs,
        "in_one_process": memory,
        "on_cluster": runs,
        "score_entries_per_second": {
            "one process": n_entries / memory["score_seconds"],
            "1 worker": n_entries / one["score_seconds"],
            "2 workers": n_entries / two["score_seconds"],
        },
        "score_speed_up_2_over_1": one["score_seconds"] / two["score_seconds"],
        "fit_time_over_in_memory": {
            f"{run['workers']} worker(s)": run["fit_seconds"] / memory["fit_seconds"]
            for run in runs
        },
        "environment": environment(threads=1),
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(
        json.dumps(
            {k: v for k, v in results.items() if "second" in k or "over" in k}, indent=2
        )
    )


if __name__ == "__main__":
    main()
