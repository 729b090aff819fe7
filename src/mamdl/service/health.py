"""Session health: `mam doctor` and the dynamic seedbox IP (`mam seedbox-ip`).

Both exist because the ways people lose a MAM session are known and silent: a cookie shared by
two tools rotates under one of them, a clock that runs ahead makes a cleaner remove torrents too
early, a seedbox IP changes and the tracker starts answering "unrecognized host/passkey".
"""

from __future__ import annotations

import os
import socket
import stat
import time
from typing import Literal

from pydantic import BaseModel

from mamdl.errors import MamdlError, SessionExpired, SessionLocked
from mamdl.service.downloads import DownloadsMixin

SEEDBOX_MIN_INTERVAL = 3600  # MAM allows one change an hour


class Check(BaseModel):
    name: str
    status: Literal["ok", "warn", "fail"]
    detail: str
    fix: str = ""


class SeedboxOut(BaseModel):
    called: bool
    success: bool
    msg: str
    ip: str | None = None
    asn: str | None = None
    next_allowed_in_seconds: int = 0
    advice: str = ""


class HealthMixin(DownloadsMixin):
    """Session checks for `Service`: uses `ServiceBase`'s `settings`, `client`, `cache`,
    `user_info`, and the engine half's `engine_holder` (who drives libtorrent now)."""

    # ------------------------------------------------------------------ seedbox IP

    def seedbox_update(self, *, now: float | None = None) -> SeedboxOut:
        """Tell MAM our current IP for a dynamic-seedbox session; at most once an hour (tracked
        locally so a `--watch` loop or two processes never hit MAM's 429)."""
        now = time.time() if now is None else now
        key = f"seedbox:{self.settings.base_url}"
        last = self.cache.get(key, ttl=SEEDBOX_MIN_INTERVAL)
        if last is not None:
            wait = int(SEEDBOX_MIN_INTERVAL - last[1])
            prev = last[0]
            return SeedboxOut(
                called=False,
                success=bool(prev.get("success")),
                msg=f"not asked: the last call was {int(last[1] // 60)} min ago ({prev.get('msg', '')})",
                ip=prev.get("ip"),
                next_allowed_in_seconds=max(wait, 0),
            )
        answer = self.client.seedbox_update()
        advice = ""
        msg = answer.msg or ("Completed" if answer.success else "refused")
        if answer.status == 429 or "too recent" in msg.lower():
            advice = "MAM allows one change an hour; mamdl will wait before asking again."
        elif answer.status == 403:
            advice = (
                "This session cannot set a dynamic seedbox IP. On MAM, create a session with the "
                "'dynamic seedbox' option (Preferences -> Security) and give mamdl that cookie."
            )
        elif msg.lower().startswith("no change"):
            advice = "MAM already has this IP."
        elif answer.success:
            advice = "The tracker now accepts announces from this IP."
        self.cache.put(key, {"success": answer.success, "msg": msg, "ip": answer.ip})
        return SeedboxOut(
            called=True,
            success=answer.success,
            msg=msg,
            ip=answer.ip,
            asn=answer.asn,
            next_allowed_in_seconds=SEEDBOX_MIN_INTERVAL,
            advice=advice,
        )

    # ------------------------------------------------------------------ doctor

    def doctor(self) -> list[Check]:
        checks: list[Check] = []
        checks.append(self._check_files())
        checks.extend(self._check_session())
        if self.settings.backend == "embedded":
            checks.append(self._check_identity())
            checks.append(self._check_listen_port())
        else:
            checks.extend(self._check_client())
        checks.append(self._check_connectable())
        return checks

    def _check_client(self) -> list[Check]:
        """The user's client as it reports itself: reachable, logged in, version, listen port,
        DHT/PEX/LSD, and the global limits or queues that would stop MAM torrents on the client's
        own clock. Never takes the engine lock (a running service keeps it)."""
        from mamdl.engine.clients import client_backend

        backend = client_backend(self.settings, take_lock=False)
        try:
            found = backend.checks()
        finally:
            backend.close()
        status = {"ok": "ok", "warn": "warn", "error": "fail"}
        out = [Check(name=c.name, status=status[c.level], detail=c.detail) for c in found]
        host = _client_host(backend.url)
        if host and not _is_this_machine(host):
            out.append(
                Check(
                    name="client IP",
                    status="warn",
                    detail=f"the client runs on {host}, not here: MAM's tracker sees that machine's IP",
                    fix="Lock the session to that IP, or use a dynamic-seedbox session updated from that "
                    "host (`mam seedbox-ip` run there); otherwise announces fail with 'Unrecognized host/passkey'.",
                )
            )
        return out

    def _check_connectable(self) -> Check:
        from mamdl.service.connectivity import connectable_verdict

        try:
            user = self.user_info()[0]  # refreshed by the session check just before
        except MamdlError:
            user = None
        v = connectable_verdict(self.settings, user)
        return Check(name="connectable", status=v.status, detail=v.detail, fix=v.fix)

    def _check_files(self) -> Check:
        paths = self.settings.paths
        problems = []
        for p in (paths.config_file, paths.session_file, paths.engine_db):
            if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077:
                problems.append(f"{p} is readable by others (mode {oct(stat.S_IMODE(p.stat().st_mode))})")
        state = paths.state_dir
        if state.exists():
            if not os.access(state, os.W_OK):
                problems.append(f"{state} is not writable")
            if stat.S_IMODE(state.stat().st_mode) & 0o002:
                problems.append(f"{state} is world-writable")
        if problems:
            return Check(
                name="files",
                status="fail",
                detail="; ".join(problems),
                fix="chmod 600 the files that hold secrets, chmod 700 the state folder",
            )
        return Check(name="files", status="ok", detail=f"state in {state}; secrets files are private")

    def _check_session(self) -> list[Check]:
        out: list[Check] = []
        try:
            self.client.check_cookie()
        except SessionExpired as exc:
            rotated = self.client.session.current().rotations
            fix = "Create a new mam_id on MAM (Preferences -> Security) and run `mam config init`."
            if rotated:
                fix += (
                    " The cookie had rotated here before: if another tool uses the same session, each "
                    "rotation invalidates the other's copy. Give mamdl a session of its own."
                )
            return [Check(name="session", status="fail", detail=str(exc), fix=fix)]
        except SessionLocked as exc:
            fix = (
                "The session is locked to another IP or ASN: recreate it on MAM (Preferences -> Security) for the "
                "IP/ASN this machine uses, or run `mam seedbox-ip` for a dynamic-seedbox session."
            )
            return [Check(name="session", status="fail", detail=str(exc), fix=fix)]
        except MamdlError as exc:
            return [Check(name="session", status="fail", detail=str(exc), fix="Check the network and MAM_BASE_URL.")]
        state = self.client.session.current()
        detail = "MAM accepts the cookie"
        if state.rotations:
            ago = f", last {int((time.time() - (state.rotated_at or 0)) // 60)} min ago" if state.rotated_at else ""
            detail += f"; it rotated {state.rotations} time(s){ago}, each saved for the next run"
        out.append(Check(name="session", status="ok", detail=detail))
        skew = self.client.clock_skew
        if skew is None:
            out.append(Check(name="clock", status="warn", detail="MAM's answer had no Date header to compare with"))
        elif abs(skew) > 60:
            out.append(
                Check(
                    name="clock",
                    status="warn",
                    detail=f"this clock is {skew:+.0f} s off MAM's",
                    fix="Enable NTP (timedatectl set-ntp true); seeding clocks must not run ahead of MAM's.",
                )
            )
        else:
            out.append(Check(name="clock", status="ok", detail=f"within {abs(skew):.0f} s of MAM's"))
        try:
            user = self.user_info(refresh=True)[0]
            s = user.snatch_summary
            if s and s.unsat_limit:
                status = "warn" if s.unsatisfied >= s.unsat_limit - self.settings.unsat_reserve else "ok"
                out.append(
                    Check(
                        name="unsatisfied",
                        status=status,
                        detail=f"{s.unsatisfied} of {s.unsat_limit} unsatisfied, {s.hit_and_runs} hit-and-run(s)",
                        fix="Seed to 72 h before downloading more." if status == "warn" else "",
                    )
                )
        except MamdlError as exc:
            out.append(Check(name="unsatisfied", status="warn", detail=str(exc)))
        return out

    def _check_identity(self) -> Check:
        from mamdl.engine.settings import default_fingerprint, default_user_agent

        return Check(
            name="client identity",
            status="ok",
            detail=f"announces as {default_user_agent()!r}, peer id {default_fingerprint()!r} (libtorrent, "
            "DHT/PEX/LSD off for private torrents)",
        )

    def _check_listen_port(self) -> Check:
        from mamdl.service.connectivity import configured_port, split_listen

        host, _ = split_listen(self.settings)
        port = configured_port(self.settings)
        holder = self.engine_holder()
        if port == 0:
            return Check(
                name="listen port",
                status="ok",
                detail=f"a free port on {host} is chosen at the first engine start and kept in the config"
                + (f"; engine: {holder}" if holder else ""),
            )
        with socket.socket() as s:
            s.settimeout(2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return Check(
                    name="listen port",
                    status="ok",
                    detail=f"something answers on 127.0.0.1:{port}" + (f" ({holder})" if holder else ""),
                )
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
        except OSError as exc:
            return Check(
                name="listen port",
                status="fail",
                detail=f"port {port} cannot be used: {exc.strerror}",
                fix="Choose another listen_interfaces port in the config.",
            )
        return Check(
            name="listen port", status="ok", detail=f"port {port} is free on loopback; the engine can listen there"
        )


def _client_host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url if "://" in url else "//" + url).hostname or "").lower()


def _is_this_machine(host: str) -> bool:
    """Loopback, this host's name, or one of its addresses (best effort, no DNS beyond the resolver)."""
    import ipaddress

    if host in ("localhost", socket.gethostname().lower()):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        try:
            ip = ipaddress.ip_address(socket.gethostbyname(host))
        except (OSError, ValueError):
            return False
    if ip.is_loopback:
        return True
    try:
        mine = {i[4][0] for i in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        return False
    return str(ip) in mine
