# SPDX-License-Identifier: BSD-3-Clause
"""DeepLog whole: the log-key model, then the parameter-value model."""

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ._detector import DeepLogDetector
from ._outlier import OffsetDecisionMixin
from ._parameter_values import ParameterValueDetector
from ._windower import SequenceWindower

__all__ = ["DeepLog"]


class DeepLog(OffsetDecisionMixin, OutlierMixin, BaseEstimator):
    """DeepLog's detection: the log-key model, then the parameter-value model.

    An entry is anomalous when its key is (the key model flags it), or else when
    its parameter values are (the value model flags it): the value model only
    judges entries whose key was normal, as in the paper. Both models read the
    same event table, one row per log entry, and the output has one row per entry.

    Read more in the :ref:`User Guide <parameter_values>`.

    Parameters
    ----------
    key_model : estimator, default=None
        The log-key model: an outlier detector over the event table, typically
        ``make_pipeline(SequenceWindower(...), DeepLogDetector(...))``. ``None``
        means that pipeline with default parameters (the key is the last column).
    value_model : estimator, default=None
        The parameter-value model over the same table, typically a
        :class:`ParameterValueDetector`. ``None`` means
        ``ParameterValueDetector(event=-1)`` (the key is the last column, the
        other columns are parameters).

    Attributes
    ----------
    key_model_ : estimator
        The fitted clone of `key_model`.
    value_model_ : estimator
        The fitted clone of `value_model`.
    offset_ : float
        0: :meth:`score_samples` already holds the decisions of the models.

    See Also
    --------
    DeepLogDetector : The log-key model.
    ParameterValueDetector : The parameter-value model.

    Notes
    -----
    The decision of an entry is the key model's where the key model flags it
    (negative), else the value model's: negative exactly when one of the models
    flags the entry. :meth:`flagged_by` says which one did. The two decisions are
    on different scales (log-probabilities, standard deviations of errors), so
    rank entries within a model rather than across them.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_deeplog import (
    ...     DeepLog, DeepLogDetector, ParameterValueDetector, SequenceWindower)
    >>> logs = pd.DataFrame({"key": [1, 2, 3] * 40, "size": [10.0, 20.0, 30.0] * 40})
    >>> model = DeepLog(
    ...     key_model=make_pipeline(
    ...         SequenceWindower(window=2, event="key"),
    ...         DeepLogDetector(top_g=1, hidden_size=8, num_layers=1, random_state=0),
    ...     ),
    ...     value_model=ParameterValueDetector(
    ...         event="key", hidden_size=8, max_epochs=20, random_state=0),
    ... ).fit(logs)
    >>> test = pd.DataFrame({"key": [1, 2, 3, 1, 3], "size": [10, 20, 99, 10, 30]})
    >>> model.predict(test)
    array([ 1,  1, -1,  1, -1])
    >>> model.flagged_by(test)
    array(['', '', 'value', '', 'key'], dtype=object)
    """

    # groups is routed only on request, as for DeepLogDetector.
    __metadata_request__fit = {"groups": False}

    _parameter_constraints: dict = {
        "key_model": [None, HasMethods(["fit", "decision_function"])],
        "value_model": [None, HasMethods(["fit", "decision_function"])],
    }

    def __init__(self, key_model=None, value_model=None):
        self.key_model = key_model
        self.value_model = value_model

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, groups=None):
        """Fit both models on normal log entries.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            The event table of normal logs, one row per log entry.
        y : None
            Ignored.
        groups : array-like of shape (n_entries,), default=None
            Each entry's group (session, machine), for a key model with a
            false-alarm budget (``DeepLogDetector(false_alarms=...)``): passed
            as ``groups`` to the last step of a key-model pipeline, else to the
            key model; with metadata routing enabled, to the key model, which
            routes it to the steps that request it
            (``DeepLogDetector(...).set_fit_request(groups=True)``). None passes
            nothing.

        Returns
        -------
        self : DeepLog
            The fitted estimator.
        """
        key_model, value_model = unfitted_models(self)
        key_params = {}
        if groups is not None:
            name = "groups"
            routing = get_config()["enable_metadata_routing"]
            if isinstance(key_model, Pipeline) and not routing:
                name = f"{key_model.steps[-1][0]}__groups"
            key_params[name] = groups
        return set_fitted_models(
            self,
            clone(key_model).fit(X, **key_params),
            clone(value_model).fit(X),
        )

    def _decisions(self, X):
        # set_params may have changed them since fit; checked first, as the
        # fitted check reads the tags of the models they name.
        self._validate_params()
        check_is_fitted(self)
        return (
            self.key_model_.decision_function(X),
            self.value_model_.decision_function(X),
        )

    def score_samples(self, X):
        """How normal each entry is: the key decision if negative, else the value's.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            The event table.

        Returns
        -------
        scores : ndarray of shape (n_entries,), dtype float64
            Negative exactly for the entries one of the models flags.
        """
        return combine_decisions(*self._decisions(X))[0]

    def flagged_by(self, X):
        """Which model flags each entry.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_columns)
            The event table.

        Returns
        -------
        models : ndarray of shape (n_entries,), dtype object
            ``"key"`` where the key model flags the entry, else ``"value"`` where
            the value model does, else ``""``.
        """
        return combine_decisions(*self._decisions(X))[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        key_tags, value_tags = (
            model.__sklearn_tags__().input_tags for model in unfitted_models(self)
        )
        # NaN in a value column is an absent parameter, but a NaN key is refused.
        tags.input_tags.allow_nan = key_tags.allow_nan and value_tags.allow_nan
        tags.input_tags.string = key_tags.string and value_tags.string
        return tags


def unfitted_models(model):
    """The key and value models a DeepLog is set with, defaults filled in.

    Parameters
    ----------
    model : DeepLog

    Returns
    -------
    key_model, value_model : estimator
        Its ``key_model`` and ``value_model`` (not copies), or their defaults.
    """
    key_model = model.key_model
    if key_model is None:
        key_model = make_pipeline(SequenceWindower(), DeepLogDetector())
    value_model = model.value_model
    if value_model is None:
        value_model = ParameterValueDetector(event=-1)
    return key_model, value_model


def set_fitted_models(model, key_model, value_model):
    """Make `model` the DeepLog of a fitted key model and a fitted value model.

    Parameters
    ----------
    model : DeepLog
    key_model, value_model : estimator
        Fitted copies of `model`'s models (see :func:`unfitted_models`).

    Returns
    -------
    model : DeepLog
        `model`, fitted.
    """
    model.key_model_ = key_model
    model.value_model_ = value_model
    model.offset_ = 0.0
    for name in ("n_features_in_", "feature_names_in_"):
        if hasattr(key_model, name):
            setattr(model, name, getattr(key_model, name))
    return model


def is_key_pipeline(model):
    """Whether `model` is a pipeline of a SequenceWindower and a DeepLogDetector.

    Parameters
    ----------
    model : object

    Returns
    -------
    is_key_pipeline : bool
    """
    return (
        isinstance(model, Pipeline)
        and len(model) == 2
        and isinstance(model[0], SequenceWindower)
        and isinstance(model[-1], DeepLogDetector)
    )


def key_and_value_models(model):
    """The key model and the value model (None if none) of a fitted model.

    Parameters
    ----------
    model : DeepLog or estimator
        A fitted :class:`DeepLog`, or a key model alone (e.g. a pipeline of a
        windower and a detector).

    Returns
    -------
    key_model : estimator
    value_model : estimator or None
    """
    if isinstance(model, DeepLog):
        return model.key_model_, model.value_model_
    return model, None


def combine_decisions(key, value):
    """DeepLog's order: the key model's decision where it flags, else the value's.

    Parameters
    ----------
    key, value : ndarray of shape (n_entries,)
        The decisions of the key and the value model (negative: anomalous).

    Returns
    -------
    decisions : ndarray of shape (n_entries,), dtype float64
        Negative exactly where one of the models flags the entry.
    flagged_by : ndarray of shape (n_entries,), dtype object
        ``"key"``, ``"value"`` or ``""``.
    """
    decisions = np.where(key < 0, key, value).astype(np.float64)
    flagged_by = np.where(key < 0, "key", np.where(value < 0, "value", ""))
    return decisions, flagged_by.astype(object)
