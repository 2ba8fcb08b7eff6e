# SPDX-License-Identifier: BSD-3-Clause
"""Sphinx configuration of the sklearn-deeplog documentation."""

import zlib
from pathlib import Path

import sklearn_deeplog

project = "sklearn-deeplog"
author = "sklearn-deeplog developers"
copyright = "sklearn-deeplog developers, BSD-3-Clause"
release = sklearn_deeplog.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
default_role = "literal"

# -- API reference -----------------------------------------------------------------
autosummary_generate = True
# The methods scikit-learn's mixins give (get_params, set_params, set_output,
# fit_predict, ...) are documented by scikit-learn, and their docstrings refer
# to its own pages: list only the methods this package defines, in an estimator
# or in a base it shares with others (see _skip_scikit_learn_members).
autodoc_default_options = {"members": True, "inherited-members": True}
# As scikit-learn does: the autosummary class template lists the methods, so
# numpydoc must not add a second, duplicate table of them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Check every docstring of the public API against the numpydoc standard
# (warnings, so errors under -W). Ignored, as scikit-learn does: named return
# values (RT02), no extended summary (ES01), no See Also (SA01), no Examples on
# methods (EX01: each class has one), first line on the opening quotes (GL01).
numpydoc_validation_checks = {"all", "GL01", "GL02", "SA01", "ES01", "EX01", "RT02"}
# Docstrings say :term:`fit` as scikit-learn's do: the term resolves to
# scikit-learn's glossary through intersphinx, which an offline build lacks.
suppress_warnings = ["ref.term"]
# Constants (NO_EVENT, LOGHUB_FORMATS, ...) are documented by their comments;
# their docstrings are those of float, int, dict.
numpydoc_validation_exclude = {r"\.[A-Z_]+$"}

# -- cross-references to other projects ---------------------------------------------
# Offline builds fall back to an empty inventory: external names are then left
# unlinked instead of failing a build with -W.
_EMPTY_INVENTORY = Path(__file__).parent / "_build" / "empty-objects.inv"
_EMPTY_INVENTORY.parent.mkdir(exist_ok=True)
_EMPTY_INVENTORY.write_bytes(
    b"# Sphinx inventory version 2\n# Project: none\n# Version: 0\n"
    b"# The remainder of this file is compressed using zlib.\n" + zlib.compress(b"")
)
intersphinx_mapping = {
    name: (url, (None, str(_EMPTY_INVENTORY)))
    for name, url in {
        "python": "https://docs.python.org/3/",
        "numpy": "https://numpy.org/doc/stable/",
        "pandas": "https://pandas.pydata.org/docs/",
        "sklearn": "https://scikit-learn.org/stable/",
        "torch": "https://docs.pytorch.org/docs/stable/",
        "skorch": "https://skorch.readthedocs.io/en/stable/",
    }.items()
}
intersphinx_timeout = 10

# -- example gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("sklearn_deeplog",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_deeplog": None},
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
}

# -- plots in the user guide ---------------------------------------------------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-deeplog {release}"
html_theme_options = {
    "github_url": "https://github.com/sklearn-deeplog/sklearn-deeplog",
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_sidebars = {"citing": [], "command_line": []}
# custom.css: long API names wrap instead of running under the sidebars.
html_static_path = ["_static"]
html_css_files = ["custom.css"]


def _skip_scikit_learn_members(app, what, name, obj, skip, options):
    """Leave out the members an estimator inherits from scikit-learn's classes."""
    if (getattr(obj, "__module__", None) or "").split(".")[0] == "sklearn":
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_scikit_learn_members)
