# SPDX-License-Identifier: BSD-3-Clause
import gzip
import json

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sklearn_deeplog.io import read_csv, read_events, read_txt

RECORDS = [
    {"timestamp": 1.5, "machine": "m1", "event": "E5", "label": 0},
    {"timestamp": 2.0, "machine": "m2", "event": "E22", "label": 1},
    {"timestamp": 3.25, "machine": "m1", "event": "E5", "label": 0},
]
EXPECTED = pd.DataFrame(
    {
        "group": ["m1", "m2", "m1"],
        "time": [1.5, 2.0, 3.25],
        "event": pd.Series(["E5", "E22", "E5"], dtype=object),
        "label": [0, 1, 0],
    }
)


def write(path, fmt, records=RECORDS):
    if fmt == "csv":
        text = pd.DataFrame(records).to_csv(index=False)
    elif fmt == "json":
        text = json.dumps(records)
    else:
        text = "".join(json.dumps(r) + "\n" for r in records)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
@pytest.mark.parametrize("gz", [False, True])
def test_formats_give_the_same_event_table(tmp_path, fmt, gz):
    path = write(tmp_path / f"events.{fmt}{'.gz' if gz else ''}", fmt)
    events = read_events(path)
    assert_frame_equal(events, EXPECTED, check_dtype=False, check_index_type=False)
    assert list(events.columns) == ["group", "time", "event", "label"]


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_chunks_concatenate_to_the_whole_file(tmp_path, fmt):
    rng = np.random.RandomState(0)
    records = [
        {"timestamp": float(t), "machine": f"m{rng.randint(3)}", "event": str(k)}
        for t, k in enumerate(rng.randint(0, 9, size=50))
    ]
    path = write(tmp_path / f"events.{fmt}", fmt, records)
    whole = read_events(path)
    chunks = list(read_events(path, chunksize=7))
    assert [len(c) for c in chunks] == [7] * 7 + [1]
    assert_frame_equal(pd.concat(chunks), whole)


def test_txt_sessions_and_chunks_of_whole_sessions(tmp_path):
    path = tmp_path / "sessions.txt"
    path.write_text("5 5 22 \n\n11 9 \n26")  # trailing spaces, no final newline
    events = read_txt(path)
    assert events["group"].tolist() == [0, 0, 0, 2, 2, 3]
    assert events["time"].tolist() == [0, 1, 2, 0, 1, 0]
    assert events["event"].tolist() == ["5", "5", "22", "11", "9", "26"]
    chunks = list(read_txt(path, chunksize=2))
    assert [c["group"].unique().tolist() for c in chunks] == [[0], [2], [3]]
    assert_frame_equal(pd.concat(chunks), events)


def test_column_names_can_be_overridden_and_time_may_be_absent(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("key,host\na,h1\nb,h2\n")
    events = read_csv(path, event="key", group="host", time=None)
    assert list(events.columns) == ["group", "event"]


def test_iso_dates_are_parsed(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("timestamp,machine,event\n2026-11-22T10:00:00,m,a\n")
    assert read_csv(path)["time"].dtype.kind == "M"


@pytest.mark.parametrize(
    "name, text, match",
    [
        ("e.csv", "", r"e\.csv: the file is empty"),
        (
            "e.csv",
            "timestamp,machine,key\n1,m,a\n",
            r"no column 'event'.*event=<column>",
        ),
        (
            "e.csv",
            "timestamp,machine,event\n1,m,a\nnoon,m,b\n",
            r"e\.csv, line 3: "
            r"timestamp 'noon' is neither a number",
        ),
        (
            "e.csv",
            "timestamp,machine,event\n1,m,a\n2,m,\n",
            r"line 3: no 'event' value",
        ),
        (
            "e.ndjson",
            '{"timestamp": 1, "machine": "m", "event": "a"}\n{oops\n',
            r"e\.ndjson, line 2: invalid JSON",
        ),
        (
            "e.ndjson",
            '{"timestamp": 1, "machine": "m", "event": "a"}\n\n'
            '{"timestamp": 2, "machine": "m"}\n',
            r"line 3: no 'event' value",
        ),
        ("e.json", '{"event": "a"}', "expected a JSON array"),
        ("e.json", "[1, 2]", r"object 1: expected a JSON object"),
        ("e.txt", "\n\n", "the file is empty"),
        ("e.log", "x", "unknown event file format"),
    ],
)
def test_malformed_input_names_file_line_and_problem(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_events(path)


def test_missing_file_stays_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_events(tmp_path / "absent.csv")
