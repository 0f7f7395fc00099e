"""The one place where text from users and input files is made safe for HTML.

Every string a user or an input file chose (agency names, user names, error messages quoting
input) goes through one of these before it reaches a page:

- :func:`html_text` for HTML text and attribute values (``html.escape`` with quotes);
- :func:`markdown_text` for text placed inside a Markdown pane: besides ``< > & " '`` every ASCII
  punctuation character Markdown (or a Markdown-it plugin: math ``$``, tables ``|``, footnotes
  ``^``) could read as syntax becomes a numeric character reference, which CommonMark renders as
  that character and never as structure; line breaks become spaces so a value cannot open a
  heading, list or code block of its own.
"""

from __future__ import annotations

import html
import re

_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
#: characters Markdown could read as syntax (all ASCII punctuation); letters, digits, CJK and
#: CJK punctuation pass unchanged
_MARKDOWN_SYNTAX = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def html_text(value: object) -> str:
    """``value`` as HTML text, safe in element content and in quoted attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def markdown_text(value: object) -> str:
    """``value`` as literal text inside Markdown: no markup, no raw HTML, no links, one line."""
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    return "".join(f"&#{ord(c)};" if c in _MARKDOWN_SYNTAX else c for c in text)
