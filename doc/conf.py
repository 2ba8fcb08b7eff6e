# SPDX-License-Identifier: BSD-3-Clause
"""Sphinx configuration of the sklearn-deeplog documentation."""

import html.parser
import json
import re
import sys
import zlib
from pathlib import Path
from urllib.parse import unquote

from docutils import nodes
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging

import sklearn_deeplog

sys.path.insert(0, str(Path(__file__).parent))  # _gallery_order

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
# No typographic quotes or dashes: "--chunksize" stays two hyphens, and quoted
# shell words ('local', "sklearn-deeplog[dask]") stay straight, for copy and paste.
smartquotes = False

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
# Constants (NO_EVENT, LOGHUB_FORMATS, ...) are documented by their ``#:``
# comments in the private module that defines them (see _constant_comments):
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
    "within_subsection_order": "_gallery_order.GalleryOrder",
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


def _constant_comments(app, what, name, obj, options, lines):
    """A constant's ``#:`` comment, from the private module that defines it.

    Constants are documented where the package exports them (``NO_EVENT`` in
    ``sklearn_deeplog``), but their comments are in the private modules; without
    this, autodoc shows the docstring of their type.
    """
    if what != "data":
        return
    attribute = name.rpartition(".")[2]
    for module in sorted(sys.modules):
        if module.split(".")[0] != "sklearn_deeplog":
            continue
        comment = (
            ModuleAnalyzer.for_module(module).find_attr_docs().get(("", attribute))
        )
        if comment:
            lines[:] = list(comment)
            return


# -- figures of the benchmarks ------------------------------------------------------
_BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _benchmark_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``:bench:`stem path/to/value {format}```: a figure of a benchmark's results.

    Reads ``benchmarks/<stem>.json`` and shows the value at the path (keys
    separated by ``/``) in the format, so that the prose quotes the results
    the benchmark wrote, never a copy; a missing file or key fails the build.
    """
    try:
        stem, rest = text.split(" ", 1)
        path, spec = rest.rsplit(" ", 1)
        value = json.loads((_BENCHMARKS / f"{stem}.json").read_text())
        for key in path.split("/"):
            value = value[key]
        shown = spec.format(value)
    except (OSError, KeyError, ValueError, TypeError, IndexError) as err:
        message = inliner.reporter.error(
            f"bench: no figure {text!r}: {type(err).__name__}: {err}", line=lineno
        )
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    return [nodes.Text(shown)], []


# -- checks of the built pages ----------------------------------------------------
# The widest line of code a page shows whole: at 1280 px, beside the sidebars.
MAX_CODE_COLUMNS = 88
_LOGGER = logging.getLogger("sklearn_deeplog.docs")


def _check_code_width(app, doctree, docname):
    """Warn (an error with -W) about lines of code wider than the page."""
    for block in doctree.findall(
        lambda node: isinstance(node, (nodes.literal_block, nodes.doctest_block))
    ):
        for number, line in enumerate(block.astext().splitlines(), start=1):
            if len(line) > MAX_CODE_COLUMNS:
                _LOGGER.warning(
                    "code line %d is %d columns wide, more than the %d the page "
                    "shows: %r",
                    number,
                    len(line),
                    MAX_CODE_COLUMNS,
                    line[:60] + "...",
                    location=block,
                )


# A link to another site, a protocol (mailto:, data:) or an anchor of the page.
_NOT_LOCAL = re.compile(r"[a-z]+:|#|//")


class _Links(html.parser.HTMLParser):
    """The local targets (``href`` and ``src``) of an HTML page."""

    def __init__(self):
        super().__init__()
        self.targets = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value and not _NOT_LOCAL.match(value):
                self.targets.append(value)


def _check_internal_links(app, exception):
    """Warn about links from one built page to a file the build did not write."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for page in sorted(out.rglob("*.html")):
        if page.relative_to(out).parts[0] in ("_static", "_sources"):
            continue  # the theme's templates and the sources, not pages
        links = _Links()
        links.feed(page.read_text(encoding="utf-8"))
        for target in links.targets:
            path = unquote(target.split("#")[0].split("?")[0])
            if path and not (page.parent / path).exists():
                _LOGGER.warning(
                    "%s links to %s, which the build did not write",
                    page.relative_to(out),
                    target,
                )


def setup(app):
    app.add_role("bench", _benchmark_role)
    app.connect("autodoc-skip-member", _skip_scikit_learn_members)
    app.connect("autodoc-process-docstring", _constant_comments)
    app.connect("doctree-resolved", _check_code_width)
    app.connect("build-finished", _check_internal_links)
