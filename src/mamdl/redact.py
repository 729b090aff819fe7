"""Keep secrets (the `mam_id` cookie, tracker passkeys) out of every log line and message.

Secrets are registered as soon as they are read (config, session store, .torrent announce URLs);
`redact()` replaces any registered value, and the logging filter applies it to every record, so a
secret that slips into an f-string or an exception still never reaches a terminal or a log file.
"""

from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_secrets: set[str] = set()
MASK = "***"

# Shapes that are secret whatever their value: a mam_id cookie, a passkey in an announce URL.
_PATTERNS = [
    re.compile(r"(mam_id=)[^;&\s\"']+", re.IGNORECASE),
    re.compile(r"(passkey=)[^;&\s\"']+", re.IGNORECASE),
    re.compile(r"(/tracker\.php/)[^/\s\"']+"),
]


def register_secret(value: str | None) -> None:
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, MASK)
    for pat in _PATTERNS:
        text = pat.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Formats the record's message once, redacts it, and freezes it (args cleared)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a bad format string must not kill logging
            msg = str(record.msg)
        record.msg = redact(msg)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def setup_logging(log_file=None, *, verbose: bool = False) -> None:
    """stderr gets warnings (or debug with -v); the log file gets info and above, all redacted,
    rotated at 5 MiB (four old files kept)."""
    root = logging.getLogger()
    if getattr(root, "_mamdl_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    err = logging.StreamHandler()
    err.setLevel(logging.DEBUG if verbose else logging.WARNING)
    err.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    err.addFilter(RedactingFilter())
    err.addFilter(lambda record: not getattr(record, "file_only", False))  # internal-error traces
    root.addHandler(err)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            from logging.handlers import RotatingFileHandler

            # Rotated so a service running for months keeps a bounded log (5 x 5 MiB).
            fh = RotatingFileHandler(log_file, maxBytes=5 * 2**20, backupCount=4, encoding="utf-8")
        except OSError:
            fh = None
        if fh is not None:
            fh.setLevel(logging.INFO)
            fh.setFormatter(fmt)
            fh.addFilter(RedactingFilter())
            root.addHandler(fh)
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._mamdl_configured = True  # type: ignore[attr-defined]
