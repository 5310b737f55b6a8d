"""Control characters out of what people type.

Nobody types a terminal escape sequence, a bell or a backspace into a title or a post, but a
paste can carry them, and they then reach every export raw: RFC 5545 forbids them in an .ics
TEXT value, a spreadsheet or a terminal acts on them, a mail header must not carry them. Every
text field of every form drops them on input (``forum.forms.BaseForm``); writers of exports
drop them again for rows stored before that (``qa/ics.py``, ``mail/compose.py``).

Kept: tab and newline (a carriage return becomes a newline). NUL never gets this far: the
request is refused with a 400 that gives the text back (``forum/errorpages.py``,
``_refuse_nul_bytes``).
"""

from __future__ import annotations

import re

# ANSI/VT100 escape sequences, removed whole so "\x1b[31mRød" becomes "Rød", not "[31mRød":
# CSI (ESC [ or the C1 byte 0x9b, parameters, intermediates, a final byte), OSC (ESC ] ...
# ended by BEL or ESC \) and the two-character escapes (ESC and one of @-Z \ ] ^ _).
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\^_]"
)
# C0 except tab and newline, DEL, and the C1 controls (0x80-0x9f).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def drop_controls(value):
    """``value`` without control characters other than tab and newline; CRLF and CR become
    a newline. Anything that is not a string (None, a number) is returned as it is."""
    if not isinstance(value, str) or not value:
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not _CONTROLS.search(value):
        return value  # the common case: nothing to do
    return _CONTROLS.sub("", _ESCAPES.sub("", value))
