# SPDX-License-Identifier: BSD-3-Clause
"""``detect --follow``: entries judged as they arrive, from stdin or a growing file."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from test_cli import SMALL_MODEL, event_file, run

from sklearn_deeplog.datasets import make_logs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model of complete sessions, a test log in arrival order, its flags."""
    tmp = tmp_path_factory.mktemp("follow")
    train = event_file(tmp / "train.csv", make_logs(150, random_state=0))
    model = tmp / "model.skops"
    run("train", train, "-o", model, *SMALL_MODEL, "--complete-sessions")
    log = make_logs(25, anomaly_ratio=0.3, random_state=1).sort_values("time")
    test = event_file(tmp / "test.csv", log)
    whole = run("detect", model, test, "-o", tmp / "whole.csv", "-q")
    assert whole.returncode == 0
    flagged = pd.read_csv(tmp / "whole.csv")
    return model, test, entries(flagged)


def entries(table):
    """The (machine, timestamp) pairs of a table's entries.

    Times to 1e-9 s: CSV and JSON readers may differ in a float's last digit.
    """
    times = table["timestamp"].round(9)
    return sorted(zip(table["machine"], times, strict=True))


def cli(*args, **options):
    return subprocess.Popen(
        [sys.executable, "-m", "sklearn_deeplog", *map(str, args)],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        **options,
    )


def test_standard_input_is_judged_as_the_whole_file(trained, tmp_path):
    model, test, flagged = trained
    lines = pd.read_csv(test).to_json(orient="records", lines=True, double_precision=15)
    process = cli(
        "detect", model, "-", "--follow", "--format", "ndjson",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    stdout, stderr = process.communicate(lines, timeout=120)
    assert process.returncode == 0, stderr
    written = pd.read_json(
        pd.io.common.StringIO(stdout), lines=True, precise_float=True
    )
    assert entries(written) == flagged
    assert f"{len(flagged)} of {len(pd.read_csv(test))} entries flagged" in stderr


def test_a_growing_rotated_file_is_followed_until_ctrl_c(trained, tmp_path):
    model, test, flagged = trained
    lines = test.read_text().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    live, output = tmp_path / "live.csv", tmp_path / "flagged.ndjson"
    live.write_text(header)
    process = cli(
        "detect", model, live, "--follow", "-o", output, stderr=subprocess.PIPE
    )
    while not output.exists():  # the model is loaded, the file open
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    half = len(rows) // 2
    with open(live, "a") as file:  # the log grows, a line at a time
        for row in rows[:half]:
            file.write(row)
            file.flush()
    time.sleep(1)
    live.rename(tmp_path / "live.csv.1")  # rotated: a new file, header first
    live.write_text(header + "".join(rows[half:]))
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert entries(pd.read_json(output, lines=True, precise_float=True)) == flagged


def test_a_line_that_cannot_be_read_is_skipped_with_a_warning(trained):
    model, test, _ = trained
    lines = test.read_text().splitlines()
    lines[5] = "not,a,valid,line,at,all"
    process = cli(
        "detect", model, "-", "--follow", "--format", "csv", "-q",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    _, stderr = process.communicate("\n".join(lines) + "\n", timeout=120)
    assert process.returncode == 0, stderr
    assert "sklearn-deeplog detect: warning: -, line 6 skipped:" in stderr


def test_follow_never_replaces_an_existing_output(trained, tmp_path):
    model, test, _ = trained
    output = tmp_path / "kept.ndjson"
    output.write_text("kept\n")
    result = run("detect", model, test, "--follow", "-o", output, check=False)
    assert result.returncode == 1 and "names a new file" in result.stderr
    assert output.read_text() == "kept\n"
