# SPDX-License-Identifier: BSD-3-Clause
"""Log parsing benchmark of LogTemplateMiner on Loghub's 2k samples.

For each system directory (by default the eight of ``../shared/data/loghub_2k``:
HDFS, BGL, Apache, Zookeeper, Proxifier, Linux, Mac, HealthApp) holding
``<System>_2k.log`` and its ground truth ``<System>_2k.log_structured_corrected.csv``
(or ``..._structured.csv``; columns ``Content`` and ``EventTemplate``), this
script measures

* **accuracy**: ``LogTemplateMiner`` (default settings unless ``--param
  name=value``) mines the ground truth's ``Content``, as in Loghub's benchmark,
  and its ``fit_transform`` keys are scored with the grouping accuracy (GA: the
  fraction of messages whose mined group, all messages with the same key, is
  exactly their true group) and its F1 over groups (FGA: precision and recall of
  the mined groups that are exactly a true group), as in Loghub-2.0's evaluator:
  the messages of one true template text form one group. Beside them, Drain's
  published figures, tuned per system;
* **speed**: lines per second of ``fit_transform`` (best of ``--repeat`` runs, one
  Python thread), with the default masks and with ``masking=[]`` (the rest
  unchanged), and of reading the raw log with :func:`read_raw_log` plus
  ``fit_transform``;
* **leave-one-system-out**: the GA of every ``sim_th`` x ``depth`` point of a
  small grid on every system; for each system, the point with the best mean GA
  on the other systems is scored on it, to show that settings chosen on some
  systems carry over to one not seen;
* **ablation**: the GA of the defaults with each of their ideas taken out in
  turn (and a rejected one added), on every system.

Usage::

    python benchmarks/parsing.py                  # the eight systems
    python benchmarks/parsing.py DIR [DIR ...] [--param sim_th=0.7]

The tables are printed and saved as ``parsing.json`` next to this script (or to
``--json PATH``).
"""

import argparse
import ast
import contextlib
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

from sklearn_deeplog import _template_miner
from sklearn_deeplog._template_miner import (
    DEFAULT_MASKING,
    UNKNOWN_TEMPLATE,
    LogTemplateMiner,
)
from sklearn_deeplog.io import LOGHUB_FORMATS, read_raw_log

HERE = Path(__file__).resolve().parent
LOGHUB_2K = HERE.parents[1] / "shared" / "data" / "loghub_2k"
SYSTEMS = [
    "HDFS",
    "BGL",
    "Apache",
    "Zookeeper",
    "Proxifier",
    "Linux",
    "Mac",
    "HealthApp",
]

# Drain's grouping accuracy on Loghub's 2k samples, tuned per system (regular
# expressions, depth and similarity threshold): Zhu et al., "Tools and Benchmarks
# for Automated Log Parsing", ICSE-SEIP 2019, table of accuracies (GA), also
# logpai/logparser's Drain benchmark. Original ground truth.
DRAIN_ZHU_2019 = {
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
# Drain's (GA, FGA) on Loghub-2k with the corrected templates, same per-system
# settings: Jiang et al., "A Large-Scale Evaluation for Log Parsing Techniques:
# How Far Are We?", ISSTA 2024 (Loghub-2.0), replication data
# RQs_experiments/RQ2/effectiveness_results.csv (first figure of each pair).
DRAIN_JIANG_2024 = {
    "HDFS": (0.998, 0.839),
    "Hadoop": (0.948, 0.820),
    "Spark": (0.922, 0.870),
    "Zookeeper": (0.967, 0.854),
    "OpenStack": (0.733, 0.117),
    "BGL": (0.963, 0.833),
    "HPC": (0.887, 0.753),
    "Thunderbird": (0.955, 0.773),
    "Linux": (0.690, 0.930),
    "Mac": (0.786, 0.797),
    "HealthApp": (0.780, 0.351),
    "Apache": (1.000, 1.000),
    "OpenSSH": (0.789, 0.880),
    "Proxifier": (0.526, 0.538),
}

SIM_THS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
DEPTHS = (3, 4, 5)

# Masks tried, not kept. Names of packages and classes (com.apple.xpc.launchd,
# android.intent.action.SCREEN_ON): Qin et al.'s "package_host" preprocessing
# ("Preprocessing is All You Need", 2024). Host names without a port.
DOTTED_NAMES = (
    r"(?<![\w.-])(?:[A-Za-z_][\w-]*\.){2,}[A-Za-z_][\w-]*(?![\w.-])",
    "NAME",
)
HOST_NAMES = (
    r"(?<![\w.-])(?:[A-Za-z0-9-]+\.){2,}[A-Za-z][A-Za-z0-9-]*(?![\w.-])",
    "HOST",
)


def grouping_scores(truth, predicted):
    """Grouping accuracy and its F1 over groups, as in Loghub-2.0's evaluator.

    Parameters
    ----------
    truth, predicted : array-like of shape (n_messages,)
        True template and mined key of each message.

    Returns
    -------
    ga : float
        Fraction of messages whose mined group (all messages with the same
        mined key) is exactly their true group.
    fga : float
        Harmonic mean of the fractions of mined groups and of true groups that
        are exactly a group of the other side.
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
    exact_groups = table.loc[correct, "truth"].nunique()
    precision = exact_groups / table["pred"].nunique()
    recall = exact_groups / table["truth"].nunique()
    fga = 0.0 if exact_groups == 0 else 2 * precision * recall / (precision + recall)
    return float(correct.mean()), float(fga)


def load_system(directory):
    """The system's name, raw log path, log format and ground truth table."""
    truth_path = next(
        (
            path
            for pattern in ("*_2k.log_structured_corrected.csv", "*.log_structured.csv")
            for path in sorted(directory.glob(pattern))
        ),
        None,
    )
    if truth_path is None:
        raise SystemExit(f"{directory}: no *_2k.log_structured(_corrected).csv.")
    truth = pd.read_csv(truth_path, dtype=str, keep_default_na=False)
    raw = directory / truth_path.name.split("_structured")[0]
    system = directory.name
    lowered = {name.lower(): fmt for name, fmt in LOGHUB_FORMATS.items()}
    return system, raw, lowered.get(system.lower()), truth


def best_times(functions, repeat):
    """Smallest wall time of `repeat` calls of each of `functions`.

    The functions take turns, so that they meet the same load of a shared
    machine.
    """
    best = [float("inf")] * len(functions)
    for _ in range(repeat):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            function()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def score(messages, truth, params, patches=()):
    """GA and FGA of ``LogTemplateMiner(**params)``, the miner module patched.

    `patches` are ``(name, value)`` pairs replacing attributes of
    ``sklearn_deeplog._template_miner`` while mining (for the ablation).
    """
    patching = (
        mock.patch.multiple(_template_miner, **dict(patches))
        if patches
        else contextlib.nullcontext()
    )
    with patching:
        keys = LogTemplateMiner(**params).fit_transform(messages).ravel()
    if (keys == UNKNOWN_TEMPLATE).any():
        raise RuntimeError("fit_transform left messages unknown.")
    return grouping_scores(truth["EventTemplate"], keys)


def _drain_like(*names):
    """The miner's Drain class with drain3's own methods `names`."""
    from drain3.drain import Drain

    methods = {name: vars(Drain)[name] for name in names}
    return type("AblatedDrain", (_template_miner._drain_class(),), methods)


def _without_joins(*what):
    return tuple(join for join in _template_miner._JOINS if join[0] not in what)


def ablations():
    """Variants of the defaults: (label, parameters, patches of the module)."""
    routed_as_words = _drain_like("has_numbers")
    all_tokens = _drain_like("get_seq_distance")
    drain3_drain = _drain_like("has_numbers", "get_seq_distance")
    without_value = [mask for mask in DEFAULT_MASKING if mask[1] != "VALUE"]
    return [
        ("defaults", {}, ()),
        ("no masks (masking=[])", {"masking": []}, ()),
        ("no VALUE mask (key=value)", {"masking": without_value}, ()),
        ("no joins (join_values=False)", {"join_values": False}, ()),
        ("- date and time join", {}, [("_JOINS", _without_joins("date and time"))]),
        ("- number and unit join", {}, [("_JOINS", _without_joins("number and unit"))]),
        ("- restated value join", {}, [("_JOINS", _without_joins("restated value"))]),
        ("- list join", {}, [("_JOINS", _without_joins("list"))]),
        (
            "masks routed as words (drain3)",
            {},
            [("_drain_class", lambda: routed_as_words)],
        ),
        (
            "similarity over all tokens (drain3)",
            {},
            [("_drain_class", lambda: all_tokens)],
        ),
        (
            "drain3's Drain, sim_th=0.4 (drain3 defaults)",
            {"sim_th": 0.4},
            [("_drain_class", lambda: drain3_drain)],
        ),
        ("parametrize_numeric_tokens=False", {"parametrize_numeric_tokens": False}, ()),
        (
            "+ dotted-name mask (Qin et al. 2024)",
            {"masking": _with_mask(DOTTED_NAMES, before="ID")},
            (),
        ),
        (
            "+ host-name mask, no port",
            {"masking": _with_mask(HOST_NAMES, before="TIME")},
            (),
        ),
    ]


def _with_mask(mask, before):
    """The default masks with `mask` before the first mask named `before`."""
    at = [name for _, name in DEFAULT_MASKING].index(before)
    return [*DEFAULT_MASKING[:at], mask, *DEFAULT_MASKING[at:]]


def grid_scores(contents, params):
    """GA of each grid point on each system, ``{(sim_th, depth): {system: GA}}``."""
    return {
        (sim_th, depth): {
            system: score(
                messages, truth, {**params, "sim_th": sim_th, "depth": depth}
            )[0]
            for system, (messages, truth) in contents.items()
        }
        for sim_th in SIM_THS
        for depth in DEPTHS
    }


def leave_one_out(grid, systems, default):
    """Per system, the grid point best on the others and its GA on the system.

    Ties go to `default`, then to the first point of the grid.
    """
    points = sorted(grid, key=lambda point: point != default)
    chosen = {}
    for held_out in systems:
        others = [s for s in systems if s != held_out]
        best = max(points, key=lambda p: np.mean([grid[p][s] for s in others]))
        chosen[held_out] = {
            "sim_th": best[0],
            "depth": best[1],
            "grouping_accuracy": grid[best][held_out],
        }
    return chosen


def measure(system, raw, log_format, truth, params, repeat):
    """Accuracy and speed of ``LogTemplateMiner(**params)`` on one system."""
    messages = truth["Content"].to_numpy(dtype=object)
    n_lines = len(messages)
    ga, fga = score(messages, truth, params)

    runs = [
        lambda: LogTemplateMiner(**params).fit_transform(messages),
        lambda: LogTemplateMiner(**params, masking=[]).fit_transform(messages),
    ]
    if raw.exists() and log_format is not None:
        runs.append(
            lambda: LogTemplateMiner(**params).fit_transform(
                read_raw_log(raw, log_format, unmatched="skip")
            )
        )
    rates = [round(n_lines / seconds) for seconds in best_times(runs, repeat)]
    jiang_ga, jiang_fga = DRAIN_JIANG_2024.get(system, (None, None))
    return {
        "system": system,
        "lines": n_lines,
        "grouping_accuracy": round(ga, 4),
        "fga": round(fga, 4),
        "drain_ga_zhu_2019": DRAIN_ZHU_2019.get(system),
        "drain_ga_jiang_2024": jiang_ga,
        "drain_fga_jiang_2024": jiang_fga,
        "templates_mined": LogTemplateMiner(**params).fit(messages).n_templates_,
        "templates_truth": int(truth["EventTemplate"].nunique()),
        "lines_per_s": rates[0],
        "lines_per_s_without_masks": rates[1],
        "read_and_mine_lines_per_s": rates[2] if len(rates) > 2 else None,
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


def package_version(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "directories",
        nargs="*",
        type=Path,
        help=f"Loghub-2k-style directories (default: the eight of {LOGHUB_2K}).",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="LogTemplateMiner parameter, e.g. --param sim_th=0.7 (repeatable).",
    )
    parser.add_argument("--repeat", type=int, default=15, help="timing runs (best of)")
    parser.add_argument("--json", type=Path, default=HERE / "parsing.json")
    args = parser.parse_args(argv)
    directories = args.directories or [LOGHUB_2K / system for system in SYSTEMS]
    params = parse_params(args.param)
    base = LogTemplateMiner(**params)
    default = (base.sim_th, base.depth)

    data = [load_system(directory.resolve()) for directory in directories]
    results = [measure(*system, params, args.repeat) for system in data]
    contents = {
        system: (truth["Content"].to_numpy(dtype=object), truth)
        for system, _, _, truth in data
    }
    grid = loo = None
    if len(data) > 1:
        grid = grid_scores(contents, params)
        grid.setdefault(default, {r["system"]: r["grouping_accuracy"] for r in results})
        loo = leave_one_out(grid, list(contents), default)
    ablation = [
        {
            "variant": label,
            "grouping_accuracy": {
                system: score(messages, truth, {**params, **changes}, patches)[0]
                for system, (messages, truth) in contents.items()
            },
        }
        for label, changes, patches in ablations()
    ]

    report = build_report(args, params, results, grid, loo, ablation)
    print_report(report)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nSaved {args.json}")
    return 0


def _mean(values):
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 4) if values else None


def build_report(args, params, results, grid, loo, ablation):
    """The JSON report: settings, environment, and the four tables."""
    total_lines = sum(r["lines"] for r in results)

    def overall_rate(key):
        if any(r[key] is None for r in results):
            return None
        return round(total_lines / sum(r["lines"] / r[key] for r in results))

    summary = {
        "grouping_accuracy": _mean(r["grouping_accuracy"] for r in results),
        "fga": _mean(r["fga"] for r in results),
        "min_grouping_accuracy": min(r["grouping_accuracy"] for r in results),
        "drain_ga_zhu_2019": _mean(r["drain_ga_zhu_2019"] for r in results),
        "drain_ga_jiang_2024": _mean(r["drain_ga_jiang_2024"] for r in results),
        "drain_fga_jiang_2024": _mean(r["drain_fga_jiang_2024"] for r in results),
        "lines_per_s": overall_rate("lines_per_s"),
        "lines_per_s_without_masks": overall_rate("lines_per_s_without_masks"),
        "read_and_mine_lines_per_s": overall_rate("read_and_mine_lines_per_s"),
    }
    report = {
        "command": "python benchmarks/parsing.py"
        + "".join(f" {d}" for d in args.directories)
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
        "mean": summary,
    }
    if loo is not None:
        report["grid"] = [
            {
                "sim_th": sim_th,
                "depth": depth,
                "grouping_accuracy": {s: round(v, 4) for s, v in scores.items()},
                "mean": _mean(scores.values()),
            }
            for (sim_th, depth), scores in sorted(grid.items())
        ]
        report["leave_one_out"] = {
            system: {
                **choice,
                "grouping_accuracy": round(choice["grouping_accuracy"], 4),
            }
            for system, choice in loo.items()
        }
        report["leave_one_out_mean"] = _mean(
            choice["grouping_accuracy"] for choice in loo.values()
        )
    defaults = ablation[0]["grouping_accuracy"]
    report["ablation"] = [
        {
            "variant": row["variant"],
            "grouping_accuracy": {
                s: round(v, 4) for s, v in row["grouping_accuracy"].items()
            },
            "mean": _mean(row["grouping_accuracy"].values()),
            "systems_better": sum(
                row["grouping_accuracy"][s] > defaults[s] + 5e-4 for s in defaults
            ),
            "systems_worse": sum(
                row["grouping_accuracy"][s] < defaults[s] - 5e-4 for s in defaults
            ),
        }
        for row in ablation
    ]
    return report


def print_report(report):
    """Print the report's tables."""
    results = report["results"]
    header = (
        f"{'system':<11}{'GA':>7}{'FGA':>7}{'Zhu GA':>8}{'Jiang GA':>9}"
        f"{'Jiang FGA':>10}{'templ.':>7}{'truth':>6}{'lines/s':>9}"
        f"{'no masks':>10}{'+read/s':>9}"
    )
    print(header)
    print("-" * len(header))

    def cell(value, width, spec=".3f"):
        return f"{'' if value is None else format(value, spec):>{width}}"

    for r in results:
        print(
            f"{r['system']:<11}{r['grouping_accuracy']:>7.3f}{r['fga']:>7.3f}"
            + cell(r["drain_ga_zhu_2019"], 8)
            + cell(r["drain_ga_jiang_2024"], 9)
            + cell(r["drain_fga_jiang_2024"], 10)
            + f"{r['templates_mined']:>7}{r['templates_truth']:>6}"
            + f"{r['lines_per_s']:>9,}{r['lines_per_s_without_masks']:>10,}"
            + cell(r["read_and_mine_lines_per_s"], 9, ",")
        )
    m = report["mean"]
    print(
        f"{'mean':<11}{m['grouping_accuracy']:>7.3f}{m['fga']:>7.3f}"
        + cell(m["drain_ga_zhu_2019"], 8)
        + cell(m["drain_ga_jiang_2024"], 9)
        + cell(m["drain_fga_jiang_2024"], 10)
        + f"{'':>13}"
        + cell(m["lines_per_s"], 9, ",")
        + cell(m["lines_per_s_without_masks"], 10, ",")
        + cell(m["read_and_mine_lines_per_s"], 9, ",")
    )
    systems = [r["system"] for r in results]
    if "leave_one_out" in report:
        print("\nLeave-one-system-out (sim_th, depth chosen on the other systems):")
        for system, choice in report["leave_one_out"].items():
            print(
                f"  {system:<11} sim_th={choice['sim_th']} depth={choice['depth']}"
                f"  GA {choice['grouping_accuracy']:.3f}"
            )
        print(
            f"  mean GA {report['leave_one_out_mean']:.4f}"
            f" (defaults: {m['grouping_accuracy']:.4f})"
        )
        print("\nGrid, mean GA:")
        for point in report["grid"]:
            where = f"sim_th={point['sim_th']} depth={point['depth']}"
            print(f"  {where}: {point['mean']:.4f}")
    print("\nAblation (GA):")
    print(
        f"  {'variant':<46}" + "".join(f"{s[:6]:>7}" for s in systems) + "   mean  +/-"
    )
    for row in report["ablation"]:
        print(
            f"  {row['variant']:<46}"
            + "".join(f"{row['grouping_accuracy'][s]:>7.3f}" for s in systems)
            + f" {row['mean']:>6.3f}  {row['systems_better']}/{row['systems_worse']}"
        )


if __name__ == "__main__":
    sys.exit(main())
