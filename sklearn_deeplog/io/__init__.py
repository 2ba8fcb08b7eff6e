# SPDX-License-Identifier: BSD-3-Clause
"""Readers that turn log files into event tables (one row per log entry)."""

from ._raw_logs import LOGHUB_FORMATS, log_format_regex, read_raw_log
from ._readers import read_csv, read_events, read_json, read_ndjson, read_txt

__all__ = [
    "LOGHUB_FORMATS",
    "log_format_regex",
    "read_csv",
    "read_events",
    "read_json",
    "read_ndjson",
    "read_raw_log",
    "read_txt",
]
