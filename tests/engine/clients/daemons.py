"""The real clients from Debian (`scripts/system-deps` installs them), started fresh on 127.0.0.1
with generated credentials and authentication on (never bypassed for localhost).

Recipes follow bench/clients.md: DHT/LSD/PeX/uTP and port mapping off, queueing off, the session
bound to loopback. Each daemon can be killed and started again on the same profile (the "client
went down mid-download" tests).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.ports import free_port


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


def need(binary: str) -> None:
    if shutil.which(binary) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{binary} missing in CI: scripts/system-deps installs it")
        pytest.skip(f"{binary} not installed (scripts/system-deps installs it)")


class Daemon:
    """One client process on a profile dir; `kill()` then `start()` brings it back on the same
    profile and ports."""

    binary = ""
    backend = ""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.username = "mamdl-" + secrets.token_hex(3)
        self.password = secrets.token_urlsafe(18)
        self.api_port = free_port()
        self.peer_port = free_port()
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        raise NotImplementedError

    def configure(self) -> None:
        raise NotImplementedError

    def argv(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def start(self) -> Daemon:
        if self.proc is None:
            self.configure()
        self._log = open(self.workdir / "daemon.log", "ab")
        self.proc = subprocess.Popen(
            self.argv(), stdout=self._log, stderr=subprocess.STDOUT, env=self.env(), start_new_session=True
        )
        wait_port(self.api_port, self.proc)
        return self

    def kill(self) -> None:
        """SIGKILL: the client dies as in a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)
        if self._log is not None:
            self._log.close()
            self._log = None

    def held(self) -> dict[str, dict]:
        """What the client itself says it holds, read with the client's library (not mamdl's
        backend): info-hash -> {category, save_path, progress}."""
        raise NotImplementedError

    def mamdl_env(self) -> dict[str, str]:
        return {
            "MAMDL_BACKEND": self.backend,
            "MAMDL_CLIENT_URL": self.url,
            "MAMDL_CLIENT_USERNAME": self.username,
            "MAMDL_CLIENT_PASSWORD": self.password,
        }


def qbt_password_hash(password: str) -> str:
    """qBittorrent 4.2+'s WebUI password: PBKDF2-SHA512, 100,000 rounds, 16-byte salt, 64-byte key."""
    salt = secrets.token_bytes(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 100_000, 64)
    return f"@ByteArray({base64.b64encode(salt).decode()}:{base64.b64encode(key).decode()})"


class QBittorrent(Daemon):
    binary = "qbittorrent-nox"
    backend = "qbittorrent"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def configure(self) -> None:
        conf = self.workdir / "qBittorrent" / "config"
        conf.mkdir(parents=True, exist_ok=True)
        lines = [
            "[LegalNotice]",
            "Accepted=true",
            "",
            "[BitTorrent]",
            f"Session\\Port={self.peer_port}",
            "Session\\Interface=lo",
            "Session\\InterfaceName=lo",
            "Session\\InterfaceAddress=127.0.0.1",
            "Session\\DHTEnabled=false",
            "Session\\LSDEnabled=false",
            "Session\\PeXEnabled=false",
            "Session\\BTProtocol=TCP",
            "Session\\RefreshInterval=100",
            "Session\\QueueingSystemEnabled=false",
            f"Session\\DefaultSavePath={self.workdir / 'default-save'}",
            "Session\\TempPathEnabled=false",
            "Session\\AddExtensionToIncompleteFiles=false",
            "Session\\GlobalMaxRatio=-1",
            "Session\\GlobalMaxSeedingMinutes=-1",
            "",
            "[Network]",
            "PortForwardingEnabled=false",
            "",
            "[Preferences]",
            "WebUI\\Enabled=true",
            "WebUI\\Address=127.0.0.1",
            f"WebUI\\Port={self.api_port}",
            "WebUI\\LocalHostAuth=true",
            f"WebUI\\Username={self.username}",
            f'WebUI\\Password_PBKDF2="{qbt_password_hash(self.password)}"',
            "WebUI\\HostHeaderValidation=false",
            "WebUI\\CSRFProtection=true",
            "WebUI\\UseUPnP=false",
            "WebUI\\MaxAuthenticationFailCount=5",
            "Connection\\UPnP=false",
            f"Connection\\PortRangeMin={self.peer_port}",
            "Bittorrent\\DHT=false",
            "Bittorrent\\LSD=false",
            "Bittorrent\\PeX=false",
            "General\\Locale=en",
            "",
        ]
        (conf / "qBittorrent.conf").write_text("\n".join(lines))

    def env(self) -> dict[str, str]:
        p = str(self.workdir)
        return dict(os.environ, HOME=p, XDG_CONFIG_HOME=p, XDG_DATA_HOME=p, XDG_CACHE_HOME=p)

    def held(self) -> dict[str, dict]:
        import qbittorrentapi

        c = qbittorrentapi.Client(host=self.url, username=self.username, password=self.password)
        return {
            t["hash"]: {
                "category": t["category"],
                "save_path": t["save_path"].rstrip("/"),
                "progress": t["progress"],
                "state": t["state"],
            }
            for t in c.torrents_info()
        }

    def argv(self) -> list[str]:
        return ["qbittorrent-nox", f"--profile={self.workdir}", f"--webui-port={self.api_port}"]


class Transmission(Daemon):
    binary = "transmission-daemon"
    backend = "transmission"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/transmission/rpc"

    def configure(self) -> None:
        settings = {
            "bind-address-ipv4": "127.0.0.1",
            "bind-address-ipv6": "::1",
            "rpc-enabled": True,
            "rpc-bind-address": "127.0.0.1",
            "rpc-port": self.api_port,
            "rpc-whitelist": "127.0.0.1",
            "rpc-whitelist-enabled": True,
            "rpc-host-whitelist-enabled": False,
            "rpc-authentication-required": True,
            "rpc-username": self.username,
            "rpc-password": self.password,  # Transmission salts and hashes it on its first start
            "dht-enabled": False,
            "lpd-enabled": False,
            "pex-enabled": False,
            "utp-enabled": False,
            "port-forwarding-enabled": False,
            "peer-port": self.peer_port,
            "peer-port-random-on-start": False,
            "download-dir": str(self.workdir / "default-save"),
            "incomplete-dir-enabled": False,
            "rename-partial-files": False,
            "start-added-torrents": True,
            "download-queue-enabled": False,
            "seed-queue-enabled": False,
            "queue-stalled-enabled": False,
            "ratio-limit-enabled": False,
            "idle-seeding-limit-enabled": False,
            "watch-dir-enabled": False,
            "encryption": 0,
            "message-level": 1,
            "umask": 18,
        }
        cfg = self.workdir / "transmission"
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "settings.json").write_text(json.dumps(settings, indent=1))

    def held(self) -> dict[str, dict]:
        import transmission_rpc

        c = transmission_rpc.Client(
            host="127.0.0.1", port=self.api_port, username=self.username, password=self.password
        )
        return {
            t.hash_string: {
                "category": ",".join(t.labels),
                "save_path": t.download_dir.rstrip("/"),
                "progress": t.percent_done,
            }
            for t in c.get_torrents()
        }

    def argv(self) -> list[str]:
        return ["transmission-daemon", "-f", "-g", str(self.workdir / "transmission")]


class Deluge(Daemon):
    binary = "deluged"
    backend = "deluge"

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.api_port}"

    def configure(self) -> None:
        cfg = self.workdir / "deluge"
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "auth").write_text(f"{self.username}:{self.password}:10\n")
        os.chmod(cfg / "auth", 0o600)
        core = {
            "file": 1,
            "format": 1,
        }
        body = {
            "daemon_port": self.api_port,
            "allow_remote": False,
            "listen_ports": [self.peer_port, self.peer_port],
            "random_port": False,
            "listen_interface": "127.0.0.1",
            "outgoing_interface": "lo",
            "dht": False,
            "lsd": False,
            "upnp": False,
            "natpmp": False,
            "utpex": False,
            "queue_new_to_top": False,
            "max_active_limit": -1,
            "max_active_downloading": -1,
            "max_active_seeding": -1,
            "dont_count_slow_torrents": False,
            "stop_seed_at_ratio": False,
            "remove_seed_at_ratio": False,
            "share_ratio_limit": -1,
            "seed_time_limit": -1,
            "seed_time_ratio_limit": -1,
            "download_location": str(self.workdir / "default-save"),
            "enabled_plugins": ["Label"],
            "new_release_check": False,
            "send_info": False,
            "enc_in_policy": 1,
            "enc_out_policy": 1,
        }
        (cfg / "core.conf").write_text(json.dumps(core) + json.dumps(body, indent=2))

    def held(self) -> dict[str, dict]:
        from deluge_client import DelugeRPCClient

        c = DelugeRPCClient("127.0.0.1", self.api_port, self.username, self.password, decode_utf8=True)
        c.connect()
        try:
            rows = c.call("core.get_torrents_status", {}, ["label", "save_path", "progress"])
        finally:
            c.disconnect()
        return {
            h: {
                "category": r.get("label", ""),
                "save_path": r["save_path"].rstrip("/"),
                "progress": r["progress"] / 100,
            }
            for h, r in rows.items()
        }

    def argv(self) -> list[str]:
        return ["deluged", "-d", "-c", str(self.workdir / "deluge"), "-p", str(self.api_port), "-L", "warning"]


DAEMONS = {"qbittorrent": QBittorrent, "transmission": Transmission, "deluge": Deluge}
