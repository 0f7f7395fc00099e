"""Whether a secret typed by a person (an environment variable) is strong enough to use.

A secret of at least ``min_chars`` characters with at least ``min_distinct`` different characters:
``'a' * 32`` or ``'abab…'`` is refused, a ``secrets.token_hex(32)`` (64 characters, about 16
distinct) or ``token_urlsafe(32)`` passes. Not a full entropy estimate, a floor against placeholders.
"""

from __future__ import annotations

MIN_CHARS = 32
MIN_DISTINCT = 10


def weak_secret(value: str, min_chars: int = MIN_CHARS, min_distinct: int = MIN_DISTINCT) -> tuple[str, str] | None:
    """``None`` for a usable secret, else (Chinese, English) saying why not (never the value)."""
    if len(value) < min_chars:
        return f"太短：至少 {min_chars} 个字符", f"too short: at least {min_chars} characters"
    if len(set(value)) < min_distinct:
        return (
            f"过于简单：至少含 {min_distinct} 种不同字符"
            "（可用 python -c 'import secrets; print(secrets.token_hex(32))' 生成）",
            f"too simple: at least {min_distinct} different characters (e.g. secrets.token_hex(32))",
        )
    return None
