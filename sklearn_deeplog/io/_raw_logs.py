# SPDX-License-Identifier: BSD-3-Clause
"""Read raw log files into a table, one column per field of a log format."""

import bz2
import gzip
import io
import lzma
import re
from numbers import Integral

import pandas as pd

__all__ = [
    "LOGHUB_FORMATS",
    "is_file_object",
    "log_format_regex",
    "open_text",
    "read_raw_log",
]

#: Log formats of the Loghub systems, as used by Loghub's parsing benchmark.
LOGHUB_FORMATS = {
    "Android": "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
    "Apache": r"\[<Time>\] \[<Level>\] <Content>",
    "BGL": (
        "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> "
        "<Level> <Content>"
    ),
    "Hadoop": r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
    "HDFS": "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "HealthApp": r"<Time>\|<Component>\|<Pid>\|<Content>",
    "HPC": "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>",
    "Linux": r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
    "Mac": (
        r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: "
        "<Content>"
    ),
    "OpenSSH": r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
    "OpenStack": (
        r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>"
    ),
    "Proxifier": r"\[<Time>\] <Program> - <Content>",
    "Spark": "<Date> <Time> <Level> <Component>: <Content>",
    "Thunderbird": (
        r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> "
        r"<Component>(\[<PID>\])?: <Content>"
    ),
    "Windows": "<Date> <Time>, <Level>                  <Component>    <Content>",
    "Zookeeper": r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
}

_FIELD = re.compile(r"<([^<>]+)>")


def log_format_regex(log_format):
    """Compile a Loghub-style log format into a regular expression.

    Parameters
    ----------
    log_format : str
        Fields in angle brackets, e.g. ``"<Date> <Time> <Level> <Content>"``. The
        text between fields is a regular expression (as in Loghub's logparser), in
        which every run of spaces matches any run of whitespace: escape literal
        brackets and bars (``\\[<Pid>\\]``, ``\\|``).

    Returns
    -------
    regex : re.Pattern
        Matches a whole line; field ``i`` is the named group ``f<i>``.
    fields : list of str
        The field names, in order.

    Examples
    --------
    >>> from sklearn_deeplog.io import log_format_regex
    >>> regex, fields = log_format_regex("<Date> <Time> <Level>: <Content>")
    >>> fields
    ['Date', 'Time', 'Level', 'Content']
    >>> regex.match("081109 203615 INFO: Receiving block").group("f3")
    'Receiving block'
    """
    parts = _FIELD.split(log_format)
    fields = parts[1::2]
    if not fields:
        raise ValueError(
            f"log_format {log_format!r} has no field: name the fields in angle "
            "brackets, e.g. '<Date> <Time> <Level> <Content>'."
        )
    if len(set(fields)) != len(fields):
        raise ValueError(f"log_format {log_format!r} names a field twice.")
    pattern = ""
    for i, literal in enumerate(parts[0::2]):
        pattern += re.sub(" +", r"\\s+", literal)
        if i < len(fields):
            pattern += f"(?P<f{i}>.*?)"
    try:
        regex = re.compile("^" + pattern + "$")
    except re.error as err:
        raise ValueError(
            f"log_format {log_format!r} is not a valid format: the text between "
            f"fields is a regular expression ({err}); escape brackets as \\[ \\]."
        ) from err
    return regex, fields


def is_file_object(path):
    """Whether `path` is a file object (has a ``read`` method) rather than a path."""
    return callable(getattr(path, "read", None))


class _Borrowed(io.RawIOBase):
    """A raw binary stream reading the binary file object `file`, left open.

    Buffered, it gives any object with a ``read`` method the interface of a
    binary file; closing it does not close `file`.
    """

    def __init__(self, file):
        self._file = file

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._file.read(len(buffer))
        if isinstance(data, str):
            raise TypeError(
                "the file object gives text, not bytes: open the file in binary "
                "mode, e.g. open(path, 'rb')."
            )
        buffer[: len(data)] = data
        return len(data)


def open_text(path, encoding, encoding_errors):
    """Open `path` for reading text, decompressing gzip, bz2 and xz files.

    `path` is a path or a binary file object, read from its current position and
    left open when the text is closed. Compression is detected by magic bytes.
    """
    if is_file_object(path):
        source = io.BufferedReader(_Borrowed(path))
        magic = source.peek(6)[:6]  # peeked bytes stay in the buffer, unread
    else:
        with open(path, "rb") as raw:
            magic = raw.read(6)
        source = path
    if magic[:2] == b"\x1f\x8b":
        binary = gzip.open(source, "rb")
    elif magic[:3] == b"BZh":
        binary = bz2.open(source, "rb")
    elif magic == b"\xfd7zXZ\x00":
        binary = lzma.open(source, "rb")
    else:
        binary = open(path, "rb") if source is path else source
    return io.TextIOWrapper(binary, encoding=encoding, errors=encoding_errors)


def read_raw_log(
    path,
    log_format,
    *,
    group_pattern=None,
    group_field=None,
    group_column="group",
    unmatched="raise",
    nrows=None,
    encoding="utf-8",
    encoding_errors="replace",
):
    """Read a raw log file into a table with one column per field.

    Read more in the :ref:`User Guide <parsing>`.

    Parameters
    ----------
    path : str or path-like
        The log file, one entry per line. Files compressed with gzip, bzip2 or xz
        (e.g. ``HDFS.log.gz``) are decompressed on the fly, whatever their name.
    log_format : str
        The format of a line, Loghub style: field names in angle brackets, e.g.
        ``"<Date> <Time> <Pid> <Level> <Component>: <Content>"`` for HDFS. The text
        between fields is a regular expression in which runs of spaces match any
        whitespace (see :func:`log_format_regex`). :data:`LOGHUB_FORMATS` holds
        the formats of the Loghub systems.
    group_pattern : str, default=None
        Regular expression finding the group (session, block, machine) an entry
        belongs to in its message, e.g. ``r"blk_-?\\d+"`` for HDFS blocks. The
        whole match is the group, or the first capturing group if the pattern
        has one. When an entry names several distinct groups it gives one row per
        (entry, group) pair, in order of appearance; when it names none its group
        is missing (NaN). ``None`` means no group column.
    group_field : str, default=None
        Field searched with `group_pattern`. ``None`` means the field named
        ``Content`` (any case) if there is one, else the last field.
    group_column : str, default="group"
        Name of the group column.
    unmatched : {"raise", "skip", "keep"}, default="raise"
        What to do with a line that does not match `log_format`: raise a
        ValueError naming the file, the line number and the line; skip it; or keep
        it with the whole line in the last field, the other fields missing, and
        ``False`` in an added boolean column ``matched``. Blank lines are always
        skipped.
    nrows : int, default=None
        Read at most this many entries (lines that give a row). ``None`` reads
        the whole file.
    encoding : str, default="utf-8"
        Text encoding of the file.
    encoding_errors : str, default="replace"
        How undecodable bytes are handled (see :func:`open`).

    Returns
    -------
    table : pandas.DataFrame
        One row per log entry (per (entry, group) pair with `group_pattern`):
        a ``line`` column with the entry's line number in the file (1-based, so
        rows can be mapped back to lines), then one string column per field of
        `log_format`, then the group column, then ``matched`` with
        ``unmatched="keep"``.

    See Also
    --------
    LogTemplateMiner : Turn the messages into log keys.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn_deeplog.io import read_raw_log
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "hdfs.log"
    >>> _ = path.write_text(
    ...     "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 "
    ...     "for block blk_38865049064139660 terminating\\n"
    ...     "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* ask 10.250.14.224:50010 "
    ...     "to delete  blk_-1 blk_-2\\n"
    ... )
    >>> table = read_raw_log(
    ...     path, "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    ...     group_pattern=r"blk_-?\\d+",
    ... )
    >>> list(table.columns)
    ['line', 'Date', 'Time', 'Pid', 'Level', 'Component', 'Content', 'group']
    >>> table["line"].tolist(), table["group"].tolist()
    ([1, 2, 2], ['blk_38865049064139660', 'blk_-1', 'blk_-2'])
    """
    if unmatched not in {"raise", "skip", "keep"}:
        raise ValueError(
            f"unmatched must be 'raise', 'skip' or 'keep'; got {unmatched!r}."
        )
    if nrows is not None and (
        not isinstance(nrows, Integral) or isinstance(nrows, bool) or nrows < 0
    ):
        raise ValueError(f"nrows must be a non-negative int or None; got {nrows!r}.")
    regex, fields = log_format_regex(log_format)
    reserved = (
        {"line", "matched", group_column} if group_pattern else {"line", "matched"}
    )
    clash = reserved.intersection(fields)
    if clash:
        raise ValueError(
            f"log_format uses the reserved column name(s) {sorted(clash)}: rename "
            "those fields."
        )
    group_index = None
    finder = None
    if group_pattern is not None:
        finder = re.compile(group_pattern)
        if group_field is None:
            lowered = [f.lower() for f in fields]
            group_index = lowered.index("content") if "content" in lowered else -1
        elif group_field in fields:
            group_index = fields.index(group_field)
        else:
            raise ValueError(
                f"group_field {group_field!r} is not a field of log_format; its "
                f"fields are {fields}."
            )

    n_fields = len(fields)
    names = [f"f{i}" for i in range(n_fields)]
    lines, rows, matched = [], [], []
    with open_text(path, encoding, encoding_errors) as stream:
        for number, text in enumerate(stream, start=1):
            if nrows is not None and len(rows) >= nrows:
                break
            text = text.strip()
            if not text:
                continue
            match = regex.match(text)
            if match is not None:
                rows.append(match.group(*names) if n_fields > 1 else (match[names[0]],))
                lines.append(number)
                matched.append(True)
            elif unmatched == "raise":
                raise ValueError(
                    f"{path}, line {number}: the line does not match the log format "
                    f"{log_format!r}: {text[:200]!r}. Fix the format, or pass "
                    "unmatched='skip' or 'keep'."
                )
            elif unmatched == "keep":
                rows.append((None,) * (n_fields - 1) + (text,))
                lines.append(number)
                matched.append(False)

    columns = list(zip(*rows, strict=True)) if rows else [()] * n_fields
    table = pd.DataFrame({"line": pd.Series(lines, dtype="int64")})
    for name, values in zip(fields, columns, strict=True):
        table[name] = pd.Series(list(values))
    if finder is not None:
        messages = columns[group_index] if rows else ()
        table[group_column] = [_groups(finder, m) for m in messages]
    if unmatched == "keep":
        table["matched"] = pd.Series(matched, dtype=bool)
    if finder is not None:
        table = table.explode(group_column, ignore_index=True)
    return table


def _groups(finder, message):
    """Distinct groups named in `message`, in order; [None] when there is none."""
    if message is None:
        return [None]
    found = {}
    for match in finder.finditer(message):
        found.setdefault(match.group(1) if finder.groups else match.group(0), None)
    return list(found) or [None]
