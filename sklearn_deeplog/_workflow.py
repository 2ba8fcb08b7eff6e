# SPDX-License-Identifier: BSD-3-Clause
"""DeepLog's workflow model (paper section 4): the key transitions of normal runs.

The workflow is a directed graph of log keys between a START and an END node,
built from the sessions of an event table; it explains where a flagged entry left
the usual path (:func:`diagnose`).
"""

import math
import textwrap
from numbers import Integral, Real
from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._optional import import_optional
from ._windower import NO_EVENT, SESSION_END, SequenceWindower, is_marker

__all__ = ["START", "END", "Workflow", "diagnose", "read_workflow"]

# Node size (points squared) of drawn workflows: room for a key in 10-point type.
_NODE_SIZE = 1100

#: The workflow's start node: what comes before a session's first entry. It is
#: the windows' :data:`NO_EVENT` marker, so that an empty context points to it.
START = NO_EVENT
#: The workflow's end node: what follows a session's last entry (the windows'
#: :data:`SESSION_END` marker).
END = SESSION_END

# Node ids of START and END in GraphML and DOT files.
_MARKER_IDS = {"start": "START", "end": "END"}
# Suffixes of the files Workflow.write writes other than pictures.
_GRAPH_SUFFIXES = {".graphml": "graphml", ".dot": "dot", ".gv": "dot"}


def _import_networkx():
    """networkx, with the command installing it when missing."""
    return import_optional("networkx", needed_by="Workflow", extra="workflow")


def _import_pyplot():
    """matplotlib.pyplot, with the command installing it when missing."""
    return import_optional(
        "matplotlib.pyplot", needed_by="Drawing a workflow", extra="workflow"
    )


def workflow_format(path):
    """The format of :meth:`Workflow.write`, from the suffix of `path`.

    Parameters
    ----------
    path : str or path-like
        The file to write.

    Returns
    -------
    format : {"graphml", "dot", "picture"}
        The format to write.

    Raises
    ------
    ValueError
        If the suffix is none of the supported ones, listing them.
    """
    suffix = Path(path).suffix.lower()
    if suffix in _GRAPH_SUFFIXES:
        return _GRAPH_SUFFIXES[suffix]
    pictures = _import_pyplot().FigureCanvasBase.get_supported_filetypes()
    if suffix[1:] not in pictures:
        suffixes = [*_GRAPH_SUFFIXES, *sorted(f".{picture}" for picture in pictures)]
        found = f"the suffix {suffix!r}" if suffix else "no suffix"
        raise ValueError(
            f"{path}: cannot write a workflow to a file with {found}; name it "
            f"with one of {', '.join(suffixes)}."
        )
    return "picture"


class Workflow(BaseEstimator):
    """DeepLog's workflow model: which log key follows which in normal sessions.

    Each session (group) of the event table is read as a path START -> its keys
    in time order -> END, and the transitions are counted into a directed graph.
    The graph shows the tasks' workflow (DeepLog paper, section 4) and where a
    flagged execution left it (:func:`diagnose`).

    Read more in the :ref:`User Guide <workflow>`.

    Parameters
    ----------
    event : str or int, default=None
        Column holding the log key, as in :class:`SequenceWindower`. ``None``
        means the last column.
    group : str or int, default=None
        Column naming the session of an entry. ``None`` means one single session.
    time : str or int, default=None
        Column holding the entry's time; ``None`` means the row order is the time
        order.
    min_frequency : float, default=0.01
        A transition belongs to the workflow when it makes at least this share of
        the transitions out of its source key; rarer ones are noise for the
        analysis and the drawing, but stay in ``graph_`` with their counts, so
        that a diagnosis still knows they were seen.

    Attributes
    ----------
    graph_ : networkx.DiGraph
        Every transition seen. Nodes: the keys, :data:`START` and :data:`END`,
        with attribute ``count`` (entries with that key; sessions for START and
        END). Edges, with attributes ``count`` (times seen) and ``frequency``
        (``count`` over the transitions out of the source) and ``workflow``
        (whether ``frequency >= min_frequency``).
    main_path_ : list
        The usual route from START to END: from START, repeatedly the most
        frequent workflow transition to a key not yet on the path from which END
        can still be reached.
    divergence_points_ : dict
        The nodes (keys or START) followed in the workflow by at least two keys
        other than themselves: ``{node: {next key: frequency}}``, most frequent
        first. A key followed by itself is a loop, not an alternative.
    concurrent_pairs_ : list of tuple
        Pairs ``(a, b)`` of keys that follow one same node in either order (paper
        section 4.1): the workflow has ``p -> a``, ``p -> b``, ``a -> b`` and
        ``b -> a`` for some third node ``p``.
    loops_ : list of tuple
        The elementary cycles of the workflow, shortest first, each starting at
        its key nearest to START: ``(k,)`` is a key repeated right after itself,
        and a concurrent pair is also a cycle of two.

    See Also
    --------
    diagnose : Explain flagged entries with the key model and the workflow.
    read_workflow : Load a workflow saved as GraphML.

    Notes
    -----
    The number of cycles grows fast with the number of transitions: on noisy
    logs, a ``min_frequency`` of zero can give thousands of ``loops_``.

    References
    ----------
    .. [1] M. Du, F. Li, G. Zheng and V. Srikumar, "DeepLog: Anomaly Detection and
       Diagnosis from System Logs through Deep Learning", ACM CCS 2017.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_deeplog import Workflow
    >>> runs = [["open", "read", "write", "close"]] * 3 + [
    ...     ["open", "write", "read", "close"]
    ... ]
    >>> events = pd.DataFrame(
    ...     [(i, key) for i, run in enumerate(runs) for key in run],
    ...     columns=["session", "key"],
    ... )
    >>> workflow = Workflow(event="key", group="session").fit(events)
    >>> workflow.main_path_
    [-inf, 'open', 'read', 'write', 'close', inf]
    >>> workflow.concurrent_pairs_
    [('read', 'write')]
    >>> for key, following in workflow.divergence_points_.items():
    ...     print(key, following)
    open {'read': 0.75, 'write': 0.25}
    read {'write': 0.75, 'close': 0.25}
    write {'close': 0.75, 'read': 0.25}
    """

    _parameter_constraints: dict = {
        "event": [None, str, Integral],
        "group": [None, str, Integral],
        "time": [None, str, Integral],
        "min_frequency": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, event=None, group=None, time=None, min_frequency=0.01):
        self.event = event
        self.group = group
        self.time = time
        self.min_frequency = min_frequency

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Count the key transitions of the sessions and analyse the workflow.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            The event table of normal logs, one row per log entry.
        y : None
            Ignored.

        Returns
        -------
        self : Workflow
            The fitted workflow.
        """
        nx = _import_networkx()
        # Windows of one previous key, with the session ends: each row is the
        # transition (previous key or NO_EVENT = START) -> key, plus key -> END.
        windows = SequenceWindower(
            window=1,
            event=self.event,
            group=self.group,
            time=self.time,
            complete_sessions=True,
        ).fit_transform(X)
        ends = is_marker(windows[:, 2], SESSION_END)
        transitions = pd.DataFrame(
            {
                "source": np.concatenate([windows[:, 0], windows[ends, 1]]),
                "target": np.concatenate([windows[:, 1], windows[ends, 2]]),
            }
        )
        if transitions.isna().to_numpy().any():
            raise ValueError(
                "The event column has missing keys: drop or fill them before "
                "building the workflow."
            )
        counts = transitions.value_counts(sort=False)
        totals = counts.groupby(level="source").transform("sum")
        graph = nx.DiGraph(min_frequency=float(self.min_frequency))
        graph.add_node(START, count=int(ends.sum()))
        for (source, target), count in counts.items():
            frequency = float(count / totals[(source, target)])
            graph.add_edge(
                source,
                target,
                count=int(count),
                frequency=frequency,
                workflow=frequency >= self.min_frequency,
            )
        for node, count in pd.Series(windows[:, 1]).value_counts().items():
            graph.nodes[node]["count"] = int(count)
        graph.nodes[END]["count"] = int(ends.sum())
        self.graph_ = graph
        self._analyse()
        return self

    def _analyse(self):
        """Set the fitted notions from ``graph_``'s workflow edges."""
        nx = _import_networkx()
        workflow = self._workflow()
        if not nx.has_path(workflow, START, END):
            raise ValueError(
                f"min_frequency={self.min_frequency} leaves no route from START to "
                "END in the workflow: lower min_frequency."
            )
        self.main_path_ = _main_path(nx, workflow)
        distance = nx.single_source_shortest_path_length(workflow, START)
        rank = {
            node: (distance.get(node, math.inf), _sort_key(node)) for node in workflow
        }
        self.divergence_points_ = {
            node: next_keys
            for node in sorted(workflow, key=rank.__getitem__)
            if len(next_keys := self._usual_next(node)) >= 2
        }
        self.concurrent_pairs_ = sorted(
            {
                tuple(sorted((a, b), key=rank.__getitem__))
                for a, b in workflow.edges
                if a != b
                and workflow.has_edge(b, a)
                and set(workflow.pred[a]) & set(workflow.pred[b]) - {a, b}
            },
            key=lambda pair: (rank[pair[0]], rank[pair[1]]),
        )
        loops = []
        for cycle in nx.simple_cycles(workflow):
            first = min(range(len(cycle)), key=lambda i: rank[cycle[i]])
            loops.append(tuple(cycle[first:] + cycle[:first]))
        self.loops_ = sorted(loops, key=lambda loop: (len(loop), rank[loop[0]]))

    def _workflow(self):
        """The subgraph view of the workflow transitions (frequent enough)."""
        check_is_fitted(self)
        return self.graph_.edge_subgraph(
            edge for edge, keep in self.graph_.edges.items() if keep["workflow"]
        )

    def _usual_next(self, node):
        """``{key: frequency}`` of the workflow keys after ``node`` but itself."""
        graph = self.graph_
        if node not in graph:
            return {}
        following = [
            (target, data["frequency"])
            for target, data in graph.succ[node].items()
            if data["workflow"] and target != node
        ]
        following.sort(key=lambda item: (-item[1], _sort_key(item[0])))
        return dict(following)

    def draw(self, ax=None, *, highlight=None, labels=None):
        """Draw the workflow with matplotlib, layered along the main path.

        The main path runs from left to right; other keys sit in the column after
        their most frequent placed predecessor. Edge widths grow with the
        transitions' frequencies, which are written on the edges.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Where to draw; ``None`` makes a new figure sized to the graph.
        highlight : iterable of (source, target), default=None
            Transitions to draw in red, e.g. where flagged executions diverged
            (``zip(diagnosis["diverged_after"], diagnosis["observed"])``); a
            transition or key not in the workflow is added for the picture.
        labels : dict, default=None
            Text to write beside each key, e.g. its log template.

        Returns
        -------
        ax : matplotlib.axes.Axes
            The axes drawn on.
        """
        nx = _import_networkx()
        plt = _import_pyplot()
        highlight = [tuple(edge) for edge in (highlight or [])]
        labels = labels or {}
        workflow = self._workflow()
        reachable = nx.descendants(workflow, START) | {START}
        graph = nx.DiGraph(workflow.subgraph(reachable))
        for source, target in highlight:
            data = self.graph_.get_edge_data(source, target, {"frequency": 0.0})
            graph.add_edge(source, target, frequency=data["frequency"])
        position = _layered_layout(graph, self.main_path_)
        if ax is None:
            xs, ys = zip(*position.values(), strict=True)
            _, ax = plt.subplots(
                figsize=(2 * (max(xs) + 1.2), 1.4 * (max(ys) - min(ys) + 1.6))
            )
        on_path = set(zip(self.main_path_[:-1], self.main_path_[1:], strict=True))
        edges = [edge for edge in graph.edges if edge not in set(highlight)]
        for style, chosen, color in [
            ("arc3,rad=0", [e for e in edges if e in on_path], "#1f4e79"),
            ("arc3,rad=0.25", [e for e in edges if e not in on_path], "#7f7f7f"),
            ("arc3,rad=0.25", highlight, "#d62728"),
        ]:
            nx.draw_networkx_edges(
                graph,
                position,
                edgelist=chosen,
                width=[0.8 + 3 * graph.edges[e]["frequency"] for e in chosen],
                edge_color=color,
                style=[":" if e not in self.graph_.edges else "-" for e in chosen],
                connectionstyle=style,
                node_size=_NODE_SIZE,
                arrowsize=14,
                ax=ax,
            )
            nx.draw_networkx_edge_labels(
                graph,
                position,
                edge_labels={
                    e: f"{graph.edges[e]['frequency']:.2f}"
                    if e in self.graph_.edges
                    else "never seen"
                    for e in chosen
                },
                connectionstyle=style,
                font_size=9,
                font_color=color,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"},
                ax=ax,
            )
        highlighted = {node for edge in highlight for node in edge}
        nx.draw_networkx_nodes(
            graph,
            position,
            node_size=_NODE_SIZE,
            node_color=[
                "#fbe3e3" if node in highlighted else "#dbe9f6" for node in graph
            ],
            edgecolors=[
                "#d62728" if node in highlighted else "#1f4e79" for node in graph
            ],
            ax=ax,
        )
        nx.draw_networkx_labels(
            graph,
            position,
            labels={node: _key_text(node) for node in graph},
            font_size=10,
            ax=ax,
        )
        for node, (x, y) in position.items():
            if node in labels:
                ax.annotate(
                    textwrap.fill(str(labels[node]), 24),
                    (x, y),
                    xytext=(0, -24),
                    textcoords="offset points",
                    ha="center",
                    va="top",
                    fontsize=8,
                    color="#404040",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.85},
                    zorder=3,
                )
        # Set the limits: networkx's self-loop patches stretch the automatic ones.
        xs, ys = zip(*position.values(), strict=True)
        ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
        ax.set_ylim(min(ys) - 1.0, max(ys) + 0.6)
        ax.set_axis_off()
        return ax

    def write(self, path, *, labels=None):
        """Save the workflow: GraphML, DOT or a picture, after the file's suffix.

        Parameters
        ----------
        path : str or path-like
            ``.graphml`` (every transition, with counts and frequencies: reload
            it with :func:`read_workflow`), ``.dot`` or ``.gv`` (Graphviz, the
            workflow transitions; needs pydot), else a picture in any format
            matplotlib saves (``.png``, ``.svg``, ``.pdf``, ...) of
            :meth:`draw`.
        labels : dict, default=None
            Text of each key (e.g. its template), stored as the nodes' ``label``
            or written beside them in a picture.

        Returns
        -------
        self : Workflow
            The workflow.

        Raises
        ------
        ValueError
            If the suffix of `path` is none of those above; the message lists
            them.
        ImportError
            If networkx, or pydot for DOT files, or matplotlib for pictures, is
            not installed; the message says how to install it.
        """
        nx = _import_networkx()
        check_is_fitted(self)
        output = workflow_format(path)
        if output == "graphml":
            nx.write_graphml(_exported(nx, self.graph_, labels), path)
        elif output == "dot":
            import_optional("pydot", needed_by="Writing DOT files", extra="workflow")
            graph = _exported(nx, self._workflow(), labels)
            for _, _, data in graph.edges(data=True):
                data["label"] = f"{data['frequency']:.2f}"
                data["penwidth"] = f"{0.8 + 3 * data['frequency']:.2f}"
            nx.nx_pydot.write_dot(graph, path)
        else:
            plt = _import_pyplot()
            ax = self.draw(labels=labels)
            try:
                ax.figure.savefig(path, bbox_inches="tight", dpi=120)
            finally:
                plt.close(ax.figure)
        return self


def read_workflow(path):
    """Load a workflow saved with ``Workflow.write`` as GraphML.

    Parameters
    ----------
    path : str or path-like
        A ``.graphml`` file written by :meth:`Workflow.write` (or by the
        ``sklearn-deeplog workflow`` command).

    Returns
    -------
    workflow : Workflow
        The fitted workflow, as it was saved.

    Raises
    ------
    ValueError
        If the file is not GraphML, or is GraphML but not a workflow saved by
        :meth:`Workflow.write`; the message says what is wrong.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from sklearn_deeplog import Workflow, read_workflow
    >>> logs = pd.DataFrame({"session": [1, 1, 2, 2], "key": [1, 2, 1, 2]})
    >>> workflow = Workflow(event="key", group="session").fit(logs)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "workflow.graphml"
    ...     _ = workflow.write(path)
    ...     read_workflow(path).main_path_
    [-inf, 1.0, 2.0, inf]
    """
    nx = _import_networkx()
    try:
        saved = nx.read_graphml(path)
    except (ParseError, nx.NetworkXException, LookupError, ValueError) as err:
        problem = f"not GraphML: {err}"
    else:
        problem = _saved_workflow_problem(saved)
    if problem is not None:
        raise ValueError(
            f"{path} is not a GraphML workflow written by Workflow.write or "
            f"'sklearn-deeplog workflow' ({problem})."
        )
    node = {
        name: {"start": START, "end": END}.get(data["role"], data.get("key"))
        for name, data in saved.nodes(data=True)
    }
    graph = nx.DiGraph(min_frequency=saved.graph["min_frequency"])
    for name, data in saved.nodes(data=True):
        graph.add_node(node[name], count=data["count"])
    for source, target, data in saved.edges(data=True):
        graph.add_edge(
            node[source],
            node[target],
            count=data["count"],
            frequency=data["frequency"],
            workflow=data["workflow"],
        )
    workflow = Workflow(min_frequency=saved.graph["min_frequency"])
    workflow.graph_ = graph
    workflow._analyse()
    return workflow


def diagnose(detector, X, *, workflow=None, k=None):
    """Explain each entry that the key model flags: what it expected, and where.

    For a flagged entry: its context, the observed key, the keys the model
    expected there with their probabilities, and, given a workflow, the node the
    execution diverged after (the last context key, or :data:`START`), the keys
    that usually follow it and whether the observed transition was ever seen.
    With complete sessions, a session that ends where the model did not expect
    it diverges to :data:`END` after its last key.

    Parameters
    ----------
    detector : DeepLogDetector
        The fitted key model.
    X : array-like of shape (n_entries, n_window_columns)
        Windows, as the detector scores them.
    workflow : Workflow, default=None
        The workflow of normal sessions; without it, the workflow columns are
        left out.
    k : int, default=None
        Expected keys to list; ``None`` means the detector's ``top_g``.

    Returns
    -------
    diagnosis : pandas.DataFrame
        One row per flagged entry, indexed by its row in ``X``, with columns:

        - ``context``: tuple of the previous keys, oldest first (missing context
          left out);
        - ``observed``: the entry's key, or :data:`END` for an unexpected end;
        - ``score``: the detector's ``decision_function`` (negative);
        - ``expected``, ``probabilities``: tuples of the ``k`` keys the model
          expected, most likely first, and their probabilities;
        - with a workflow, ``diverged_after``: the last key before the
          divergence, or :data:`START`; ``usual_next``: ``{key: frequency}`` of
          the workflow keys after it; ``transition_count`` and
          ``transition_frequency``: how often ``diverged_after -> observed`` was
          seen in training (0 if never).

    See Also
    --------
    Workflow.draw : Draw the workflow with the divergent transitions in red.
    DeepLogDetector.predict_next : The keys the model expects.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_deeplog import DeepLogDetector, diagnose
    >>> X = np.array([[1, 2, 3], [2, 3, 1], [3, 1, 2]] * 20)
    >>> detector = DeepLogDetector(top_g=1, max_epochs=50, random_state=0).fit(X)
    >>> diagnosis = diagnose(detector, [[1, 2, 3], [1, 2, 1]], k=1)
    >>> diagnosis.index.tolist()
    [1]
    >>> diagnosis.loc[1, ["context", "observed", "expected"]].tolist()
    [(1, 2), 1, (3,)]
    """
    scores = detector.decision_function(X)
    X = np.asarray(X)
    if X.dtype.kind in "US":
        X = X.astype(object)
    rows = np.flatnonzero(scores < 0)
    flagged = X[rows]
    window = X.shape[1] - 1 - int(detector.session_end_)
    observed = flagged[:, window].copy()
    queries = flagged
    if detector.session_end_ and len(flagged):
        # A last entry answers for its key and for the session's end: when its key
        # was expected, the end was not; ask what should have followed the key.
        without_end = flagged.copy()
        without_end[:, -1] = NO_EVENT
        ended = detector.decision_function(without_end) >= 0
        shifted = np.concatenate(
            [flagged[:, 1 : window + 1], flagged[:, window:]], axis=1
        )
        queries = np.where(ended[:, None], shifted, flagged)
        observed[ended] = END
    context = [
        tuple(row[~is_marker(row, NO_EVENT)].tolist()) for row in queries[:, :window]
    ]
    expected, probabilities = (
        detector.predict_next(queries, k=k) if len(rows) else ([], [])
    )
    diagnosis = pd.DataFrame(
        {
            "context": context,
            "observed": pd.Series(observed.tolist(), dtype=object),
            "score": scores[rows],
            "expected": [tuple(keys.tolist()) for keys in expected],
            "probabilities": [tuple(p.tolist()) for p in probabilities],
        },
    )
    diagnosis.index = pd.Index(rows, name="row")
    if workflow is not None:
        check_is_fitted(workflow)
        after = [keys[-1] if keys else START for keys in context]
        seen = [
            workflow.graph_.get_edge_data(node, key, {"count": 0, "frequency": 0.0})
            for node, key in zip(after, observed, strict=True)
        ]
        diagnosis = diagnosis.assign(
            diverged_after=pd.Series(after, index=diagnosis.index, dtype=object),
            usual_next=[workflow._usual_next(node) for node in after],
            transition_count=[data["count"] for data in seen],
            transition_frequency=[data["frequency"] for data in seen],
        )
    return diagnosis


def _saved_workflow_problem(saved):
    """What keeps a graph read from GraphML from being a saved workflow, or None.

    Parameters
    ----------
    saved : networkx.Graph
        The graph of the file.

    Returns
    -------
    problem : str or None
        The first problem found, for an error message; None for a workflow.
    """
    if not saved.is_directed() or saved.is_multigraph():
        return "not a directed graph without parallel edges"
    if not isinstance(saved.graph.get("min_frequency"), Real):
        return "no number min_frequency in the graph's attributes"
    roles = []
    for name, data in saved.nodes(data=True):
        roles.append(data.get("role"))
        if roles[-1] not in ("start", "end", "key"):
            return f"node {name!r} has no role start, end or key"
        if roles[-1] == "key" and "key" not in data:
            return f"key node {name!r} has no key"
        if not isinstance(data.get("count"), Integral):
            return f"node {name!r} has no integer count"
    for role in ("start", "end"):
        if roles.count(role) != 1:
            return f"{roles.count(role)} nodes of role {role}, not one"
    for source, target, data in saved.edges(data=True):
        if not (
            isinstance(data.get("count"), Integral)
            and isinstance(data.get("frequency"), Real)
            and isinstance(data.get("workflow"), bool)
        ):
            return (
                f"edge {source!r} -> {target!r} lacks an integer count, a "
                "frequency or a boolean workflow"
            )
    return None


def _main_path(nx, workflow):
    """The most frequent route from START to END that visits no node twice."""
    path = [START]
    while path[-1] != END:
        visited = set(path)
        remaining = workflow.subgraph(set(workflow) - visited)
        candidates = [
            (data["count"], target)
            for target, data in workflow.succ[path[-1]].items()
            if target not in visited and nx.has_path(remaining, target, END)
        ]
        # Ties: the smaller key, so that the path does not depend on row order.
        path.append(min(candidates, key=lambda c: (-c[0], _sort_key(c[1])))[1])
    return path


def _layered_layout(graph, main_path):
    """Positions: the main path left to right, other keys after a predecessor."""
    column = {node: i for i, node in enumerate(main_path) if node in graph}
    row = dict.fromkeys(column, 0)
    queue = list(column)
    while queue:
        node = queue.pop(0)
        following = sorted(
            graph.succ[node].items(), key=lambda item: -item[1]["frequency"]
        )
        for target, _ in following:
            if target not in column:
                column[target] = column[node] + 1
                used = [row[n] for n in row if column[n] == column[target]]
                row[target] = next(
                    y
                    for y in (s * i for i in range(1, len(graph) + 1) for s in (1, -1))
                    if y not in used
                )
                queue.append(target)
    # Off the main path: half a column further, between the main path's keys.
    return {
        node: (column[node] + 0.5 * (row[node] != 0), -1.4 * row[node])
        for node in column
    }


def _exported(nx, graph, labels):
    """``graph`` with string node ids and typed attributes, for GraphML and DOT."""
    ids = {node: _key_text(node) for node in graph}
    if len(set(ids.values())) < len(ids):
        raise ValueError(
            "Two workflow nodes have the same text (e.g. keys 5 and '5', or a key "
            "'START' or 'END'): give the keys distinct names before saving."
        )
    exported = nx.DiGraph()
    exported.graph["min_frequency"] = graph.graph["min_frequency"]
    for node, data in graph.nodes(data=True):
        role = "start" if _is(node, START) else "key"
        role = "end" if _is(node, END) else role
        attributes = {"role": role, "count": data["count"]}
        if role == "key":
            attributes["key"] = node
        attributes["label"] = (
            str(labels[node]) if labels and node in labels else ids[node]
        )
        exported.add_node(ids[node], **attributes)
    for source, target, data in graph.edges(data=True):
        exported.add_edge(ids[source], ids[target], **data)
    return exported


def _is(node, marker):
    """Whether ``node`` is the float marker (keys may be strings)."""
    return isinstance(node, float) and node == marker


def _key_text(key):
    """START, END, or the key; integral float keys without their '.0'."""
    if _is(key, START):
        return _MARKER_IDS["start"]
    if _is(key, END):
        return _MARKER_IDS["end"]
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def _sort_key(key):
    """An order on keys of mixed types (numbers before strings)."""
    return (isinstance(key, str), key if isinstance(key, str) else float(key))
