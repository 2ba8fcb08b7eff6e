# SPDX-License-Identifier: BSD-3-Clause
"""What the outlier detectors share: decisions from their scores and offset."""

import numpy as np

__all__ = ["OffsetDecisionMixin"]


class OffsetDecisionMixin:
    """``decision_function`` and ``predict`` of an outlier detector.

    Both follow from the detector's ``score_samples`` (higher is more normal) and
    its fitted threshold ``offset_``, as in scikit-learn's outlier detectors.
    """

    def decision_function(self, X):
        """Shifted scores: negative for anomalies.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_features)
            Log entries, as :meth:`score_samples` takes them.

        Returns
        -------
        decision : ndarray of shape (n_entries,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Flag anomalous log entries.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_entries, n_features)
            Log entries, as :meth:`score_samples` takes them.

        Returns
        -------
        y_pred : ndarray of shape (n_entries,)
            +1 for a normal entry, -1 for an anomaly (a negative
            :meth:`decision_function`).
        """
        return np.where(self.decision_function(X) >= 0, 1, -1)
