"""Connectability: one listen port kept in the config, optional UPnP/NAT-PMP, and MAM's verdict.

A seeder no one can connect to seeds only to peers that are connectable themselves; MAM shows it
as `connectable: no`. The usual fix is to forward a port on the router (or in the VPN container),
which only works when the client listens on the *same* port every time. So the first engine start
chooses a free port once and writes it to the config as `listen_port`; later starts reuse it.

The chosen port comes from 61000-65500: above Linux's ephemeral range (32768-60999), so an
outgoing connection of this machine never happens to hold it when the engine starts.
"""

from __future__ import annotations

import logging
import random
import socket
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from mamdl.config import Settings
    from mamdl.mam.models import UserInfo

log = logging.getLogger(__name__)

PORT_RANGE = (61000, 65500)


def split_listen(settings: Settings) -> tuple[str, int]:
    """(host, port) of `listen_interfaces`; 127.0.0.1 against a loopback MAM (the sandbox)."""
    host, _, port_s = settings.listen_interfaces.rpartition(":")
    try:
        port = int(port_s)
    except ValueError:
        port = 0
    if settings.is_loopback:
        host = "127.0.0.1"
    return host or "0.0.0.0", port


def configured_port(settings: Settings) -> int:
    """The port the engine will listen on: explicit in `listen_interfaces`, else `listen_port`
    (0 = not chosen yet)."""
    _, port = split_listen(settings)
    return port or settings.listen_port


def _free(host: str, port: int) -> bool:
    try:
        with socket.socket() as s:
            s.bind((host, port))
        return True
    except OSError:
        return False


def ensure_listen_port(settings: Settings) -> int:
    """The fixed port, choosing one and saving it to the config file on first use."""
    from mamdl.config import write_config

    port = configured_port(settings)
    if port:
        return port
    host, _ = split_listen(settings)
    rng = random.SystemRandom()
    for _ in range(200):
        candidate = rng.randint(*PORT_RANGE)
        if _free(host, candidate):
            port = candidate
            break
    else:  # pragma: no cover - every port in the range taken
        log.warning("no free port in %s-%s; letting libtorrent pick one this time", *PORT_RANGE)
        return 0
    write_config({"listen_port": port}, settings.paths.config_file)
    settings.listen_port = port
    log.info("chose listen port %d and saved it to %s", port, settings.paths.config_file)
    return port


def listen_interfaces(settings: Settings) -> str:
    """libtorrent's listen string: the configured host, the fixed port (0 until one is chosen)."""
    host, _ = split_listen(settings)
    return f"{host}:{configured_port(settings)}"


def port_mapping_enabled(settings: Settings) -> bool:
    """UPnP/NAT-PMP only when asked for, and never against the loopback sandbox."""
    return settings.port_mapping and not settings.is_loopback


class Verdict(NamedTuple):
    status: Literal["ok", "warn"]
    detail: str
    fix: str = ""


def connectable_verdict(settings: Settings, user: UserInfo | None) -> Verdict:
    """`mam doctor`: MAM's `connectable` for the account against the port we listen on."""
    port = configured_port(settings)
    where = f"port {port}" if port else "the port chosen at the first engine start (then in `mam config show`)"
    forward = (
        f"Forward TCP {where} on your router to this machine"
        + ("" if port_mapping_enabled(settings) else ", or set port_mapping = true for UPnP/NAT-PMP")
        + ". Behind a VPN container, set listen_port to the port the VPN forwards."
    )
    state = (user.connectable or "").strip().lower() if user is not None else ""
    if user is None or not state:
        return Verdict("warn", "MAM did not say whether you are connectable")
    if state == "yes":
        return Verdict("ok", f"MAM sees you as connectable (listening on {where})")
    if state == "no":
        return Verdict("warn", f"MAM sees you as NOT connectable; mamdl listens on {where}", forward)
    return Verdict(
        "warn",
        f"MAM reports connectable={state!r}: no client of yours is announcing right now",
        "Start seeding (mam seed, or mam mcp) and check again after its next announce. " + forward,
    )
