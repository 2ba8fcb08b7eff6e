# SPDX-License-Identifier: BSD-3-Clause
"""Log datasets: generated logs with known anomalies."""

from ._synthetic import make_logs

__all__ = ["make_logs"]
