"""
======================================
Anomalous blocks in the HDFS benchmark
======================================

The DeepLog paper's main experiment: learn the log-key sequences of normal HDFS
blocks, then flag the blocks of a test set whose sequences break them. The data
ships with the package (:func:`~sklearn_deeplog.datasets.load_hdfs`): 4,855 normal
training sessions, and a test set of 2,791 normal and 16,838 anomalous sessions.

To run in seconds during the documentation build, the model here trains for 10
epochs instead of the default 50; the results are close to the paper's anyway.
"""

# %%
# Load the sessions
# -----------------
# One row per log entry: the block (``group``), the position of the entry in its
# block (``time``) and the log key (``event``). Labels are per session.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import PrecisionRecallDisplay, classification_report
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
# The paper reports an F-measure of 0.96 on its much larger normal test set. Here
# the normal test set is a sample of 2,791 blocks: to compare false positives,
# scale the rate measured here to the paper's 553,366 normal blocks.
fp_rate = flagged[~anomalous].mean()
print(f"false-positive rate {fp_rate:.4f}: ~{fp_rate * 553_366:,.0f} of 553,366")

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
fig.tight_layout()

# %%
# Precision-recall curve
# ----------------------
# Scores rank the blocks, so every threshold gives a precision and a recall;
# DeepLog's rule (threshold 0) is one point on the curve.
fig, ax = plt.subplots(figsize=(5, 4.5))
display = PrecisionRecallDisplay.from_predictions(
    anomalous, -scores, name="DeepLog", ax=ax, plot_chance_level=True
)
precision = flagged[anomalous].sum() / flagged.sum()
ax.plot(flagged[anomalous].mean(), precision, "ko", label="top-g rule (threshold 0)")
ax.legend(loc="lower left")
ax.set_title("Anomalous HDFS blocks")
fig.tight_layout()
plt.show()
