"""
=================================================================
Performance anomalies: a slow step that the key model cannot see
=================================================================

Some failures leave the order of the log untouched: a disk slows down and one
step of a task takes ten times longer, or a write carries three times its usual
size. Every key is where it should be, so DeepLog's log-key model
(:class:`~sklearn_deeplog.DeepLogDetector`) has nothing to flag. DeepLog's
second model, the parameter-value model
(:class:`~sklearn_deeplog.ParameterValueDetector`), learns the values each key
carries, including the time elapsed since the previous entry, and flags these
entries. :class:`~sklearn_deeplog.DeepLog` runs both, in the paper's order.

The logs are generated with
:func:`~sklearn_deeplog.datasets.make_performance_logs`: the sessions of
:func:`~sklearn_deeplog.datasets.make_logs` with a duration for each step and a
size for each write.
"""

# %%
# Logs with durations and sizes
# -----------------------------
# Each session runs open (1) -> read (2) -> write (3) or flush (4) -> close (5)
# -> exit (6). Each step takes its usual time, +-5 %, and each write writes
# about 1000 bytes, +-2 %. In the test logs, 4 sessions have a close that takes
# 10x longer and 4 others a write of 3x the usual size; their key sequences are
# normal.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import (
    DeepLog,
    DeepLogDetector,
    ParameterValueDetector,
    SequenceWindower,
)
from sklearn_deeplog.datasets import make_performance_logs

train = make_performance_logs(150, random_state=0)
test = make_performance_logs(100, n_slow=4, n_large=4, random_state=1)
anomalous = test["label"].to_numpy() == 1
test[anomalous]

# %%
# The key model alone
# -------------------
# Trained on the normal logs, the log-key model flags no entry of the anomalous
# ones: their keys come in the usual order.
key_model = make_pipeline(
    SequenceWindower(window=3, event="event", group="session", time="time"),
    DeepLogDetector(
        top_g=3, hidden_size=8, num_layers=1, max_epochs=40, random_state=0
    ),
).fit(train)
key_flags = key_model.predict(test)
print(f"key model: {(key_flags[anomalous] == -1).sum()} of 8 anomalies flagged")

# %%
# The parameter-value model
# -------------------------
# The value table is the event table itself: the key, the session, the time and
# the ``size`` column (NaN where an entry has no size). The time column adds
# the seconds elapsed since the previous entry of the session as a second value.
# For each key, an LSTM predicts an entry's values from the previous 3 of the
# same key; the errors on a held-out fifth of the training entries fit the key's
# Gaussian.
value_model = ParameterValueDetector(
    event="event",
    group="session",
    time="time",
    values=["size"],
    hidden_size=8,
    max_epochs=15,
    random_state=0,
).fit(train)
print("modelled keys:", value_model.modelled_keys_.tolist())
print("values:", value_model.value_names_.tolist())
print(f"entries scored as normal without a model: {value_model.n_unmodelled_}")

value_flags = value_model.predict(test)
print(f"value model: {(value_flags[anomalous] == -1).sum()} of 8 anomalies flagged")
print(
    f"             {(value_flags[~anomalous] == -1).sum()} of "
    f"{(~anomalous).sum()} normal entries flagged"
)

# %%
# Key 1 opens each session: it has no size and no elapsed time, so it is not
# modelled and its entries always score 0. The anomalies are all caught, with a
# few normal entries besides: the errors are squared differences, skewed to the
# right, so the Gaussian's 99 % quantile lies lower than the errors' own. A
# higher ``confidence`` moves the threshold out; the scores do not change, only
# ``offset_`` does, so the model need not be retrained to see the effect.
scores = value_model.score_samples(test)
for confidence in [0.99, 0.999]:
    threshold = -norm.ppf(confidence)
    print(
        f"confidence={confidence}: threshold {threshold:.2f}, flags "
        f"{(scores[anomalous] < threshold).sum()}/8 anomalies, "
        f"{(scores[~anomalous] < threshold).sum()}/{(~anomalous).sum()} normal"
    )

# %%
# Both models: ``DeepLog``
# ------------------------
# :class:`~sklearn_deeplog.DeepLog` flags an entry when its key is anomalous, or
# else when its values are: the value model only judges entries whose key was
# normal. :meth:`~sklearn_deeplog.DeepLog.flagged_by` says which model did: on
# these logs the value model flags the 8 anomalies (and its false alarms), and
# the key model nothing. ``fit`` trains clones of the two models.
model = DeepLog(key_model=key_model, value_model=value_model).fit(train)
who = model.flagged_by(test)
print(pd.Series(who).replace("", "neither").value_counts().rename("test entries"))
test.assign(flagged_by=who)[anomalous]

# %%
# The scores of the value model
# -----------------------------
# Left: each test entry's score, in the order of the log (sessions one after the
# other). Normal entries score near 0; the anomalies lie thousands of error
# standard deviations below the threshold, so the axis is logarithmic beyond
# -10. Right: the scores of the normal entries near the thresholds, where the
# false alarms are.
fig, (left, right) = plt.subplots(
    1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [2, 1]}
)
rows = np.arange(len(test))
key = test["event"].to_numpy()
left.scatter(rows[~anomalous], scores[~anomalous], s=6, c="tab:blue", label="normal")
slow, large = anomalous & (key == 5), anomalous & (key == 3)
left.scatter(
    rows[slow], scores[slow], s=60, c="red", marker="x", label="10x slower close"
)
left.scatter(
    rows[large], scores[large], s=60, c="black", marker="+", label="3x larger write"
)
for ax in (left, right):
    ax.axhline(
        value_model.offset_, color="gray", linestyle="--", label="threshold, 0.99"
    )
    ax.axhline(-norm.ppf(0.999), color="gray", linestyle=":", label="threshold, 0.999")
left.set_yscale("symlog", linthresh=10)
left.set_ylim(-1e5, 10)
left.set_xlabel("test entry (sessions in turn)")
left.set_ylabel("value score (higher is more normal)")
left.legend(loc="center left", fontsize="small")
right.hist(scores[~anomalous], bins=np.linspace(-11, 3, 57), orientation="horizontal")
right.set_ylim(-11, 3)
right.set_xscale("log")
right.set_xlabel("normal entries (log scale)")
right.set_ylabel("value score, near the thresholds")
right.set_title(f"{(~anomalous).sum()} normal entries", fontsize="medium")
fig.suptitle("Value scores of the test entries: the anomalous ones fall far below")
fig.tight_layout()
plt.show()
