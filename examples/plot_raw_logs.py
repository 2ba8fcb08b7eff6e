"""
====================================
From raw HDFS log lines to anomalies
====================================

DeepLog's first stage turns free-text log lines into log keys.
:class:`~sklearn_deeplog.LogTemplateMiner` mines the templates with Drain, and one
pipeline goes from the lines to flagged blocks. It needs drain3
(``pip install "sklearn-deeplog[parse]"``).

The package ships HDFS sessions as keys, not raw lines (Loghub's 2,000-line
sample holds about one line per block, too few to learn sequences from). So this
example writes a raw log first: it renders each entry of some bundled HDFS
sessions as the line HDFS prints for its key, with made-up block ids, addresses
and sizes, in HDFS's own format. The pipeline then sees only text.
"""

# %%
# Write a raw HDFS log
# --------------------
# Message formats of the HDFS templates (Loghub's ``E1`` to ``E28``, the keys of
# :func:`~sklearn_deeplog.datasets.load_hdfs`), as HDFS prints them.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.metrics import classification_report
from sklearn.pipeline import make_pipeline

from sklearn_deeplog import (
    DeepLogDetector,
    LogTemplateMiner,
    SequenceWindower,
    aggregate_sessions,
)
from sklearn_deeplog.datasets import load_hdfs
from sklearn_deeplog.io import LOGHUB_FORMATS, read_raw_log

MESSAGES = {
    1: "dfs.FSDataset: Adding an already existing block {b}",
    2: "dfs.DataBlockScanner: Verification succeeded for {b}",
    3: "dfs.DataNode$DataXceiver: {ip}:50010 Served block {b} to /{ip2}",
    4: "dfs.DataNode$DataXceiver: {ip}:50010:Got exception while serving {b} "
    "to /{ip2}:",
    5: "dfs.DataNode$DataXceiver: Receiving block {b} src: /{ip}:{port} "
    "dest: /{ip2}:50010",
    6: "dfs.DataNode$DataXceiver: Received block {b} src: /{ip}:{port} "
    "dest: /{ip2}:50010 of size {size}",
    7: "dfs.DataNode$DataXceiver: writeBlock {b} received exception "
    "java.io.IOException: Could not read from stream",
    8: "dfs.DataNode$PacketResponder: PacketResponder {n} for block {b} Interrupted.",
    9: "dfs.DataNode$PacketResponder: Received block {b} of size {size} from /{ip}",
    10: "dfs.DataNode$PacketResponder: PacketResponder {b} {n} Exception "
    "java.io.IOException: Connection reset by peer",
    11: "dfs.DataNode$PacketResponder: PacketResponder {n} for block {b} terminating",
    12: "dfs.DataNode$DataXceiver: {ip}:50010:Exception writing block {b} "
    "to mirror {ip2}:50010",
    13: "dfs.DataNode$BlockReceiver: Receiving empty packet for block {b}",
    14: "dfs.DataNode$BlockReceiver: Exception in receiveBlock for block {b} "
    "java.io.IOException: Connection reset by peer",
    15: "dfs.DataNode$BlockReceiver: Changing block file offset of block {b} "
    "from {size} to {size} meta file offset to {n}",
    16: "dfs.DataNode$DataTransfer: {ip}:50010:Transmitted block {b} to /{ip2}:50010",
    17: "dfs.DataNode: {ip}:50010:Failed to transfer {b} to {ip2}:50010 got "
    "java.net.SocketException: Connection reset",
    18: "dfs.DataNode: {ip}:50010 Starting thread to transfer block {b} to {ip2}:50010",
    19: "dfs.DataNode: Reopen Block {b}",
    20: "dfs.FSDataset: Unexpected error trying to delete block {b}. BlockInfo "
    "not found in volumeMap.",
    21: "dfs.FSDataset: Deleting block {b} file /mnt/hadoop/dfs/data/current/{b}",
    22: "dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: "
    "/user/root/rand/_temporary/part-{n}. {b}",
    23: "dfs.FSNamesystem: BLOCK* NameSystem.delete: {b} is added to invalidSet "
    "of {ip}:50010",
    24: "dfs.FSNamesystem: BLOCK* Removing block {b} from neededReplications as "
    "it does not belong to any file.",
    25: "dfs.FSNamesystem: BLOCK* ask {ip}:50010 to replicate {b} to datanode(s) "
    "{ip2}:50010",
    26: "dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: "
    "{ip}:50010 is added to {b} size {size}",
    27: "dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: Redundant "
    "addStoredBlock request received for {b} on {ip}:50010 size {size}",
    28: "dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: addStoredBlock "
    "request received for {b} on {ip}:50010 size {size} But it does not belong "
    "to any file.",
}

rng = np.random.default_rng(0)
hdfs = load_hdfs(as_frame=True)
# 1,000 normal training blocks; 500 normal and 500 anomalous test blocks.
sessions = hdfs.session_target.index.to_series()
picked = np.concatenate(
    [
        rng.choice(sessions[sessions.str.startswith(prefix)], n, replace=False)
        for prefix, n in [("train-", 1000), ("blk_", 500), ("abnormal-", 500)]
    ]
)
entries = hdfs.data[hdfs.data["group"].isin(picked)]
blocks = {group: f"blk_{rng.integers(-(2**62), 2**62)}" for group in picked}


def address():
    return f"10.251.{rng.integers(256)}.{rng.integers(256)}"


lines = []
for second, (group, key) in enumerate(
    zip(entries["group"], entries["event"], strict=True)
):
    message = MESSAGES[key].format(
        b=blocks[group],
        ip=address(),
        ip2=address(),
        port=rng.integers(30000, 60000),
        size=rng.integers(1, 2**26),
        n=rng.integers(3),
    )
    day, time = divmod(second, 86400)
    lines.append(
        f"0811{9 + day:02d} {time // 3600:02d}{time // 60 % 60:02d}"
        f"{time % 60:02d} {rng.integers(1, 999)} INFO {message}"
    )
path = Path(tempfile.mkdtemp()) / "HDFS.log"
path.write_text("\n".join(lines) + "\n")
print(*(line[:80] + " ..." for line in lines[:4]), sep="\n")  # cut to the page

# %%
# Read it back
# ------------
# :func:`~sklearn_deeplog.io.read_raw_log` splits each line into HDFS's header
# fields and the message, and finds the block in the message: blocks are the
# sessions. The line number orders the entries of a block.
table = read_raw_log(path, LOGHUB_FORMATS["HDFS"], group_pattern=r"blk_-?\d+")
block_label = {blocks[g]: label for g, label in hdfs.session_target[picked].items()}
table["label"] = table["group"].map(block_label)
table.head()

# %%
# Lines to keys to windows to anomalies, in one pipeline
# ------------------------------------------------------
# The miner reads the ``Content`` column; a
# :class:`~sklearn.compose.ColumnTransformer` keeps the block and the line number
# next to the keys for the windower. Everything is fitted on the normal training
# blocks only: templates that occur only in anomalies are unknown to the miner,
# and their lines get the key :data:`~sklearn_deeplog.UNKNOWN_TEMPLATE`.
to_events = ColumnTransformer(
    [
        ("parse", LogTemplateMiner(), ["Content"]),
        ("keep", "passthrough", ["group", "line"]),
    ],
    verbose_feature_names_out=False,
).set_output(transform="pandas")
model = make_pipeline(
    to_events,
    SequenceWindower(
        window=10, event="event", group="group", time="line", complete_sessions=True
    ),
    DeepLogDetector(max_epochs=10, random_state=0),
)
train_blocks = {blocks[g] for g in picked[:1000]}
is_train = table["group"].isin(train_blocks)
model.fit(table[is_train])
miner = model[0].named_transformers_["parse"]
for key, template in miner.templates_.items():
    print(key, template)

# %%
# The mined templates against the true keys
# -----------------------------------------
# Each mined template should gather the lines of exactly one HDFS key. The matrix
# counts the test lines of each true key (rows) by mined template (columns).
test = table[~is_train]
mined = model[0].transform(test)["event"].to_numpy()
true_keys = test["line"].map(dict(enumerate(entries["event"], start=1))).to_numpy()
rows, cols = np.unique(true_keys), np.unique(mined)
counts = np.zeros((len(rows), len(cols)))
np.add.at(counts, (np.searchsorted(rows, true_keys), np.searchsorted(cols, mined)), 1)
fig, ax = plt.subplots(figsize=(7, 5))
image = ax.imshow(np.log1p(counts), cmap="Blues", aspect="auto")
fig.colorbar(image, ax=ax, label="log(1 + test lines)")
ax.set_xticks(range(len(cols)), cols)
ax.set_yticks(range(len(rows)), rows)
ax.set_xlabel("mined template (0: unknown)")
ax.set_ylabel("true HDFS key")
ax.set_title("Test lines by true key and mined template (log colour scale)")
fig.tight_layout()

# %%
# Anomalous blocks
# ----------------
flagged = aggregate_sessions(model.predict(test), test["group"]) == -1
anomalous = aggregate_sessions(-test["label"], test["group"]) == -1
print(classification_report(anomalous, flagged, target_names=["normal", "anomalous"]))
plt.show()
