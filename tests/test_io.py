# SPDX-License-Identifier: BSD-3-Clause
import gzip
import io
import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from sklearn_deeplog.io import read_csv, read_events, read_json, read_ndjson, read_txt

RECORDS = [
    {"timestamp": 1.5, "machine": "m1", "event": "E5", "label": 0},
    {"timestamp": 2.0, "machine": "m2", "event": "E22", "label": 1},
    {"timestamp": 3.25, "machine": "m1", "event": "E5", "label": 0},
]
EXPECTED = pd.DataFrame(
    {
        "group": pd.Series(["m1", "m2", "m1"], dtype=object),
        "time": [1.5, 2.0, 3.25],
        "event": pd.Series(["E5", "E22", "E5"], dtype=object),
        "label": [0, 1, 0],
    }
)
FORMATS = ["csv", "json", "ndjson"]


def write(path, fmt, records=RECORDS):
    """Write `records` to `path` in format `fmt`, gzip-compressed for a .gz."""
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


def assert_chunks_equal_whole(path, chunksize, **kwargs):
    whole = read_events(path, **kwargs)
    chunks = list(read_events(path, chunksize=chunksize, **kwargs))
    for chunk in chunks:
        assert chunk.dtypes.to_dict() == whole.dtypes.to_dict()
    assert_frame_equal(pd.concat(chunks), whole, check_index_type=True)
    return chunks


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("gz", [False, True])
def test_formats_give_the_same_event_table(tmp_path, fmt, gz):
    path = write(tmp_path / f"events.{fmt}{'.gz' if gz else ''}", fmt)
    assert_frame_equal(read_events(path), EXPECTED)
    reader = {"csv": read_csv, "json": read_json, "ndjson": read_ndjson}[fmt]
    assert_frame_equal(reader(path), EXPECTED)


def test_format_is_inferred_from_the_suffix_or_given(tmp_path):
    jsonl = write(tmp_path / "events.JSONL.gz", "ndjson")
    assert_frame_equal(read_events(jsonl), EXPECTED)
    unnamed = write(tmp_path / "events.log", "csv")
    assert_frame_equal(read_events(unnamed, format="csv"), EXPECTED)
    with pytest.raises(ValueError, match=r"events\.log: unknown event file format"):
        read_events(unnamed)
    with pytest.raises(TypeError, match="read_txt takes no column names"):
        read_events(tmp_path / "sessions.txt", event="key")


@pytest.mark.parametrize("fmt", FORMATS)
def test_integer_keys_become_int64_only_when_all_are_integers(tmp_path, fmt):
    records = [
        {"timestamp": 1, "machine": 7, "event": 5},
        {"timestamp": 2, "machine": 8, "event": -22},
    ]
    events = read_events(write(tmp_path / f"int.{fmt}", fmt, records))
    assert events.dtypes.astype(str).to_dict() == {
        "group": "int64",
        "time": "int64",
        "event": "int64",
    }
    assert events["event"].tolist() == [5, -22]
    # A leading zero would merge distinct keys "007" and "7": keep strings.
    records.append({"timestamp": 3, "machine": "m", "event": "007"})
    events = read_events(write(tmp_path / f"str.{fmt}", fmt, records))
    assert events["event"].tolist() == ["5", "-22", "007"]
    assert events["group"].tolist() == ["7", "8", "m"]
    assert events["event"].dtype == object and events["group"].dtype == object


def test_txt_sessions(tmp_path):
    path = tmp_path / "sessions.txt"
    path.write_text("5 5 22 \n\n11\t9 \n26 ")  # the HDFS layout: no final newline
    events = read_txt(path)
    expected = pd.DataFrame(
        {
            "group": [0, 0, 0, 2, 2, 3],
            "time": [0, 1, 2, 0, 1, 0],
            "event": [5, 5, 22, 11, 9, 26],
        }
    )
    assert_frame_equal(events, expected)
    path.write_text("open read\nclose 5\n")
    assert read_txt(path)["event"].tolist() == ["open", "read", "close", "5"]


def test_txt_chunks_hold_whole_sessions(tmp_path):
    path = tmp_path / "sessions.txt.gz"
    lines = ["1 2", "3", "4 5 6 7 8 9", "10 11", "12", "x"]
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    chunks = assert_chunks_equal_whole(path, chunksize=3)
    # At most 3 entries, except the 6-key session alone in its chunk.
    assert [c["group"].unique().tolist() for c in chunks] == [
        [0, 1],
        [2],
        [3, 4],
        [5],
    ]
    assert chunks[0]["event"].tolist() == ["1", "2", "3"]  # "x" makes keys str


@pytest.mark.parametrize("fmt", FORMATS)
def test_chunks_concatenate_to_the_whole_file(tmp_path, fmt):
    rng = np.random.RandomState(0)
    records = [
        {"timestamp": t, "machine": f"m{rng.randint(3)}", "event": int(k), "label": 0}
        for t, k in enumerate(rng.randint(0, 9, size=50))
    ]
    # The last entry decides the types: float times, string keys.
    records[-1].update(timestamp=49.5, event="E9")
    path = write(tmp_path / f"events.{fmt}", fmt, records)
    chunks = assert_chunks_equal_whole(path, chunksize=7)
    assert [len(c) for c in chunks] == [7] * 7 + [1]
    assert chunks[0]["time"].dtype == np.float64
    assert chunks[0]["event"].tolist()[:2] == ["5", "0"]


def test_csv_chunks_skip_blank_lines_and_keep_line_numbers(tmp_path):
    path = tmp_path / "events.csv"
    text = "timestamp,machine,event\n1,m,a\n\n\n2,m,b\n3,m,c\n"
    path.write_text(text)
    chunks = assert_chunks_equal_whole(path, chunksize=2)
    assert [c["event"].tolist() for c in chunks] == [["a"], ["b"], ["c"]]
    path.write_text(text + "4,m,\n")
    chunks = read_csv(path, chunksize=2)
    assert next(chunks)["event"].tolist() == ["a"]
    with pytest.raises(ValueError, match=r"events\.csv, line 7: missing event value"):
        list(chunks)


@settings(max_examples=30, deadline=None)
@given(
    sessions=st.lists(
        st.lists(st.sampled_from(["1", "2", "30", "E4"]), max_size=6), min_size=1
    ),
    chunksize=st.integers(1, 8),
)
def test_chunked_reading_equals_whole_reading(tmp_path_factory, sessions, chunksize):
    sessions[0].append("7")  # at least one entry
    directory = tmp_path_factory.mktemp("chunks")
    txt = directory / "sessions.txt"
    txt.write_text("\n".join(" ".join(keys) for keys in sessions))
    chunks = assert_chunks_equal_whole(txt, chunksize)
    assert all(len(c) <= chunksize or c["group"].nunique() == 1 for c in chunks)
    records = read_txt(txt).rename(columns={"time": "timestamp", "group": "machine"})
    csv = write(directory / "events.csv", "csv", records.to_dict("records"))
    chunks = assert_chunks_equal_whole(csv, chunksize)
    assert all(len(c) <= chunksize for c in chunks)


def test_column_names_can_be_overridden_or_absent(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("key,host,message\na,h1,x\nb,h2,y\n")
    events = read_csv(path, event="key", group="host", time=None)
    assert list(events.columns) == ["group", "event"]
    events = read_csv(path, event="key", group=None, time=None)
    assert list(events.columns) == ["event"]
    path.write_text("timestamp,machine,event,label\n1,m,a,1\n")
    assert list(read_csv(path, label=None).columns) == ["group", "time", "event"]


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_value_columns_are_kept_as_float64_nan_where_not_a_number(tmp_path, fmt):
    rows = [
        {"timestamp": 1, "machine": "a", "event": 5, "size": 10, "ms": "2.5"},
        {"timestamp": 2, "machine": "a", "event": 6, "size": None, "ms": "fast"},
        {"timestamp": 3, "machine": "b", "event": 5, "size": 1e3, "ms": "inf"},
        {"timestamp": 4, "machine": "b", "event": 6, "size": [1], "ms": {"a": 1}},
    ]
    path = tmp_path / f"events.{fmt}"
    if fmt == "csv":
        pd.DataFrame(rows).to_csv(path, index=False)
    else:
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    events = read_events(path, values=["size", "ms"])
    assert list(events.columns) == ["group", "time", "event", "size", "ms"]
    expected = pd.DataFrame(
        {"size": [10, np.nan, 1e3, np.nan], "ms": [2.5, np.nan, np.nan, np.nan]}
    )
    assert_frame_equal(events[["size", "ms"]], expected)
    chunks = pd.concat(read_events(path, values=["size", "ms"], chunksize=2))
    assert_frame_equal(chunks, events)
    with pytest.raises(ValueError, match="no column 'bytes' \\(a value column\\)"):
        read_events(path, values=["bytes"])
    with pytest.raises(ValueError, match="a column of the event table"):
        read_events(path, values=["event"])


def test_iso_dates_become_datetimes(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "timestamp,machine,event\n2026-11-22T10:00:00,m,a\n2026-11-22 10:00:00.5,m,b\n"
    )
    times = read_csv(path)["time"]
    assert str(times.dtype) == "datetime64[ns]"
    assert (times.diff().dt.total_seconds().iloc[1]) == 0.5
    # Different UTC offsets (a change of daylight saving time): times in UTC.
    path.write_text(
        "timestamp,machine,event\n"
        "2026-03-29T01:59:00+01:00,m,a\n2026-03-29T03:00:00+02:00,m,b\n"
    )
    times = read_csv(path)["time"]
    assert str(times.dtype) == "datetime64[ns, UTC]"
    assert times.diff().dt.total_seconds().iloc[1] == 60


@pytest.mark.parametrize(
    "name, text, match",
    [
        ("e.csv", "", r"e\.csv: no log entries: the file is empty"),
        ("e.csv", "timestamp,machine,event\n", r"e\.csv: no log entries"),
        ("e.txt", "\n \n", r"e\.txt: no log entries"),
        ("e.json", "[]", r"e\.json: no log entries"),
        (
            "e.csv",
            "timestamp,host,event\n1,m,a\n",
            r"e\.csv: no column 'machine' \(the group column\); the columns are "
            r"\['timestamp', 'host', 'event'\]: pass group=<column> to name it, or "
            r"pass group=None\.$",
        ),
        (
            "e.csv",
            "timestamp,machine,event\n1,m,a\n\nnoon,m,b\n",
            r"e\.csv, line 4: time 'noon' is not a finite number of seconds",
        ),
        (
            "e.csv",
            "timestamp,machine,event\n2026-11-22,m,a\nnoon,m,b\n",
            r"line 3: time 'noon' is not a number of seconds or an ISO 8601 date",
        ),
        (
            "e.csv",
            "timestamp,machine,event\n1,m,a\n2,m,\n",
            r"e\.csv, line 3: missing event value \(column 'event'\).*Fill it in",
        ),
        (
            "e.csv",
            "timestamp,machine,event,label\n1,m,a,0\n2,m,b,yes\n",
            r"line 3: label 'yes' is neither 0 \(normal\) nor 1 \(anomalous\)",
        ),
        (
            "e.csv",
            "timestamp,machine,event\n1,m,a\n2,m,b,c\n",
            r"e\.csv: not a valid CSV file \(.*line 3.*\); check the number of fields",
        ),
        (
            "e.csv",
            "timestamp,machine,event\n1,m,a,b,c\n2,m,b\n",
            r"e\.csv, line 2: more fields than the header names",
        ),
        (
            "e.ndjson",
            '{"timestamp": 1, "machine": "m", "event": "a"}\n{oops\n',
            r"e\.ndjson, line 2, column 2: invalid JSON",
        ),
        (
            "e.ndjson",
            '{"timestamp": 1, "machine": "m", "event": "a"}\n\n'
            '{"timestamp": 2, "machine": "m"}\n',
            r"e\.ndjson, line 3: missing event value",
        ),
        (
            "e.ndjson",
            '{"timestamp": 1, "machine": "m", "event": null}\n',
            r"line 1: missing event value",
        ),
        ("e.ndjson", "[1]\n", r"line 1: expected a JSON object \{\.\.\.\}.*array"),
        (
            "e.json",
            '{"event": "a"}',
            r"expected a JSON array.*name the file \.ndjson or pass format='ndjson'",
        ),
        ("e.json", '[{"event": "a"},\n  }', r"e\.json, line 2, column 3: invalid"),
        ("e.json", '[{"event": "a"}, 2]', r"e\.json, object 2: expected a JSON obj"),
        (
            "e.json",
            '[{"machine": "m", "event": "a"}]',
            r"no column 'timestamp' \(the time column\).*time=<column>",
        ),
    ],
)
def test_malformed_input_names_file_line_and_problem(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_events(path)
    with pytest.raises(ValueError, match=match):
        list(read_events(path, chunksize=1))


@pytest.mark.parametrize("fmt, unit", [("ndjson", "line"), ("json", "object")])
@pytest.mark.parametrize(
    "field, value, match",
    [
        ("event", [1, 2], r"event value \[1, 2\] \(field 'event'\) is a JSON array; "
         "a log key must be a string or a number"),
        ("machine", {"id": 7}, r"group value \{\"id\": 7\} \(field 'machine'\) is a "
         "JSON object; a group must be"),
        ("event", True, r"event value true \(field 'event'\) is a JSON boolean"),
        ("timestamp", False, r"time value false \(field 'timestamp'\) is a JSON bool"),
        ("label", [1], r"label value \[1\] \(field 'label'\) is a JSON array; a "
         "label must be 0 or 1"),
        ("event", list(range(30)), r"event value \[0, 1, .*, 10, 1 \.\.\. \(field"),
    ],
)  # fmt: skip
def test_json_arrays_objects_and_booleans_are_not_keys(
    tmp_path, fmt, unit, field, value, match
):
    records = [dict(record) for record in RECORDS]
    records[2][field] = value
    path = write(tmp_path / f"e.{fmt}", fmt, records)
    match = rf"e\.{fmt}, {unit} 3: {match}"
    with pytest.raises(ValueError, match=match):
        read_events(path)
    with pytest.raises(ValueError, match=match):
        list(read_events(path, chunksize=1))


def test_json_labels_may_be_booleans_and_unused_fields_anything(tmp_path):
    records = [{**record, "label": bool(record["label"])} for record in RECORDS]
    path = write(tmp_path / "e.ndjson", "ndjson", records)
    assert_frame_equal(read_events(path), EXPECTED)
    records[0]["event"] = ["E5"]  # not a column of the event table below
    path = write(tmp_path / "e.ndjson", "ndjson", records)
    events = read_events(path, event="machine", group=None)
    assert events["event"].tolist() == ["m1", "m2", "m1"]


def test_undecodable_or_damaged_files(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("timestamp,machine,event\n1,m,é\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.csv: not UTF-8 text"):
        read_csv(path)
    path = tmp_path / "truncated.txt.gz"
    path.write_bytes(
        gzip.compress(np.random.RandomState(0).bytes(4000).hex().encode())[:900]
    )
    with pytest.raises(ValueError, match=r"truncated\.txt\.gz: cannot read the file"):
        read_txt(path)


def test_missing_file_stays_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.csv"):
        read_events(tmp_path / "absent.csv")
    with pytest.raises(FileNotFoundError, match="absent.txt"):
        read_txt(tmp_path / "absent.txt", chunksize=10)


@pytest.mark.parametrize(
    "name", ["events.csv", "events.ndjson", "events.csv.gz", "events.json"]
)
def test_binary_file_objects_read_as_their_path(tmp_path, name):
    path = write(tmp_path / name, name.split(".")[1])
    with open(path, "rb") as file:
        assert_frame_equal(read_events(file), read_events(path))
        assert not file.closed
        file.seek(0)
        chunks = read_events(file, chunksize=2)
        assert_frame_equal(pd.concat(chunks), read_events(path))
        assert not file.closed


def test_file_objects_without_a_name_need_a_format_and_are_streams(tmp_path):
    text = pd.DataFrame(RECORDS).to_csv(index=False).encode()
    file = io.BytesIO(b"skipped" + text)
    assert file.read(7) == b"skipped"
    with pytest.raises(ValueError, match="^<stream>: unknown event file format"):
        read_events(file)
    # Chunks read the file twice, both times from where it was.
    assert_frame_equal(
        pd.concat(read_events(file, format="csv", chunksize=2)), EXPECTED
    )
    assert not file.closed
    with pytest.raises(ValueError, match=r"^<stream>, line 2: missing event value"):
        read_csv(io.BytesIO(b"timestamp,machine,event\n1,m,\n"))
    with open(write(tmp_path / "events.csv", "csv"), encoding="utf-8") as text_file:
        with pytest.raises(TypeError, match="gives text, not bytes: open the file in"):
            read_csv(text_file)


class ReadOnly:
    """A binary stream with nothing but a ``read`` method."""

    def __init__(self, data):
        self._data = io.BytesIO(data)

    def read(self, size=-1):
        return self._data.read(size)


def test_non_seekable_streams_are_read_whole_not_in_chunks(tmp_path):
    data = gzip.compress(pd.DataFrame(RECORDS).to_csv(index=False).encode())
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert not pipe.seekable()
        assert_frame_equal(read_csv(pipe), EXPECTED)
        assert not pipe.closed
        with pytest.raises(ValueError, match="not seekable cannot be read in chunks"):
            read_csv(pipe, chunksize=2)
    assert_frame_equal(read_events(ReadOnly(data), format="csv"), EXPECTED)
    match = (
        r"^<stream>: a stream that is not seekable cannot be read in chunks, which "
        r"reads it twice; read it whole \(chunksize=None\) or from a file\.$"
    )
    for reader in (read_csv, read_ndjson, read_txt):
        with pytest.raises(ValueError, match=match):
            reader(ReadOnly(data), chunksize=2)


def test_invalid_parameters(tmp_path):
    path = write(tmp_path / "events.csv", "csv")
    with pytest.raises(ValueError, match="'chunksize' parameter"):
        read_csv(path, chunksize=0)
    with pytest.raises(ValueError, match="'format' parameter"):
        read_events(path, format="xml")


def test_the_shared_hdfs_files_read_whole_and_in_chunks(shared_data):
    path = shared_data / "hdfs" / "hdfs_train"
    events = read_txt(path)
    sessions = path.read_text().splitlines()
    assert events["group"].nunique() == len(sessions) == 4855
    assert events["event"].tolist() == [int(k) for k in path.read_text().split()]
    chunks = assert_chunks_equal_whole(path, chunksize=10_000, format="txt")
    assert all(len(c) <= 10_000 for c in chunks)
