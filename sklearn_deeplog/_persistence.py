# SPDX-License-Identifier: BSD-3-Clause
"""Save and load models in a safe format (skops), and check saved versions."""

import io
import json
import re
import zipfile
import zlib
from pathlib import Path

from . import _version
from ._outputs import replacing

__all__ = ["check_saved_version", "current_version", "load_model", "save_model"]

#: The only types :func:`load_model` trusts beyond skops' defaults (Python's
#: primitives and containers, numpy, scipy and scikit-learn). Their state is plain
#: data: the detector's weights are numpy arrays, the miner's Drain state is JSON.
_TRUSTED_TYPES = (
    "sklearn_deeplog._deeplog.DeepLog",
    "sklearn_deeplog._detector.DeepLogDetector",
    "sklearn_deeplog._parameter_values.ParameterValueDetector",
    "sklearn_deeplog._stream.StreamDetector",
    "sklearn_deeplog._template_miner.LogTemplateMiner",
    "sklearn_deeplog._windower.SequenceWindower",
)

# The archive member that makes a skops file a sklearn-deeplog model file.
_METADATA = "sklearn_deeplog.json"
_FORMAT = "sklearn-deeplog model"

# What a damaged (truncated, corrupted, altered) archive raises while it is read
# (an altered schema may be of any shape, or nested deeper than Python recurses)...
_DAMAGE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    json.JSONDecodeError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    RecursionError,
)
# ... and while the model is built from it: the estimators refuse parameters out
# of their constraints or weights that do not fit them (ValueError), torch a
# state that does not fit its network (RuntimeError).
_INCONSISTENT = (ValueError, RuntimeError)


def save_model(model, path):
    """Save a model in a safe format: loading it cannot run code.

    Unlike pickle and joblib, whose files can run any code when loaded, the
    file is a `skops <https://skops.readthedocs.io>`_ archive of plain data (the
    network weights are numpy arrays) that :func:`load_model` rebuilds from
    trusted types only: this package's estimators, numpy's and scikit-learn's.
    The version of sklearn-deeplog is stored with the model.

    Parameters
    ----------
    model : estimator
        A fitted estimator of this package (:class:`SequenceWindower`,
        :class:`DeepLogDetector`, :class:`LogTemplateMiner`), or a
        scikit-learn :class:`~sklearn.pipeline.Pipeline` or
        :class:`~sklearn.compose.ColumnTransformer` made of them and of
        scikit-learn's estimators.
    path : str or path-like
        The file to write (replaced atomically if it exists). The ``.skops``
        extension is a good convention.

    Raises
    ------
    TypeError
        If `model` holds an object that :func:`load_model` would not trust
        (e.g. a custom function or estimator), or that skops cannot store.

    See Also
    --------
    load_model : Load a model saved by this function.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_deeplog import (
    ...     DeepLogDetector, SequenceWindower, load_model, save_model)
    >>> X = [[1], [2], [3]] * 10
    >>> model = make_pipeline(
    ...     SequenceWindower(window=2),
    ...     DeepLogDetector(top_g=1, hidden_size=8, num_layers=1, max_epochs=3,
    ...                     random_state=0),
    ... ).fit(X)
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     path = Path(directory) / "model.skops"
    ...     save_model(model, path)
    ...     restored = load_model(path)
    >>> bool((restored.decision_function(X) == model.decision_function(X)).all())
    True
    """
    import skops.io

    try:
        data = skops.io.dumps(model, compression=zipfile.ZIP_DEFLATED)
    except Exception as err:  # whatever skops or the object raises
        raise TypeError(
            "This model cannot be saved in the safe format "
            f"({type(err).__name__}: {err}). save_model stores estimators of "
            "sklearn-deeplog and scikit-learn, numpy arrays and plain Python values."
        ) from err
    untrusted = _untrusted_types(data)
    if untrusted:
        raise TypeError(
            f"This model holds types that load_model does not trust: {untrusted}. "
            "save_model stores only estimators of sklearn-deeplog and "
            "scikit-learn, numpy arrays and plain Python values, so that loading "
            "cannot run code; replace these objects, or save the model with "
            "joblib and load it only from sources you trust."
        )
    _write(data, path, current_version())


def load_model(path):
    """Load a model saved by :func:`save_model`, trusting only known types.

    The file is checked before anything in it is built: it must come from
    :func:`save_model` of a compatible version of sklearn-deeplog and hold only
    this package's estimators and numpy's and scikit-learn's types (plus
    Python's primitives and containers), so that loading a file from an
    untrusted source cannot run code.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.

    Returns
    -------
    model : estimator
        The model, ready to predict (on the cpu if it was trained on a GPU that
        is not available here).

    Raises
    ------
    ValueError
        If the file is damaged (truncated, corrupted, or altered: parameters
        out of the estimators' constraints, weights that do not fit them) or not
        a sklearn-deeplog model file, if it holds any other type, or if it was
        saved by an incompatible version of sklearn-deeplog (the message says
        how to fix that).

    See Also
    --------
    save_model : Save a model in this format.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_deeplog import DeepLogDetector, load_model, save_model
    >>> X = [[1, 2], [2, 3], [3, 1]] * 10
    >>> detector = DeepLogDetector(
    ...     top_g=1, hidden_size=8, num_layers=1, max_epochs=3, random_state=0
    ... ).fit(X)
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     path = Path(directory) / "detector.skops"
    ...     save_model(detector, path)
    ...     restored = load_model(path)
    >>> restored.keys_
    array([1, 2, 3])
    """
    import skops
    import skops.io

    path = Path(path)
    data = path.read_bytes()
    if not data.startswith(b"PK"):  # not a zip archive at all
        raise ValueError(
            f"{path} is not a model file of sklearn-deeplog: it was not written "
            "by sklearn_deeplog.save_model. (A joblib or pickle file can run code "
            "when loaded: load one with joblib.load only if you trust its source.)"
        )
    metadata = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if _METADATA not in archive.namelist():
                raise ValueError(
                    f"{path} is not a model file of sklearn-deeplog: it was not "
                    "written by sklearn_deeplog.save_model."
                )
            metadata = json.loads(archive.read(_METADATA))
        if not isinstance(metadata, dict) or metadata.get("format") != _FORMAT:
            raise _damaged(path, {}, "its metadata names no sklearn-deeplog format")
        check_saved_version(metadata.get("version"))
        untrusted = _untrusted_types(data)
        if untrusted:
            raise ValueError(
                f"{path} holds types that load_model does not trust: {untrusted}. "
                "A file written by save_model holds only estimators of "
                "sklearn-deeplog and scikit-learn, numpy arrays and plain Python "
                "values; building other types could run code, so the file is "
                "refused. Load it only if you know where it comes from and trust "
                "these types (skops.io.load(path, trusted=[...]))."
            )
    except _DAMAGE as err:
        raise _damaged(path, metadata, f"{type(err).__name__}: {err}") from err
    try:
        return skops.io.loads(data, trusted=list(_TRUSTED_TYPES))
    except _DAMAGE + _INCONSISTENT as err:
        raise _damaged(path, metadata, f"{type(err).__name__}: {err}") from err


def _damaged(path, metadata, reason):
    """The error of a damaged model file, with what was found wrong.

    Parameters
    ----------
    path : Path
        The model file.
    metadata : dict
        Its metadata, as far as it was read.
    reason : str
        What was found wrong.

    Returns
    -------
    error : ValueError
    """
    import skops

    message = (
        f"{path} is damaged (truncated or corrupted): it cannot be read as a "
        "model saved by sklearn_deeplog.save_model. Save the model again, or "
        "restore the file from a copy."
    )
    written_with = metadata.get("skops_version")
    if isinstance(written_with, str) and written_with != skops.__version__:
        # A file of a newer skops may be intact but unreadable here.
        message += (
            f" It was written with skops {written_with} and this is skops "
            f"{skops.__version__}: if the file is intact, install skops "
            f"{written_with} or newer."
        )
    return ValueError(f"{message} ({reason})")


def _untrusted_types(data):
    """Types in the skops archive `data` beyond skops' defaults and ours."""
    import skops.io

    found = skops.io.get_untrusted_types(data=data)
    return [name for name in found if name not in _TRUSTED_TYPES]


def _write(data, path, version):
    """Write the skops archive `data` with the metadata, atomically."""
    import skops

    metadata = {
        "format": _FORMAT,
        "version": version,
        "skops_version": skops.__version__,
    }
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_METADATA, json.dumps(metadata))
    # A temporary file beside the target, then a rename: an interrupted save
    # never leaves a half-written model behind (nor destroys the previous one).
    with replacing(path) as temporary:
        with open(temporary, "wb") as file:
            file.write(buffer.getbuffer())


# -- versions --------------------------------------------------------------------


def current_version():
    """The installed version of sklearn-deeplog."""
    return _version.__version__


def _compatible_versions(saved, current):
    """Whether a model saved by version `saved` can be loaded by `current`.

    The rule: before 1.0, the same major.minor version (0.3.x loads 0.3.y, not
    0.2.z); from 1.0 on, the same major version and a minor version no newer than
    the current one (1.4 loads 1.2, not 1.5 nor 2.0). Patch and development
    suffixes never matter.
    """
    saved_parts, current_parts = _major_minor(saved), _major_minor(current)
    if saved_parts is None or current_parts is None:
        return False
    if current_parts[0] == 0:
        return saved_parts == current_parts
    return saved_parts[0] == current_parts[0] and saved_parts[1] <= current_parts[1]


def _major_minor(version):
    match = re.match(r"(\d+)\.(\d+)", version) if isinstance(version, str) else None
    return None if match is None else (int(match[1]), int(match[2]))


def check_saved_version(saved):
    """Refuse a model saved by an incompatible version, saying how to fix it.

    Parameters
    ----------
    saved : str or None
        The version stored with the model; None if none was stored.

    Raises
    ------
    ValueError
        If :func:`_compatible_versions` says no.
    """
    current = current_version()
    if _compatible_versions(saved, current):
        return
    if saved is None:
        raise ValueError(
            "This model was saved by a development version of sklearn-deeplog "
            "that did not record its version, and cannot be loaded by "
            f"sklearn-deeplog {current}. Re-train the model with sklearn-deeplog "
            f"{current}."
        )
    raise ValueError(
        f"This model was saved by sklearn-deeplog {saved} and cannot be loaded by "
        f"sklearn-deeplog {current}, the installed version: the format of models "
        "may change between these versions. Re-train the model with sklearn-"
        f"deeplog {current}, or install the version that saved it to use it "
        f'(pip install "sklearn-deeplog=={saved}").'
    )
