# SPDX-License-Identifier: BSD-3-Clause
"""Import the optional dependencies, saying how to install one that is missing."""

import importlib


def import_optional(module, *, needed_by, extra):
    """Import an optional dependency, or say in one line how to install it.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"networkx"`` or ``"matplotlib.pyplot"``.
    needed_by : str
        What needs it, the start of the message, e.g. ``"Workflow"``.
    extra : str
        The package's extra that installs it, e.g. ``"workflow"``.

    Returns
    -------
    module : module
        The imported module.

    Raises
    ------
    ImportError
        If the module cannot be imported. The message is one line that starts
        with what is missing and the command installing it, e.g. ``Workflow
        needs networkx: pip install "sklearn-deeplog[workflow]"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        package = module.partition(".")[0]
        raise ImportError(
            f'{needed_by} needs {package}: pip install "sklearn-deeplog[{extra}]"'
        ) from err
