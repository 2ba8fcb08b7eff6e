# SPDX-License-Identifier: BSD-3-Clause
"""DeepLog's parameter-value model: anomalies in the values log entries carry."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import _fit_context
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval

from ._event_table import (
    column_of,
    group_and_times,
    group_time_order,
    positions_in_runs,
    validate_event_table,
)
from ._torch_nets import TorchDetector, resolve_device

__all__ = ["ParameterValueDetector", "looked_back_to", "numeric_parameters"]

# Floor of a key's standard deviation of errors. Errors are in squared training
# standard deviations: a smaller spread (values the network predicts almost
# exactly, e.g. constant ones) would flag mere rounding differences.
_MIN_ERROR_STD = 1e-2
# Name of the time dimension in ``value_names_``.
_ELAPSED = "elapsed"


def numeric_parameters(parameters):
    """Turn parameters extracted from log messages into a numeric value table.

    Column ``j`` holds the ``j``-th parameter of each entry as a number, NaN where
    the entry has fewer parameters or its ``j``-th one is not a number (a block
    id, an address). Entries of different templates share columns; the
    :class:`ParameterValueDetector` models each key's columns separately.

    Parameters
    ----------
    parameters : list of list of str
        The parameters of each entry, as returned by
        :meth:`LogTemplateMiner.extract_parameters`.

    Returns
    -------
    values : ndarray of shape (n_entries, max_parameters), dtype float64
        The numeric parameters; finite or NaN.

    See Also
    --------
    LogTemplateMiner.extract_parameters : Extract the parameters of messages.
    ParameterValueDetector : Detect anomalous parameter values.

    Examples
    --------
    >>> from sklearn_deeplog import numeric_parameters
    >>> numeric_parameters([["blk_1", "35"], ["3"], []])
    array([[nan, 35.],
           [ 3., nan],
           [nan, nan]])
    """
    width = max((len(row) for row in parameters), default=0)
    table = pd.DataFrame(
        [list(row) + [None] * (width - len(row)) for row in parameters]
    )
    values = np.full((len(parameters), width), np.nan)
    for j in range(width):
        column = pd.to_numeric(table[j], errors="coerce").to_numpy(dtype=np.float64)
        values[:, j] = np.where(np.isfinite(column), column, np.nan)
    return values


def looked_back_to(table, value_model, order, sorted_groups):
    """The entries that later entries of their group look back to.

    A value model predicts an entry from the previous ``history`` entries of
    its key in its group, each with the time elapsed since the entry before
    it: so the last ``history`` entries of each key of each group, and the
    entry before each of them, are all that the entries after them need.

    Parameters
    ----------
    table : DataFrame or ndarray of shape (n_entries, n_columns)
        The event table.
    value_model : ParameterValueDetector
        The value model (its ``event`` column and ``history``).
    order : ndarray of shape (n_entries,)
        The rows of `table` in group and time order.
    sorted_groups : ndarray of shape (n_entries,)
        The group of each row of `order`.

    Returns
    -------
    kept : ndarray of shape (n_entries,), dtype bool
        By position in `order`.
    """
    keys = (  # event=None: one key for all entries
        np.zeros(len(order))
        if value_model.event is None
        else column_of(table, value_model.event, "event")[order]
    )
    recent = (
        pd.DataFrame({"group": sorted_groups, "key": keys})
        .groupby(["group", "key"])
        .cumcount(ascending=False)
    )
    kept = recent.to_numpy() < value_model.history
    kept[:-1] |= kept[1:] & (sorted_groups[1:] == sorted_groups[:-1])
    return kept


class ParameterValueDetector(TorchDetector):
    """DeepLog's parameter-value anomaly detector (Du et al., CCS 2017, §3.2).

    For each log key, an LSTM regressor learns from normal logs to predict the
    vector of numeric parameters an entry carries (a size, a latency, and the time
    since the previous entry of its group) from the previous ``history`` vectors
    of the same key. Its prediction errors on a held-out part of the training
    data are modelled per key as a Gaussian; an entry is anomalous when its error
    lies above the one-sided ``confidence`` level.

    Read more in the :ref:`User Guide <parameter_values>`.

    Parameters
    ----------
    event : str or int, default=None
        Column holding the log key (a column name of a DataFrame, or a column
        index). ``None`` means no key column: all entries are of one key (a single
        series of vectors). Unlike :class:`SequenceWindower`, whose input is the
        key column, this detector's input is mostly values, so no column is taken
        as the key unless named.
    group : str or int, default=None
        Column naming the machine or session an entry belongs to. The previous
        vectors of an entry's key and the elapsed time are taken within its group.
        ``None`` means one single stream.
    time : str or int, default=None
        Column holding the entry's time, numeric seconds or datetimes. Entries are
        ordered by time within each group (ties keep the row order), and the
        seconds elapsed since the previous entry of the group (any key) are a
        parameter of every entry but a group's first. ``None`` means the row order
        is the time order and there is no elapsed time.
    values : list of str or int, default=None
        The numeric parameter columns. ``None`` means every column but `event`,
        `group` and `time`. NaN means the entry has no such parameter. A key's
        parameters are the columns (and the elapsed time) that are present in
        at least one of its training entries.
    history : int, default=3
        Number of previous vectors of the same key (in the same group) that
        predict an entry's vector (``h``); missing ones are padded.
    hidden_size : int, default=32
        LSTM units per layer.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    embedding_dim : int, default=8
        Size of the learned embedding of a log key.
    max_epochs : int, default=50
        Training epochs of :meth:`fit`.
    batch_size : int, default=64
        Entries per training step.
    lr : float, default=1e-2
        Learning rate of the Adam optimizer.
    validation_fraction : float, default=0.2
        Proportion of each key's training entries (drawn at random, at least 2)
        held out from training; their prediction errors fit the key's Gaussian.
    confidence : float, default=0.99
        Confidence level of the Gaussian of errors: an entry is anomalous when its
        error exceeds this quantile.
    min_samples : int, default=10
        Keys with fewer training entries carrying a parameter are not modelled:
        their entries are scored as normal.
    device : str, default='auto'
        Torch device: 'auto' (cuda when available, else cpu), 'cpu', 'cuda',
        'mps', ... A device that is not available on this machine raises a
        ValueError.
    n_threads : int or None, default=1
        Torch threads on the cpu while fitting and scoring; 1 is fastest for
        DeepLog's small networks. None leaves torch's setting. Torch's setting is
        restored after each call.
    random_state : int, RandomState instance or None, default=None
        Seeds the network's initialisation, the shuffling and the held-out split
        (torch's global random state is left untouched).
    verbose : int, default=0
        Progress shown on stderr, as set at each call (an update after
        ``set_params(verbose=0)`` is silent): 0 nothing; 1 one progress bar over
        the training epochs, with the training loss; 2 also progress bars over
        the batches of each epoch.

    Attributes
    ----------
    modelled_keys_ : ndarray of shape (n_modelled_keys,)
        The keys that are modelled, in the order of the network's embedding.
    value_names_ : ndarray of shape (n_dimensions,)
        Names of the parameter dimensions: the value columns (names, or indices
        as text), then ``"elapsed"`` when there is a time column.
    dimensions_ : ndarray of shape (n_modelled_keys, n_dimensions), dtype bool
        The parameters of each modelled key.
    mean_, scale_ : ndarray of shape (n_modelled_keys, n_dimensions)
        Training mean and standard deviation of each key's parameters (a
        standard deviation of 0 is replaced by 1).
    error_mean_, error_std_ : ndarray of shape (n_modelled_keys,)
        The Gaussian of each key's prediction errors on the held-out entries.
    offset_ : float
        ``-norm.ppf(confidence)``: ``decision_function = score_samples - offset_``.
    n_unmodelled_ : int
        Number of training entries scored as normal because their key is not
        modelled (too few entries, no parameter) or they carry no parameter.
    net_ : skorch.NeuralNet or None
        The trained network; None when no key is modelled.
    device_ : str
        The device used.
    n_features_in_ : int
        Number of columns seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during :term:`fit`. Defined only when `X` has feature
        names that are all strings.

    See Also
    --------
    DeepLogDetector : The log-key model.
    DeepLog : Both models in one outlier detector.
    numeric_parameters : Numeric parameters of mined log messages.

    Notes
    -----
    The error of an entry is the mean squared difference, in training standard
    deviations, between its present parameters and their prediction. Its score
    is ``-(error - error_mean_[key]) / error_std_[key]``, higher is more normal,
    so the entry is anomalous (``predict`` gives -1) exactly when its error lies
    above the ``confidence`` quantile of the key's Gaussian. Entries of keys that
    are not modelled, or never seen, and entries without any parameter score 0.

    One network serves every key: the key's embedding conditions it and its
    loss counts each key's own parameters only, while the normalisation and the
    Gaussian of errors stay per key. That is the paper's per-key model with shared
    weights, far faster to train than one network per key.

    An entry's score depends on the previous entries of its key, so scoring a
    subset of a log gives other scores than scoring the whole log.

    Entries are scored in batches within scikit-learn's ``working_memory`` (see
    :func:`sklearn.config_context`); their scores do not depend on the batches.
    Ctrl-C during :meth:`fit` or :meth:`partial_fit` behaves as with
    :class:`DeepLogDetector`: during training, it stops training and a usable
    detector is returned with a warning; anywhere else, it propagates and leaves
    the detector unfitted.

    References
    ----------
    .. [1] M. Du, F. Li, G. Zheng and V. Srikumar, "DeepLog: Anomaly Detection and
       Diagnosis from System Logs through Deep Learning", ACM CCS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_deeplog import ParameterValueDetector
    >>> rng = np.random.RandomState(0)
    >>> logs = pd.DataFrame({"key": [1, 2] * 100,
    ...                      "size": rng.normal(100, 1, 200).round()})
    >>> detector = ParameterValueDetector(
    ...     event="key", hidden_size=8, max_epochs=20, random_state=0).fit(logs)
    >>> detector.predict(pd.DataFrame({"key": [1, 1, 2], "size": [100, 130, 99]}))
    array([ 1, -1,  1])
    """

    _parameter_constraints: dict = {
        **TorchDetector._parameter_constraints,
        "event": [None, str, Integral],
        "group": [None, str, Integral],
        "time": [None, str, Integral],
        "values": [None, list],
        "history": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "confidence": [Interval(Real, 0, 1, closed="neither")],
        "min_samples": [Interval(Integral, 3, None, closed="left")],
    }

    def __init__(
        self,
        *,
        event=None,
        group=None,
        time=None,
        values=None,
        history=3,
        hidden_size=32,
        num_layers=1,
        embedding_dim=8,
        max_epochs=50,
        batch_size=64,
        lr=1e-2,
        validation_fraction=0.2,
        confidence=0.99,
        min_samples=10,
        device="auto",
        n_threads=1,
        random_state=None,
        verbose=0,
    ):
        self.event = event
        self.group = group
        self.time = time
        self.values = values
        self.history = history
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.embedding_dim = embedding_dim
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.validation_fraction = validation_fraction
        self.confidence = confidence
        self.min_samples = min_samples
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # -- training ------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the parameter-value model from normal log entries.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            The event table of normal logs, one row per log entry.
        y : None
            Ignored.

        Returns
        -------
        self : ParameterValueDetector
            The fitted detector.
        """
        with self._fitting():
            self._first_fit(X, epochs=self.max_epochs)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Online update: one more training epoch on these entries.

        Training continues from the learned weights on the entries of modelled
        keys (all of them: nothing is held out), keeping those keys'
        normalisation and Gaussian of errors. A key not yet modelled becomes
        modelled when `X` alone has ``min_samples`` entries of it with
        parameters: its statistics come from `X` and its Gaussian from a
        held-out part of them. The first call is :meth:`fit` with one epoch.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            Normal log entries, e.g. false positives confirmed by an operator.
        y : None
            Ignored.

        Returns
        -------
        self : ParameterValueDetector
            The updated detector.
        """
        with self._fitting():
            if hasattr(self, "offset_"):
                self._update(X)
            else:
                self._first_fit(X, epochs=1)
        return self

    def _update(self, X):
        """:meth:`partial_fit` of a fitted detector."""
        keys, values, previous = self._read(X, reset=False)
        known = pd.Index(self.modelled_keys_).get_indexer(keys) >= 0
        new_keys, new_stats = self._key_statistics(keys[~known], values[~known])
        n_old = len(self.modelled_keys_)
        self._add_keys(new_keys, new_stats)
        codes, target, present = self._standardise(keys, values)
        fit_rows = present.any(axis=1)
        validation = self._holdout(codes, fit_rows) & (codes >= n_old)
        with self._seeded_rng():
            if self.net_ is None:
                self.net_ = self._build_net()
                self.net_.initialize()
            elif len(new_keys):
                self._grow_net(len(self.modelled_keys_))
            train = np.flatnonzero(fit_rows & ~validation)
            if len(train):
                self._train(
                    *self._training_data(codes, target, present, previous, train),
                    epochs=1,
                )
        self._fit_gaussians(codes, target, present, previous, validation, n_old)
        self.n_unmodelled_ += int((~fit_rows).sum())

    def _first_fit(self, X, epochs):
        keys, values, previous = self._read(X, reset=True)
        self.device_ = resolve_device(self.device)
        self.offset_ = float(-norm.ppf(self.confidence))
        self.modelled_keys_ = keys[:0]
        n_dimensions = values.shape[1]
        self.dimensions_ = np.zeros((0, n_dimensions), dtype=bool)
        self.mean_ = self.scale_ = np.zeros((0, n_dimensions))
        self.error_mean_ = self.error_std_ = np.zeros(0)
        self.net_ = None
        self._add_keys(*self._key_statistics(keys, values))
        codes, target, present = self._standardise(keys, values)
        fit_rows = present.any(axis=1)
        self.n_unmodelled_ = int((~fit_rows).sum())
        if not len(self.modelled_keys_):
            return
        validation = self._holdout(codes, fit_rows)
        train = np.flatnonzero(fit_rows & ~validation)
        with self._seeded_rng():
            self.net_ = self._build_net()
            self._train(
                *self._training_data(codes, target, present, previous, train),
                epochs=epochs,
            )
        self._fit_gaussians(codes, target, present, previous, validation, 0)

    def _key_statistics(self, keys, values):
        """Keys with enough entries carrying parameters, and their statistics."""
        has_values = ~np.isnan(values).all(axis=1)
        keys, values = keys[has_values], values[has_values]
        frame = pd.DataFrame(values)
        by_key = frame.groupby(pd.factorize(keys)[0], sort=True)
        uniques = pd.unique(keys)
        counts = by_key.size().to_numpy()
        enough = counts >= self.min_samples
        dimensions = by_key.count().to_numpy()[enough] > 0
        mean = by_key.mean().to_numpy()[enough]
        scale = by_key.std(ddof=0).to_numpy()[enough]
        scale = np.where(np.isnan(scale) | (scale == 0), 1.0, scale)
        mean = np.where(dimensions, mean, 0.0)
        return uniques[enough], (dimensions, mean, scale)

    def _add_keys(self, keys, statistics):
        dimensions, mean, scale = statistics
        self.modelled_keys_ = np.concatenate([self.modelled_keys_, keys])
        self.dimensions_ = np.concatenate([self.dimensions_, dimensions])
        self.mean_ = np.concatenate([self.mean_, mean])
        self.scale_ = np.concatenate([self.scale_, scale])
        self.error_mean_ = np.concatenate([self.error_mean_, np.zeros(len(keys))])
        self.error_std_ = np.concatenate([self.error_std_, np.ones(len(keys))])

    def _holdout(self, codes, fit_rows):
        """Random held-out entries: ``validation_fraction`` of each key's, >= 2."""
        rng = check_random_state(self.random_state)
        rows = np.flatnonzero(fit_rows)
        row_codes = codes[rows]
        order = np.lexsort([rng.uniform(size=len(rows)), row_codes])
        sorted_codes = row_codes[order]
        starts = np.searchsorted(sorted_codes, sorted_codes)
        rank = np.arange(len(rows)) - starts
        counts = np.bincount(row_codes, minlength=len(self.modelled_keys_))
        n_held = np.clip(
            np.round(self.validation_fraction * counts), 2, np.maximum(counts - 1, 2)
        )
        validation = np.zeros(len(codes), dtype=bool)
        validation[rows[order]] = rank < n_held[sorted_codes]
        return validation

    def _fit_gaussians(self, codes, target, present, previous, validation, first):
        """Gaussian of the held-out errors of the keys from ``first`` on."""
        rows = np.flatnonzero(validation)
        if not len(rows):
            return
        errors = self._errors(codes, target, present, previous, rows)
        frame = pd.Series(errors).groupby(codes[rows])
        mean, std = frame.mean(), frame.std(ddof=0)
        self.error_mean_[mean.index] = mean.to_numpy()
        self.error_std_[std.index] = np.maximum(std.to_numpy(), _MIN_ERROR_STD)

    def _network_parts(self):
        from skorch import NeuralNet

        from ._network import MaskedMSELoss, ValueLSTM

        return NeuralNet, {
            "module": ValueLSTM,
            "module__n_keys": len(self.modelled_keys_),
            "module__n_values": len(self.value_names_),
            "criterion": MaskedMSELoss,
        }

    def _training_data(self, codes, target, present, previous, rows):
        history = self._history(target, present, previous[rows])
        inputs = {
            "key": codes[rows].astype(np.int64),
            "history": history.astype(np.float32),
        }
        y = np.concatenate([target[rows], present[rows]], axis=1)
        return inputs, y.astype(np.float32)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "offset_")

    # -- scoring -------------------------------------------------------------------

    def score_samples(self, X):
        """How normal each entry's parameters are: higher is more normal.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            The event table, with the columns seen in :meth:`fit`.

        Returns
        -------
        scores : ndarray of shape (n_entries,), dtype float64
            ``-(error - error_mean_[key]) / error_std_[key]``; 0 for entries not
            modelled.
        """
        codes, errors = self._entry_errors(X)
        scores = np.zeros(len(codes))
        modelled = ~np.isnan(errors)
        key = codes[modelled]
        scores[modelled] = (
            -(errors[modelled] - self.error_mean_[key]) / (self.error_std_[key])
        )
        return scores

    def score(self, X, y=None):
        """Negative mean prediction error of the modelled entries: higher is better.

        Lets :class:`~sklearn.model_selection.GridSearchCV` choose
        hyper-parameters on unlabeled normal logs.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            Normal log entries.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Minus the mean error, in squared training standard deviations; 0 when
            no entry is modelled.
        """
        _, errors = self._entry_errors(X)
        errors = errors[~np.isnan(errors)]
        return float(-errors.mean()) if len(errors) else 0.0

    def _entry_errors(self, X):
        """Key code and prediction error (NaN if not modelled) of each entry."""
        with self._scoring():
            keys, values, previous = self._read(X, reset=False)
            codes, target, present = self._standardise(keys, values)
            rows = np.flatnonzero(present.any(axis=1))
            errors = np.full(len(codes), np.nan)
            if len(rows):
                errors[rows] = self._errors(codes, target, present, previous, rows)
        return codes, errors

    def _errors(self, codes, target, present, previous, rows):
        """Masked mean squared error of ``rows``, computed in float64."""
        import torch

        module = self._scoring_module()
        device = self.net_.device
        errors = np.empty(len(rows))
        entry_bytes = self._scoring_bytes_per_entry(target.shape[1])
        with torch.no_grad():
            for chunk in gen_batches(len(rows), get_chunk_n_rows(entry_bytes)):
                batch = rows[chunk]
                history = self._history(target, present, previous[batch])
                prediction = (
                    module(
                        torch.as_tensor(codes[batch].astype(np.int64), device=device),
                        torch.as_tensor(history, device=device),
                    )
                    .cpu()
                    .numpy()
                )
                mask = present[batch]
                squared = np.where(mask, prediction - target[batch], 0.0) ** 2
                errors[chunk] = squared.sum(1) / mask.sum(1)
        return errors

    def _scoring_bytes_per_entry(self, n_dimensions):
        """Memory of scoring one entry, to batch entries within working_memory.

        The float64 LSTM holds about eight numbers per hidden unit, layer and
        step of the history, and its input (the history and the key's embedding)
        twice: 6.6 kB measured with the default parameters, 160 kB with
        ``hidden_size=256, num_layers=2, history=10``.
        """
        step = 8 * self.hidden_size * self.num_layers + 2 * (
            2 * n_dimensions + self.embedding_dim
        )
        return 8 * self.history * step

    def _history(self, target, present, previous):
        """Previous vectors and presence masks, oldest first; zeros as padding."""
        n_rows, n_dimensions = len(previous), target.shape[1]
        history = np.zeros((n_rows, self.history, 2 * n_dimensions))
        for step in range(self.history):
            rows = np.flatnonzero(previous[:, step] >= 0)
            source = previous[rows, step]
            history[rows, step, :n_dimensions] = target[source]
            history[rows, step, n_dimensions:] = present[source]
        return history

    # -- input ---------------------------------------------------------------------

    def _read(self, X, reset):
        """Keys, parameter values and the previous entries of each entry's key.

        Returns
        -------
        keys : ndarray of shape (n_entries,)
        values : ndarray of shape (n_entries, n_dimensions), float64, NaN if absent
        previous : ndarray of shape (n_entries, history), int
            Rows of the previous entries of the same key and group, oldest first;
            -1 where there are fewer.
        """
        table = validate_event_table(self, X, reset)
        n_entries = table.shape[0]
        if self.event is None:
            keys = np.zeros(n_entries, dtype=np.int64)
        else:
            keys = column_of(table, self.event, "event")
            if pd.isna(keys).any():
                raise ValueError(
                    f"The event column has {pd.isna(keys).sum()} missing keys: "
                    "drop or fill them."
                )
        groups, times = group_and_times(table, self.group, self.time)
        names, values = self._value_columns(table)
        order, sorted_groups = group_time_order(n_entries, groups, times)
        if times is not None:
            same_group = np.r_[False, sorted_groups[1:] == sorted_groups[:-1]]
            elapsed = np.full(n_entries, np.nan)
            sorted_times = times[order]
            elapsed[order[same_group]] = (sorted_times[1:] - sorted_times[:-1])[
                same_group[1:]
            ]
            names.append(_ELAPSED)
            values = np.column_stack([values, elapsed])
        if reset:
            self.value_names_ = np.asarray(names, dtype=object)
        # Each key's entries in each group, in time order.
        key_codes = pd.factorize(keys)[0]
        stream = np.lexsort([np.arange(n_entries), key_codes[order], sorted_groups])
        rows = order[stream]
        position = positions_in_runs(
            np.r_[
                True,
                (sorted_groups[stream][1:] != sorted_groups[stream][:-1])
                | (key_codes[rows][1:] != key_codes[rows][:-1]),
            ]
        )
        previous = np.full((n_entries, self.history), -1, dtype=np.intp)
        for lag in range(1, self.history + 1):
            entries = np.flatnonzero(position >= lag)
            previous[rows[entries], self.history - lag] = rows[entries - lag]
        return keys, values, previous

    def _standardise(self, keys, values):
        """Key codes (-1: not modelled), standardised values and presence masks."""
        codes = pd.Index(self.modelled_keys_).get_indexer(keys)
        known = codes >= 0
        target = np.zeros(values.shape)
        present = np.zeros(values.shape, dtype=bool)
        if known.any():
            key = codes[known]
            present[known] = ~np.isnan(values[known]) & self.dimensions_[key]
            standard = (values[known] - self.mean_[key]) / self.scale_[key]
            target[known] = np.where(present[known], standard, 0.0)
        return codes, target, present

    def _value_columns(self, table):
        """Names and float64 values of the parameter columns."""
        n_columns = table.shape[1]
        is_frame = isinstance(table, pd.DataFrame)
        if self.values is None:
            roles = {"event": self.event, "group": self.group, "time": self.time}
            taken = set()
            for role, spec in roles.items():
                if spec is not None:
                    column_of(table, spec, role)  # checks the spec
                    taken.add(
                        table.columns.get_loc(spec)
                        if isinstance(spec, str)
                        else spec % n_columns
                    )
            specs = [j for j in range(n_columns) if j not in taken]
        else:
            specs = list(self.values)
        names, columns = [], []
        for spec in specs:
            column = column_of(table, spec, "values")
            if isinstance(spec, str) or not is_frame:
                name = str(spec)
            else:
                name = str(table.columns[spec])
            try:
                column = np.asarray(column, dtype=np.float64)
            except TypeError as err:
                raise TypeError(
                    f"The value column {name!r} holds non-numeric objects ({err}): "
                    "parameter values must be numbers, NaN where absent."
                ) from err
            except ValueError as err:
                raise ValueError(
                    f"The value column {name!r} holds text ({err}): parameter "
                    "values must be numbers, NaN where absent. Convert them (e.g. "
                    "with numeric_parameters) or leave the column out of values."
                ) from err
            if np.isinf(column).any():
                raise ValueError(
                    f"The value column {name!r} holds infinite values: parameter "
                    "values must be finite numbers, NaN where absent."
                )
            names.append(name)
            columns.append(column)
        values = np.column_stack(columns) if columns else np.empty((len(table), 0))
        return names, values

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN is an absent parameter.
        tags.input_tags.allow_nan = True
        return tags
