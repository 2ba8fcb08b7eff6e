# SPDX-License-Identifier: BSD-3-Clause
"""The version of sklearn-deeplog, stored with every saved model."""

__version__ = "0.1.0.dev0"
