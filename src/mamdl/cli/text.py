"""Make text from outside (MAM's catalogue, a `.torrent`, a tracker's message) inert before printing.

Titles, author names and file names are written by uploaders. Printed raw, an ESC sequence can
retitle the window, clear the screen or (OSC 52) write the clipboard, and Rich markup such as
`[link=…]` or `[bold red]` would be obeyed. `inert()` removes both dangers and keeps the text
readable: escape sequences are dropped whole, other control characters become a visible `�`-free
placeholder (`\\xNN`), bidi overrides that could reorder what is shown are dropped. `safe()` adds
Rich-markup escaping for strings that go through `console.print()`.
"""

from __future__ import annotations

import re

# A whole escape sequence: CSI (ESC [ … final), OSC (ESC ] … BEL or ST), DCS/SOS/PM/APC strings,
# and two-character escapes. C1 forms (0x9b CSI, 0x9d OSC …) count too.
_SEQUENCE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?                  # CSI
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)  # OSC, DCS, SOS, PM, APC
    | \x1b[ -/]*[0-~]?                                 # other ESC sequences (or a lone ESC)
    """,
    re.VERBOSE | re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings/overrides/isolates: they can make a file name read differently than it is.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def inert(text: object, *, newlines: bool = False) -> str:
    """`text` with every terminal control removed: safe to hand to a Text or a plain write.

    Tabs become a space; newlines too unless `newlines` (then they are kept)."""
    s = str(text)
    s = _SEQUENCE.sub("", s)
    s = _BIDI.sub("", s)
    s = s.replace("\t", " ")
    if not newlines:
        s = s.replace("\r\n", " ").replace("\n", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def safe(text: object, *, newlines: bool = False) -> str:
    """`inert(text)` with Rich markup escaped: for f-strings passed to `console.print()`."""
    from rich.markup import escape

    return escape(inert(text, newlines=newlines))
