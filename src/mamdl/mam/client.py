"""The MAM HTTP client: polite, retrying, cookie-rotating, and typed at its boundary.

Every request goes through one path (`_send`): wait for our turn in the cross-process gate, send
the current cookie, persist a rotated one, classify the answer. What comes out is either a clean
model from `mamdl.mam.models` or a `MamError` whose message a person understands and which never
holds the cookie.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

import httpx2

from mamdl import __version__
from mamdl.config import Settings
from mamdl.errors import (
    AccountBlocked,
    GuardRefused,
    MalformedResponse,
    MamError,
    NetworkError,
    NotFound,
    RateLimited,
    ServerError,
    SessionExpired,
    SessionLocked,
    WedgeUncertain,
)
from mamdl.mam.models import SearchPage, SearchRequest, SearchResult, SeedboxAnswer, UserInfo
from mamdl.mam.pacing import RequestGate
from mamdl.mam.session import SessionStore
from mamdl.mam.snatchlist import BUCKETS, SNATCH_LIST_PATH, UserTorrent, parse_rows
from mamdl.mam.wedges import WedgeLedger
from mamdl.redact import redact

log = logging.getLogger(__name__)

SEARCH_PATH = "/tor/js/loadSearchJSONbasic.php"
USER_PATH = "/jsonLoad.php"
CHECK_COOKIE_PATH = "/json/checkCookie.php"
DOWNLOAD_PATH = "/tor/download.php"
SEEDBOX_PATH = "/json/dynamicSeedbox.php"
NOTHING_RETURNED = "Nothing returned, out of"
_NOTHING_RE = re.compile(r"^Nothing returned, out of\s+([0-9][0-9,]*)")
_IP_MISMATCH_RE = re.compile(r"\bip\b.{0,80}\bdoes not match\b", re.IGNORECASE | re.DOTALL)


class _Retry(Exception):
    """Internal: this attempt failed in a way worth trying again.

    `sent` is False only when the request provably never left (the connection could not be
    opened): the one case where even a non-idempotent request may be tried again."""

    def __init__(self, error: MamError, retry_after: float | None = None, *, sent: bool = True) -> None:
        self.error = error
        self.retry_after = retry_after
        self.sent = sent


class MamClient:
    """Talks to MAM (or the sandbox). One instance per process is enough; it is thread-safe
    because every request holds the cross-process gate."""

    def __init__(self, settings: Settings, *, transport: httpx2.BaseTransport | None = None) -> None:
        self.settings = settings
        paths = settings.paths
        self.session = SessionStore(paths.session_file, settings.require_cookie())
        self.gate = RequestGate(paths.ratelimit_file, settings.min_interval)
        self._http = httpx2.Client(
            timeout=settings.request_timeout,
            follow_redirects=False,
            headers={"User-Agent": f"mamdl/{__version__}", "Accept": "application/json"},
            transport=transport,
        )
        self.rotations_seen = 0
        self.clock_skew: float | None = None
        """Local clock minus MAM's (from the Date header of the last answer), in seconds."""
        self._wedges: WedgeLedger | None = None

    @property
    def wedges(self) -> WedgeLedger:
        """The durable record of wedge spends (opened on first use)."""
        if self._wedges is None:
            self._wedges = WedgeLedger(self.settings.paths.state_dir / "wedges.sqlite")
        return self._wedges

    def wedge_recorded(self, torrent_id: int) -> bool:
        """True when a wedge was spent, or may have been, on this torrent from this state dir."""
        return self.wedges.get(self.settings.base_url, torrent_id) is not None

    def close(self) -> None:
        self._http.close()
        if self._wedges is not None:
            self._wedges.close()
            self._wedges = None

    def __enter__(self) -> MamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ endpoints

    def search(self, request: SearchRequest) -> SearchPage:
        data = self._json("POST", SEARCH_PATH, json_body=request.to_payload())
        if "data" not in data:
            message = str(data.get("error") or data.get("message") or "")
            if message.startswith(NOTHING_RETURNED):
                # "out of 0": nothing matches; "out of N" (N > 0): paged past the last row. Either
                # way the list ends here; keep N so a pager knows how many there were.
                m = _NOTHING_RE.match(message)
                n = _int(m.group(1).replace(",", ""), 0) if m else 0
                return SearchPage(results=[], total=n, found=n)
            if message:
                raise MamError(f"MAM refused the search: {redact(message)}")
            raise MalformedResponse("MAM's search answer had neither results nor an error message.")
        rows = data.get("data") or []
        if not isinstance(rows, list):
            raise MalformedResponse("MAM's search answer had a 'data' field that is not a list.")
        results = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            try:
                results.append(SearchResult.from_api(row))
            except ValueError as exc:  # one odd row must not sink the page
                log.warning("skipping a search row MAM sent that could not be parsed: %s", exc)
        found = data.get("found", data.get("total_found", len(results)))
        return SearchPage(
            results=results,
            total=_int(data.get("total"), len(results)),
            found=_int(found, len(results)),
        )

    def user(self, *, snatch_summary: bool = True) -> UserInfo:
        params = {"snatch_summary": "1"} if snatch_summary else None
        data = self._json("GET", USER_PATH, params=params)
        if not data.get("username"):
            message = data.get("error") or data.get("message")
            if message:
                raise MamError(f"MAM refused the user details: {redact(str(message))}")
            raise MalformedResponse("MAM's user details had no username.")
        return UserInfo.from_api(data)

    def user_torrents(
        self,
        uid: int,
        bucket: str,
        *,
        max_pages: int = 50,
        until: Callable[[list[UserTorrent]], bool] | None = None,
    ) -> list[UserTorrent]:
        """One of the user's per-torrent snatch lists (`unsat`, `sSat`, ...), every page.

        Pages by `iteration` until a page is empty or repeats the previous one (mam-api.md), or
        until `until(rows so far)` is true (the caller found what it looks for: fewer requests).
        An answer without `rows` is an error, never an empty list: callers decide hit-and-runs
        on it."""
        if bucket not in BUCKETS:
            raise ValueError(f"unknown snatch list {bucket!r}; one of {', '.join(BUCKETS)}")
        out: list[UserTorrent] = []
        previous: list[int] | None = None
        for iteration in range(max_pages):
            params = {"uid": str(uid), "type": bucket, "iteration": str(iteration), "cacheTime": str(int(time.time()))}
            data = self._json("GET", SNATCH_LIST_PATH, params=params)
            if data.get("success") in (False, "false", 0, "0") or not isinstance(data.get("rows"), list):
                message = data.get("error") or data.get("message")
                raise MalformedResponse(
                    f"MAM's {bucket!r} snatch list had no rows (or said it failed)"
                    + (f": {redact(str(message))}" if message else "")
                    + "."
                )
            rows = parse_rows(data, bucket)
            ids = [r.id for r in rows]
            if not rows or ids == previous:
                return out
            out.extend(rows)
            previous = ids
            if until is not None and until(out):
                return out
        raise MalformedResponse(f"MAM's {bucket!r} snatch list did not end within {max_pages} pages.")

    def check_cookie(self) -> dict[str, Any]:
        """MAM's cheap session check; raises SessionExpired when the cookie is not accepted."""
        data = self._json("GET", CHECK_COOKIE_PATH)
        if _success(data.get("Success", data.get("success"))):
            return data
        raise SessionExpired("the session check said no")

    def download_torrent(self, torrent_id: int, *, dl: str | None = None, wedge: bool = False) -> bytes:
        """The `.torrent` bytes; `dl` uses the hash form, `wedge` spends a freeleech wedge.

        A wedge is MAM's bare `&fl` on the download URL, and every such request that reaches MAM
        spends one. So: the spend is recorded in the wedge ledger *before* sending, a torrent that
        already has a record is refused (`GuardRefused`), and the request is never resent once it
        may have reached MAM (`WedgeUncertain` says so when the answer is lost)."""
        path = f"{DOWNLOAD_PATH}/{dl}" if dl else DOWNLOAD_PATH
        if not wedge:
            try:
                resp = self._send("GET", path, params={"tid": str(torrent_id)}, accept="application/x-bittorrent")
            except NotFound:
                raise NotFound(f"MAM has no torrent with id {torrent_id} (its download answered 404).") from None
            return self._torrent_body(resp, torrent_id)
        site = self.settings.base_url
        if not self.wedges.reserve(site, torrent_id):
            raise GuardRefused(
                f"A wedge was already spent (or may have been) on torrent {torrent_id}; mamdl never sends a "
                "second. Fetch it without a wedge."
            )
        try:
            # httpx would write `fl=`; MAM's working form is the bare flag, so the query is built here.
            resp = self._send("GET", f"{path}?tid={torrent_id}&fl", accept="application/x-bittorrent", idempotent=False)
        except (SessionExpired, SessionLocked):
            self.wedges.release(site, torrent_id)  # refused at the door: nothing was spent
            raise
        except _NeverSent as never:
            self.wedges.release(site, torrent_id)
            raise never.error from None
        except (NetworkError, ServerError, RateLimited) as exc:  # no answer, or none that says what happened
            raise WedgeUncertain(
                f"The wedge request for torrent {torrent_id} may have reached MAM, but its answer was lost "
                f"({exc}). MAM spends a wedge for every such request, so mamdl did not resend it and recorded "
                f"the spend: running `mam get {torrent_id}` again fetches the .torrent without spending another "
                "(check on MAM whether it shows as personal freeleech)."
            ) from None
        body = self._torrent_body(resp, torrent_id)
        self.wedges.confirm(site, torrent_id)
        return body

    def _torrent_body(self, resp: httpx2.Response, torrent_id: int) -> bytes:
        body = resp.content
        if not body.startswith(b"d"):
            self._raise_for_non_torrent(resp, torrent_id)
        return body

    def thumbnail(self, url: str, *, max_bytes: int = 8 * 1024 * 1024) -> bytes:
        """A row's cover image. Only from MAM itself (its host or a myanonamouse.net host): the
        cookie goes with the request, and the library promises no look-ups anywhere else."""
        from urllib.parse import urljoin, urlsplit

        absolute = urljoin(self.settings.base_url + "/", url)
        host = (urlsplit(absolute).hostname or "").lower()
        own = (urlsplit(self.settings.base_url).hostname or "").lower()
        if urlsplit(absolute).scheme not in ("http", "https") or not (
            host == own or host == "myanonamouse.net" or host.endswith(".myanonamouse.net")
        ):
            raise MamError(f"Not fetching a cover from {host or url!r}: only MAM's own hosts are asked.")
        resp = self._send("GET", absolute, accept="image/*")
        body = resp.content
        if not resp.headers.get("content-type", "").startswith("image/") or not body or len(body) > max_bytes:
            raise MalformedResponse(f"MAM's thumbnail for this torrent is not an image ({len(body)} bytes).")
        return body

    def seedbox_update(self) -> SeedboxAnswer:
        """The dynamic-seedbox call; its refusals are answers here, not errors (see `SeedboxAnswer`)."""
        url = self.settings.effective_seedbox_url + SEEDBOX_PATH
        resp = self._send("GET", url, allow_statuses={403, 429}, retry_429=False)
        try:
            data = resp.json()
        except ValueError:
            if resp.status_code == 403:
                raise SessionExpired("the seedbox endpoint refused the cookie") from None
            raise MalformedResponse("The seedbox endpoint did not answer with JSON.") from None
        if not isinstance(data, dict):
            raise MalformedResponse(
                f"The seedbox endpoint answered with a JSON {type(data).__name__}, not the object MAM sends."
            )
        ok = data.get("Success", data.get("success"))
        return SeedboxAnswer(
            success=ok in (True, "true", 1, "1"),
            msg=str(data.get("msg") or data.get("error") or ""),
            ip=data.get("ip"),
            asn=str(data["ASN"]) if data.get("ASN") is not None else None,
            as_name=data.get("AS"),
            status=resp.status_code,
        )

    # ------------------------------------------------------------------ plumbing

    def _json(self, method: str, path: str, *, params=None, json_body=None) -> dict[str, Any]:
        resp = self._send(method, path, params=params, json_body=json_body)
        return self._parse_json(resp)

    def _parse_json(self, resp: httpx2.Response) -> dict[str, Any]:
        """JSON was asked for. MAM signals a dead session by the *kind* of answer, not by one
        sentence (its wording is not public): an HTML or plain-text body where JSON was expected is
        a login page or an "Error, you are not signed in" notice, whatever it says."""
        text = resp.text
        content_type = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        if _looks_like_login(text) or (content_type in ("text/html", "text/plain") and not _looks_like_json(text)):
            raise SessionExpired(
                f"MAM answered with {content_type or 'a page'} where JSON was expected, as it does for a dead session"
            )
        try:
            data = json.loads(text)
        except ValueError:
            raise MalformedResponse(
                f"MAM answered {resp.request.url.path} with something that is not JSON "
                f"({len(text)} bytes, content-type {resp.headers.get('content-type', 'unknown')})."
            ) from None
        if not isinstance(data, dict):
            raise MalformedResponse(f"MAM answered {resp.request.url.path} with JSON that is not an object.")
        return data

    def _raise_for_non_torrent(self, resp: httpx2.Response, torrent_id: int) -> None:
        text = resp.text[:500]
        if _looks_like_login(text):
            raise SessionExpired("MAM answered the download with a login page")
        raise MalformedResponse(
            f"MAM did not send a .torrent for id {torrent_id}: {redact(_first_line(text)) or 'empty answer'}"
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        accept: str = "application/json",
        allow_statuses: frozenset[int] | set[int] = frozenset(),
        retry_429: bool = True,
        idempotent: bool = True,
    ) -> httpx2.Response:
        """One logical request: retried with backoff and jitter on connection errors, 429
        (Retry-After honoured) and 5xx, within `retry_budget_seconds` and `max_attempts`.

        A non-idempotent request (a wedge spend) is retried only when the connection could not be
        opened at all; any other failure is raised at once. If it never got sent, `_NeverSent`."""
        url = path if path.startswith("http") else self.settings.base_url + path
        deadline = time.monotonic() + self.settings.retry_budget_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(method, url, params, json_body, accept, allow_statuses, retry_429)
            except _Retry as retry:
                if not idempotent and retry.sent:
                    raise retry.error from None
                delay = retry.retry_after
                if delay is None:
                    delay = min(30.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random())
                remaining = deadline - time.monotonic()
                if attempt >= self.settings.max_attempts or delay > remaining:
                    if not idempotent:
                        raise _NeverSent(retry.error) from None
                    raise retry.error from None
                # a person waiting at a silent terminal should know why (the log file has every retry)
                level = logging.WARNING if attempt == 1 and isinstance(retry.error, NetworkError) else logging.INFO
                log.log(level, "MAM request failed (%s); retry %d in %.1fs", retry.error, attempt, delay)
                time.sleep(delay)

    def send_once(self, method: str, path: str, *, params: dict[str, str] | None = None) -> httpx2.Response | None:
        """One attempt and no retry, for requests that are not idempotent (bonus purchases): None
        when no answer came back (connection lost, timeout, 5xx), so MAM may or may not have acted.
        Paced, cookie-rotating and classified like every other request; a 429 raises RateLimited."""
        url = path if path.startswith("http") else self.settings.base_url + path
        try:
            return self._attempt(method, url, params, None, "application/json", frozenset(), False)
        except _Retry as retry:
            log.warning("no usable answer to a non-idempotent request (%s); not retried", retry.error)
            return None

    def _attempt(self, method, url, params, json_body, accept, allow_statuses, retry_429) -> httpx2.Response:
        with self.gate.turn():
            cookie = self.session.current().cookie
            try:
                resp = self._http.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers={"Cookie": f"mam_id={cookie}", "Accept": accept},
                )
            except httpx2.ConnectError as exc:
                raise _Retry(NetworkError(_unreachable(url, exc)), sent=False) from None
            except httpx2.TimeoutException as exc:
                sent = not isinstance(exc, (httpx2.ConnectTimeout, httpx2.PoolTimeout))
                raise _Retry(NetworkError(f"MAM did not answer in time ({_origin(url)})."), sent=sent) from None
            except httpx2.TransportError as exc:
                raise _Retry(NetworkError(_unreachable(url, exc))) from None
            self._absorb_rotation(resp)
            self._note_clock(resp)
        return self._classify(resp, allow_statuses, retry_429)

    def _absorb_rotation(self, resp: httpx2.Response) -> None:
        for header in resp.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header)
            except Exception:  # a malformed Set-Cookie is not worth failing the request over
                continue
            morsel = jar.get("mam_id")
            if morsel is not None and morsel.value:
                self.session.rotate(morsel.value)
                self.rotations_seen += 1
                log.info("MAM rotated the session cookie; the new one is saved")

    def _note_clock(self, resp: httpx2.Response) -> None:
        date = resp.headers.get("date")
        if date:
            try:
                self.clock_skew = time.time() - email.utils.parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError):
                pass

    def _classify(self, resp: httpx2.Response, allow_statuses, retry_429: bool) -> httpx2.Response:
        status = resp.status_code
        if status in allow_statuses:
            return resp
        if status == 429:
            retry_after = _retry_after(resp)
            err = RateLimited(
                "MAM is rate-limiting us (HTTP 429)"
                + (f"; it asked to wait {retry_after:.0f}s" if retry_after else "")
                + ". mamdl already paces itself; try again later.",
                retry_after,
            )
            if retry_429:
                raise _Retry(err, retry_after)
            raise err
        if status >= 500:
            raise _Retry(ServerError(f"MAM had a server error (HTTP {status}). Try again later."))
        if status in (401, 403):
            text = resp.text[:2000]
            if _IP_MISMATCH_RE.search(text):
                raise SessionLocked(f"HTTP {status}: {redact(_first_line(text))}")
            raise SessionExpired(f"HTTP {status}")
        if 300 <= status < 400:
            location = resp.headers.get("location", "")
            if "login" in location.lower():
                raise SessionExpired("MAM redirected to its login page")
            raise MalformedResponse(f"MAM redirected unexpectedly (HTTP {status}).")
        if status == 404:
            raise NotFound(f"MAM has no such item ({resp.request.url.path}, HTTP 404).")
        if status == 406:
            raise AccountBlocked(
                "MAM refused with HTTP 406: the account may be blocked or at its unsatisfied limit. "
                "Check your account on the site."
            )
        if status >= 400:
            raise MamError(f"MAM refused the request (HTTP {status}): {redact(_first_line(resp.text))}")
        if resp.text.lstrip().startswith("Error, you are not signed in"):
            raise SessionExpired("MAM says the session is not signed in")
        return resp


class _NeverSent(Exception):
    """Internal: a non-idempotent request could not even be sent (every connection attempt failed)."""

    def __init__(self, error: MamError) -> None:
        self.error = error


def _success(value: Any) -> bool:
    """MAM's `Success`: true, 1, "1", "true", or a sentence such as "You are logged in as: …"."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "null")
    return value is True or (isinstance(value, int) and value == 1)


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def _looks_like_login(text: str) -> bool:
    head = text.lstrip()[:2000].lower()
    if head.startswith("error, you are not signed in"):
        return True
    return head.startswith(("<!doctype html", "<html")) and ("login" in head or "sign in" in head)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""


def _retry_after(resp: httpx2.Response) -> float | None:
    raw = resp.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:  # the other form HTTP allows: an HTTP-date
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):  # neither: ignore the header, our own backoff applies
        log.warning("ignoring a Retry-After header that is neither seconds nor a date: %r", raw[:40])
        return None
    if parsed.tzinfo is None:  # RFC 9110 dates are GMT
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return max(0.0, parsed.timestamp() - time.time())


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _unreachable(url: str, exc: Exception) -> str:
    """Why MAM could not be reached, where we tried, and which setting holds the address."""
    why = redact(str(exc).strip() or type(exc).__name__)[:120]
    return (
        f"Could not reach MAM at {_origin(url)}: {why}. Check the network; the address is "
        "base_url (MAM_BASE_URL in the environment wins over config.toml)."
    )


def _origin(url: str) -> str:
    """`https://host:port` of a URL: where a request went, without path or query (never a secret)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
