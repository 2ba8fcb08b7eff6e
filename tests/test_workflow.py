# SPDX-License-Identifier: BSD-3-Clause
import json
import re
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from test_cli import run

from sklearn_deeplog import (
    END,
    START,
    DeepLogDetector,
    SequenceWindower,
    Workflow,
    diagnose,
    read_workflow,
)
from sklearn_deeplog.datasets import load_hdfs, make_logs

matplotlib.use("Agg")
RED = (0.8392156862745098, 0.15294117647058825, 0.1568627450980392, 1.0)


def sessions(*runs):
    """An event table of the sessions ``runs`` (strings of one-letter keys)."""
    return pd.DataFrame(
        [(i, key) for i, keys in enumerate(runs) for key in keys],
        columns=["session", "key"],
    )


RUNS = ["abcd", "abcd", "acbd", "abbcd", "ae"]


def test_transition_counts_and_frequencies():
    workflow = Workflow(event="key", group="session").fit(sessions(*RUNS))
    graph = workflow.graph_
    assert graph.edges[START, "a"] == {"count": 5, "frequency": 1.0, "workflow": True}
    assert graph.edges["a", "b"]["count"] == 3
    assert graph.edges["a", "b"]["frequency"] == pytest.approx(0.6)
    assert graph.edges["b", "b"]["count"] == 1
    assert graph.edges["d", END]["count"] == 4
    assert graph.edges["e", END]["count"] == 1
    assert graph.nodes["b"]["count"] == 5
    assert graph.nodes[START]["count"] == graph.nodes[END]["count"] == 5
    assert not graph.has_edge("a", "d")


def test_divergence_concurrency_loops_and_main_path():
    workflow = Workflow(event="key", group="session", min_frequency=0).fit(
        sessions(*RUNS)
    )
    assert workflow.main_path_ == [START, "a", "b", "c", "d", END]
    assert workflow.divergence_points_ == {
        "a": {
            "b": pytest.approx(0.6),
            "c": pytest.approx(0.2),
            "e": pytest.approx(0.2),
        },
        # b -> b is a loop, not an alternative.
        "b": {"c": pytest.approx(0.6), "d": pytest.approx(0.2)},
        "c": {"d": 0.75, "b": 0.25},
    }
    # b and c follow a in both orders.
    assert workflow.concurrent_pairs_ == [("b", "c")]
    assert workflow.loops_ == [("b",), ("b", "c")]


def test_min_frequency_prunes_the_analysis_not_the_counts():
    workflow = Workflow(event="key", group="session", min_frequency=0.25).fit(
        sessions(*RUNS)
    )
    # a -> c (0.2) is out: b and c no longer follow a in both orders.
    assert workflow.concurrent_pairs_ == []
    assert workflow.divergence_points_ == {"c": {"d": 0.75, "b": 0.25}}
    assert workflow.loops_ == [("b", "c")]
    assert workflow.graph_.edges["a", "c"]["workflow"] is False
    assert workflow.graph_.edges["a", "c"]["count"] == 1
    with pytest.raises(ValueError, match="no route from START to END"):
        Workflow(event="key", group="session", min_frequency=0.7).fit(sessions(*RUNS))


def test_sessions_are_read_in_time_order():
    events = sessions("abc").assign(time=[2, 1, 0])
    workflow = Workflow(event="key", group="session", time="time").fit(events)
    assert workflow.main_path_ == [START, "c", "b", "a", END]
    ordered = Workflow(event="key", group="session").fit(events)
    assert ordered.main_path_ == [START, "a", "b", "c", END]


def test_main_path_never_dead_ends():
    # After a, b is the most frequent key, but only a follows b: a dead end.
    workflow = Workflow(event="key", group="session").fit(sessions("ababac"))
    assert workflow.main_path_ == [START, "a", "c", END]


@pytest.fixture(scope="module")
def tiny_detector():
    """A key model of the complete sessions 'a b c', and its windower."""
    windower = SequenceWindower(
        window=2, event="key", group="session", complete_sessions=True
    )
    windows = windower.fit_transform(sessions(*["abc"] * 20))
    detector = DeepLogDetector(
        top_g=1,
        hidden_size=16,
        num_layers=1,
        max_epochs=60,
        min_end_probability=0.2,
        random_state=0,
    ).fit(windows)
    return windower, detector


def test_diagnose_names_the_divergence(tiny_detector):
    windower, detector = tiny_detector
    workflow = Workflow(event="key", group="session").fit(sessions("abc"))
    # 'a c': c instead of b; 'a b': ends before c; 'b': starts without a.
    windows = windower.transform(sessions("ac", "ab", "b"))
    diagnosis = diagnose(detector, windows, workflow=workflow, k=1)
    assert list(diagnosis.index) == [1, 3, 4]
    assert diagnosis["context"].tolist() == [("a",), ("a", "b"), ()]
    assert diagnosis["observed"].tolist() == ["c", END, "b"]
    assert diagnosis["expected"].tolist() == [("b",), ("c",), ("a",)]
    assert (diagnosis["score"] < 0).all()
    assert all(p[0] > 0.5 for p in diagnosis["probabilities"])
    assert diagnosis["diverged_after"].tolist() == ["a", "b", START]
    assert diagnosis["usual_next"].tolist() == [{"b": 1.0}, {"c": 1.0}, {"a": 1.0}]
    assert diagnosis["transition_count"].tolist() == [0, 0, 0]

    without = diagnose(detector, windows, k=2)
    assert "diverged_after" not in without
    assert without["expected"].map(len).tolist() == [2, 2, 2]
    assert diagnose(detector, windower.transform(sessions("abc"))).empty


def test_write_and_read_graphml_dot_and_pictures(tmp_path):
    workflow = Workflow(event="key", group="session", min_frequency=0.25)
    workflow.fit(sessions(*RUNS))
    for name in ["w.graphml", "w.dot", "w.svg", "w.png"]:
        workflow.write(tmp_path / name, labels={"a": "open <*>"})
    loaded = read_workflow(tmp_path / "w.graphml")
    assert loaded.min_frequency == workflow.min_frequency
    assert loaded.main_path_ == workflow.main_path_
    assert loaded.divergence_points_ == workflow.divergence_points_
    assert loaded.concurrent_pairs_ == workflow.concurrent_pairs_
    assert loaded.loops_ == workflow.loops_
    assert dict(loaded.graph_.edges.items()) == dict(workflow.graph_.edges.items())
    dot = (tmp_path / "w.dot").read_text()
    assert "START -> a" in dot and '"open <*>"' in dot
    assert "a -> e" not in dot  # only the workflow's transitions (0.2 < 0.25)
    assert (tmp_path / "w.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "w.svg").read_text()


GRAPHML = '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
ONE_NODE = '<graph edgedefault="{}"><node id="x"/></graph></graphml>'


@pytest.mark.parametrize(
    "text, problem",
    [
        ("timestamp,machine,event\n1,m,a\n", "not GraphML: syntax error: line 1"),
        ("", "not GraphML: no element found"),
        ("<workflow/>", "not GraphML: file not successfully read as graphml"),
        (GRAPHML + ONE_NODE.format("directed"), "no number min_frequency"),
        (GRAPHML + ONE_NODE.format("undirected"), "not a directed graph"),
        # Changes to a saved workflow:
        ((">start<", ">key<"), "key node 'START' has no key"),
        ((">end<", ">begin<"), "node 'END' has no role start, end or key"),
        ((">end<", ">start<"), "2 nodes of role start, not one"),
        (
            ('attr.type="boolean"', 'attr.type="string"'),
            "edge 'START' -> 'a' lacks an integer count, a frequency or a boolean",
        ),
    ],
)
def test_read_workflow_rejects_other_files(tmp_path, text, problem):
    path = tmp_path / "workflow.graphml"
    if isinstance(text, tuple):
        Workflow(event="key", group="session").fit(sessions(*RUNS)).write(path)
        text = path.read_text().replace(*text)
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        read_workflow(path)
    assert str(error.value).startswith(
        f"{path} is not a GraphML workflow written by Workflow.write or "
        f"'sklearn-deeplog workflow' ({problem}"
    )
    with pytest.raises(FileNotFoundError):
        read_workflow(tmp_path / "absent.graphml")


def test_write_names_every_supported_suffix(tmp_path):
    workflow = Workflow(event="key", group="session").fit(sessions(*RUNS))
    for name, found in [("w.txt", "the suffix '.txt'"), ("w", "no suffix")]:
        with pytest.raises(ValueError) as error:
            workflow.write(tmp_path / name)
        message = str(error.value)
        assert message.startswith(
            f"{tmp_path / name}: cannot write a workflow to a file with {found}; "
            "name it with one of .graphml, .dot, .gv, "
        )
        assert {".png", ".svg", ".pdf", ".jpg"} < set(re.findall(r"\.\w+", message))
    assert not list(tmp_path.iterdir())
    workflow.write(tmp_path / "w.PDF")
    assert (tmp_path / "w.PDF").read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize(
    "module, write, message",
    [
        ("networkx", None, "Workflow needs networkx"),
        ("pydot", "w.dot", "Writing DOT files needs pydot"),
        ("matplotlib.pyplot", "w.png", "Drawing a workflow needs matplotlib"),
    ],
)
def test_missing_dependencies_say_how_to_install_them(
    tmp_path, monkeypatch, module, write, message
):
    workflow = Workflow(event="key", group="session").fit(sessions(*RUNS))
    monkeypatch.setitem(sys.modules, module, None)
    fix = f'{message}: pip install "sklearn-deeplog[workflow]"'
    with pytest.raises(ImportError, match=f"^{re.escape(fix)}$"):
        if write is None:
            Workflow(event="key", group="session").fit(sessions(*RUNS))
        else:
            workflow.write(tmp_path / write)
    assert not list(tmp_path.iterdir())


# -- HDFS -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hdfs():
    """The HDFS training sessions, their workflow and the keys' templates."""
    hdfs = load_hdfs(subset="train", as_frame=True)
    train = hdfs.data
    workflow = Workflow(event="event", group="group", time="time").fit(train)
    return train, workflow, hdfs.templates


def test_hdfs_main_path_is_the_block_lifecycle(hdfs):
    _, workflow, templates = hdfs
    path = workflow.main_path_
    assert path[0] == START and path[-1] == END
    text = [templates[key] for key in path[1:-1]]
    # A block is allocated by the namenode while datanodes start receiving it:
    # both orders are common, the two keys are concurrent.
    assert (
        sorted(text[:2]) == sorted([templates[22], templates[5]])
        and "allocateBlock" in templates[22]
    )
    assert "Receiving block" in templates[5]
    assert tuple(path[1:3]) in workflow.concurrent_pairs_
    expected = [
        r"PacketResponder .* terminating",
        r"Received block<\*>of size",
        r"addStoredBlock: blockMap updated",
        r"delete:<\*>is added to invalidSet",
        r"Deleting block",
    ]
    assert len(text) == 2 + len(expected)
    for template, pattern in zip(text[2:], expected, strict=True):
        assert re.search(pattern, template), (template, pattern)
    # Three replicas: packet responder and received block repeat as a loop.
    assert (11.0, 9.0) in workflow.loops_


def test_hdfs_diagnosis_of_an_abnormal_session(hdfs, tmp_path):
    train, workflow, templates = hdfs
    windower = SequenceWindower(
        window=5, event="event", group="group", time="time", complete_sessions=True
    )
    subset = train[train["group"].isin(train["group"].unique()[:500])]
    detector = DeepLogDetector(
        hidden_size=16, num_layers=1, max_epochs=10, random_state=0
    ).fit(windower.fit_transform(subset))
    abnormal = load_hdfs(subset="test_abnormal", as_frame=True).data
    session = abnormal[abnormal["group"] == "abnormal-0"]
    diagnosis = diagnose(detector, windower.transform(session), workflow=workflow)
    # After its blocks were deleted (21), the namenode is asked to store the block
    # of no file (28): a transition never seen, where only the end was usual.
    row = diagnosis[diagnosis["observed"] == 28].iloc[0]
    assert "Deleting block" in templates[row["diverged_after"]]
    assert "does not belong to any file" in templates[row["observed"]]
    assert row["transition_count"] == 0
    assert list(row["usual_next"]) == [END]
    assert END in row["expected"]

    highlight = list(
        zip(diagnosis["diverged_after"], diagnosis["observed"], strict=True)
    )
    ax = workflow.draw(highlight=highlight, labels=templates)
    red = [patch for patch in ax.patches if np.allclose(patch.get_edgecolor(), RED)]
    assert len(red) == len(set(highlight))
    ax.figure.savefig(tmp_path / "hdfs.png")
    assert (tmp_path / "hdfs.png").stat().st_size > 10_000


# -- command line ----------------------------------------------------------------


def test_cli_workflow_and_detect_with_diagnosis(tmp_path):
    def event_file(path, events):
        events.rename(columns={"time": "timestamp", "session": "machine"})[
            ["timestamp", "machine", "event"]
        ].to_csv(path, index=False)
        return path

    train = event_file(tmp_path / "train.csv", make_logs(150, random_state=0))
    test = event_file(
        tmp_path / "test.csv", make_logs(40, anomaly_ratio=0.5, random_state=1)
    )
    graph, picture, dot = (tmp_path / name for name in ["w.graphml", "w.png", "w.dot"])
    result = run("workflow", train, "-o", graph, "-o", picture, "-o", dot)
    assert "written to" in result.stderr
    assert picture.stat().st_size and "START -> 1" in dot.read_text()
    assert read_workflow(graph).main_path_[:2] == [START, "1"]

    model = tmp_path / "model.skops"
    run("train", train, "-o", model, "--window", "4", "--hidden-size", "16",
        "--num-layers", "1", "--epochs", "40", "-q")  # fmt: skip
    output = run("detect", model, test, "--workflow", graph, "-q").stdout
    flagged = pd.read_csv(
        pd.io.common.StringIO(output), dtype={"event": str, "diverged_to": str}
    )
    unseen = flagged[flagged["event"] == "99"]
    assert len(unseen) and (unseen["diverged_to"] == "99").all()
    assert (unseen["transition_count"] == 0).all()
    # [[key, frequency], ...] as JSON text, as the expected keys.
    usual = unseen["usual_next"].map(json.loads)
    assert all(0 < frequency <= 1 for pairs in usual for _, frequency in pairs)
    assert (flagged["diverged_after"] != "").all()

    bad = run("workflow", train, "-o", graph, "--min-frequency", "2", check=False)
    assert bad.returncode == 1 and "min_frequency" in bad.stderr
