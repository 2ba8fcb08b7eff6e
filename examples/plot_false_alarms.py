"""
===========================================================
A threshold from a false-alarm budget, against lookup rules
===========================================================

DeepLog flags an entry whose key is not among the ``top_g`` most likely. The
paper's ``g = 9`` was chosen for HDFS; on another system it may accept almost
every key, and choosing another ``g`` takes labelled anomalies. A false-alarm
budget takes none: ``DeepLogDetector(false_alarms=0.01)`` holds out some normal
training sessions and sets a probability threshold that flags at most 1 % of
them.

This example compares, at equal false alarms, every ``g``, a few budgets, and
the simple rules of the log-anomaly literature (Landauer et al., FSE 2024):
flag a session holding a key, or a sequence of two keys, never seen in
training. The logs come from
:func:`~sklearn_deeplog.datasets.make_workflow_logs`: a random workflow of 30
keys, with anomalies that swap, drop or repeat known keys, or insert a key
never seen.
"""

# %%
# Normal and anomalous sessions
# -----------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import DeepLogDetector, SequenceWindower, aggregate_sessions
from sklearn_deeplog.datasets import make_workflow_logs

train, test = make_workflow_logs(
    30, n_train=2000, n_normal=500, n_anomalous=500, random_state=0
)
anomalous = aggregate_sessions(-test["label"], test["session"]) == -1
test.groupby("session")["anomaly"].first().value_counts()

# %%
# Session-level rates
# -------------------
# A session is flagged when any of its entries is. The false-alarm rate is the
# share of the normal test sessions flagged, the recall that of the anomalous
# ones.
windower = SequenceWindower(
    window=10, event="event", group="session", time="time", complete_sessions=True
)
network = dict(hidden_size=32, max_epochs=20, random_state=0)


def rates(entry_predictions):
    """False-alarm rate and recall of the sessions holding a flagged entry."""
    flagged = aggregate_sessions(entry_predictions, test["session"]) == -1
    return flagged[~anomalous].mean(), flagged[anomalous].mean()


# %%
# Budgets
# -------
# The detector needs each window's session to hold out whole sessions: in a
# pipeline, pass them with the step's name.
budgets = {}
for budget in (0.01, 0.05):
    model = make_pipeline(windower, DeepLogDetector(false_alarms=budget, **network))
    model.fit(train, deeplogdetector__groups=train["session"])
    budgets[budget] = rates(model.predict(test))
    detector = model[-1]
    print(
        f"budget {budget:.1%}: probability threshold {np.exp(detector.offset_):.3g} "
        f"({detector.validation_false_alarms_:.1%} of {detector.n_validation_} "
        f"held-out sessions)\n    test: false alarms {budgets[budget][0]:.1%}, "
        f"recall {budgets[budget][1]:.3f}"
    )

# %%
# Every ``g``
# -----------
# ``top_g`` is read when scoring: one network, trained on all the training
# sessions, gives the whole curve (30 keys and the end of a session).
top_g = make_pipeline(windower, DeepLogDetector(top_g=1, **network)).fit(train)
windows = windower.transform(test)
g_values = np.arange(1, len(top_g[-1].keys_) + 2)
curve = np.array(
    [rates(top_g[-1].set_params(top_g=g).predict(windows)) for g in g_values]
)
print(f"g = 9: false alarms {curve[8, 0]:.1%}, recall {curve[8, 1]:.3f}")

# %%
# Lookup rules
# ------------
# From the keys and the pairs of consecutive keys of the training sessions, with
# a start and an end marker.


def sequences(events):
    """Each session's keys in time order, between a start and an end marker."""
    ordered = events.sort_values(["session", "time"], kind="stable")
    return ordered.groupby("session")["event"].agg(lambda keys: ["<", *keys, ">"])


def pairs(keys):
    """The pairs of consecutive keys of a sequence."""
    return set(zip(keys[:-1], keys[1:], strict=True))


seen_keys = set(train["event"])
seen_pairs = set().union(*sequences(train).map(pairs))
test_sequences = sequences(test)  # by session, as `anomalous`
rules = {
    "unseen key": test_sequences.map(lambda keys: not set(keys[1:-1]) <= seen_keys),
    "unseen 2-gram": test_sequences.map(lambda keys: not pairs(keys) <= seen_pairs),
}
rules = {
    name: (flagged[~anomalous].mean(), flagged[anomalous].mean())
    for name, flagged in rules.items()
}
for name, (far, recall) in rules.items():
    print(f"{name}: false alarms {far:.1%}, recall {recall:.3f}")

# %%
# At equal false alarms
# ---------------------
# ``g = 9`` misses most swaps, drops and repeats: after most steps, the few keys
# that may follow are among the nine most likely together with keys that may
# not. Smaller ``g`` catch more, at many false alarms. The budgets catch every
# anomaly, flagging no more normal sessions than they were given. A 2-gram table
# does as well without a false alarm: this workflow is first-order, so the table
# is exact once training has seen every transition, which favours it by
# construction (on HDFS, DeepLog beats it: see ``benchmarks/README.md``).
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot(*curve.T, "o-", color="tab:blue", markersize=4, label="top_g = g")
for g in (1, 3, 9):
    ax.annotate(
        f"g={g}",
        curve[g - 1],
        textcoords="offset points",
        xytext=(6, -12),
        fontsize="small",
    )
ax.plot(
    *np.array(list(budgets.values())).T,
    "s",
    color="tab:orange",
    markersize=8,
    label="false_alarms = 1 %, 5 %",
)
for name, marker in zip(rules, "^v", strict=True):  # hollow: budgets show through
    ax.plot(
        *rules[name],
        marker,
        color="tab:green",
        markerfacecolor="none",
        markeredgewidth=2,
        markersize=12,
        label=name,
    )
ax.set_xscale("symlog", linthresh=0.01)
ax.set_xlim(-0.0005, 1.05)
ax.set_ylim(0, 1.05)
ax.set_xlabel("false-alarm rate (normal test sessions flagged)")
ax.set_ylabel("recall (anomalous test sessions flagged)")
ax.set_title("A 30-key workflow: DeepLog's thresholds and lookup rules")
ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()
plt.show()
