"""An offline MyAnonaMouse look-alike on 127.0.0.1: site API, tracker, payloads and peers.

Every test and demo of mamdl runs against this instead of the real site. It follows the facts in
mam-api.md, strictly where the real site is strict or unknown (search semantics, cookie rotation,
download links), so a client that works here also works on MAM.

Public API
----------
`Sandbox(catalogue=None, *, port=0, data_dir=None, mam_id=None, passkey=None,
         satisfy_seconds=259200, inactive_seconds=900, hnr_seconds=2592000, announce_interval=5,
         rotate_every=5, grace=60, seedbox_window=3600, payload_scale=1.0, leecher=False,
         leecher_pause=2.0, corrupt_peer=False, seeder_rate_limit=0, honest_sizes=False,
         allowed_clients=("-LT","-qB","-TR","A2-","-DE"), user=None, row_style="live",
         summary_style="nested", start=True)`
    Context manager. `.base_url`, `.mam_id` (current), `.passkey`, `.announce_url`, `.requests()`,
    `.clear_requests()`, `.add_fault(kind, **spec)`, `.clear_faults()`, `.reset()`,
    `.new_session()`, `.rotate_cookie()`, `.announce_url_for(passkey)`, `.set_user(**fields)`, `.configure(**timing)`,
    `.add_snatch(tid, age=, seeded=, left=, active=)`, `.user_info()`, `.state_snapshot()`,
    `.wedge_spends()`, `.payload(tid)`, `.payload_files(tid)` (paths + SHA-256),
    `.torrent_bytes(tid)`, `.info_hash(tid)`, `.dl_hash(tid)`, `.close()`.

`serve(*, catalogue=None, port=0, data_dir=None, leecher=False, corrupt_peer=False, mam_id=None,
       passkey=None, satisfy_seconds=259200, inactive_seconds=900, rotate_every=5, grace=60,
       announce_interval=5, payload_scale=1.0, stdout=None, stderr=None, stop_event=None, **options)`
    Foreground server for `mam sandbox`: prints `MAM_BASE_URL=http://127.0.0.1:PORT` and
    `MAM_ID=<cookie>` on stdout (flushed), runs until SIGINT/SIGTERM, shuts down cleanly.

`load_catalogue(path=None)` / `CatalogueError`: the catalogue loader and its error.

Also `python -m mamdl.sandbox --port N --catalogue FILE [--leecher] [--corrupt-peer] ...`.

Endpoints
---------
MAM (cookie `mam_id` required): `/tor/js/loadSearchJSONbasic.php` (GET bracketed or POST JSON),
`/jsonLoad.php[?snatch_summary]`, `/json/checkCookie.php`, `/tor/download.php?tid=N[&fl]` and
`/tor/download.php/<dl>?tid=N` (only a bare `&fl` spends a wedge; a cookie-less download gets
MAM's 401 "ip … does not match account"), `/json/dynamicSeedbox.php`, `/json/bonusBuy.php`,
`/json/userBonusHistory.php`, `/tor/thumbnail/<id>.png` (a small cover per torrent; search rows
name it in `thumbnail` when the request asks for `"thumbnail": "true"`).
Tracker: `/announce?passkey=<pk>` (and `/tracker.php/<pk>/announce`).
Control (`/_sandbox/...`): info, requests, faults, reset, session, state, user, settings,
snatches, payload, bonus — see `mamdl.sandbox.server`.

Clients driving libtorrent against the sandbox should lower `min_announce_interval` (libtorrent's
default, 300 s, overrides the tracker's short interval) and follow the loopback settings in
`mamdl.sandbox.swarm.loopback_settings`.
"""

from mamdl.sandbox.app import Sandbox
from mamdl.sandbox.catalogue import CatalogueError, load_catalogue
from mamdl.sandbox.cli import serve
from mamdl.sandbox.faults import FaultError

__all__ = ["CatalogueError", "FaultError", "Sandbox", "load_catalogue", "serve"]
