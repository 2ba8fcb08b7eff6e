"""
=========================================
Diagnosis: where an HDFS block went wrong
=========================================

A flagged log entry says *that* something is wrong, not *what*. DeepLog's second
half answers with the **workflow** of normal runs, a graph of which log key
follows which (paper, section 4), and with what the key model expected instead of
the flagged entry. :func:`~sklearn_deeplog.diagnose` puts both together for each
flagged entry. The workflow needs networkx and matplotlib
(``pip install "sklearn-deeplog[workflow]"``).

The data are the bundled HDFS sessions (:func:`~sklearn_deeplog.datasets.load_hdfs`),
one session per HDFS block.
"""

# %%
# The keys' templates
# -------------------
# Key ``k`` is Loghub's HDFS template ``Ek``; the dataset's description lists them.
# Without the ``<*>`` parameter marks they make readable labels.
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_deeplog import (
    END,
    START,
    DeepLogDetector,
    SequenceWindower,
    Workflow,
    diagnose,
)
from sklearn_deeplog.datasets import load_hdfs

train = load_hdfs(subset="train", as_frame=True)
templates = {
    key: " ".join(
        text.replace("<*>", " ")
        .replace("BLOCK* NameSystem", "")
        .replace("BLOCK*", "")
        .split()
    )
    for key, text in train.templates.items()
}


def name(key, width=None):
    """A key with its template, e.g. '21 Deleting block file', wrapped at `width`."""
    if key in (START, END):
        return "(session start)" if key == START else "(session end)"
    text = f"{key:g} {templates[key]}"
    return text if width is None else textwrap.fill(text, width)


# %%
# The workflow of normal blocks
# -----------------------------
# :class:`~sklearn_deeplog.Workflow` reads each training session as a path from
# START through its keys to END and counts the transitions. Transitions that make
# less than ``min_frequency`` of their key's are left out of the analysis and the
# picture (they are still counted); 5 % keeps the picture readable.
workflow = Workflow(event="event", group="group", time="time", min_frequency=0.05)
workflow.fit(train.data)
print("main path:")
for key in workflow.main_path_:
    print("   ", name(key))


# %%
# The main path is a block's life: the namenode allocates it while the first
# datanode starts receiving it (both orders are common: the two keys are a
# concurrent pair), the packet responders terminate and the replicas are received
# (a loop, one turn per replica), the namenode records the stored replicas, and
# finally the block is deleted.
def keys(keys):
    """Keys as short text: '5 22'."""
    return " ".join(f"{key:g}" for key in keys)


print("concurrent pairs:", ", ".join(keys(p) for p in workflow.concurrent_pairs_))
loops = ", ".join(keys(loop) for loop in workflow.loops_)
print("loops (one key: repeated):")
print(textwrap.fill(loops, initial_indent="    ", subsequent_indent="    "))
for node in [START, 22]:
    following = workflow.divergence_points_[node].items()
    print(name(node), "->", ", ".join(f"{k:g} ({f:.0%})" for k, f in following))

# %%
# A key model, trained quickly
# ----------------------------
# To keep this example fast, the key model learns from the first 500 of the 4,855
# training sessions only, with a small network and 10 epochs (see
# :ref:`sphx_glr_auto_examples_plot_hdfs.py` for the full model). Complete
# sessions also teach it where a block's log ends.
windower = SequenceWindower(
    window=5, event="event", group="group", time="time", complete_sessions=True
)
first = train.data["group"].isin(train.data["group"].unique()[:500])
detector = DeepLogDetector(hidden_size=16, num_layers=1, max_epochs=10, random_state=0)
detector = detector.fit(windower.fit_transform(train.data[first]))

# %%
# A flagged block
# ---------------
# The first anomalous block of the test set: the detector flags one of its 25
# entries.
abnormal = load_hdfs(subset="test_abnormal", as_frame=True).data
session = abnormal[abnormal["group"] == "abnormal-0"]
windows = windower.transform(session)
flags = detector.predict(windows)
print("keys: ", " ".join(f"{key:>2g}" for key in session["event"]))
print("flags:", " ".join(" !" if flag == -1 else " ." for flag in flags))

# %%
# The diagnosis
# -------------
# For each flagged entry, :func:`~sklearn_deeplog.diagnose` gives the context, the
# observed key, the keys the model expected (the ``top_g = 9`` most likely, from
# :meth:`~sklearn_deeplog.DeepLogDetector.predict_next`) with their
# probabilities, and, with the workflow, the key after which the execution
# diverged, the keys that usually follow it, and how often training saw the
# observed transition.
diagnosis = diagnose(detector, windows, workflow=workflow)
entry = diagnosis.iloc[0]
print(f"entry {entry.name} of the block, score {entry['score']:.2f}")
print("context:")
for key in entry["context"]:
    print("   ", name(key))
print("observed:")
print(textwrap.indent(name(entry["observed"], width=60), "    "))
print(f"diverged after {name(entry['diverged_after'])}:")
print(f"    the transition was seen {entry['transition_count']} times in training")
for key, frequency in entry["usual_next"].items():
    print(f"    usually followed by {name(key)} ({frequency:.0%} of the time)")
pd.DataFrame(
    {
        "expected key": [name(key) for key in entry["expected"]],
        "probability": np.round(entry["probabilities"], 3),
    }
)

# %%
# After its replicas were deleted, the namenode was asked to store the block,
# which by then belonged to no file: key 28, never seen in training, where the
# model expected another deletion (21) or the end of the block's log. The
# workflow agrees: after 21, only the end is usual.
#
# What the model expected
# -----------------------
# The observed key is not among the expected ones; here it has no probability at
# all, since the model never saw key 28.
observed = name(entry["observed"], width=40)
expected = [name(key, width=40) for key in entry["expected"]]
positions = np.arange(len(expected))
fig, ax = plt.subplots(figsize=(8, 5))
bars = ax.barh(positions, entry["probabilities"], color="#1f4e79")
ax.bar_label(bars, fmt="%.3f", padding=3, fontsize=8)
ax.text(0.01, -1.4, "observed: never seen in training", color="#d62728", va="center")
ax.set_yticks([-1.4, *positions], [observed, *expected])
ax.get_yticklabels()[0].set_color("#d62728")
ax.set_ylim(len(expected) - 0.5, -2.3)
ax.set_xlim(0, 1)
ax.set_xlabel("probability given the context")
ax.set_title(f"Entry {entry.name} of block abnormal-0: expected vs observed key")
fig.tight_layout()

# %%
# Where it left the workflow
# --------------------------
# :meth:`~sklearn_deeplog.Workflow.draw` lays the main path out from left to right,
# with the frequencies of the transitions on the edges, and draws the divergent
# transition in red (dotted: never seen in training). Its ``labels`` parameter
# writes a text beside each key; on a graph this wide, a key to the templates
# below the graph reads better.
highlight = zip(diagnosis["diverged_after"], diagnosis["observed"], strict=True)
fig, ax = plt.subplots(figsize=(9, 4.8))
workflow.draw(ax, highlight=highlight)
drawn = [key for key in workflow.main_path_[1:-1]] + [entry["observed"]]
ax.text(
    0.0,
    0.0,
    "\n".join(name(key) for key in drawn),
    transform=ax.transAxes,
    fontsize=8,
    va="bottom",
)
ax.set_title("HDFS block workflow; red: where block abnormal-0 diverged")
fig.tight_layout()
plt.show()
