"""
======================================
Anomalous blocks in the HDFS benchmark
======================================

The DeepLog paper's main experiment: learn the log-key sequences of normal HDFS
blocks, then flag the blocks of a test set whose sequences break them. The data
ships with the package (:func:`~sklearn_deeplog.datasets.load_hdfs`): 4,855 normal
training sessions, and a test set of 2,791 normal and 16,838 anomalous sessions.

To run in seconds during the documentation build, the model here trains for 10
epochs instead of the default 50; its figures are printed beside the paper's.
"""

# %%
# Load the sessions
# -----------------
# One row per log entry: the block (``group``), the position of the entry in its
# block (``time``) and the log key (``event``). Labels are per session.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import classification_report
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import DeepLogDetector, SequenceWindower, aggregate_sessions
from sklearn_deeplog.datasets import load_hdfs

train = load_hdfs(subset="train", as_frame=True)
test = load_hdfs(subset="test", as_frame=True)
train.data.head()

# %%
# Train on normal sessions
# ------------------------
# The paper's windows of ``h=10`` keys and ``g=9``, and the detector's default
# network, one LSTM layer of 64 units. Each block is a complete session, so
# ``complete_sessions=True`` also teaches the model where a block's log ends: a
# block whose log stops too early is anomalous too.
model = make_pipeline(
    SequenceWindower(
        window=10, event="event", group="group", time="time", complete_sessions=True
    ),
    DeepLogDetector(top_g=9, max_epochs=10, random_state=0),
)
model.fit(train.data)

# %%
# Session-level precision, recall and F1
# --------------------------------------
# DeepLog flags an entry when its key is not among the 9 most likely; a block is
# anomalous when any of its entries is flagged.
# :func:`~sklearn_deeplog.aggregate_sessions` takes the minimum per block.
groups = test.data["group"]
flagged = aggregate_sessions(model.predict(test.data), groups) == -1
anomalous = test.session_target.sort_index() == 1
print(
    classification_report(
        anomalous, flagged, target_names=["normal", "anomalous"], digits=3
    )
)

# %%
# Beside the paper
# ----------------
# The paper tests on all 553,366 normal blocks and reports 833 false positives,
# and 619 false negatives among the 16,838 anomalous blocks. Here the normal test
# set is a sample of 2,791 blocks: to compare, scale the false-positive rate
# measured here to the paper's normal blocks and compute precision and F1 as if
# the test set were the paper's.
N_NORMAL, PAPER_FP, PAPER_FN = 553_366, 833, 619
n_anomalous = int(anomalous.sum())
paper_tp = n_anomalous - PAPER_FN
tp = int(flagged[anomalous].sum())
fp = flagged[~anomalous].mean() * N_NORMAL  # false positives, scaled
for name, true_pos, false_pos in (("paper", paper_tp, PAPER_FP), ("here", tp, fp)):
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / n_anomalous
    f1 = 2 * precision * recall / (precision + recall)
    print(
        f"{name:>5}: false positives {false_pos:6,.0f}  precision {precision:.3f}  "
        f"recall {recall:.3f}  F1 {f1:.3f}"
    )

# %%
# Scores of normal and anomalous blocks
# -------------------------------------
# An entry's score is ``log p(key) - log p(9th most likely key)``, negative for a
# flagged entry; a block's score is its least normal entry's. Most anomalous
# blocks hold a key the model finds very unlikely and score far below 0; normal
# blocks pile up at or just above 0.
scores = aggregate_sessions(model.score_samples(test.data), groups)
fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.linspace(scores.min(), scores.max(), 60)
ax.hist(scores[~anomalous], bins=bins, alpha=0.7, label="normal blocks")
ax.hist(scores[anomalous], bins=bins, alpha=0.7, label="anomalous blocks")
ax.axvline(0, color="black", linestyle="--", label="threshold (top-g rule)")
ax.set_yscale("log")
ax.set_xlabel("block score (higher is more normal)")
ax.set_ylabel("blocks (log scale)")
ax.legend()
ax.set_title("Normal and anomalous HDFS blocks")
fig.tight_layout()
plt.show()
