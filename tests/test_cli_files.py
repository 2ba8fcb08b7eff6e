# SPDX-License-Identifier: BSD-3-Clause
"""The command line never loses a file: outputs checked first, written whole or
not at all, inputs and models never overwritten, interrupts leave no trace."""

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from test_cli import SMALL_MODEL, event_file, run

from sklearn_deeplog.datasets import make_logs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("files")
    train = event_file(tmp / "train.csv", make_logs(100, random_state=0))
    model = tmp / "model.skops"
    run("train", train, "-o", model, *SMALL_MODEL)
    return train, model


def snapshot(directory):
    """Every file of a directory and its bytes (links as their target's name)."""
    return {
        path.name: os.readlink(path) if path.is_symlink() else path.read_bytes()
        for path in sorted(Path(directory).iterdir())
    }


def copies(tmp_path, *paths):
    """Copies of files in `tmp_path`, so that a test sees only its own files."""
    copied = []
    for path in paths:
        copied.append(tmp_path / path.name)
        copied[-1].write_bytes(path.read_bytes())
    return copied


@pytest.mark.parametrize(
    "command",
    [
        ["detect", "{model}", "{input}", "-o", "{input}"],
        ["detect", "{model}", "{input}", "-o", "{model}"],
        ["detect", "{model}", "{input}", "-o", "{link_to_input}"],
        ["detect", "{model}", "{input}", "-o", "{link_to_model}"],
        ["train", "{input}", "-o", "{input}"],
        ["train", "{input}", "-o", "{link_to_input}"],
        ["update", "{model}", "{input}", "-o", "{input}"],
        ["workflow", "{input}", "-o", "{input}"],
    ],
)
def test_an_output_that_is_an_input_is_refused(trained, tmp_path, command):
    data, model = copies(tmp_path, *trained)
    (tmp_path / "link_to_input").symlink_to(data)
    (tmp_path / "link_to_model").symlink_to(model)
    names = {
        "model": model,
        "input": data,
        "link_to_input": tmp_path / "link_to_input",
        "link_to_model": tmp_path / "link_to_model",
    }
    before = snapshot(tmp_path)
    result = run(*[part.format(**names) for part in command], "-q", check=False)
    assert result.returncode == 1
    assert "would destroy the" in result.stderr
    assert result.stderr.count("\n") == 1  # one line, no traceback
    assert snapshot(tmp_path) == before


def test_an_existing_output_is_kept_when_detect_fails(trained, tmp_path):
    data, model = copies(tmp_path, *trained)
    broken = tmp_path / "broken.csv"
    lines = data.read_text().splitlines()
    lines[30] = lines[30].rsplit(",", 2)[0] + ",,0"  # no event on line 31
    broken.write_text("\n".join(lines) + "\n")
    output = tmp_path / "flagged.csv"
    output.write_text("yesterday's results\n")
    before = snapshot(tmp_path)
    result = run("detect", model, broken, "-o", output, "--chunksize", 10, check=False)
    assert result.returncode == 1
    assert "line 31: missing event value" in result.stderr
    assert snapshot(tmp_path) == before  # the output kept, no temporary file left


def test_detect_replaces_an_output_through_a_link_and_keeps_the_link(trained, tmp_path):
    data, model = copies(tmp_path, *trained)
    results = tmp_path / "results.csv"
    results.write_text("old\n")
    (tmp_path / "latest.csv").symlink_to(results)
    run("detect", model, data, "--all", "-o", tmp_path / "latest.csv", "-q")
    assert (tmp_path / "latest.csv").is_symlink()
    assert len(pd.read_csv(results)) == len(pd.read_csv(data))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "latest.csv",
        "model.skops",
        "results.csv",
        "train.csv",
    ]


def test_detect_writes_into_a_fifo_and_leaves_it_in_place(trained, tmp_path):
    data, model = copies(tmp_path, *trained)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    run("detect", model, data, "--all", "-o", fifo, "-q")
    reader.join(timeout=60)
    assert received and len(received[0].splitlines()) == len(pd.read_csv(data)) + 1
    assert fifo.is_fifo()


def test_train_checks_its_output_before_training(trained, tmp_path):
    data, _ = trained
    started = time.perf_counter()
    result = run(
        "train",
        data,
        "-o",
        tmp_path / "absent" / "model.skops",
        "--epochs",
        10**6,
        check=False,
    )
    assert result.returncode == 1
    assert "does not exist; create it first" in result.stderr
    assert ".tmp" not in result.stderr
    assert time.perf_counter() - started < 60  # not after a million epochs


def test_workflow_outputs_move_into_place_together(trained, tmp_path, monkeypatch):
    data, _ = copies(tmp_path, *trained)
    kept = tmp_path / "workflow.graphml"
    kept.write_text("previous workflow\n")
    before = snapshot(tmp_path)
    # The GraphML file is written, then the DOT file fails (no pydot): neither
    # file moves into place.
    monkeypatch.setitem(sys.modules, "pydot", None)
    result = run("workflow", data, "-o", kept, "-o", tmp_path / "w.dot", check=False)
    assert result.returncode == 1 and "needs pydot" in result.stderr
    assert snapshot(tmp_path) == before


# -- interrupts, in a subprocess -------------------------------------------------


def start(*args):
    """``sklearn-deeplog *args`` in a new interpreter, its stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "sklearn_deeplog", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def stop(process, signum):
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_train_keeps_the_previous_model(trained, tmp_path, signum):
    data, model = copies(tmp_path, *trained)
    before = snapshot(tmp_path)
    process = start("train", data, "-o", model, "--epochs", 100_000)
    while "training on" not in process.stderr.readline():  # training has begun
        assert process.poll() is None
    time.sleep(0.5)
    returncode, stderr = stop(process, signum)
    assert returncode == 128 + signum, stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr
    assert "Traceback" not in stderr
    assert snapshot(tmp_path) == before


def test_ctrl_c_while_torch_is_imported_waits_for_the_import(trained, tmp_path):
    # A Ctrl-C in the middle of torch's import left it half initialized, and the
    # process aborted (SIGABRT) at exit: the signal must wait for the import.
    data, model = copies(tmp_path, *trained)
    before = snapshot(tmp_path)
    script = f"""
import importlib.abc, os, signal, sys

class CtrlC(importlib.abc.MetaPathFinder):  # as torch starts loading
    def find_spec(self, name, path, target=None):
        if name == "torch":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
from sklearn_deeplog._cli import main
status = main(["train", {str(data)!r}, "-o", {str(model)!r}, "-q"])
print(status, hasattr(sys.modules.get("torch"), "zeros"))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["130", "True"]  # stopped, torch whole
    assert "stopped by SIGINT" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_detect_leaves_no_partial_output(trained, tmp_path, signum):
    _, model = copies(tmp_path, *trained)
    data = event_file(tmp_path / "big.csv", make_logs(3000, random_state=5))
    output = tmp_path / "flagged.csv"
    output.write_text("yesterday's results\n")
    before = snapshot(tmp_path)
    process = start("detect", model, data, "--all", "-o", output, "--chunksize", 50)
    # Wait until the results are being written (to a temporary file).
    while not any(name.endswith(".tmp.csv") for name in os.listdir(tmp_path)):
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.01)
    time.sleep(0.2)
    returncode, stderr = stop(process, signum)
    assert returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["train", "update", "workflow"])
def test_models_and_workflows_go_to_regular_files(trained, tmp_path, command):
    data, model = copies(tmp_path, *trained)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    inputs = {"train": [data], "update": [model, data], "workflow": [data]}[command]
    what = "a workflow" if command == "workflow" else "a model"
    for output in (fifo, "-"):
        result = run(command, *inputs, "-o", output, "-q", check=False)
        assert result.returncode == 1
        assert f"{what} is written to a regular file" in result.stderr
    assert fifo.is_fifo()


def test_a_replaced_output_keeps_its_permissions(trained, tmp_path):
    data, model = copies(tmp_path, *trained)
    output = tmp_path / "flagged.csv"
    output.write_text("old\n")
    output.chmod(0o600)
    model.chmod(0o640)
    run("detect", model, data, "-o", output, "-q")
    run("update", model, data, "-q")  # in place
    assert output.stat().st_mode & 0o777 == 0o600
    assert model.stat().st_mode & 0o777 == 0o640


def test_standard_input_and_pipes_are_inputs(trained, tmp_path):
    data, model = copies(tmp_path, *trained)

    def cli(*args):  # the data through a pipe: it cannot be read twice
        return subprocess.run(
            [sys.executable, "-m", "sklearn_deeplog", *map(str, args), "-q"],
            input=data.read_bytes(),
            capture_output=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )

    on_stdin = tmp_path / "stdin.skops"
    trained = cli("train", "-", "--format", "csv", "-o", on_stdin, *SMALL_MODEL[:-1])
    assert trained.returncode == 0 and on_stdin.exists()
    whole = run("detect", model, data, "--all", "-q").stdout.encode()
    # Read in chunks, standard input is read twice: from a copy.
    piped = cli("detect", model, "-", "--format", "csv", "--all", "--chunksize", 20)
    assert piped.returncode == 0, piped.stderr
    # The rows of the whole file; scores equal to float64 rounding, as in
    # test_detect_in_chunks_writes_the_rows_of_the_whole_file.
    piped, whole = (pd.read_csv(io.BytesIO(out)) for out in (piped.stdout, whole))
    assert piped["score"].to_numpy() == pytest.approx(
        whole["score"].to_numpy(), rel=1e-12, abs=1e-12
    )
    pd.testing.assert_frame_equal(
        piped.drop(columns="score"), whole.drop(columns="score")
    )
    no_format = cli("detect", model, "-")
    assert no_format.returncode == 1 and b"pass --format" in no_format.stderr
