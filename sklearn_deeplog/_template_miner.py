# SPDX-License-Identifier: BSD-3-Clause
"""Turn raw log messages into log keys (templates) with drain3."""

import functools
import json
import re
import string
from numbers import Integral, Number, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._optional import import_optional
from ._persistence import check_saved_version, current_version

__all__ = ["DEFAULT_MASKING", "UNKNOWN_TEMPLATE", "LogTemplateMiner"]

#: Key of a message that matches none of the mined templates. Template ids start
#: at 1, so this key never collides with a template.
UNKNOWN_TEMPLATE = 0

_NUMBER = r"\d+(?:\.\d+)?"
_HEX4 = r"[0-9A-Fa-f]{1,4}"
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{4}\.\d{1,2}\.\d{1,2}"
    r"|\d{1,2}/\d{1,2}/\d{4})"
)
_SIZE_UNIT = r"(?:[KMGTPE]i?B|B|[Bb]ytes?)"
_DURATION_UNIT = (
    r"(?:[nuµm]s|s|secs?|seconds?|(?:nano|micro|milli)seconds?|mins?|minutes?"
    r"|h|hrs?|hours?|days?)"
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?"
    r"|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_WEEKDAY = (
    r"(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?"
    r"|Sat(?:urday)?|Sun(?:day)?)"
)

_DIGITS = string.digits

# The default masks as (regular expression, mask name, character sets) triples:
# a token that a mask matches holds a character of each of its sets, a cheap
# test that skips the regular expressions that can't match.
_DEFAULT_MASKS = (
    (r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+", "URL", (":", "/")),
    (
        r"(?<![0-9A-Za-z])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
        r"(?![0-9A-Za-z])",
        "UUID",
        ("-",),
    ),
    (
        r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![\w:-])",
        "MAC",
        (":-",),
    ),
    (
        rf"(?<![\w.:/-]){_DATE}T{_TIME}(?:Z|[+-]\d{{2}}:?\d{{2}})?(?![\w:]|\.\d)",
        "DATETIME",
        ("T", _DIGITS),
    ),
    (rf"(?<![\w.:/-]){_DATE}(?![\w:/-]|\.\d)", "DATE", ("-/.", _DIGITS)),
    (
        r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w]|\.\d)",
        "IP",
        (".", _DIGITS),
    ),
    (
        rf"(?<![\w:.])(?:(?:{_HEX4}:){{7}}{_HEX4}"
        rf"|(?=[0-9A-Fa-f:]*[0-9A-Fa-f])(?:{_HEX4}(?::{_HEX4}){{0,6}})?::"
        rf"(?:{_HEX4}(?::{_HEX4}){{0,6}})?)(?![\w:])",
        "IP",
        (":",),
    ),
    (
        r"(?<![\w.-])(?:[A-Za-z0-9-]+\.)+[A-Za-z][A-Za-z0-9-]*:\d{1,5}(?![\w]|\.\d)",
        "HOST",
        (":", _DIGITS),
    ),
    (rf"(?<![\w.:]){_TIME}(?![\w:]|\.\d)", "TIME", (":", _DIGITS)),
    (r"(?<![\w./~:-])(?:/[\w.@%+~=,:$#-]+)+/?(?<![.,:])", "PATH", ("/",)),
    (r"(?<!\w)[A-Za-z]:\\[^\s\"'<>|]*", "PATH", (":", "\\")),
    (r"(?<![\w.])0[xX][0-9A-Fa-f]+(?!\w)", "HEX", ("xX", "0")),
    (rf"(?<![\w.]){_NUMBER}{_SIZE_UNIT}(?!\w)", "SIZE", ("By", _DIGITS)),
    (
        rf"(?<![\w.])[<>]?{_NUMBER}{_DURATION_UNIT}(?!\w)",
        "DURATION",
        ("shm", _DIGITS),
    ),
    (
        r"(?<![\w.:-])(?=[\w.:-]*\d)(?=[\w.:-]*[A-Za-z_-])[A-Za-z0-9]+"
        r"(?:(?:[_:-]{1,2}|\.)[A-Za-z0-9]+)+(?!\w)",
        "ID",
        ("_-.:", _DIGITS),
    ),
    # Bare hexadecimal words (0245a2ac) are numbers: those without a letter can't
    # be told from decimals, so both are NUM and a hex dump masks consistently.
    (
        r"(?<![\w.-])(?=[0-9A-Fa-f]*\d)(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{6,}(?!\w)"
        r"|(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?!\w)",
        "NUM",
        (_DIGITS,),
    ),
    # Last, so a value another mask covers whole keeps its kind ("uid=<NUM>").
    (
        r"(?<=[A-Za-z0-9_]=)(?!<[^<>\s]+>(?:[\s,;)\]}\"']|$))"
        r"[^\s,;()\[\]{}\"']+(?<![.:])",
        "VALUE",
        ("=",),
    ),
)

#: The default masks: ``(regular expression, mask name)`` pairs, applied in this
#: order to each token (whitespace-separated word) of a message before mining.
#: Each one is general, not tuned to one system: ``URL``, ``UUID``, ``MAC``,
#: ``DATETIME`` (ISO ``2017-05-16T12:00:00Z``), ``DATE``, ``IP`` (IPv4 with an
#: optional port, IPv6), ``HOST`` (``name.domain:port``), ``TIME``, ``PATH``
#: (absolute Unix or Windows paths), ``HEX`` (``0x1f``), ``SIZE`` and
#: ``DURATION`` (a number glued to its unit: ``64MB``, ``300ms``), ``ID`` (letters
#: and digits joined by ``_ - . :``: HDFS block ids ``blk_-123``, Hadoop task ids,
#: ``core.25``, node names such as ``R02-M1-N0-C:J12-U11``), ``NUM`` (decimal
#: numbers and bare hexadecimal words such as ``0245a2ac``, which can't always be
#: told apart) and ``VALUE`` (the value of a ``key=value`` pair that no other mask
#: covers whole: ``user=root``). A mask matches whole tokens or parts of tokens
#: delimited by punctuation, never the inside of a word (``eth0``, ``fpr29``
#: stay). Values written over several tokens (``1190 bytes``, ``Fri Jun 17
#: 07:07:00 2005``) are joined afterwards: see `join_values` of
#: :class:`LogTemplateMiner`. Extend it with
#: ``masking=[*DEFAULT_MASKING, (regex, name)]``.
DEFAULT_MASKING = tuple((pattern, name) for pattern, name, _ in _DEFAULT_MASKS)

_NEEDED_CHARACTERS = {
    pattern: tuple(frozenset(characters) for characters in sets)
    for pattern, _, sets in _DEFAULT_MASKS
}

# The default masks (and their needed characters) treat the digits 1 to 9 alike:
# the only digit they name is the 0 of "0x". So the masked shape of a token, the
# token with these digits written as 1, is the shape of the masked token; when it
# holds no 1, no such digit is left and it is the masked token itself.
_SHAPE = str.maketrans("23456789", "11111111")

# A masked value (also Drain's own parameter, <*>), as a whole token.
_MASK = re.compile(r"<[^<>\s]+>")
_DIGIT = re.compile(r"\d")

# How `join_values` joins the masked values written over several tokens, in
# order: (what, regular expression, replacement, substrings one of which the
# message must hold).
_JOINS = (
    (
        "date and time",  # "Fri Jun <NUM> <TIME> <NUM>", "Jun <NUM> <TIME>"
        re.compile(
            rf"(?<![\w<])(?:{_WEEKDAY},? )?{_MONTH} <NUM>,? <TIME>(?: <NUM>)?(?!\w)"
        ),
        "<DATETIME>",
        ("<NUM> <TIME>", "<NUM>, <TIME>"),
    ),
    (
        "number and unit",  # "<NUM> bytes", "<NUM> KB"
        re.compile(rf"<NUM> {_SIZE_UNIT}(?!\w)"),
        "<SIZE>",
        ("<NUM> ",),
    ),
    (
        "number and unit",  # "<NUM> ms", "<<NUM> sec"
        # [<>]?<NUM>, written to start with a literal, which is searched faster.
        re.compile(rf"(?:<NUM>|<<NUM>|><NUM>) {_DURATION_UNIT}(?!\w)"),
        "<DURATION>",
        ("<NUM> ",),
    ),
    (
        "restated value",  # "<SIZE> (<SIZE>)"
        re.compile(r"(<([^<>\s]+)>) \(<\2>\)"),
        r"\1",
        (" (<",),
    ),
    (
        "list",  # "<ID> <ID> <ID>", "<IP>, <IP>"
        re.compile(r"(<([^<>\s]+)>)(?:,? <\2>)+"),
        r"\1",
        ("> <", ">, <"),
    ),
)


@functools.cache
def _compile_masks(masking):
    """`masking` pairs as (compiled regex, ``<name>``, needed character sets)."""
    return tuple(
        (re.compile(pattern), f"<{name}>", _NEEDED_CHARACTERS.get(pattern, ()))
        for pattern, name in masking
    )


def _token_masker(masking):
    """A function applying `masking` to one token.

    A mask is tried only if the token has a character of each of its needed
    character sets. With default masks only, a token of letters alone is left as
    it is (each of these masks needs a digit or a sign), a token without a digit
    skips the masks needing one (masking adds no digit), and tokens of the same
    shape (see ``_SHAPE``) are masked once.
    """
    all_masks = _compile_masks(masking)

    def mask(token, masks=all_masks):
        characters = set(token)
        for regex, name, needed in masks:
            for characters_needed in needed:
                if characters.isdisjoint(characters_needed):
                    break
            else:
                masked = regex.sub(name, token)
                if masked != token:
                    token, characters = masked, set(masked)
        return token

    if not masking or not all(pattern in _NEEDED_CHARACTERS for pattern, _ in masking):
        return mask
    digits = frozenset(_DIGITS)
    masks_without_digits = tuple(
        (regex, name, needed)
        for regex, name, needed in all_masks
        if not any(characters <= digits for characters in needed)
    )
    # The masked result of each shape met; one with a 1 doesn't hold for the
    # other tokens of that shape.
    by_shape = {}

    def mask_by_shape(token):
        if token.isalpha():
            return token
        shape = token.translate(_SHAPE)
        result = by_shape.get(shape)
        if result is None or "1" in result:
            has_digit = "0" in shape or "1" in shape
            result = mask(token, all_masks if has_digit else masks_without_digits)
            by_shape[shape] = result.translate(_SHAPE)
        return result

    return mask_by_shape


def _mask_messages(messages, masking, join_values):
    """Mask each message of `messages` token by token, then join values.

    The masks are applied to each distinct token once. The masked message's
    tokens are separated by single spaces, which Drain reads the same.
    """
    mask_token = _token_masker(masking)
    masked_tokens = {}
    masked = []
    for message in messages:
        tokens = []
        for token in message.split():
            result = masked_tokens.get(token)
            if result is None:
                result = masked_tokens[token] = mask_token(token)
            tokens.append(result)
        content = " ".join(tokens)
        if join_values:
            for _, regex, replacement, parts in _JOINS:
                for part in parts:
                    if part in content:
                        content = regex.sub(replacement, content)
                        break
        masked.append(content)
    return masked


def _import_drain3():
    """The drain3 pieces the miner uses, with the command installing it if missing."""
    import_optional("drain3", needed_by="LogTemplateMiner", extra="parse")
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    return TemplateMiner, TemplateMinerConfig, MaskingInstruction


def _is_mask(token):
    """Whether `token` is a masked value (or Drain's parameter ``<*>``) as a whole."""
    return token[:1] == "<" and _MASK.fullmatch(token) is not None


def _looks_like_parameter(token):
    """Whether `token` is a masked value or holds a digit."""
    return _is_mask(token) or _DIGIT.search(token) is not None


def _same_but_values(template_token, token):
    """Whether two tokens differ only in their masked values (``(<ID>)``, ``()``)."""
    return ("<" in template_token or "<" in token) and _MASK.sub(
        "", template_token
    ) == _MASK.sub("", token)


@functools.cache
def _drain_class():
    """drain3's Drain, comparing a message with a template by its constant tokens."""
    from drain3.drain import Drain

    class ConstantsDrain(Drain):
        """Drain whose similarity counts only the constant tokens of a template.

        drain3 compares all tokens: a masked value equal to the template's mask
        counts as similar, one that differs as dissimilar, and a ``<*>`` of the
        template as dissimilar. Here a message's similarity to a template is the
        fraction of the template's constant tokens it has; the parameters are
        left out: ``<*>``, masks, tokens differing only in their masked values,
        and (with ``parametrize_numeric_tokens``) differing tokens that both look
        like parameters. Masks are parameters when routing a message in the parse
        tree too, like tokens with digits. Exact matching (``include_params``,
        used by :meth:`LogTemplateMiner.transform`) is drain3's.
        """

        has_numbers = staticmethod(_looks_like_parameter)

        def get_seq_distance(self, seq1, seq2, include_params):
            if include_params:
                return super().get_seq_distance(seq1, seq2, include_params)
            numeric = self.parametrize_numeric_tokens
            constants = similar = params = 0
            for template_token, token in zip(seq1, seq2, strict=True):
                if template_token == token:
                    if _is_mask(token):
                        params += 1
                    else:
                        constants += 1
                        similar += 1
                elif (
                    template_token == self.param_str
                    or _same_but_values(template_token, token)
                    or (
                        numeric
                        and _looks_like_parameter(template_token)
                        and _looks_like_parameter(token)
                    )
                ):
                    params += 1
                else:
                    constants += 1
            return (similar / constants if constants else 1.0), params

    return ConstantsDrain


class LogTemplateMiner(TransformerMixin, BaseEstimator):
    """Turn raw log messages into log keys with the Drain template miner.

    Wraps drain3's ``TemplateMiner`` (He et al., ICWS 2017): masks the variable
    parts of each message with regular expressions, mines message templates in
    :meth:`fit`, then maps each message to the id of the template it matches. The
    output, one key per log entry, is the event column that
    :class:`SequenceWindower` reads.

    Read more in the :ref:`User Guide <parsing>`.

    Parameters
    ----------
    column : str or int, default=None
        Column holding the log messages when `X` is a table (a column name of a
        DataFrame, or a column index). ``None`` means the column named
        ``"content"`` (any case, as in Loghub's ``Content``) if there is one, else
        the last column. Ignored for a 1-D `X`, which holds the messages.
    sim_th : float, default=0.8
        Similarity threshold of Drain: a message joins the most similar template
        of its length when it has at least this fraction of the template's
        constant tokens, otherwise it starts a new template. Parameters are left
        out of the fraction: the template's ``<*>`` and masks, tokens differing
        only in their masked values (``(<ID>)`` and ``()``), and differing tokens
        that both hold a digit (see `parametrize_numeric_tokens`). Lower values
        merge more. Not drain3's similarity, which counts every token (see
        Notes).
    depth : int, default=4
        Depth of Drain's parse tree (at least 3): a message is routed by its
        number of tokens, then by its first ``depth - 3`` tokens, to the
        templates it is compared with. Larger values separate templates by more
        leading tokens.
    max_children : int, default=100
        Maximum number of children of a node of the parse tree; beyond it, new
        tokens share a wildcard child.
    max_clusters : int, default=None
        Maximum number of templates kept; beyond it the least recently used ones
        are dropped (their messages become unknown). ``None`` means no limit.
    extra_delimiters : list of str, default=None
        Strings that separate tokens besides whitespace, e.g. ``["_", "="]``.
        They are replaced by a space before tokenising; the templates hold the
        spaces. ``None`` means whitespace only.
    masking : list of (str, str) tuples, default=None
        Masks applied to each token (whitespace-separated word) of a message
        before mining, in order: ``(regular expression, mask name)`` pairs; every
        match is replaced by ``<name>``. ``None`` means :data:`DEFAULT_MASKING`;
        ``[]`` means no masking.
    parametrize_numeric_tokens : bool, default=True
        Whether Drain treats tokens containing a digit, and masked values, as
        parameters when it routes a new message in its parse tree, and two such
        tokens that differ as parameters when it compares a message with a
        template (see `sim_th`).
    join_values : bool, default=True
        Whether a value written over several tokens is masked as one value: a
        number and its unit (``1190 bytes`` is ``<SIZE>``, ``<1 sec`` is
        ``<DURATION>``), a date and its time (``Fri Jun 17 07:07:00 2005`` and
        ``Jun 14 15:16:01`` are ``<DATETIME>``), a value restated in parentheses
        (``1190 bytes (1.16 KB)`` is one ``<SIZE>``) and a run of the same mask
        separated by blanks or commas, that is a list of values (the blocks of an
        HDFS ``ask ... to delete`` message). Messages then keep one number of
        tokens per template: lists of any length, and sizes with or without their
        restatement, share one template. Needs the default mask names (``NUM``,
        ``TIME``).
    full_search_strategy : {"never", "fallback", "always"}, default="fallback"
        How :meth:`transform` looks for the template a message matches
        (drain3's ``match``): ``"never"`` walks the parse tree only (fastest, may
        miss a match), ``"fallback"`` searches all templates of the message's
        length when the tree walk finds none, ``"always"`` always does. Read at
        transform time, so it can be changed after fitting.

    Attributes
    ----------
    templates_ : dict of int to str
        Template text by template id (the event key). Ids start at 1 and follow
        the order in which the templates appeared. Masked parts read ``<NAME>``,
        other parameters ``<*>``.
    n_templates_ : int
        Number of templates mined.
    n_features_in_ : int
        Number of columns seen during :term:`fit` (1 for a 1-D `X`).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during :term:`fit`. Defined only when `X` has feature
        names that are all strings.

    See Also
    --------
    read_raw_log : Read a raw log file into a table with a message column.
    SequenceWindower : Turn the keys into DeepLog context windows.

    Notes
    -----
    Drain's templates change while it mines: a message seen early may have been
    added to a template that later messages generalise (a token becomes ``<*>``).
    :meth:`transform` therefore matches every message against the final templates
    and never changes them, and :meth:`fit_transform` gives exactly
    ``fit(X).transform(X)``. A message that matches no template (a new kind of
    message, or a known one with a different number of tokens) gets the key
    :data:`UNKNOWN_TEMPLATE` (0), which downstream detectors treat as an unseen
    key, that is an anomaly.

    Drain's similarity is here the fraction of the template's constant tokens
    that a message has; drain3 counts every token, masks included, and uses 0.4
    as threshold. A message whose variable parts are masked thus matches its
    template however many they are, and ``sim_th=0.8`` keeps apart templates
    that differ in one word out of four: ``user alice logged in`` and ``user bob
    logged in`` stay two templates, as two messages ending in ``HTTPS`` and
    ``SOCKS5`` should. Lower `sim_th` (0.7) if unmasked words vary inside short
    messages of your logs. The defaults were chosen for their grouping accuracy
    on eight Loghub systems at once, with no per-system setting;
    ``benchmarks/parsing.py`` measures them.

    Missing messages (None, NaN) are read as empty messages and numbers as their
    text. Two templates may end up with the same text; a message matching both
    gets one of the two keys, always the same.

    The fitted miner is pickled (and saved by :func:`save_model`) as plain
    data, its templates and Drain's parse tree in JSON, and rebuilt on loading,
    so round-trips give identical keys. drain3's own snapshots are not used:
    they are jsonpickle, which can run code when loaded.

    References
    ----------
    .. [1] P. He, J. Zhu, Z. Zheng and M. R. Lyu, "Drain: An online log parsing
       approach with fixed depth tree", ICWS 2017.
    .. [2] M. Du, F. Li, G. Zheng and V. Srikumar, "DeepLog: Anomaly detection and
       diagnosis from system logs through deep learning", CCS 2017.

    Examples
    --------
    >>> from sklearn_deeplog import LogTemplateMiner
    >>> logs = [
    ...     "Received block blk_123 of size 67108864 from /10.0.0.1",
    ...     "Received block blk_-456 of size 3584 from /10.0.0.2",
    ...     "Deleting block blk_123 file /data/current/blk_123",
    ... ]
    >>> miner = LogTemplateMiner().fit(logs)
    >>> for key, template in miner.templates_.items():
    ...     print(key, template)
    1 Received block <ID> of size <NUM> from /<IP>
    2 Deleting block <ID> file <PATH>
    >>> miner.transform(["Received block blk_7 of size 1 from /10.0.0.9", "Disk full"])
    array([[1],
           [0]])
    >>> miner.extract_parameters(["Deleting block blk_9 file /data/blk_9"])
    [['blk_9', '/data/blk_9']]
    """

    _parameter_constraints: dict = {
        "column": [None, str, Integral],
        "sim_th": [Interval(Real, 0, 1, closed="both")],
        "depth": [Interval(Integral, 3, None, closed="left")],
        "max_children": [Interval(Integral, 2, None, closed="left")],
        "max_clusters": [None, Interval(Integral, 1, None, closed="left")],
        "extra_delimiters": [None, list, tuple],
        "masking": [None, list, tuple],
        "parametrize_numeric_tokens": ["boolean"],
        "join_values": ["boolean"],
        "full_search_strategy": [StrOptions({"never", "fallback", "always"})],
    }

    def __init__(
        self,
        *,
        column=None,
        sim_th=0.8,
        depth=4,
        max_children=100,
        max_clusters=None,
        extra_delimiters=None,
        masking=None,
        parametrize_numeric_tokens=True,
        join_values=True,
        full_search_strategy="fallback",
    ):
        self.column = column
        self.sim_th = sim_th
        self.depth = depth
        self.max_children = max_children
        self.max_clusters = max_clusters
        self.extra_delimiters = extra_delimiters
        self.masking = masking
        self.parametrize_numeric_tokens = parametrize_numeric_tokens
        self.join_values = join_values
        self.full_search_strategy = full_search_strategy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Mine the templates of the log messages in `X`.

        Parameters
        ----------
        X : array-like of shape (n_entries,) or {array-like, DataFrame} of \
                shape (n_entries, n_columns)
            Log messages, or a table with a column of log messages (see
            `column`).
        y : None
            Ignored.

        Returns
        -------
        self : LogTemplateMiner
            The fitted miner.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Mine the templates of `X`, then map each entry to its template's id.

        Gives the same keys as ``fit(X).transform(X)``: every message is matched
        against the final templates, which may be more general than those it
        joined while mining. Each message is masked only once.

        Parameters
        ----------
        X : array-like of shape (n_entries,) or {array-like, DataFrame} of \
                shape (n_entries, n_columns)
            Log messages, or a table with a column of log messages (see
            `column`).
        y : None
            Ignored.

        Returns
        -------
        keys : ndarray of shape (n_entries, 1), dtype int64
            The template id (event key) of each entry.
        """
        codes, masked = self._fit(X)
        return self._lookup(masked)[codes].reshape(-1, 1)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Mine more messages, keeping (and possibly generalising) the templates.

        The first call (or a call after none to :meth:`fit`) mines from scratch
        with the current parameters; later calls keep those settings, add new
        templates with new ids and may turn tokens of existing templates into
        ``<*>`` (so a message may then match a more general template). This is
        the online update of the parser.

        Parameters
        ----------
        X : array-like of shape (n_entries,) or {array-like, DataFrame} of \
                shape (n_entries, n_columns)
            Log messages, or a table with a column of log messages.
        y : None
            Ignored.

        Returns
        -------
        self : LogTemplateMiner
            The updated miner.
        """
        if not hasattr(self, "_miner"):
            self._fit(X)
            return self
        codes, _, masked = self._mask(self._messages(X, reset=False))
        self._mine(masked[codes])
        return self

    def transform(self, X):
        """Map each log message to the id of the template it matches.

        The templates are not changed. Messages that match no template get
        :data:`UNKNOWN_TEMPLATE` (0).

        Parameters
        ----------
        X : array-like of shape (n_entries,) or {array-like, DataFrame} of \
                shape (n_entries, n_columns)
            Log messages, or a table with the columns seen in :meth:`fit`.

        Returns
        -------
        keys : ndarray of shape (n_entries, 1), dtype int64
            The template id (event key) of each entry.
        """
        check_is_fitted(self)
        messages = self._messages(X, reset=False)
        codes, _, masked = self._mask(messages)
        return self._lookup(masked)[codes].reshape(-1, 1)

    def extract_parameters(self, X):
        """Extract the parameter values of each message, by its template.

        These values (e.g. the block id and size of an HDFS ``Received block``
        message) are the input of DeepLog's parameter-value model.

        Parameters
        ----------
        X : array-like of shape (n_entries,) or {array-like, DataFrame} of \
                shape (n_entries, n_columns)
            Log messages, or a table with the columns seen in :meth:`fit`.

        Returns
        -------
        parameters : list of list of str
            For each entry, the text of each masked part and ``<*>`` of its
            template, in order (the same number for every entry of a template).
            Values joined into one mask (see `join_values`) give one value
            holding the whole list. An empty list for a message that matches no
            template.
        """
        check_is_fitted(self)
        messages = self._messages(X, reset=False)
        codes, uniques, masked = self._mask(messages)
        unique_keys = self._lookup(masked)
        miner = self._miner
        by_unique = []
        for message, key in zip(uniques, unique_keys, strict=True):
            if key == UNKNOWN_TEMPLATE:
                by_unique.append([])
                continue
            template = self._template(key)
            message = message.strip()
            found = miner.extract_parameters(template, message, exact_matching=True)
            if found is None:
                found = miner.extract_parameters(
                    template, message, exact_matching=False
                )
            by_unique.append([p.value for p in found or ()])
        return [list(by_unique[code]) for code in codes]

    def get_feature_names_out(self, input_features=None):
        """Name of the output column.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; only checked against those seen in :meth:`fit`.

        Returns
        -------
        feature_names_out : ndarray of str
            ``["event"]``.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        return np.asarray(["event"], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A 1-D X (the messages) is accepted too, but the one_d_array tag would
        # make scikit-learn's checks index 1-D data as 2-D.
        tags.input_tags.two_d_array = True
        tags.input_tags.string = True
        # Missing messages are empty messages; other columns are not read.
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    def __getstate__(self):
        state = dict(super().__getstate__())
        state["_deeplog_version"] = current_version()
        miner = state.pop("_miner", None)
        if miner is not None:
            state["_drain_state"] = _drain_state(miner.drain)
        return state

    def __setstate__(self, state):
        state = dict(state)
        check_saved_version(state.pop("_deeplog_version", None))
        drain_state = state.pop("_drain_state", None)
        super().__setstate__(state)
        if drain_state is not None:
            self._miner = _build_miner(self._config, drain_state)

    def _settings(self):
        """The drain3 settings of this fit, as plain (picklable) Python values."""
        masking = DEFAULT_MASKING if self.masking is None else self.masking
        checked = []
        for item in masking:
            if not (
                isinstance(item, (tuple, list))
                and len(item) == 2
                and all(isinstance(part, str) for part in item)
            ):
                raise ValueError(
                    "masking must be a list of (regular expression, mask name) "
                    f"pairs of strings; got the item {item!r}."
                )
            pattern, name = item
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(
                    f"Invalid regular expression {pattern!r} in masking: {err}"
                ) from err
            if not name or re.search(r"[\s<>*]", name):
                raise ValueError(
                    f"Invalid mask name {name!r} in masking: use a non-empty name "
                    "without spaces, '<', '>' or '*'."
                )
            checked.append((pattern, name))
        delimiters = list(self.extra_delimiters or ())
        if not all(isinstance(d, str) and d for d in delimiters):
            raise ValueError(
                f"extra_delimiters must be non-empty strings; got {delimiters!r}."
            )
        return {
            "sim_th": float(self.sim_th),
            "depth": int(self.depth),
            "max_children": int(self.max_children),
            "max_clusters": (
                None if self.max_clusters is None else int(self.max_clusters)
            ),
            "extra_delimiters": delimiters,
            "masking": tuple(checked),
            "parametrize_numeric_tokens": bool(self.parametrize_numeric_tokens),
            "join_values": bool(self.join_values),
        }

    def _messages(self, X, reset):
        """The log messages of `X` as a 1-D object array of str."""
        one_d = False
        if isinstance(X, pd.Series):
            X, one_d = X.to_frame(), True
        elif not isinstance(X, pd.DataFrame):
            if isinstance(X, (str, bytes)):
                raise ValueError(
                    "Expected a 1-D array-like of log messages or a 2-D table, got "
                    "a single string: wrap it in a list."
                )
            if not hasattr(X, "shape"):
                if hasattr(X, "__array__"):
                    X = np.asarray(X)
                elif not isinstance(X, (list, tuple)):
                    X = list(X)  # any other iterable of messages
            if hasattr(X, "shape"):
                one_d = len(X.shape) == 1
            else:
                one_d = np.asarray(X, dtype=object).ndim == 1
            if one_d:
                X = np.asarray(X, dtype=object).reshape(-1, 1)

        # A 1-D X holds the messages themselves: at transform time, it is not
        # checked against the columns seen in fit.
        check_columns = reset or not one_d
        if isinstance(X, pd.DataFrame):
            if check_columns:
                validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[0] == 0:
                raise ValueError(
                    "Found an empty table (0 rows): LogTemplateMiner needs at "
                    "least one log message."
                )
            if X.shape[1] == 0:
                raise ValueError("Found a table with no column: no log messages.")
            values = X.iloc[:, 0 if one_d else self._column_index(X)]
            values = values.to_numpy(dtype=object)
        else:
            if check_columns:
                X = validate_data(
                    self, X, dtype=None, ensure_all_finite=False, reset=reset
                )
            else:
                X = check_array(X, dtype=None, ensure_all_finite=False)
            values = X[:, 0 if one_d else self._column_index(X)]
        return _as_text(values)

    def _column_index(self, X):
        """Position of the message column in the 2-D table `X`."""
        n_columns = X.shape[1]
        spec = self.column
        if spec is None:
            if isinstance(X, pd.DataFrame):
                names = [str(name).lower() for name in X.columns]
                if "content" in names:
                    return names.index("content")
            return n_columns - 1
        if isinstance(spec, str):
            if not isinstance(X, pd.DataFrame):
                raise ValueError(
                    f"column={spec!r} names a column, but X has no column names: "
                    "pass a pandas DataFrame, or give the column's index."
                )
            if spec not in X.columns:
                raise ValueError(
                    f"column {spec!r} is not in X; its columns are {list(X.columns)}."
                )
            return X.columns.get_loc(spec)
        if not -n_columns <= spec < n_columns:
            raise ValueError(
                f"column={spec} is out of range for X with {n_columns} columns."
            )
        return spec % n_columns

    def _fit(self, X):
        """Mine `X` from scratch; return its codes and distinct masked messages."""
        messages = self._messages(X, reset=True)
        self._config = self._settings()
        self._miner = _build_miner(self._config)
        codes, _, masked = self._mask(messages)
        self._mine(masked[codes])
        return codes, masked

    def _mask(self, messages):
        """Distinct messages: codes of `messages`, the distinct ones, masked."""
        codes, uniques = pd.factorize(messages)
        config = self._config
        masked = _mask_messages(uniques, config["masking"], config["join_values"])
        uniques = np.asarray(uniques, dtype=object)
        return codes, uniques, np.asarray(masked, dtype=object)

    def _mine(self, masked):
        """Add masked messages to Drain, in order, and refresh the templates."""
        drain = self._miner.drain
        add = drain.add_log_message
        for content in masked:
            add(content)
        clusters = drain.id_to_cluster
        # ``get`` does not touch the order of drain3's LRU cache.
        self.templates_ = {
            int(cid): clusters.get(cid).get_template() for cid in sorted(clusters)
        }
        self.n_templates_ = len(self.templates_)

    def _lookup(self, masked):
        """Template id of each masked message; templates are left unchanged."""
        codes, uniques = pd.factorize(masked)
        match = self._miner.drain.match
        strategy = self.full_search_strategy
        keys = np.empty(len(uniques), dtype=np.int64)
        for i, content in enumerate(uniques):
            cluster = match(content, strategy)
            keys[i] = UNKNOWN_TEMPLATE if cluster is None else cluster.cluster_id
        return keys[codes]

    def _template(self, key):
        """Current template text of template `key`."""
        return self._miner.drain.id_to_cluster.get(int(key)).get_template()


def _as_text(values):
    """Messages as a 1-D object array of str: None/NaN -> "", numbers -> text."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if isinstance(value, str):
            out[i] = value
        elif value is None or value is pd.NA or value is pd.NaT:
            out[i] = ""
        elif isinstance(value, bytes):
            out[i] = value.decode("utf-8", errors="replace")
        elif isinstance(value, (Number, np.number, np.bool_)):
            out[i] = "" if value != value else str(value)
        else:
            raise TypeError(
                "Log messages must be strings (or numbers, or missing); found "
                f"{type(value).__name__} {value!r} at row {i}."
            )
    return out


def _build_miner(config, drain_state=None):
    """A drain3 TemplateMiner with `config`, restored from `drain_state` if given."""
    TemplateMiner, TemplateMinerConfig, MaskingInstruction = _import_drain3()
    settings = TemplateMinerConfig()
    # drain3 masks only for its parameter extraction: the miner masks tokens
    # itself (_mask_messages).
    settings.masking_instructions = [
        MaskingInstruction(pattern, name) for pattern, name in config["masking"]
    ]
    settings.mask_prefix = "<"
    settings.mask_suffix = ">"
    # Drain splits on the delimiters as plain strings, but drain3's parameter
    # extraction reads them as regular expressions: give it escaped copies.
    settings.drain_extra_delimiters = [re.escape(d) for d in config["extra_delimiters"]]
    miner = TemplateMiner(persistence_handler=None, config=settings)
    # In place of the plain Drain that TemplateMiner builds.
    miner.drain = _drain_class()(
        sim_th=config["sim_th"],
        depth=config["depth"],
        max_children=config["max_children"],
        max_clusters=config["max_clusters"],
        extra_delimiters=list(config["extra_delimiters"]),
        profiler=miner.profiler,
        param_str="<*>",
        parametrize_numeric_tokens=config["parametrize_numeric_tokens"],
    )
    if drain_state is not None:
        _restore_drain(miner.drain, drain_state)
    return miner


def _drain_state(drain):
    """The state of a Drain parser as a JSON string of plain data.

    Its templates (id, tokens, number of messages), least recently used first
    (the order in which ``max_clusters`` drops them), its template counter and its
    parse tree, a node being ``[{token: child node}, [template ids]]``.
    """
    clusters = drain.id_to_cluster
    # cachetools' LRUCache keeps its use order privately; a dict has none.
    order = list(getattr(clusters, "_LRUCache__order", None) or clusters)

    def node_state(node):
        children = {
            token: node_state(child) for token, child in node.key_to_child_node.items()
        }
        return [children, [int(cid) for cid in node.cluster_ids]]

    state = {
        "clusters": [
            [int(cid), list(cluster.log_template_tokens), int(cluster.size)]
            for cid, cluster in ((cid, clusters.get(cid)) for cid in order)
        ],
        "clusters_counter": int(drain.clusters_counter),
        "tree": node_state(drain.root_node),
    }
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"))


def _restore_drain(drain, text):
    """Restore the fresh Drain parser `drain` from :func:`_drain_state`'s JSON."""
    from drain3.drain import LogCluster, Node

    def fail(reason):
        raise ValueError(f"The saved state of the template miner is invalid: {reason}")

    def is_int(value):
        return isinstance(value, int) and not isinstance(value, bool)

    def build_node(node_state):
        if not (isinstance(node_state, list) and len(node_state) == 2):
            fail("a node of the parse tree must be [children, template ids].")
        children, cluster_ids = node_state
        if not isinstance(children, dict):
            fail("the children of a node must be a mapping of tokens to nodes.")
        if not (isinstance(cluster_ids, list) and all(map(is_int, cluster_ids))):
            fail("the template ids of a node must be a list of integers.")
        node = Node()
        node.key_to_child_node = {
            token: build_node(child) for token, child in children.items()
        }
        node.cluster_ids = cluster_ids
        return node

    try:
        state = json.loads(text)
    except (TypeError, json.JSONDecodeError) as err:
        fail(f"not JSON ({err}).")
    if not (
        isinstance(state, dict)
        and state.keys() == {"clusters", "clusters_counter", "tree"}
        and isinstance(state["clusters"], list)
        and is_int(state["clusters_counter"])
    ):
        fail("expected a mapping of clusters, clusters_counter and tree.")
    for entry in state["clusters"]:
        if not (
            isinstance(entry, list)
            and len(entry) == 3
            and is_int(entry[0])
            and isinstance(entry[1], list)
            and all(isinstance(token, str) for token in entry[1])
            and is_int(entry[2])
        ):
            fail("each template must be [id, list of tokens, number of messages].")
        cluster_id, tokens, size = entry
        cluster = LogCluster(tokens, cluster_id)
        cluster.size = size
        drain.id_to_cluster[cluster_id] = cluster  # in use order: oldest first
    drain.clusters_counter = state["clusters_counter"]
    drain.root_node = build_node(state["tree"])
