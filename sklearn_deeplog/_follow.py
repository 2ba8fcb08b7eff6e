# SPDX-License-Identifier: BSD-3-Clause
"""Follow a growing log: the lines of standard input or of a file, as they come.

A file is followed as ``tail -F`` does: from its start, then as it grows, and
across rotation (the file replaced by a new one, or truncated), read from the
new file's start.
"""

import os
import select
import time
import warnings

__all__ = ["follow_lines"]

# How long to wait for more lines before yielding an empty batch (so that the
# caller can close idle sessions), and between looks at a file that has not grown.
_POLL_SECONDS = 0.05
_READ_BYTES = 1 << 16


def follow_lines(path):
    """Yield the complete lines of a growing file, batch by batch.

    Parameters
    ----------
    path : str or path-like
        The file to follow; ``-`` for standard input, read until it ends. A
        file that does not exist yet is waited for (with a warning).

    Yields
    ------
    lines : list of bytes or None
        The complete lines that arrived (without their line ends), in order;
        an empty list when none arrived for a while (0.05 s). ``None`` marks
        the start of a new file after a rotation or a truncation.
    """
    if str(path) == "-":
        yield from _stdin_lines(_POLL_SECONDS)
    else:
        yield from _file_lines(path, _POLL_SECONDS)


def _stdin_lines(poll_seconds):
    """Lines of standard input as they arrive; stops at its end."""
    descriptor = 0
    pending = b""
    while True:
        ready, _, _ = select.select([descriptor], [], [], poll_seconds)
        if not ready:
            yield []
            continue
        data = os.read(descriptor, _READ_BYTES)
        if not data:  # the end of input
            if pending:
                yield [pending.rstrip(b"\r")]
            return
        lines, pending = _split(pending + data)
        yield lines


def _file_lines(path, poll_seconds):
    """Lines of a file as it grows, across rotation and truncation."""
    file = _open(path, poll_seconds)
    pending = b""
    try:
        while True:
            data = file.read(_READ_BYTES)
            if data:
                lines, pending = _split(pending + data)
                if lines:
                    yield lines
                continue
            if _replaced(path, file):
                if pending:
                    yield [pending.rstrip(b"\r")]
                    pending = b""
                file.close()
                file = _open(path, poll_seconds)
                yield None
                continue
            yield []
            time.sleep(poll_seconds)
    finally:
        file.close()


def _open(path, poll_seconds):
    """Open `path` for reading bytes, waiting while it does not exist."""
    warned = False
    while True:
        try:
            return open(path, "rb")
        except FileNotFoundError:
            if not warned:
                warnings.warn(
                    f"{path} does not exist (yet): waiting for it.", stacklevel=2
                )
                warned = True
            time.sleep(poll_seconds)


def _replaced(path, file):
    """Whether `path` is now another file than `file`, or was truncated."""
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False  # rotated away, not yet replaced: keep reading the old one
    opened = os.fstat(file.fileno())
    if (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
        return True
    if not file.seekable():  # a FIFO: it cannot be truncated
        return False
    return current.st_size < file.tell()


def _split(data):
    """Complete lines of `data` (line ends removed), and the incomplete rest."""
    *lines, pending = data.split(b"\n")
    return [line.rstrip(b"\r") for line in lines], pending
