# SPDX-License-Identifier: BSD-3-Clause
"""Readers that turn log files into event tables."""

from ._raw_logs import LOGHUB_FORMATS, log_format_regex, read_raw_log

__all__ = ["LOGHUB_FORMATS", "log_format_regex", "read_raw_log"]
