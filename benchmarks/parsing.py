# SPDX-License-Identifier: BSD-3-Clause
"""Log parsing benchmark of LogTemplateMiner on Loghub-2k-style directories.

For each directory (e.g. ``loghub_2k/HDFS``) holding ``<System>_2k.log`` and its
ground truth ``<System>_2k.log_structured.csv`` (columns ``Content`` and
``EventId``), this script

* reads the raw log with :func:`sklearn_deeplog.read_raw_log` and the system's
  log format (known for the 16 Loghub systems, or ``--format``) and checks that
  the messages agree with the ground truth's ``Content``; as in Loghub's
  benchmark, the miner is fed the ``Content`` field;
* mines templates with ``LogTemplateMiner`` (default settings unless
  ``--param name=value``) and scores ``fit_transform`` with the grouping
  accuracy of Loghub's benchmark: a message counts as correct when the set of
  messages sharing its mined template equals the set sharing its ground-truth
  template;
* also scores the online assignment of Drain (the template each message joined
  while mining, which is what Loghub's Drain reports), for comparison;
* measures throughput in lines per second (best of ``--repeat`` runs), for
  ``fit_transform`` on the messages and for reading the raw file plus
  ``fit_transform``.

Usage::

    python benchmarks/parsing.py /work/shared/data/loghub_2k/HDFS \\
        /work/shared/data/loghub_2k/BGL

The table is printed and saved as ``parsing.json`` next to this script (or to
``--json PATH``).
"""

import argparse
import ast
import json
import os
import platform
import sys
import time
import warnings
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_deeplog._template_miner import (
    UNKNOWN_TEMPLATE,
    LogTemplateMiner,
    _build_miner,
)
from sklearn_deeplog.io import LOGHUB_FORMATS, read_raw_log

HERE = Path(__file__).resolve().parent

# Drain's grouping accuracy as published with Loghub's benchmark (Zhu et al.,
# ICSE-SEIP 2019, "Tools and Benchmarks for Automated Log Parsing"), tuned per
# system.
PUBLISHED_DRAIN = {
    "HDFS": 0.998,
    "Hadoop": 0.948,
    "Spark": 0.920,
    "Zookeeper": 0.967,
    "OpenStack": 0.733,
    "BGL": 0.963,
    "HPC": 0.887,
    "Thunderbird": 0.955,
    "Windows": 0.997,
    "Linux": 0.690,
    "Mac": 0.787,
    "Android": 0.911,
    "HealthApp": 0.780,
    "Apache": 1.000,
    "OpenSSH": 0.788,
    "Proxifier": 0.527,
}


def grouping_accuracy(truth, predicted):
    """Loghub's grouping accuracy of `predicted` keys against `truth` keys.

    Parameters
    ----------
    truth, predicted : array-like of shape (n_messages,)
        Ground-truth and mined template of each message.

    Returns
    -------
    accuracy : float
        Fraction of messages whose mined group (all messages with the same
        mined key) is exactly their ground-truth group.
    """
    table = pd.DataFrame(
        {"truth": np.asarray(truth, dtype=object), "pred": np.asarray(predicted)}
    )
    truth_size = table.groupby("truth")["truth"].transform("size")
    pred_size = table.groupby("pred")["pred"].transform("size")
    pair_size = table.groupby(["truth", "pred"])["pred"].transform("size")
    # A mined group is exact when it has one truth key and all of that key's
    # messages: then its size equals both the pair size and the truth group size.
    correct = (pair_size == pred_size) & (pair_size == truth_size)
    return float(correct.mean())


def online_keys(miner, messages):
    """Template each message joined while Drain mined them (Loghub's output)."""
    fresh = _build_miner(miner._config)
    codes, _, masked = miner._mask(messages)
    add = fresh.drain.add_log_message
    return np.asarray([add(content)[0].cluster_id for content in masked[codes]])


def find_files(directory):
    """The raw log and the structured ground truth in a Loghub-2k directory."""
    structured = sorted(directory.glob("*.log_structured*.csv"))
    if not structured:
        raise SystemExit(
            f"{directory}: no *.log_structured.csv ground truth (Loghub 2k layout)."
        )
    truth = structured[0]
    raw = directory / truth.name.split("_structured")[0]
    return (raw if raw.exists() else None), truth


def known_format(system, raw):
    """The Loghub log format of `system` (by directory or file name), if known."""
    names = [system]
    if raw is not None:
        names.append(raw.name.split("_")[0].split(".")[0])
    lowered = {key.lower(): value for key, value in LOGHUB_FORMATS.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def best_time(function, repeat):
    """Smallest wall time of `repeat` calls of `function`, and its last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def run(directory, log_format, params, repeat):
    """Benchmark one Loghub-2k directory; returns a dict of results."""
    system = directory.name
    raw, truth_path = find_files(directory)
    truth = pd.read_csv(truth_path, dtype=str, keep_default_na=False)
    if log_format is None:
        log_format = known_format(system, raw)
    messages = truth["Content"].to_numpy(dtype=object)
    source = "structured Content"
    read_seconds = None
    if raw is not None and log_format is not None:
        read_seconds, table = best_time(
            lambda: read_raw_log(raw, log_format, unmatched="skip"), repeat
        )
        content_column = next(
            (c for c in table.columns if str(c).lower() == "content"), table.columns[-1]
        )
        parsed = table[content_column].fillna("").to_numpy(dtype=object)
        if len(parsed) == len(messages) and (parsed == messages).all():
            source = "raw log via read_raw_log"
            messages = parsed
        else:
            agree = (
                float((parsed == messages).mean())
                if len(parsed) == len(messages)
                else 0.0
            )
            warnings.warn(
                f"{system}: read_raw_log gave {len(parsed)} messages agreeing with "
                f"{agree:.1%} of the ground truth's {len(messages)}; scoring the "
                "ground truth's Content instead.",
                stacklevel=1,
            )
            read_seconds = None

    def mine():
        miner = LogTemplateMiner(**params)
        return miner, miner.fit_transform(messages).ravel()

    mine_seconds, (miner, keys) = best_time(mine, repeat)
    online = online_keys(miner, messages)
    n_lines = len(messages)
    return {
        "system": system,
        "lines": n_lines,
        "messages_from": source,
        "log_format": log_format,
        "grouping_accuracy": round(grouping_accuracy(truth["EventId"], keys), 4),
        "grouping_accuracy_online": round(
            grouping_accuracy(truth["EventId"], online), 4
        ),
        "published_drain": PUBLISHED_DRAIN.get(system),
        "templates_mined": miner.n_templates_,
        "templates_truth": int(truth["EventId"].nunique()),
        "unknown_after_fit": int((keys == UNKNOWN_TEMPLATE).sum()),
        "fit_transform_lines_per_s": round(n_lines / mine_seconds),
        "read_and_fit_transform_lines_per_s": (
            None
            if read_seconds is None
            else round(n_lines / (read_seconds + mine_seconds))
        ),
    }


def parse_params(items):
    """``name=value`` pairs (values as Python literals) into a dict."""
    params = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            params[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[name] = value
    return params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument(
        "--format",
        dest="log_format",
        help="Loghub-style log format of the raw logs (default: known per system).",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="LogTemplateMiner parameter, e.g. --param sim_th=0.5 (repeatable).",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timing runs (best of)")
    parser.add_argument("--json", type=Path, default=HERE / "parsing.json")
    args = parser.parse_args(argv)

    params = parse_params(args.param)
    results = [
        run(directory.resolve(), args.log_format, params, args.repeat)
        for directory in args.directories
    ]

    header = (
        f"{'system':<12}{'lines':>6}{'GA':>8}{'GA online':>11}{'Drain pub.':>11}"
        f"{'templates':>11}{'truth':>7}{'lines/s':>10}{'+read/s':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        published = r["published_drain"]
        read_rate = r["read_and_fit_transform_lines_per_s"]
        print(
            f"{r['system']:<12}{r['lines']:>6}{r['grouping_accuracy']:>8.4f}"
            f"{r['grouping_accuracy_online']:>11.4f}"
            f"{'' if published is None else f'{published:.3f}':>11}"
            f"{r['templates_mined']:>11}{r['templates_truth']:>7}"
            f"{r['fit_transform_lines_per_s']:>10}"
            f"{'' if read_rate is None else read_rate:>10}"
        )

    def package_version(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    report = {
        "command": "python benchmarks/parsing.py "
        + " ".join(str(d) for d in args.directories)
        + "".join(f" --param {p}" for p in args.param),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "params": params or "defaults",
        "environment": {
            "python": platform.python_version(),
            "drain3": package_version("drain3"),
            "scikit-learn": package_version("scikit-learn"),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "threads": 1,
            "repeat": args.repeat,
        },
        "results": results,
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nSaved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
