"""Backends over a BitTorrent client the user already runs (qBittorrent, Transmission, Deluge).

They implement the service's `TorrentBackend` like the embedded engine does; which one runs is the
`backend` setting. Each client's library is imported only when that client is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mamdl.engine.clients.base import Check, ClientBackend, ClientView, is_mam_tracker

if TYPE_CHECKING:
    from mamdl.config import Settings

__all__ = ["Check", "ClientBackend", "ClientView", "client_backend", "is_mam_tracker"]


def client_backend(settings: Settings, *, take_lock: bool = True) -> ClientBackend:
    """The configured client's backend, not yet started (`start()` logs in and takes the lock)."""
    if settings.backend == "qbittorrent":
        from mamdl.engine.clients.qbittorrent import QBittorrentBackend

        return QBittorrentBackend(settings, take_lock=take_lock)
    if settings.backend == "transmission":
        from mamdl.engine.clients.transmission import TransmissionBackend

        return TransmissionBackend(settings, take_lock=take_lock)
    if settings.backend == "deluge":
        from mamdl.engine.clients.deluge import DelugeBackend

        return DelugeBackend(settings, take_lock=take_lock)
    raise ValueError(f"not a client backend: {settings.backend}")
