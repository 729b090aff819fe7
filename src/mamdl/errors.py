"""Every error mamdl raises on purpose.

Fronts (CLI, MCP) catch `MamdlError` and show `str(err)`: each message is written for a person,
names the fix where there is one, and never carries the session cookie or the tracker passkey
(they are scrubbed again by `mamdl.redact` as a second line of defence).
"""

from __future__ import annotations


class MamdlError(Exception):
    """Base class: an expected failure with a message fit to show to the user."""

    exit_code = 1


class UsageError(MamdlError):
    """The person asked for something that makes no sense (a bad option value, an empty search).

    The only channel for user mistakes: fronts show it as a usage error (exit code 2). A bare
    `ValueError` is a bug and reaches the user as an internal error with its trace in the log."""

    exit_code = 2


class ConfigError(MamdlError):
    """The configuration is missing something or holds an invalid value."""

    exit_code = 2


class MamError(MamdlError):
    """Talking to MAM (or the sandbox) failed."""


class SessionExpired(MamError):
    """MAM answered with a login page, 401 or 403: the mam_id cookie is no longer accepted."""

    def __init__(self, detail: str = "") -> None:
        msg = (
            "MAM did not accept the session cookie (expired, revoked, or locked to another IP/ASN). "
            "Create a new mam_id under Preferences -> Security on MAM and run `mam config init`."
        )
        super().__init__(f"{msg} ({detail})" if detail else msg)


class SessionLocked(MamError):
    """MAM refused because the session is locked to an IP or ASN this machine is not on (401 "ip …
    does not match account"). Not an expired cookie: a new cookie from the same place would fail
    the same way, so the advice differs."""

    def __init__(self, detail: str = "") -> None:
        msg = (
            "MAM refused the request because this mam_id is locked to another IP address or ASN "
            "(MAM said the IP does not match the account). The cookie itself may be fine: create the "
            "session under Preferences -> Security for the IP or ASN this machine uses (a VPN or a "
            "changed home IP moves you), or for a dynamic-IP seedbox session run `mam seedbox-ip`."
        )
        super().__init__(f"{msg} ({detail})" if detail else msg)


class WedgeUncertain(MamError):
    """A wedge-spending download (`&fl`) may have reached MAM but its answer was lost. MAM spends a
    wedge each time such a request arrives, so it is never resent automatically."""


class AccountBlocked(MamError):
    """HTTP 406: MAM refuses downloads for this account (blocked, or the unsatisfied limit is reached)."""


class NotFound(MamError):
    """The torrent id or download link does not exist on MAM."""


class RateLimited(MamError):
    """MAM kept answering 429 after every retry we were allowed."""

    def __init__(self, msg: str, retry_after: float | None = None) -> None:
        super().__init__(msg)
        self.retry_after = retry_after


class ServerError(MamError):
    """MAM kept answering 5xx after every retry we were allowed."""


class NetworkError(MamError):
    """MAM could not be reached (connection refused, DNS, timeout)."""


class MalformedResponse(MamError):
    """MAM answered with something that is not the JSON we expect."""


class TorrentError(MamdlError):
    """A .torrent file is malformed, or unsafe (path traversal, absolute paths)."""


class EngineError(MamdlError):
    """The download engine could not do what was asked (unwritable folder, disk full, unknown hash)."""


class EngineBusy(EngineError):
    """Another process already drives libtorrent on this state directory."""


class ClientError(EngineError):
    """The user's BitTorrent client (qBittorrent, Transmission, Deluge) is down, refused our login
    or the request; the message names the client and the fix, never the password."""


class EngineTimeout(EngineError):
    """The engine did not reach the awaited state in time (the torrent may still get there)."""


class GuardRefused(MamdlError):
    """A safety guard (unsatisfied limit, hit-and-run, wedge) refused an action; `--force` overrides."""

    exit_code = 3


class BonusRefused(MamError):
    """MAM answered a bonus-point purchase with `success: false`; the message carries MAM's own text."""


class PurchaseUncertain(MamError):
    """A bonus-point purchase got no answer: MAM may or may not have made it. Never retried
    automatically (a purchase is not idempotent); the user checks the balance first."""
