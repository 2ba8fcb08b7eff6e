# SPDX-License-Identifier: BSD-3-Clause
"""DeepLog's log-key anomaly detector: the scikit-learn face of the LSTM."""

import math
import warnings
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import _fit_context
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from tqdm.auto import tqdm

from ._torch_nets import TorchDetector, resolve_device
from ._windower import NO_EVENT, SESSION_END, is_marker

__all__ = ["DeepLogDetector"]

#: Embedding index of the "no event" padding marker (context only).
PAD_CODE = 0
#: Embedding index shared by all keys unseen in training (context only).
UNKNOWN_CODE = 1
#: Embedding index of the first vocabulary key; key ``j`` has index ``j + KEY_OFFSET``.
KEY_OFFSET = 2

# Scoring's memory is bounded by scikit-learn's working_memory (MiB, 1024 by
# default; set it with sklearn.config_context), whatever the input size: windows
# are scored in chunks of rows, and the distinct contexts of a chunk run through
# the network in batches. The bytes budgeted per window value of a chunk, per
# log-probability of a batch (contexts x outputs; several copies of them are
# made) and per LSTM gate value of a batch (contexts x 4 hidden units) make the
# default 4 Mi window values and 4 Mi log-probabilities or 8 Mi gate values, of
# which benchmarks/memory.py measures 250 to 360 MiB in use: the rest is room for
# what is not chunked (the input, the scores). On HDFS the gates bound the batch,
# and all the distinct contexts of its test log fit one: prefixes are shared
# across the whole log.
_CHUNK_BYTES_PER_VALUE = 256
_BATCH_BYTES_PER_LOG_PROBABILITY = 256
_BATCH_BYTES_PER_GATE = 128


class DeepLogDetector(TorchDetector):
    """DeepLog's log-key anomaly detector (Du et al., CCS 2017).

    An LSTM learns from normal logs to predict the next log key from the keys
    before it. A log entry is normal if its key is among the ``top_g`` most likely
    predictions, anomalous otherwise.

    Read more in the :ref:`User Guide <detector>`.

    Parameters
    ----------
    top_g : int, default=9
        An entry is normal if its key is among the ``top_g`` most likely next keys
        (``g`` in the paper). With `false_alarms`, it only sets how many keys
        :meth:`predict_next` lists by default.
    hidden_size : int, default=64
        LSTM units per layer (``alpha`` in the paper).
    num_layers : int, default=1
        Number of stacked LSTM layers (``L`` in the paper, which used 2 and found
        the results insensitive to it). On the HDFS benchmark one layer detects
        as well, varies less from seed to seed and trains faster.
    embedding_dim : int, default=16
        Size of the learned embedding of a log key.
    max_epochs : int, default=50
        Training epochs of :meth:`fit`. An epoch is one pass over the distinct
        (context, key) windows, each weighted by its count.
    batch_size : int, default=128
        Distinct windows per training step.
    lr : float, default=1e-2
        Learning rate of the Adam optimizer, constant; :meth:`partial_fit` uses
        the value set at the time of the call (lower it for gentler updates).
    min_end_probability : float, default=1e-3
        With complete sessions (``SequenceWindower(complete_sessions=True)``), the
        end of a session is normal when the model gives it at least this
        probability. The end is judged by probability, not rank: where only a few
        keys can follow, the top g also hold keys that cannot follow at all, and
        the end, more frequent than those, ranks among them even where a session
        never ends, so a session cut short would pass a top-g test. Not used
        with `false_alarms`, whose threshold judges the end as it judges keys.
    contamination : 'auto' or float, default='auto'
        With 'auto' (and no `false_alarms`), the threshold is DeepLog's top-g
        rule (``offset_ = 0``). With a
        float in (0, 0.5], ``offset_`` is set so that this proportion of the
        training entries is flagged.
    false_alarms : float or None, default=None
        A false-alarm budget in (0, 1), which replaces the top-g rule: an entry
        is anomalous when its key's probability is below a threshold, chosen
        without labels so that a new normal group (session, machine; entry when
        :meth:`fit` is given no `groups`) is flagged with probability at most
        this. :meth:`fit` holds out `validation_fraction` of the training
        groups, trains on the others and sets the threshold on the held-out
        ones (see :meth:`calibrate`): it holds for this very network, whose
        vocabulary still has the keys of all the groups. None keeps the top-g
        rule (and `contamination`).
    validation_fraction : float, default=0.2
        With `false_alarms`: the fraction of the training groups held out to set
        the threshold (without `groups`, the last windows, in their order: the
        most recent entries of an open-ended log).
    device : str, default='auto'
        Torch device for training and scoring: 'auto' (cuda when available, else
        cpu), 'cpu', 'cuda', 'cuda:1', 'mps', ... A device that is not available
        on this machine raises a ValueError.
    n_threads : int or None, default=1
        Torch threads on the cpu while fitting and scoring; 1 is fastest for
        DeepLog's small networks. None leaves torch's setting. Torch's setting is
        restored after each call.
    random_state : int, RandomState instance or None, default=None
        Seeds the network's initialisation and the shuffling of the training data
        (torch's global random state is left untouched). Pass an int for
        reproducible results.
    verbose : int, default=0
        Progress shown on stderr, as set at each call (an update after
        ``set_params(verbose=0)`` is silent): 0 nothing; 1 one progress bar over
        the training epochs, with the training loss; 2 also progress bars over
        the batches of each epoch and of scoring.

    Attributes
    ----------
    keys_ : ndarray of shape (n_keys,)
        The vocabulary of log keys, sorted at :meth:`fit`; keys that
        :meth:`partial_fit` learns are appended.
    offset_ : float
        Threshold on :meth:`score_samples`: ``decision_function = score_samples -
        offset_``. With `false_alarms`, the natural log of the probability
        threshold.
    validation_false_alarms_ : float
        With `false_alarms`: the fraction of the held-out groups (or entries)
        that the threshold flags, at most `false_alarms`.
    n_validation_ : int
        With `false_alarms`: the held-out groups (or entries) the threshold was
        set on.
    net_ : skorch.NeuralNet
        The trained network (module :class:`~sklearn_deeplog._network.LogKeyLSTM`).
    session_end_ : bool
        Whether the training windows carried the end-of-session column of
        ``SequenceWindower(complete_sessions=True)``; the end of a session is then
        a predicted event too.
    device_ : str
        The device used.
    n_features_in_ : int
        Number of columns of the windows seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during :term:`fit`. Defined only when `X` has feature
        names that are all strings.

    See Also
    --------
    SequenceWindower : Build the windows from an event table.
    sklearn.ensemble.IsolationForest : A general-purpose outlier detector.

    Notes
    -----
    Input: windows of shape (n_entries, window + 1), the context keys (oldest
    first) then the key to check, as :class:`SequenceWindower` makes them. The
    :data:`NO_EVENT` marker (``-inf``) is context only, never a key to predict.

    :meth:`score_samples` is ``log p(observed key) - log p(g-th most likely key)``
    in float64, so with ``contamination='auto'`` "the key is among the top g" is
    exactly ``decision_function(X) >= 0``. With `false_alarms` it is ``log
    p(observed key)``, and ``offset_`` the log of the probability threshold. A
    key never seen in training scores one nat below the least likely known key:
    an anomaly, never an error.

    Windows repeat a lot in logs, so training and scoring work on the distinct
    windows, each once, and scatter the results back. Scoring works in chunks of
    rows and batches of contexts, so its memory does not grow with the input:
    scikit-learn's ``working_memory`` bounds it (see
    :func:`sklearn.config_context`).

    Ctrl-C during training stops it as skorch does: :meth:`fit` and
    :meth:`partial_fit` return a usable detector with the weights learned so far
    and warn how many epochs were completed (``net_.history`` has them). Ctrl-C
    anywhere else in these methods propagates and leaves the detector unfitted.

    References
    ----------
    .. [1] M. Du, F. Li, G. Zheng and V. Srikumar, "DeepLog: Anomaly Detection and
       Diagnosis from System Logs through Deep Learning", ACM CCS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_deeplog import DeepLogDetector
    >>> X = np.array([[1, 2, 3], [2, 3, 1], [3, 1, 2]] * 20)
    >>> detector = DeepLogDetector(top_g=1, max_epochs=50, random_state=0).fit(X)
    >>> detector.predict([[1, 2, 3], [1, 2, 1], [1, 2, 7]])
    array([ 1, -1, -1])
    """

    # groups is routed only on request: GridSearchCV(cv=GroupKFold) passes
    # groups to its splitter, and a top-g detector has no use for them.
    __metadata_request__fit = {"groups": False}
    __metadata_request__partial_fit = {"groups": False}

    _parameter_constraints: dict = {
        **TorchDetector._parameter_constraints,
        "top_g": [Interval(Integral, 1, None, closed="left")],
        "min_end_probability": [Interval(Real, 0, 1, closed="neither")],
        "contamination": [
            StrOptions({"auto"}),
            Interval(Real, 0, 0.5, closed="right"),
        ],
        "false_alarms": [Interval(Real, 0, 1, closed="neither"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        *,
        top_g=9,
        hidden_size=64,
        num_layers=1,
        embedding_dim=16,
        max_epochs=50,
        batch_size=128,
        lr=1e-2,
        min_end_probability=1e-3,
        contamination="auto",
        false_alarms=None,
        validation_fraction=0.2,
        device="auto",
        n_threads=1,
        random_state=None,
        verbose=0,
    ):
        self.top_g = top_g
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.embedding_dim = embedding_dim
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.min_end_probability = min_end_probability
        self.contamination = contamination
        self.false_alarms = false_alarms
        self.validation_fraction = validation_fraction
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    # -- training ------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None, groups=None):
        """Learn the log-key model from normal windows.

        Parameters
        ----------
        X : array-like of shape (n_entries, window + 1)
            Windows of normal log entries: context keys, then the key.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_entries,), default=None
            Non-negative weights of the windows: a window's weight multiplies
            its loss, so the distinct windows weighted by their counts give the
            model of all the windows, and a window of weight 0 is left out.
            The false-alarm budget's threshold counts groups (or windows) with
            no weights.
        groups : array-like of shape (n_entries,), default=None
            Each window's group (session, machine): the windower's group column.
            Used only with `false_alarms`: whole groups are held out and the
            budget counts flagged groups. In a pipeline, pass it with the step's
            name, e.g. ``deeplogdetector__groups=events["session"]`` (with
            metadata routing: ``set_fit_request(groups=True)``).

        Returns
        -------
        self : DeepLogDetector
            The fitted detector.
        """
        with self._fitting():
            # Everything that may refuse the input comes before any change.
            X, session_end = self._validate_windows(X, reset=True)
            groups = self._validate_budget(groups, X, session_end, stacklevel=4)
            X, sample_weight, groups = _weighted(X, sample_weight, groups)
            held = self._held_out(X, groups)
            device = resolve_device(self.device)
            for name in _CALIBRATION_ATTRIBUTES:  # of an earlier fit
                self.__dict__.pop(name, None)
            self.device_ = device
            self.session_end_ = session_end
            self.keys_ = _vocabulary(X, session_end)
            self._warn_if_every_key_is_normal()
            train = _rows(sample_weight, ~held)
            with self._seeded_rng():
                self.net_ = self._build_net()
                self._train(*self._training_data(X[~held], train), self.max_epochs)
            if self.false_alarms is None:
                self._set_offset(X)
            else:
                self._calibrate(X[held], _rows(groups, held), stacklevel=4)
        return self

    def _validate_budget(self, groups, X, session_end, stacklevel):
        """Check the budget's parameters; `groups` as an array, one per window."""
        self._check_one_threshold()
        if groups is None:
            if self.false_alarms is not None and session_end:
                warnings.warn(
                    "The windows mark the ends of sessions, but no groups were "
                    "given: the false-alarm budget counts entries, and many more "
                    f"than {self.false_alarms:g} of the sessions may be flagged. "
                    "Pass each window's session as groups (in a pipeline, e.g. "
                    "deeplogdetector__groups=events['session']).",
                    UserWarning,
                    stacklevel=stacklevel,
                )
            return None
        groups = np.asarray(groups)
        if groups.shape != (len(X),):
            raise ValueError(
                f"groups must hold one group per window: {len(X)} windows, groups "
                f"of shape {groups.shape}."
            )
        return groups

    def _check_one_threshold(self):
        if self.false_alarms is not None and self.contamination != "auto":
            raise ValueError(
                "Both false_alarms and contamination set a threshold: set one of "
                "them (contamination='auto' with false_alarms)."
            )

    def _held_out(self, X, groups):
        """Rows held out to set the threshold: random groups, else the last rows.

        None held out without a budget.
        """
        if self.false_alarms is None:
            return np.zeros(len(X), dtype=bool)
        codes = np.arange(len(X)) if groups is None else _group_codes(groups)
        n_units = codes.max() + 1 if len(codes) else 0
        if n_units < 2:
            raise ValueError(
                f"false_alarms needs at least 2 training {_units(groups)}, one to "
                f"train on and one to set the threshold on: got {n_units} "
                f"({len(X)} sample{'s' * (len(X) != 1)})."
            )
        n_held = min(max(round(self.validation_fraction * n_units), 1), n_units - 1)
        if groups is None:  # the most recent entries
            return codes >= n_units - n_held
        rng = check_random_state(self.random_state)
        return np.isin(codes, rng.permutation(n_units)[:n_held])

    def _calibrate(self, X, groups, stacklevel):
        """Set the probability threshold from normal windows (see calibrate)."""
        scores = self._score_rows(X)
        if groups is None:
            worst = scores
        else:  # a group is flagged when any of its entries is
            codes = _group_codes(groups)
            worst = np.full(codes.max() + 1, np.inf)
            np.minimum.at(worst, codes, scores)
        n = len(worst)
        # The budget as written (0.29, not the float below it): an exact floor.
        rank = math.floor(Fraction(repr(float(self.false_alarms))) * (n + 1))
        self.offset_ = float(np.partition(worst, max(rank - 1, 0))[max(rank - 1, 0)])
        self.validation_false_alarms_ = float(np.mean(worst < self.offset_))
        self.n_validation_ = n
        if rank == 0:
            warnings.warn(
                f"Only {_count(n, groups)} to set the threshold on: a "
                f"false-alarm budget of {self.false_alarms:g} needs at least "
                f"{_count(math.ceil(1 / self.false_alarms) - 1, groups)}, so the "
                "threshold flags only what scores below all of them and may flag "
                f"more than the budget of new {_units(groups)}. Train on more "
                f"{_units(groups)} or raise false_alarms.",
                UserWarning,
                stacklevel=stacklevel,
            )

    def calibrate(self, X, groups=None):
        """Set the threshold again, from normal windows, at the `false_alarms` budget.

        :meth:`fit` sets it on held-out training groups, as does the first call
        of :meth:`partial_fit`; later calls keep it. Call this to set it again,
        e.g. after updates or a change of `false_alarms`, on normal windows the
        model did not learn from, or to give a detector fitted with the top-g
        rule a false-alarm budget (``set_params(false_alarms=...)`` first).

        Parameters
        ----------
        X : array-like of shape (n_entries, window + 1)
            Windows of normal log entries.
        groups : array-like of shape (n_entries,), default=None
            Each window's group: the budget counts flagged groups; None counts
            flagged entries.

        Returns
        -------
        self : DeepLogDetector
            The detector, with ``offset_``, ``validation_false_alarms_`` and
            ``n_validation_`` set from `X`.

        Notes
        -----
        Of the n groups' scores (a group's is its lowest entry's), the threshold
        is the k-th lowest, with k the integer part of ``false_alarms * (n +
        1)``: a new normal group, exchangeable with these, scores below it with
        probability k / (n + 1), at most the budget (split conformal
        prediction). With fewer than ``1 / false_alarms - 1`` groups, k is 0 and
        no threshold can promise the budget: the lowest score is taken, with a
        warning.
        """
        check_is_fitted(self)
        if self.false_alarms is None:
            raise ValueError(
                "calibrate sets the threshold of a false-alarm budget: set one "
                "first, e.g. set_params(false_alarms=0.01)."
            )
        with self._scoring():
            X, _ = self._validate_windows(X, reset=False)
            groups = self._validate_budget(groups, X, self.session_end_, stacklevel=3)
            self._calibrate(X, groups, stacklevel=3)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None, groups=None):
        """Update the model online: one more training epoch on these windows.

        Training continues from the learned weights. Keys never seen before are
        added to the vocabulary (the embedding and output layers grow, learned
        weights are kept; Adam's moment estimates restart). One call is one pass
        over the distinct windows of ``X``; to make a flagged false positive
        normal, call it until :meth:`predict` accepts the window.

        Parameters
        ----------
        X : array-like of shape (n_entries, window + 1)
            Windows to learn as normal, e.g. false positives confirmed by an operator.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_entries,), default=None
            Non-negative weights of the windows, as for :meth:`fit`.
        groups : array-like of shape (n_entries,), default=None
            Each window's group. With `false_alarms`, the first call holds out
            some of them as :meth:`fit` does and sets the threshold on them;
            later calls keep it (see :meth:`calibrate`) and ignore `groups`.

        Returns
        -------
        self : DeepLogDetector
            The updated detector.
        """
        first_call = not hasattr(self, "net_")
        with self._fitting():
            X, session_end = self._validate_windows(X, reset=first_call)
            if first_call:
                groups = self._validate_budget(groups, X, session_end, stacklevel=4)
            X, sample_weight, groups = _weighted(X, sample_weight, groups)
            held = np.zeros(len(X), dtype=bool)
            if first_call:
                held = self._held_out(X, groups)
                self.device_ = resolve_device(self.device)
                self.session_end_ = session_end
                self.keys_ = _vocabulary(X, session_end)
                self._warn_if_every_key_is_normal()
            new_keys = _vocabulary(X, session_end)
            new_keys = new_keys[pd.Index(self.keys_).get_indexer(new_keys) < 0]
            _warn_on_foreign_key_type(new_keys, self.keys_)
            with self._seeded_rng():
                if first_call:
                    self.net_ = self._build_net()
                    self.net_.initialize()
                elif len(new_keys):
                    self._grow(new_keys)
                # lr as set now, e.g. lower for updates
                train = _rows(sample_weight, ~held)
                self._train(*self._training_data(X[~held], train), epochs=1)
            if first_call and self.false_alarms is not None:
                self._calibrate(X[held], _rows(groups, held), stacklevel=4)
            elif first_call:
                self._set_offset(X)
        return self

    def _warn_if_every_key_is_normal(self):
        """Warn when ``top_g`` covers every output: only unseen keys are flagged.

        Not with a float ``contamination`` or a ``false_alarms`` budget, whose
        thresholds flag known keys too.
        """
        if (
            self.top_g >= self._n_outputs
            and self.contamination == "auto"
            and self.false_alarms is None
        ):
            outputs, flagged = f"{len(self.keys_)} keys", "keys never seen in training"
            if self.session_end_:
                outputs += " and the end of a session"
                flagged += " and sessions ending where an end is unlikely"
            warnings.warn(
                f"top_g={self.top_g} is at least the number of outputs the model "
                f"learned ({outputs}): every one of them is among the top_g most "
                f"likely, so only {flagged} will be flagged. "
                f"Set top_g below {self._n_outputs}, or a false-alarm budget "
                "instead (e.g. false_alarms=0.01).",
                UserWarning,
                stacklevel=3,
            )

    def _network_parts(self):
        import torch

        from ._network import LogKeyLSTM, WeightedNeuralNet

        return WeightedNeuralNet, {
            "module": LogKeyLSTM,
            "module__n_keys": len(self.keys_),
            "module__session_end": self.session_end_,
            "criterion": torch.nn.CrossEntropyLoss,
            "criterion__reduction": "none",
        }

    def _grow(self, new_keys):
        """Append ``new_keys`` to the vocabulary, keeping the learned weights."""
        self.keys_ = np.concatenate([self.keys_, new_keys])
        self._grow_net(len(self.keys_))

    def _training_data(self, X, sample_weight=None):
        """Distinct (context, target) pairs, weighted by their (weighted) counts."""
        contexts, targets, rows = self._queries(X)
        n_outputs = self._n_outputs
        distinct, context_index = _unique_rows(contexts, self._n_codes)
        pairs, inverse = np.unique(
            context_index * n_outputs + targets, return_inverse=True
        )
        weights = None if sample_weight is None else sample_weight[rows]
        counts = np.bincount(inverse.ravel(), weights=weights, minlength=len(pairs))
        weights = (counts / counts.mean()).astype(np.float32)
        inputs = {"context": distinct[pairs // n_outputs], "sample_weight": weights}
        return inputs, (pairs % n_outputs).astype(np.int64)

    def _set_offset(self, X):
        if self.contamination == "auto":
            self.offset_ = 0.0
        else:
            scores = self._score_rows(X)
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))

    @property
    def _n_outputs(self):
        return len(self.keys_) + int(self.session_end_)

    @property
    def _n_codes(self):
        return len(self.keys_) + KEY_OFFSET

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    # -- scoring -------------------------------------------------------------------

    def score_samples(self, X):
        """How normal each entry is: higher is more normal.

        Parameters
        ----------
        X : array-like of shape (n_entries, window + 1)
            Windows: context keys, then the key to check.

        Returns
        -------
        scores : ndarray of shape (n_entries,), dtype float64
            ``log p(key) - log p(g-th most likely key)``: non-negative exactly when
            the key is among the ``top_g`` predictions. With complete sessions, the
            last entry of a session scores the minimum of this and ``log p(end of
            session) - log min_end_probability``. With `false_alarms`, ``log
            p(key)`` (and ``log p(end of session)`` for the last entry of a
            session, if lower).
        """
        with self._scoring():
            self._check_threshold_rule()
            X, _ = self._validate_windows(X, reset=False)
            return self._score_rows(X)

    def _check_threshold_rule(self):
        """Check that ``offset_`` was set for the rule `false_alarms` chooses."""
        self._check_one_threshold()
        calibrated = hasattr(self, "n_validation_")
        if calibrated and self.false_alarms is None:
            raise ValueError(
                "The threshold was set for a false-alarm budget, and false_alarms "
                "is now None: fit again to use the top-g rule."
            )
        if not calibrated and self.false_alarms is not None:
            raise ValueError(
                "false_alarms was set after fitting with the top-g rule: set its "
                "threshold with calibrate(X, groups) on normal windows, or fit "
                "again."
            )

    def score(self, X, y=None):
        """Mean log-likelihood of the observed keys: higher is better.

        Lets :class:`~sklearn.model_selection.GridSearchCV` choose
        hyper-parameters on unlabeled normal logs.

        Parameters
        ----------
        X : array-like of shape (n_entries, window + 1)
            Windows of normal log entries.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean of ``log p(observed key)`` (and of ``log p(end of session)`` for the
            last entries of complete sessions).
        """
        with self._scoring():
            X, _ = self._validate_windows(X, reset=False)
            total, count = 0.0, 0
            for chunk in _row_chunks(X):
                contexts, targets, _ = self._queries(chunk)
                total += self._score_queries(contexts, targets)[0].sum()
                count += len(targets)
        return float(total / count)

    def predict_next(self, X, k=None):
        """The keys the model expected at each entry, most likely first.

        The basis of diagnosis: for a flagged entry, what should have come instead.

        Parameters
        ----------
        X : array-like of shape (n_entries, window + 1)
            Windows; only the context columns are used.
        k : int, default=None
            Number of keys to return; ``None`` means ``top_g``. At most the number
            of possible outputs.

        Returns
        -------
        keys : ndarray of shape (n_entries, k)
            The expected keys; :data:`SESSION_END` stands for the end of a session.
        probabilities : ndarray of shape (n_entries, k)
            Their probabilities.
        """
        with self._scoring():
            X, _ = self._validate_windows(X, reset=False)
            if k is not None and (
                not isinstance(k, Integral) or isinstance(k, (bool, np.bool_)) or k < 1
            ):
                raise ValueError(f"k must be a positive integer or None, got {k!r}.")
            k = min(self.top_g if k is None else k, self._n_outputs)
            outputs = self.keys_
            if self.session_end_:
                outputs = np.concatenate([[SESSION_END], outputs])
            keys = np.empty((len(X), k), dtype=outputs.dtype)
            probabilities = np.empty((len(X), k))
            start = 0
            for chunk in _row_chunks(X):
                contexts, _, _ = self._queries(chunk, session_ends=False)
                distinct, context_index = _unique_rows(contexts, self._n_codes)
                indices = np.empty((len(distinct), k), dtype=np.intp)
                log_probs = np.empty((len(distinct), k))
                for first, batch in self._log_probs(distinct):
                    top = batch.topk(k, dim=1)
                    indices[first : first + len(batch)] = top.indices.cpu().numpy()
                    log_probs[first : first + len(batch)] = top.values.cpu().numpy()
                stop = start + len(chunk)
                keys[start:stop] = outputs[indices[context_index]]
                probabilities[start:stop] = np.exp(log_probs[context_index])
                start = stop
        return keys, probabilities

    def _score_rows(self, X):
        """Scores of the windows X, chunk by chunk (see _CHUNK_BYTES_PER_VALUE)."""
        return np.concatenate([self._score_chunk(chunk) for chunk in _row_chunks(X)])

    def _score_chunk(self, X):
        contexts, targets, rows = self._queries(X)
        log_likelihood, top_g_threshold = self._score_queries(contexts, targets)
        n_rows = len(X)
        # With complete sessions, a session's last entry also answers for its end,
        # which is judged by its probability (see min_end_probability).
        scores, end_scores = log_likelihood[:n_rows], log_likelihood[n_rows:]
        if self.false_alarms is None:
            scores = scores - top_g_threshold[:n_rows]
            end_scores = end_scores - np.log(self.min_end_probability)
        np.minimum.at(scores, rows[n_rows:], end_scores)
        return scores

    def _score_queries(self, contexts, targets):
        """Log-likelihood and top-g threshold of each (context, target) query.

        Each distinct context is run through the network once, in batches; each
        distinct (context, target) pair is scored once; results are scattered back.
        ``targets`` of -1 (unseen keys) score one nat below the least likely output.
        """
        import torch

        n_outputs = self._n_outputs
        top_g = min(self.top_g, n_outputs)
        distinct, context_index = _unique_rows(contexts, self._n_codes)
        pairs, pair_index = np.unique(
            context_index * (n_outputs + 1) + (targets + 1), return_inverse=True
        )
        pair_contexts = pairs // (n_outputs + 1)
        pair_targets = pairs % (n_outputs + 1) - 1
        log_likelihood = np.empty(len(pairs))
        threshold = np.empty(len(pairs))
        for start, log_probs in self._log_probs(distinct):
            lo, hi = np.searchsorted(pair_contexts, [start, start + len(log_probs)])
            rows = torch.as_tensor(
                pair_contexts[lo:hi] - start, device=log_probs.device
            )
            cols = torch.as_tensor(pair_targets[lo:hi], device=log_probs.device)
            # Both come from the same float64 array, so a key tied with the g-th
            # scores exactly 0 (normal).
            known = log_probs[rows, cols.clamp(min=0)]
            unseen = log_probs.min(dim=1).values[rows] - 1.0
            kth = log_probs.topk(top_g, dim=1).values[:, -1]
            log_likelihood[lo:hi] = torch.where(cols >= 0, known, unseen).cpu().numpy()
            threshold[lo:hi] = kth[rows].cpu().numpy()
        return log_likelihood[pair_index], threshold[pair_index]

    def _log_probs(self, contexts):
        """Yield ``(start, float64 log-probabilities)`` for batches of contexts."""
        import torch

        # Contexts come sorted (_unique_rows), so a batch's share many prefixes.
        module = self._scoring_module()
        context_bytes = max(
            _BATCH_BYTES_PER_LOG_PROBABILITY * self._n_outputs,
            _BATCH_BYTES_PER_GATE * 4 * module.lstm.hidden_size,
        )
        batches = gen_batches(len(contexts), get_chunk_n_rows(context_bytes))
        progress = tqdm(
            list(batches), desc="scoring", unit="batch", disable=self.verbose < 2
        )
        with torch.no_grad():
            for batch in progress:
                logits = module.forward_shared_prefixes(contexts[batch])
                yield batch.start, torch.log_softmax(logits, dim=1)

    # -- windows -------------------------------------------------------------------

    def _queries(self, X, session_ends=True):
        """Encode windows as (context codes, target output, row) queries.

        Every row asks for its key after its context; with complete sessions (and
        ``session_ends``), the last entry of a session also asks for the end of the
        session after the context that ends with its key.
        """
        window = X.shape[1] - 1 - int(self.session_end_)
        codes = self._encode(X[:, : window + 1])
        contexts = codes[:, :window] if window else np.full((len(X), 1), PAD_CODE)
        keys = codes[:, window]
        first_key_output = int(self.session_end_)
        targets = np.where(
            keys == UNKNOWN_CODE, -1, keys - KEY_OFFSET + first_key_output
        )
        rows = np.arange(len(X))
        if self.session_end_ and session_ends:
            ends = np.flatnonzero(is_marker(X[:, -1], SESSION_END))
            end_contexts = codes[ends, 1:] if window else contexts[ends]
            contexts = np.concatenate([contexts, end_contexts])
            targets = np.concatenate(
                [targets, np.zeros(len(ends), dtype=targets.dtype)]
            )
            rows = np.concatenate([rows, ends])
        return contexts, targets.astype(np.int64), rows

    def _encode(self, values):
        """Embedding indices of window values (keys, unseen keys, NO_EVENT)."""
        flat = values.ravel()
        index = pd.Index(self.keys_).get_indexer(flat)
        codes = index + KEY_OFFSET
        # NO_EVENT is never a key: look for it among the few values not found.
        missing = np.flatnonzero(index < 0)
        padding = is_marker(flat[missing], NO_EVENT)
        codes[missing] = np.where(padding, PAD_CODE, UNKNOWN_CODE)
        _warn_on_foreign_key_type(pd.unique(flat[missing[~padding]]), self.keys_)
        return codes.astype(np.int64).reshape(values.shape)

    def _validate_windows(self, X, reset):
        """Validate windows; return them and whether they end with a session column."""
        X = validate_data(self, X, dtype=None, ensure_all_finite=False, reset=reset)
        if X.dtype.kind in "US":
            X = X.astype(object)
        if X.dtype.kind == "O":
            _check_object_keys(X)
        elif X.dtype.kind not in "biuf":
            raise TypeError(
                f"Log keys must be numbers or strings; got windows of dtype {X.dtype}."
            )
        elif X.dtype.kind == "f" and np.isnan(X).any():
            raise ValueError(_NAN_MESSAGE)
        ends = is_marker(X[:, -1], SESSION_END)
        ends_with_markers = X.shape[1] >= 2 and bool(
            (is_marker(X[:, -1], NO_EVENT) | ends).all()
        )
        # Infinite keys could pass for an end-of-session column: every session
        # ends (+inf somewhere), and where every window ends one, every session
        # has a single entry (no context).
        if reset and ends_with_markers and not ends.any():
            raise ValueError(
                "X's last column holds only -inf: log keys must be finite numbers "
                "or strings, and an end-of-session column (SequenceWindower("
                "complete_sessions=True)) marks the last entry of each session "
                "with +inf. Build the windows with SequenceWindower."
            )
        if reset and ends.all() and not is_marker(X[:, :-2], NO_EVENT).all():
            raise ValueError(
                "X's last column holds only +inf, yet the windows have context "
                "keys: log keys must be finite numbers or strings, and an "
                "end-of-session column (SequenceWindower(complete_sessions=True)) "
                "is all +inf only for sessions of one entry, without context. "
                "Build the windows with SequenceWindower."
            )
        # The layout is read off the training windows, then required.
        session_end = ends_with_markers if reset else self.session_end_
        if session_end and not ends_with_markers:
            raise ValueError(
                "The windows' layout differs from the training windows': the model "
                "was trained with an end-of-session column (SequenceWindower("
                "complete_sessions=True)) and X's last column holds keys. Build the "
                "windows with the windower used in training."
            )
        if not session_end and ends_with_markers and ends.any():
            raise ValueError(
                "The windows' layout differs from the training windows': X's last "
                "column is an end-of-session column (SequenceWindower("
                "complete_sessions=True)) but the model was trained without one. "
                "Build the windows with the windower used in training."
            )
        key_column = X.shape[1] - 1 - int(session_end)
        if is_marker(X[:, key_column], NO_EVENT).any():
            raise ValueError(
                f"The key column (column {key_column} of the windows) holds the "
                "NO_EVENT marker -inf: it marks missing context and cannot be a key "
                "to check. Build the windows with SequenceWindower."
            )
        if is_marker(X[:, : key_column + 1], SESSION_END).any():
            raise ValueError(
                "Input X contains +inf (inf) outside the end-of-session column: "
                "log keys must be finite numbers or strings."
            )
        return X, session_end

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


# What fit and calibrate set with a false-alarm budget, besides offset_.
_CALIBRATION_ATTRIBUTES = ("validation_false_alarms_", "n_validation_")


def _group_codes(groups):
    """Each entry's group as a number from 0; missing groups (NaN, None) are one."""
    return pd.factorize(groups, use_na_sentinel=False)[0]


def _units(groups):
    """What a false-alarm budget counts: groups, or entries without groups."""
    return "entries" if groups is None else "groups"


def _count(n, groups):
    """``n`` of what a false-alarm budget counts, e.g. "1 group", "5 entries"."""
    if n == 1:
        return "1 entry" if groups is None else "1 group"
    return f"{n} {_units(groups)}"


def _rows(values, rows):
    """The values (groups, weights) of some rows; None without values."""
    return None if values is None else values[rows]


def _weighted(X, sample_weight, groups):
    """The windows of positive weight, their weights (None if none) and groups."""
    if sample_weight is None:
        return X, None, groups
    sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
    kept = sample_weight > 0
    return X[kept], sample_weight[kept], _rows(groups, kept)


_NAN_MESSAGE = (
    "Input X contains NaN: a log key is missing. Drop or fill missing keys "
    "before windowing."
)


def _check_object_keys(X):
    """Accept strings and real numbers as keys; reject missing and other values."""
    try:
        values = pd.unique(X.ravel())
    except TypeError as err:
        raise TypeError(
            "Log keys must be hashable: each key argument must be a string or a "
            f"number ({err})."
        ) from err
    for value in values:
        if (
            value is None
            or value is pd.NA
            or (isinstance(value, Real) and value != value)
        ):
            raise ValueError(_NAN_MESSAGE)
        if not isinstance(value, (str, Real)):
            raise TypeError(
                "Unsupported log key: a key argument must be a string or a number, "
                f"not {type(value).__name__} ({value!r})."
            )


def _key_types(keys):
    """The types of the keys, a subset of {"number", "string"}."""
    return {"string" if isinstance(key, str) else "number" for key in keys}


def _warn_on_foreign_key_type(new_keys, keys):
    """Warn when keys the model has not seen are of a type it has never seen.

    Keys read from two files may differ in type (``5`` and ``"5"``): they are
    distinct keys, so every key would silently count as an unseen one.
    """
    foreign = _key_types(new_keys) - _key_types(keys)
    if foreign and len(keys):
        example = next(k for k in new_keys if _key_types([k]) <= foreign)
        warnings.warn(
            f"X holds {foreign.pop()} log keys (e.g. {example!r}) but the model "
            f"learned only {_key_types(keys).pop()} keys (e.g. {keys[0]!r}): a "
            f"{type(example).__name__} key never equals a {type(keys[0]).__name__} "
            "one, so these are new keys to the model. If they are the same keys, "
            "convert them to the training type (e.g. events['event'].astype(int)).",
            UserWarning,
            stacklevel=3,
        )


def _vocabulary(X, session_end):
    """Sorted distinct keys of the windows (markers excluded)."""
    values = X[:, : X.shape[1] - int(session_end)].ravel()
    values = pd.unique(values[~is_marker(values, NO_EVENT)])
    try:
        return np.sort(values)
    except TypeError:  # mixed types, e.g. int and str keys
        return np.array(sorted(values, key=lambda v: (type(v).__name__, v)), object)


def _row_chunks(X):
    """Consecutive row blocks of X within scikit-learn's working_memory."""
    rows = get_chunk_n_rows(_CHUNK_BYTES_PER_VALUE * X.shape[1])
    return (X[batch] for batch in gen_batches(len(X), rows))


def _unique_rows(codes, n_codes):
    """Distinct rows of a non-negative int matrix and the inverse index.

    Rows are packed into one int64 when they fit (far faster than
    ``np.unique(axis=0)``), else viewed as raw bytes.
    """
    n_rows, n_columns = codes.shape
    bits = max(int(n_codes - 1).bit_length(), 1)
    if bits * n_columns <= 63:
        packed = np.zeros(n_rows, dtype=np.int64)
        for column in codes.T:
            packed = (packed << bits) | column
    else:
        packed = (
            np.ascontiguousarray(codes)
            .view(np.dtype((np.void, codes.dtype.itemsize * n_columns)))
            .ravel()
        )
    _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    return codes[first], inverse.ravel()
