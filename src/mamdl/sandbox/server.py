"""The HTTP side of the sandbox: MAM's endpoints, the tracker, and the `/_sandbox/` control API.

One threaded stdlib server on 127.0.0.1 answers everything. MAM endpoints need the `mam_id`
cookie and answer in MAM's formats (including its quirks: zero results is an error object, an
expired session is HTTP 403 with an HTML "Error, you are not signed in" body). Faults queued in
`FaultBook` are applied before the cookie check, the way a proxy or rate limiter in front of the
site would. Every MAM/tracker request is recorded (time, path, method, status; never the query
string, which may hold a passkey, never the cookie, and `<dl>` instead of a download hash) for
tests to inspect.

Control endpoints (not MAM's; no cookie needed):

    GET    /_sandbox/info          base_url, mam_id (current), passkey, announce_url, settings
    GET    /_sandbox/requests      recorded requests [{t, path, method, status}]; ?announces=0
                                   leaves out tracker announces
    DELETE /_sandbox/requests      forget them
    POST   /_sandbox/faults        queue a fault (object) or several (list); see faults.py
    GET    /_sandbox/faults        pending faults
    DELETE /_sandbox/faults        drop pending faults
    POST   /_sandbox/reset         faults, request log, account, snatches, accounting back to start
    POST   /_sandbox/session       issue a fresh mam_id (every older value stops working)
    GET    /_sandbox/state         user, snatches, wedge spends, timing, swarm
    POST   /_sandbox/user          change user fields (wedges, classname, vip_until, base_uploaded, ...)
    POST   /_sandbox/settings      change timing (satisfy_seconds, inactive_seconds, hnr_seconds,
                                   announce_interval, seedbox_window), rotate_every / grace, and
                                   the answer forms row_style (live|doc) / summary_style (nested|top)
    POST   /_sandbox/snatches      add a made-up snatch {tid, age, seeded, left, active}
    GET    /_sandbox/payload?tid=N generate if needed; files with sha256, info_hash
    GET    /_sandbox/bonus         bonus purchases performed (answered or not) and the history
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from mamdl.sandbox.bonus import BonusShop
from mamdl.sandbox.catalogue import Catalogue
from mamdl.sandbox.cookies import SessionCookies
from mamdl.sandbox.faults import Fault, FaultBook, FaultError
from mamdl.sandbox.payloads import PayloadStore
from mamdl.sandbox.rows import render_row
from mamdl.sandbox.search import SearchQuery, SearchRefused, UserView, parse_bracketed, run_search
from mamdl.sandbox.state import AccountState, Timing
from mamdl.sandbox.tracker import Tracker, parse_announce_query

log = logging.getLogger(__name__)

SEARCH_PATH = "/tor/js/loadSearchJSONbasic.php"
USER_PATH = "/jsonLoad.php"
CHECK_COOKIE_PATH = "/json/checkCookie.php"
DOWNLOAD_PATH = "/tor/download.php"
SEEDBOX_PATH = "/json/dynamicSeedbox.php"
BONUS_PATH = "/json/bonusBuy.php"
SNATCH_LIST_PATH = "/json/loadUserDetailsTorrents.php"
BONUS_HISTORY_PATH = "/json/userBonusHistory.php"
THUMBNAIL_PATH = "/tor/thumbnail"
"""The sandbox's cover images (`/tor/thumbnail/<id>.png`); rows name them in `thumbnail` when asked."""
MAM_PATHS = (
    SEARCH_PATH,
    USER_PATH,
    CHECK_COOKIE_PATH,
    DOWNLOAD_PATH,
    SEEDBOX_PATH,
    BONUS_PATH,
    BONUS_HISTORY_PATH,
    THUMBNAIL_PATH,
    SNATCH_LIST_PATH,
)

NOT_SIGNED_IN = (
    "Error, you are not signed in <br />\n"
    'Please <a href="/login.php">log in</a> to view this page. '
    "If your session expired, create a new mam_id under Preferences &rarr; Security.\n"
)
LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Login | MyAnonamouse</title></head>
<body><div id="mainBody"><h1>Login</h1>
<form action="/takelogin.php" method="post">
<label>Email <input name="email" type="text"></label>
<label>Password <input name="password" type="password"></label>
<input type="submit" value="Log in!"></form>
<p>You need cookies enabled to log in or sign up.</p></div></body></html>
"""
NOTHING_RETURNED_PREFIX = "Nothing returned, out of"
SANDBOX_AS = (64496, "SANDBOX-AS Loopback Networks (documentation ASN)")


class Site(Protocol):
    """What the HTTP front needs from the sandbox (`mamdl.sandbox.app.Sandbox` is the one site):
    a protocol, so that `app` imports `server` and not the other way round."""

    bonus: BonusShop
    catalogue: Catalogue
    cookies: SessionCookies
    faults: FaultBook
    state: AccountState
    store: PayloadStore
    sizes: dict[int, int]
    timing: Timing
    tracker: Tracker
    row_style: str
    summary_style: str

    @property
    def mam_id(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    def log_request(self, t: float, path: str, method: str, status: int) -> None: ...
    def requests(self, *, include_announces: bool = True) -> list[dict[str, Any]]: ...
    def clear_requests(self) -> None: ...
    def add_fault(self, spec: dict[str, Any] | str | None = None, /, **kwargs: Any) -> Fault: ...
    def clear_faults(self) -> None: ...
    def new_session(self, value: str | None = None) -> str: ...
    def reset(self) -> None: ...
    def set_user(self, **values: Any) -> None: ...
    def configure(self, **values: Any) -> None: ...
    def add_snatch(self, tid: int, **kwargs: Any) -> None: ...
    def state_snapshot(self) -> dict[str, Any]: ...
    def bonus_purchases(self) -> list[dict[str, Any]]: ...
    def torrent_bytes(self, tid: int, *, passkey: str | None = None) -> bytes: ...
    def payload_info(self, tid: int) -> dict[str, Any]: ...
    def info(self) -> dict[str, Any]: ...


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, sandbox: Site, port: int) -> None:
        self.sandbox = sandbox
        super().__init__(("127.0.0.1", port), SandboxHandler)


def dl_hash(passkey: str, tid: int) -> str:
    """The per-user download hash MAM puts in `dl` (stable across restarts with the same passkey)."""
    digest = hmac.new(passkey.encode(), f"dl:{tid}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms ACK stalls
    server_version = "nginx"
    sys_version = ""
    server: SandboxHTTPServer

    # ------------------------------------------------------------------ plumbing

    def log_message(self, format: str, *args: Any) -> None:
        """Never the stdlib's access log: its request line holds query strings (passkeys)."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    @property
    def sb(self) -> Site:
        return self.server.sandbox

    def _dispatch(self, method: str) -> None:
        self._t = time.time()
        self._method = method
        self._status = 0
        self._set_cookie: str | None = None
        url = urlsplit(self.path)
        self._path = url.path
        self._query = url.query
        self._record = not self._path.startswith("/_sandbox/")
        self._logged = False
        self._drop_answer = False
        try:
            length = int(self.headers.get("Content-Length") or 0)
            self._body = self.rfile.read(length) if length > 0 else b""
            if self._path == "/announce" or (
                self._path.startswith("/tracker.php/") and self._path.endswith("/announce")
            ):
                self._announce()
            elif self._path.startswith("/_sandbox/"):
                self._control()
            elif self._mam_endpoint() is not None:
                self._mam()
            else:
                self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html; charset=utf-8")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            log.exception("sandbox handler failed on %s", self._path)
            try:
                self._send(500, b"Internal sandbox error", "text/plain; charset=utf-8")
            except OSError:
                self.close_connection = True
        finally:
            self._log_once()

    def _log_once(self) -> None:
        """Record the request once, before its answer leaves (so a client never sees an answer
        that is not in the log yet)."""
        if self._record and not self._logged:
            self._logged = True
            path = self._path
            if path.startswith(DOWNLOAD_PATH + "/"):
                path = DOWNLOAD_PATH + "/<dl>"  # the dl hash is a per-user credential too
            elif path.startswith("/tracker.php/"):
                path = "/tracker.php/<passkey>/announce"
            self.sb.log_request(self._t, path, self._method, self._status)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        if self._drop_answer:  # the work is done; the answer never leaves (fault `drop_answer`)
            self._drop_answer = False
            self._apply_fault(_DISCONNECT)
            return
        self._status = status
        self._log_once()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self._set_cookie:
            self.send_header("Set-Cookie", f"mam_id={self._set_cookie}; path=/; HttpOnly")
        self.end_headers()
        if self._method != "HEAD":
            self.wfile.write(body)

    def _json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None, *, pretty: bool = False
    ) -> None:
        body = json.dumps(data, indent=1 if pretty else None, ensure_ascii=False).encode()
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _text(self, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> None:
        self._send(status, text.encode(), content_type)

    def _params(self) -> dict[str, list[str]]:
        return parse_qs(self._query, keep_blank_values=True)

    def _body_json(self) -> Any:
        if not self._body:
            return {}
        return json.loads(self._body)

    # ------------------------------------------------------------------ tracker

    def _announce(self) -> None:
        fault = self.sb.faults.take_exact(self._path)
        if fault is not None:
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif self._apply_fault(fault):
                return
        params = parse_announce_query(self._query)
        passkey = None
        if self._path.startswith("/tracker.php/"):
            passkey = self._path[len("/tracker.php/") : -len("/announce")].strip("/")
        body = self.sb.tracker.announce(params, self.client_address[0], passkey=passkey)
        self._send(200, body, "text/plain")

    # ------------------------------------------------------------------ MAM endpoints

    def _mam_endpoint(self) -> str | None:
        for path in MAM_PATHS:
            if self._path == path or self._path.startswith(path + "/"):
                return path
        return None

    def _cookie(self) -> str | None:
        raw = self.headers.get("Cookie")
        if not raw:
            return None
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            return None
        morsel = jar.get("mam_id")
        return morsel.value if morsel is not None else None

    def _mam(self) -> None:
        endpoint = self._mam_endpoint()
        assert endpoint is not None
        fault = self.sb.faults.take(self._path)
        if fault is not None:
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "drop_answer":
                self._drop_answer = True
            elif self._apply_fault(fault):
                return
        cookies = self.sb.cookies
        cookie = self._cookie()
        if endpoint == DOWNLOAD_PATH and not cookie:
            # MAM's answer to a cookie-less download from an IP the session does not cover
            ip = self.client_address[0]
            self._text(f"ip {ip} does not match account, and no auth cookie provided", 401)
            return
        if not cookies.is_valid(cookie):
            self._text(NOT_SIGNED_IN, 403, "text/html; charset=utf-8")
            return
        self._set_cookie = cookies.after_authenticated()
        if endpoint == SEARCH_PATH:
            self._search()
        elif endpoint == USER_PATH:
            self._user()
        elif endpoint == CHECK_COOKIE_PATH:
            self._json({"Success": True, "username": self.sb.state.user.username, "uid": self.sb.state.user.uid})
        elif endpoint == DOWNLOAD_PATH:
            self._download()
        elif endpoint == SEEDBOX_PATH:
            self._seedbox()
        elif endpoint == BONUS_PATH:
            self._json(self.sb.bonus.buy(self.sb.state.user, self._params(), time.time()))
        elif endpoint == BONUS_HISTORY_PATH:
            self._json(self.sb.bonus.history_json())
        elif endpoint == THUMBNAIL_PATH:
            self._thumbnail()
        elif endpoint == SNATCH_LIST_PATH:
            self._snatch_list()

    def _apply_fault(self, fault: Any) -> bool:
        """Answer with `fault`; True when the request is done."""
        if fault.kind == "status":
            headers = {}
            if fault.retry_after is not None:
                ra = fault.retry_after
                headers["Retry-After"] = ra if isinstance(ra, str) else f"{ra:g}"
            body = fault.body if fault.body is not None else _status_body(fault.status)
            self._send(fault.status, body.encode(), "text/html; charset=utf-8", headers)
            return True
        if fault.kind == "answer":
            content_type = fault.content_type or "application/json; charset=utf-8"
            self._send(fault.status, (fault.body or "").encode(), content_type)
            return True
        if fault.kind == "malformed_json":
            body = fault.body if fault.body is not None else '{"perpage":100,"start":0,"data":[{"id":"1","title":"Trunc'
            self._send(200, body.encode(), "application/json; charset=utf-8")
            return True
        if fault.kind == "login_page":
            self._send(200, LOGIN_PAGE.encode(), "text/html; charset=utf-8")
            return True
        if fault.kind == "disconnect":
            self._status = 0
            self._log_once()  # in the log before the client can see the connection close
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        return False

    def _search(self) -> None:
        request: dict[str, Any] = parse_bracketed(self._query) if self._query else {}
        if self._method == "POST" and self._body:
            content_type = self.headers.get("Content-Type", "")
            try:
                if "application/x-www-form-urlencoded" in content_type:
                    request.update(parse_bracketed(self._body.decode("utf-8", "replace")))
                else:
                    body = self._body_json()
                    if not isinstance(body, dict):
                        raise ValueError("not an object")
                    request.update(body)
            except ValueError:
                self._json({"error": "Error in search: the request body is not a JSON object"})
                return
        try:
            query = SearchQuery.from_request(request)
        except SearchRefused as exc:
            self._json({"error": str(exc)})
            return
        sb = self.sb
        account = sb.state.user
        view = UserView(
            is_vip=account.is_vip,
            personal_freeleech=lambda tid: tid in account.personal_freeleech,
            hash_to_tid=sb.store.tid_for_hash,
        )
        outcome = run_search(sb.catalogue, query, view)
        if not outcome.hits:  # zero results, or paged past the last one: "out of <how many>"
            self._json({"error": f"{NOTHING_RETURNED_PREFIX} {outcome.found}"})
            return
        rows = []
        for hit in outcome.hits:
            row = dict(hit.entry.row)
            row["personal_freeleech"] = 1 if hit.entry.id in account.personal_freeleech else 0
            row["my_snatched"] = 1 if sb.state.has_snatched(account, hit.entry.id) else 0
            if query.text.strip():
                row["w"] = hit.weight
            if query.dl_link:
                row["dl"] = dl_hash(account.passkey, hit.entry.id)
            if query.thumbnail:
                row["thumbnail"] = f"{sb.base_url}{THUMBNAIL_PATH}/{hit.entry.id}.png"
            rows.append(render_row(row, sb.row_style))
        self._json(
            {
                "perpage": query.per_page,
                "start": query.start,
                "data": rows,
                "total": outcome.found,
                "found": outcome.found,
            }
        )

    def _thumbnail(self) -> None:
        name = self._path[len(THUMBNAIL_PATH) + 1 :]
        tid = name.removesuffix(".png")
        if not tid.isdigit() or self.sb.catalogue.get(int(tid)) is None:
            self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html; charset=utf-8")
            return
        self._send(200, thumbnail_png(int(tid)), "image/png")

    def _user(self) -> None:
        params = self._params()
        sb = self.sb
        data = sb.state.user_json(
            sb.state.user,
            sizes=sb.sizes,
            now=time.time(),
            snatch_summary="snatch_summary" in params,
            summary_style=sb.summary_style,
        )
        self._json(data, pretty="pretty" in params)

    def _snatch_list(self) -> None:
        from mamdl.sandbox.snatchlist import page

        params = self._params()
        uid = (params.get("uid") or [""])[0]
        if uid != str(self.sb.state.user.uid):
            self._json({"rows": [], "success": False, "error": "You may only view your own snatches"})
            return
        try:
            iteration = int((params.get("iteration") or ["0"])[0] or 0)
        except ValueError:
            iteration = 0
        sb = self.sb
        passkey = sb.state.user.passkey
        bucket = (params.get("type") or [""])[0]
        self._json(page(sb.state, sb.catalogue, sb.sizes, bucket, max(iteration, 0), lambda tid: dl_hash(passkey, tid)))

    def _download(self) -> None:
        params = self._params()
        tid_raw = (params.get("tid") or [""])[0]
        dl = self._path[len(DOWNLOAD_PATH) + 1 :] if self._path.startswith(DOWNLOAD_PATH + "/") else ""
        if not tid_raw:
            self._text("Invalid download link: missing tid", 400)
            return
        try:
            tid = int(tid_raw)
        except ValueError:
            self._text("Invalid download link: tid is not a number", 400)
            return
        sb = self.sb
        entry = sb.catalogue.get(tid)
        if entry is None:
            self._text(f"Torrent {tid} not found", 404)
            return
        account = sb.state.user
        if dl and not hmac.compare_digest(dl, dl_hash(account.passkey, tid)):
            self._text("Invalid download link: the hash does not belong to this tid", 400)
            return
        # Strict: only the bare `&fl` that working tools use spends a wedge (`fl=1` is unconfirmed on
        # the live site, so here it does nothing: a client that sends it would see no freeleech).
        if "fl" in self._query.split("&"):
            if not sb.state.spend_wedge(account, tid, free=entry.free, fl_vip=entry.fl_vip, now=time.time()):
                self._text("Error: you have no freeleech wedges left, so the torrent was not sent.", 200)
                return
        torrent = sb.torrent_bytes(tid)
        filename = f"{entry.title[:100]}.torrent".replace('"', "'")
        ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
        ascii_name = "".join(c if c.isprintable() else "_" for c in ascii_name)  # no header injection
        self._send(
            200,
            torrent,
            "application/x-bittorrent",
            {"Content-Disposition": f'attachment; filename="{ascii_name}"'},
        )

    def _seedbox(self) -> None:
        sb = self.sb
        account = sb.state.user
        asn, as_name = SANDBOX_AS
        if not account.seedbox_allowed:
            self._json({"Success": False, "msg": "Incorrect session type"}, 403)
            return
        ip = self.client_address[0]
        now = time.time()
        with sb.state.lock:
            if account.seedbox_ip == ip:
                self._json({"Success": True, "msg": "No change", "ip": ip, "ASN": asn, "AS": as_name})
                return
            last = account.seedbox_changed_at
            if last is not None and now - last < sb.timing.seedbox_window:
                self._json({"Success": False, "msg": "Last change too recent"}, 429)
                return
            account.seedbox_ip = ip
            account.seedbox_changed_at = now
        self._json({"Success": True, "msg": "Completed", "ip": ip, "ASN": asn, "AS": as_name})

    # ------------------------------------------------------------------ control API

    def _control(self) -> None:
        sb = self.sb
        name = self._path[len("/_sandbox/") :].strip("/")
        method = self._method
        try:
            if name == "info" and method == "GET":
                self._json(sb.info())
            elif name == "requests" and method == "GET":
                announces = (self._params().get("announces") or ["1"])[0] not in ("0", "false", "no")
                self._json(sb.requests(include_announces=announces))
            elif name == "requests" and method == "DELETE":
                sb.clear_requests()
                self._json({"ok": True})
            elif name == "faults" and method == "POST":
                body = self._body_json()
                specs = body if isinstance(body, list) else [body]
                for spec in specs:
                    sb.add_fault(spec)
                self._json({"ok": True, "faults": sb.faults.pending()})
            elif name == "faults" and method == "GET":
                self._json(sb.faults.pending())
            elif name == "faults" and method == "DELETE":
                sb.clear_faults()
                self._json({"ok": True})
            elif name == "reset" and method == "POST":
                sb.reset()
                self._json({"ok": True, "mam_id": sb.mam_id})
            elif name == "session" and method == "POST":
                body = self._body_json()
                value = body.get("mam_id") if isinstance(body, dict) else None
                self._json({"ok": True, "mam_id": sb.new_session(value)})
            elif name == "state" and method == "GET":
                self._json(sb.state_snapshot())
            elif name == "user" and method == "POST":
                sb.set_user(**self._body_json())
                self._json({"ok": True, "state": sb.state_snapshot()["user"]})
            elif name == "settings" and method == "POST":
                sb.configure(**self._body_json())
                self._json({"ok": True, "info": sb.info()})
            elif name == "snatches" and method == "POST":
                body = self._body_json()
                tid = int(body.pop("tid"))
                sb.add_snatch(tid, **body)
                self._json({"ok": True})
            elif name == "bonus" and method == "GET":
                self._json({"purchases": sb.bonus_purchases(), "history": sb.bonus.history_json()})
            elif name == "payload" and method == "GET":
                tid = int((self._params().get("tid") or ["0"])[0])
                self._json(sb.payload_info(tid))
            else:
                self._json({"error": f"no control endpoint {method} /_sandbox/{name}"}, 404)
        except (FaultError, ValueError, TypeError, KeyError) as exc:
            self._json({"error": str(exc)}, 400)


_DISCONNECT = Fault(kind="disconnect")


def _status_body(status: int) -> str:
    if status == 429:
        return "<html><body><h1>429 Too Many Requests</h1></body></html>"
    if status >= 500:
        return f"<html><body><h1>{status} Service Unavailable</h1><p>nginx</p></body></html>"
    return f"<html><body><h1>{status}</h1></body></html>"


def thumbnail_png(tid: int, size: int = 16) -> bytes:
    """A small, valid PNG in a colour derived from the torrent id: a cover to test with."""
    import struct
    import zlib

    color = hashlib.sha256(f"cover:{tid}".encode()).digest()[:3]
    raw = b"".join(b"\x00" + color * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def serve_in_thread(server: SandboxHTTPServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-http", daemon=True
    )
    thread.start()
    return thread
