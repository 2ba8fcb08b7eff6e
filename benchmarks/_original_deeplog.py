# SPDX-License-Identifier: BSD-3-Clause
"""Train and score the original ``deeplog`` package (0.0.3) on given windows.

A worker of ``hdfs.py``, run in a separate virtual environment that has
``deeplog==0.0.3`` and ``torch-train==0.0.3`` installed (never imported next to
``sklearn_deeplog``)::

    /work/venv-orig/bin/python benchmarks/_original_deeplog.py WINDOWS.npz RESULT.json

``WINDOWS.npz`` holds ``train`` and ``test``: float windows of shape
``(n_entries, window + 1)``, the context keys (oldest first, ``-inf`` where there
is no event) then the entry's key, and the scalars ``epochs``, ``top_g`` and
``threads``. The worker trains DeepLog the way the package's command line does
(``python -m deeplog train``) and scores the test windows the way ``python -m
deeplog predict`` does, then writes a JSON object with the timings and the
indices of the test entries whose key is not among the ``top_g`` predictions.
"""

import json
import platform
import resource
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
from deeplog import DeepLog
from torch import nn

# The original preprocessor's "no event" id, mapped like a key to the last code.
NO_EVENT = -1337


def encode(train, test):
    """Map the window values to 0..n-1 as ``deeplog.preprocessor`` does.

    The preprocessor numbers the sorted distinct event ids 0..n-1 and gives its
    ``NO_EVENT`` the next code, n. One mapping is built over the training and test
    windows together, so a key has the same code in both (the original CLI builds
    one per file) and unseen test keys get codes of their own.

    Parameters
    ----------
    train, test : ndarray of shape (n_entries, window + 1)
        Windows with ``-inf`` for "no event".

    Returns
    -------
    train_codes, test_codes : ndarray of int64, same shapes
        The encoded windows.
    n_codes : int
        Number of codes: distinct keys plus ``NO_EVENT``.
    """
    values = np.concatenate([train.ravel(), test.ravel()])
    keys = np.unique(values[np.isfinite(values)])
    if NO_EVENT in keys:
        raise ValueError(f"NO_EVENT ({NO_EVENT}) is also a key")

    def codes(windows):
        encoded = np.searchsorted(keys, windows)
        encoded[~np.isfinite(windows)] = len(keys)
        return encoded.astype(np.int64)

    return codes(train), codes(test), len(keys) + 1


def peak_rss_mib():
    """Peak resident memory of this process, in MiB.

    Linux's ``VmHWM`` of the process itself: ``getrusage`` would report the
    parent's peak, which a child inherits at fork.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(windows_path, result_path):
    """Train, score and write the result; see the module docstring."""
    data = np.load(windows_path)
    epochs, top_g, threads = (
        int(data[name]) for name in ("epochs", "top_g", "threads")
    )
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    train, test, n_codes = encode(data["train"], data["test"])
    X_train = torch.as_tensor(train[:, :-1])
    y_train = torch.as_tensor(train[:, -1])
    X_test = torch.as_tensor(test[:, :-1])
    y_test = torch.as_tensor(test[:, -1])

    # As `python -m deeplog train --hidden 64 --layers 2 --batch-size 128`, with the
    # input and output sizes set to the number of codes.
    deeplog = DeepLog(
        input_size=n_codes, hidden_size=64, output_size=n_codes, num_layers=2
    )
    start = time.perf_counter()
    deeplog.fit(
        X=X_train,
        y=y_train,
        epochs=epochs,
        batch_size=128,
        learning_rate=0.01,
        criterion=nn.CrossEntropyLoss(),
    )
    fit_seconds = time.perf_counter() - start

    # As `python -m deeplog predict --top <top_g>`: normal if the key is in the top g.
    start = time.perf_counter()
    y_pred, _ = deeplog.predict(X=X_test, k=top_g)
    normal = (y_pred == y_test[:, None]).any(dim=1).numpy()
    score_seconds = time.perf_counter() - start

    result = {
        "epochs": epochs,
        "n_codes": n_codes,
        "n_train_windows": len(train),
        "n_test_windows": len(test),
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
        "flagged": np.flatnonzero(~normal).tolist(),
        "peak_rss_mib": peak_rss_mib(),
        "torch_threads": torch.get_num_threads(),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "deeplog": version("deeplog"),
            "torch-train": version("torch-train"),
        },
    }
    with open(result_path, "w") as file:
        json.dump(result, file)


if __name__ == "__main__":
    main(*sys.argv[1:])
