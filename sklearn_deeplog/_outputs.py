# SPDX-License-Identifier: BSD-3-Clause
"""Write outputs without ever destroying a file.

An output is checked before any long work (it is not an input, its directory
exists and is writable), written to a temporary file beside its target and
moved into place only once complete: an error or an interrupt leaves the
target as it was and removes only the temporary file. Standard output (``-``)
and special files (devices, FIFOs) are written directly, and never removed.
"""

import os
import shutil
import stat
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

__all__ = ["check_output", "output_target", "replacing", "writing_text"]


def output_target(path):
    """The file that writing `path` changes: `path` with its links resolved.

    ``-`` (standard output) is returned as it is.
    """
    return path if str(path) == "-" else Path(os.path.realpath(path))


def check_output(path, inputs=(), option="-o", regular=None):
    """Refuse an output that would destroy an input or could not be written.

    Parameters
    ----------
    path : str or path-like
        The output; ``-`` is standard output.
    inputs : dict of str to path-like, default=()
        The files the command reads, by what they are (``"input"``,
        ``"model"``): the output may be none of them, even through a link.
    option : str, default="-o"
        The option that named the output, for messages.
    regular : str, default=None
        What is written when it must be a regular file (e.g. ``"a model"``):
        standard output and special files (devices, FIFOs) are then refused.

    Raises
    ------
    ValueError
        If `path` is one of `inputs`, a directory, in a directory that does not
        exist or cannot be written, or not a regular file where one is needed.
    """
    special = Path(path).exists() and _is_special(Path(path))
    if str(path) == "-" or (regular and special):
        if regular:
            raise ValueError(
                f"{option} {path}: {regular} is written to a regular file; name one."
            )
        return
    target = output_target(path)
    for what, input_path in dict(inputs).items():
        if input_path is None or str(input_path) == "-":
            continue
        if target == output_target(input_path) or _same_file(target, input_path):
            raise ValueError(
                f"{option} {path} is the {what} ({input_path}): writing it would "
                f"destroy the {what}. Choose another output file."
            )
    if target.is_dir():
        raise ValueError(f"{option} {path} is a directory; name a file in it.")
    if target.exists() and not os.access(target, os.W_OK):
        raise ValueError(
            f"{option} {path} is read-only: it is kept; choose another output file."
        )
    if target.exists() and _is_special(target):
        return
    directory = target.parent
    if not directory.is_dir():
        raise ValueError(
            f"{option} {path}: the directory {directory} does not exist; create it "
            "first."
        )
    try:  # a file of our own, gone at once: writable, whatever the permissions say
        tempfile.TemporaryFile(dir=directory).close()
    except OSError as err:
        raise ValueError(
            f"{option} {path}: cannot write in the directory {directory} "
            f"({err.strerror}); choose another output file."
        ) from err


@contextmanager
def replacing(path):
    """The path to write instead of `path`, moved into place on success.

    A temporary file beside `path`'s target (links resolved), with the same
    suffix so that writers choosing a format by suffix write the right one.
    On success it replaces the target; on any exception, interrupts included,
    it is removed and the target is left untouched. A special file (a device,
    a FIFO) is written directly.

    Parameters
    ----------
    path : str or path-like
        The output file.

    Yields
    ------
    path : pathlib.Path
        Where to write.
    """
    target = output_target(path)
    if target.exists() and _is_special(target):
        yield target
        return
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    temporary = temporary.with_name(temporary.name + target.suffix)
    try:
        yield temporary
        _sync(temporary)  # on disk before it replaces the target
        if target.exists():  # the replaced file's permissions, not the umask's
            shutil.copymode(target, temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def writing_text(path, opener=open):
    """A text stream to write to `path` as :func:`replacing` does; stdout for ``-``.

    Parameters
    ----------
    path : str or path-like
        The output file, or ``-`` for standard output.
    opener : callable, default=open
        Opens a path for writing text, e.g. :func:`gzip.open` to compress.

    Yields
    ------
    file : text stream
    """
    if str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    with replacing(path) as temporary:
        with opener(temporary, "wt", encoding="utf-8", newline="") as file:
            yield file


def _sync(path):
    """Flush `path`'s data to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist
        return False


def _is_special(path):
    """Whether `path` is neither a regular file nor a directory (a device, a FIFO)."""
    mode = path.stat().st_mode
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
