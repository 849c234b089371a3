"""Text from senders made safe for a terminal or a log line.

Topics, dead-letter reasons and payload previews are chosen by whoever publishes; printed raw,
an ESC sequence could rewrite the operator's terminal and a newline could forge a log line.
"""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """`text` with every control or format character (C0, DEL, C1, bidi overrides, ...)
    written as a visible escape (`\\x1b`, `\\n`, `\\u202e`); everything else unchanged."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or (ch == " ") else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    if unicodedata.category(ch) in ("Zs",):
        return ch
    code = ord(ch)
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\x{code:02x}")
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
