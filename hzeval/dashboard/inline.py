"""Make a saved Panel/Bokeh page self-contained: nothing in it may reach for the network.

``save(..., resources=INLINE)`` puts Bokeh's and Panel's JavaScript in the file, but Panel
(1.9) still writes each component's stylesheet as an ``ImportedStyleSheet`` pointing at
``cdn.holoviz.org`` and adds favicon links there. On a closed government network those requests
fail (the page loses its styles) or, worse, leak that the file was opened. :func:`self_contained`
rewrites every ``ImportedStyleSheet`` — in the document and in the embedded widget states, which
carry models of their own — into an ``InlineStyleSheet`` holding the installed package's CSS, with
the files the CSS points at (spinner images, icon fonts) as ``data:`` URLs, and drops the icon
links. A stylesheet that cannot be found in the installed package is an error, never a link left
behind.
"""

from __future__ import annotations

import base64
import html
import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from hzeval.errors import HzevalError

#: the document's JSON: ``<script type="application/json" id="…">…</script>``
DOC_JSON = re.compile(r'(<script type="application/json" id="[^"]+">)(.*?)(</script>)', re.S)
ICON_LINK = re.compile(r'<link rel="(?:apple-touch-icon|icon)"[^>]*>')
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
MIME = {".svg": "image/svg+xml", ".png": "image/png", ".gif": "image/gif", ".woff2": "font/woff2"}


def _dist_root() -> Path:
    import panel

    return Path(panel.__file__).parent / "dist"


def _local_file(url: str) -> Path | None:
    """The installed file a Panel CDN (or server-relative) stylesheet URL stands for."""
    import panel

    parts = urlsplit(url)
    path = parts.path
    for prefix in (f"/panel/{panel.__version__}/dist/", "/static/extensions/panel/", "static/extensions/panel/"):
        if prefix in path:
            candidate = _dist_root() / path.split(prefix, 1)[1]
            return candidate if candidate.is_file() else None
    return None


def _data_url(path: Path) -> str:
    mime = MIME.get(path.suffix.lower())
    if mime is None or not path.is_file():  # an old font format or a missing file: nothing to fetch
        return "data:,"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@cache
def inline_css(url: str) -> str:
    """The CSS of a Panel stylesheet URL with its ``url(...)`` references as ``data:`` URLs."""
    path = _local_file(url)
    if path is None:
        raise HzevalError(
            f"离线文件引用了无法内嵌的样式表：{url[:200]}",
            f"the offline file links a stylesheet that cannot be inlined: {url[:200]}",
        )
    css = path.read_text(encoding="utf-8")

    def repl(m: re.Match) -> str:
        ref = m.group(2).strip()
        if ref.startswith("data:"):
            return m.group(0)
        target = (path.parent / urlsplit(ref).path).resolve()
        if not target.is_relative_to(_dist_root().resolve()):
            return "url(data:,)"
        return f'url("{_data_url(target)}")'

    return CSS_URL.sub(repl, css)


def _rewrite(node):
    """Walk a Bokeh JSON document (or patch), replacing ImportedStyleSheets; embedded widget
    states hold patches as JSON text under ``content``, which are rewritten too."""
    if isinstance(node, dict):
        if node.get("type") == "object" and node.get("name") == "ImportedStyleSheet":
            url = (node.get("attributes") or {}).get("url", "")
            return {
                "type": "object",
                "name": "InlineStyleSheet",
                "id": node["id"],
                "attributes": {"css": inline_css(url)},
            }
        out = {}
        for k, v in node.items():
            if k == "content" and isinstance(v, str) and v.startswith("{") and "ImportedStyleSheet" in v:
                out[k] = json.dumps(_rewrite(json.loads(v)), ensure_ascii=False, separators=(",", ":"))
            else:
                out[k] = _rewrite(v)
        return out
    if isinstance(node, list):
        if len(node) == 2 and node[0] == "content" and isinstance(node[1], str) and "ImportedStyleSheet" in node[1]:
            return ["content", json.dumps(_rewrite(json.loads(node[1])), ensure_ascii=False, separators=(",", ":"))]
        return [_rewrite(v) for v in node]
    return node


def script_json(data) -> str:
    """``data`` as JSON safe inside ``<script type="application/json">``, read back by BokehJS
    (which un-escapes ``&amp; &lt; &gt; &quot; &#x27; &#x60;`` before parsing). Bokeh HTML-escapes
    the whole text; here only what matters is escaped, as JSON escapes inside strings: every ``&``
    (so the un-escaping finds nothing to change), ``</`` (no ``</script>``) and ``<!`` (no comment
    state). The embedded states are markup-heavy (SVG charts, tables), so keeping ``<`` and ``>``
    as they are saves a fifth of the file."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("</", "<\\/").replace("<!", "\\u003c!")


def self_contained(page: str) -> str:
    """``page`` (a Bokeh/Panel standalone HTML file) with no reference left to a stylesheet or
    icon outside the file."""
    page = ICON_LINK.sub("", page)

    def doc(m: re.Match) -> str:
        data = json.loads(html.unescape(m.group(2)))
        return m.group(1) + script_json(_rewrite(data)) + m.group(3)

    page, n = DOC_JSON.subn(doc, page)
    if n != 1:
        raise HzevalError(
            "离线文件的结构不符合预期（未找到唯一的文档数据）", f"unexpected offline file layout: {n} document blocks"
        )
    return page
