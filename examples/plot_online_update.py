"""
=========================================
Online update: learning a new normal step
=========================================

Systems change. After an upgrade, a task writes a checksum (a new log key, 7)
after each write, and DeepLog flags every session that does: a key never seen in
training is an anomaly. Retraining from scratch would need a new set of normal
logs. DeepLog's answer is the **online update**: the operator confirms a few
flagged sessions as false positives, and
:meth:`~sklearn_deeplog.DeepLogDetector.partial_fit` updates the model on them,
new key included.

The logs are generated with :func:`~sklearn_deeplog.datasets.make_logs`.
"""

# %%
# A model of the old workflow
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import DeepLogDetector, SequenceWindower, aggregate_sessions
from sklearn_deeplog.datasets import make_logs

model = make_pipeline(
    SequenceWindower(window=5, event="event", group="session", time="time"),
    DeepLogDetector(top_g=3, hidden_size=32, num_layers=1, random_state=0),
)
model.fit(make_logs(n_sessions=500, random_state=0))


# %%
# The upgrade
# -----------
# Each write (key 3) is now followed by a checksum (key 7). The new logs hold
# normal sessions of the upgraded system and, to check that the update does not
# blind the model, sessions with real anomalies (also upgraded).
def upgrade(events):
    """Add a checksum entry (key 7) right after each write (key 3)."""
    checksums = events[events["event"] == 3].assign(time=lambda e: e["time"] + 0.01)
    checksums["event"] = 7
    return pd.concat([events, checksums]).sort_values("time", ignore_index=True)


new_normal = upgrade(make_logs(n_sessions=400, random_state=1))
new_anomalous = upgrade(make_logs(n_sessions=100, anomaly_ratio=1.0, random_state=2))
new_anomalous["session"] += 1000  # distinct session ids


def flagged_sessions(events):
    """Number of sessions of `events` with at least one flagged entry."""
    flags = aggregate_sessions(model.predict(events), events["session"])
    return int((flags == -1).sum())


n_sessions = new_normal["session"].nunique()
before = flagged_sessions(new_normal), flagged_sessions(new_anomalous)
print(f"before the update: {before[0]} of {n_sessions} new normal sessions flagged")
print(f"                  {before[1]} of 100 anomalous sessions flagged")

# %%
# The operator confirms false positives
# -------------------------------------
# The operator looks at the first 20 flagged sessions, sees that they are normal,
# and the model is updated on their windows. One call of ``partial_fit`` is one
# epoch over them, continuing from the learned weights; key 7 joins the
# vocabulary. Update until the confirmed sessions pass, with a lower learning
# rate than the first fit, so the update does not overwrite what was learned.
flags = aggregate_sessions(model.predict(new_normal), new_normal["session"])
confirmed = flags.index[flags == -1][:20]
is_confirmed = new_normal["session"].isin(confirmed)
windower, detector = model[0], model[-1]
windows = windower.transform(new_normal[is_confirmed])
rest = new_normal[~is_confirmed]

detector.set_params(lr=1e-2 / 3)
history = [flagged_sessions(rest)]
while (detector.predict(windows) == -1).any():
    detector.partial_fit(windows)
    history.append(flagged_sessions(rest))
print(
    f"{len(history) - 1} updates; vocabulary now {detector.keys_.astype(int).tolist()}"
)

# %%
# After the update
# ----------------
# The sessions of the new normal workflow that the operator never saw pass too,
# and the real anomalies are still flagged.
after = flagged_sessions(new_normal), flagged_sessions(new_anomalous)
print(f"after the update: {after[0]} of {n_sessions} new normal sessions flagged")
print(f"                 {after[1]} of 100 anomalous sessions flagged")

unseen = history[0], history[-1]  # new normal sessions the operator never saw
fig, ax = plt.subplots(figsize=(7, 3.5))
positions = np.arange(3)
groups = [
    f"new normal sessions\n(of {n_sessions})",
    f"of them, never shown\nto the update\n(of {rest['session'].nunique()})",
    "anomalous sessions\n(of 100)",
]
updated = f"after {len(history) - 1} partial_fit call(s)"
for shift, label, counts in (
    (-0.2, "before the update", (before[0], unseen[0], before[1])),
    (0.2, updated, (after[0], unseen[1], after[1])),
):
    bars = ax.bar(positions + shift, counts, width=0.4, label=label)
    ax.bar_label(bars)
ax.set_xticks(positions, groups)
ax.set_ylabel("sessions flagged")
ax.margins(y=0.15)  # room for the counts above the bars
ax.set_title("Online update: the new workflow becomes normal, anomalies stay flagged")
ax.legend()
fig.tight_layout()
plt.show()
