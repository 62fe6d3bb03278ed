"""Names come from spec files, which anyone can write. Before a name reaches a terminal, a
spreadsheet or a Markdown page it is made inert there: control characters become visible escapes
(an ESC or OSC sequence could rewrite the terminal), a leading '=' cannot start a spreadsheet
formula, and '|', '<', '&' cannot end a Markdown cell or open HTML. JSON needs none of this: the
json module escapes control characters itself."""

from __future__ import annotations

import unicodedata

# C0 and C1 controls and DEL (Cc), format characters such as bidi overrides (Cf), line and
# paragraph separators (Zl, Zp): none should act on the terminal or the page.
_INERT = {"Cc", "Cf", "Zl", "Zp"}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# OWASP "CSV injection": a cell starting with one of these may be run as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible_char(char: str) -> str:
    if unicodedata.category(char) not in _INERT:
        return char
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str) -> str:
    """Control and format characters as escapes ('\\x1b', '\\n', '\\u202e'); other text as is."""
    if text.isprintable():  # the common case, one pass in C
        return text
    return "".join(_visible_char(char) for char in text)


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet shows as text: visible escapes, and a leading formula character
    neutralised with an apostrophe (the OWASP rule)."""
    text = visible(text)
    return "'" + text if text.startswith(FORMULA_START) else text


class Markdown(str):
    """Text that is Markdown already (the program's own emphasis): written as it is."""


def strong(text: str) -> Markdown:
    return Markdown(f"**{markdown_text(text)}**")


def markdown_text(text: str) -> str:
    """Text inside a Markdown line that stays text: no HTML, no entity, no line break, no
    emphasis or code span."""
    if isinstance(text, Markdown):
        return text
    text = visible(text)
    for char in "\\`*":
        text = text.replace(char, "\\" + char)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_cell(text: str) -> str:
    """A Markdown table cell's text, which cannot end the cell early either."""
    return text if isinstance(text, Markdown) else markdown_text(text).replace("|", "\\|")
