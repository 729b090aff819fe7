"""`mam adopt`: bring the MAM torrents already in the user's client under mamdl's watch.

A torrent is MAM's when one of its trackers is on MAM's tracker host (the sandbox's host on a
loopback MAM); everything else in the client is never touched. Each is matched to its MAM id by
asking MAM's search for its info-hash (one request each, paced like every other), recorded in
mamdl's state database (so `mam status`, the seeding policy and the hit-and-run guard see it), and
its share limits in the client are set to "no limit". Its data is not moved, rechecked or renamed.

The records are written to the shared state database directly, so a running service picks them up
on its next snapshot without an API call.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel

from mamdl.errors import MamdlError, UsageError

if TYPE_CHECKING:
    from mamdl.config import Settings
    from mamdl.service.core import Service


class AdoptedTorrent(BaseModel):
    info_hash: str
    name: str
    mam_id: int | None = None
    title: str | None = None
    adopted: bool
    """False: already mamdl's, or a dry run."""
    note: str = ""


def mam_tracker_hosts(settings: Settings) -> tuple[str, ...]:
    """The hosts MAM's announce URLs use: MAM's domain (t.myanonamouse.net is under it), or on a
    loopback MAM the sandbox's own host."""
    hosts = set()
    for url in (settings.base_url, settings.effective_seedbox_url):
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            continue
        try:
            ipaddress.ip_address(host)
            hosts.add(host)
        except ValueError:
            hosts.add(".".join(host.split(".")[-2:]))  # www.myanonamouse.net -> myanonamouse.net
    return tuple(sorted(hosts))


def adopt(svc: Service, *, dry_run: bool = False) -> list[AdoptedTorrent]:
    from mamdl.engine.clients import client_backend
    from mamdl.mam.models import SearchField, SearchRequest

    settings = svc.settings
    if settings.backend == "embedded":
        raise UsageError(
            "`mam adopt` takes torrents from your BitTorrent client: set backend (qbittorrent, transmission "
            "or deluge) and client_url first (see README, 'Your own client')."
        )
    backend = client_backend(settings, take_lock=False).start()
    out: list[AdoptedTorrent] = []
    try:
        for view in backend.candidates(mam_tracker_hosts(settings)):
            mam_id: int | None = None
            title: str | None = None
            note = ""
            try:
                page = svc.client.search(
                    SearchRequest(info_hash=view.info_hash, fields=[SearchField.title], per_page=5)
                )
                if page.results:
                    mam_id, title = page.results[0].id, page.results[0].title
                else:
                    note = (
                        "MAM's search does not find its info-hash (deleted on MAM?): shown in status, but "
                        "without a MAM id the hit-and-run guard cannot judge it"
                    )
            except MamdlError as exc:
                note = f"not matched to a MAM id: {exc}"
            if dry_run:
                out.append(
                    AdoptedTorrent(info_hash=view.info_hash, name=view.name, mam_id=mam_id, title=title, adopted=False)
                )
                continue
            done = backend.adopt(view, mam_id=mam_id, title=title, goal=svc.default_goal())
            out.append(
                AdoptedTorrent(
                    info_hash=view.info_hash,
                    name=view.name,
                    mam_id=mam_id,
                    title=title,
                    adopted=done,
                    note=note if done else "already mamdl's",
                )
            )
    finally:
        backend.close()
    return out
