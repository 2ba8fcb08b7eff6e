"""
==========================================
Detecting anomalies in generated task logs
==========================================

A DeepLog pipeline learns the workflow of a task from normal logs and flags the
log entries that break it. The logs here are generated with
:func:`~sklearn_deeplog.datasets.make_logs`: each session opens, reads one to three
times, writes or flushes, closes and exits, and sessions from several machines
interleave in time. The test logs carry injected anomalies: a skipped step, a key
never seen before, a close right after the open.
"""

# %%
# Train on normal logs
# --------------------
# :class:`~sklearn_deeplog.SequenceWindower` turns the event table into one window
# of previous keys per entry (per session, in time order);
# :class:`~sklearn_deeplog.DeepLogDetector` learns to predict each key from its
# window. After a read, three keys may follow, so an entry is normal when its key
# is among the ``top_g=3`` most likely.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import classification_report
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import DeepLogDetector, SequenceWindower, aggregate_sessions
from sklearn_deeplog.datasets import make_logs

train = make_logs(n_sessions=500, random_state=0)
test = make_logs(n_sessions=500, anomaly_ratio=0.1, random_state=1)

model = make_pipeline(
    SequenceWindower(window=5, event="event", group="session", time="time"),
    DeepLogDetector(top_g=3, hidden_size=32, num_layers=1, random_state=0),
)
model.fit(train)
train.head(8)

# %%
# Flag log entries and sessions
# -----------------------------
# ``predict`` gives +1 (normal) or -1 (anomaly) per log entry. A session is
# anomalous when any of its entries is: :func:`~sklearn_deeplog.aggregate_sessions`
# takes the minimum per session.
entry_predictions = model.predict(test)
session_predictions = aggregate_sessions(entry_predictions, test["session"])
session_truth = aggregate_sessions(np.where(test["label"] == 1, -1, 1), test["session"])
print(
    classification_report(
        session_truth,
        session_predictions,
        labels=[-1, 1],
        target_names=["anomaly", "normal"],
    )
)

# %%
# What did the model expect instead?
# ----------------------------------
# ``predict_next`` on the windows of flagged entries lists the keys the model
# expected, with their probabilities: the start of a diagnosis.
windows = model[0].transform(test)
flagged = np.flatnonzero(entry_predictions == -1)[:3]
expected, probabilities = model[-1].predict_next(windows[flagged], k=3)
for row, keys, probs in zip(flagged, expected, probabilities, strict=True):
    print(
        f"session {test['session'].iloc[row]}: got key {test['event'].iloc[row]}, "
        f"expected {keys.astype(int).tolist()} with p={np.round(probs, 2).tolist()}"
    )

# %%
# Scores of normal and anomalous sessions
# ---------------------------------------
# A session's score is its least normal entry's: ``log p(key) - log p(g-th most
# likely key)``, negative when the key is outside the top ``g``.
session_scores = aggregate_sessions(model.score_samples(test), test["session"])
fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.linspace(session_scores.min(), session_scores.max(), 40)
ax.hist(
    session_scores[session_truth == 1], bins=bins, alpha=0.7, label="normal sessions"
)
ax.hist(
    session_scores[session_truth == -1],
    bins=bins,
    alpha=0.7,
    label="anomalous sessions",
)
ax.axvline(0, color="black", linestyle="--", label="top-g threshold")
ax.set_xlabel("session score (higher is more normal)")
ax.set_ylabel("sessions")
ax.set_title("Generated task logs: normal and anomalous sessions")
ax.legend()
fig.tight_layout()
plt.show()
