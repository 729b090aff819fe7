// mamdl's web page: plain JavaScript, no framework. Everything from the server is put into the
// page with textContent (never innerHTML), so a title can never become markup.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;

function notice(text, kind) {
  const el = document.getElementById("notice");
  el.textContent = text;
  el.className = kind || "";
  el.hidden = !text;
}

async function call(method, url, body) {
  const opts = { method, headers: { "X-CSRF-Token": CSRF }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(url, opts);
  let data = null;
  try { data = await resp.json(); } catch (e) { data = { error: resp.statusText }; }
  if (resp.status === 401) { window.location = "/login"; }
  if (!resp.ok) { throw new Error((data && data.error) || resp.statusText); }
  return data;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + u[i];
}

function duration(s) {
  if (s < 120) return Math.round(s) + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  return (s / 3600).toFixed(1) + " h";
}

// ------------------------------------------------------------------ search: ask, then download

function setupSearch() {
  const table = document.getElementById("results");
  if (!table) return;
  const tpl = document.getElementById("confirm-template");
  table.addEventListener("click", async (ev) => {
    const btn = ev.target.closest("button.download");
    if (!btn) return;
    const row = btn.closest("tr");
    const old = row.nextElementSibling;
    if (old && old.classList.contains("confirm")) { old.remove(); return; }
    const confirmRow = tpl.content.firstElementChild.cloneNode(true);
    const guard = confirmRow.querySelector(".guard");
    const start = confirmRow.querySelector(".start");
    const wedge = confirmRow.querySelector(".wedge");
    row.after(confirmRow);
    async function ask() {
      guard.textContent = "Asking the guards…";
      start.disabled = true;
      try {
        const w = wedge.value ? "?wedge=" + encodeURIComponent(wedge.value) : "";
        const p = await call("GET", "/web/preview/" + btn.dataset.id + w);
        guard.replaceChildren(
          el("strong", p.title + " (" + p.size + ")"),
          el("span", (p.allowed ? "Unsatisfied: " : "Refused: ") + p.unsatisfied_reason, p.allowed ? "ok" : "error"),
          el("span", (p.wedge ? "Wedge: " : "No wedge: ") + p.wedge_reason),
        );
        start.disabled = !p.allowed;
      } catch (e) {
        guard.replaceChildren(el("span", e.message, "error"));
      }
    }
    wedge.addEventListener("change", ask);
    confirmRow.querySelector(".cancel").addEventListener("click", () => confirmRow.remove());
    start.addEventListener("click", async () => {
      start.disabled = true;
      try {
        const body = { id: Number(btn.dataset.id) };
        if (wedge.value) body.wedge = wedge.value;
        const r = await call("POST", "/web/download", body);
        confirmRow.remove();
        const msg = "Started " + r.fetch.title + (r.fetch.wedge_used ? " (wedge spent)" : "") + ". ";
        notice(msg, "ok");
        const a = el("a", "Watch it on the Torrents page");
        a.href = "/torrents";
        document.getElementById("notice").append(a);
      } catch (e) {
        guard.replaceChildren(el("span", e.message, "error"));
      }
    });
    await ask();
  });
}

// ------------------------------------------------------------------ torrents: live table

function setupTorrents() {
  const table = document.getElementById("torrents");
  if (!table) return;
  const body = table.tBodies[0];
  const rows = new Map();
  const mam = new Map();
  let polls = 0;

  function makeRow(t) {
    const tr = document.createElement("tr");
    tr.dataset.hash = t.info_hash;
    const cells = {};
    const labels = table.tHead.rows[0].cells;
    ["name", "state", "progress", "rates", "ratio", "seeded", "mam", "library", "actions"].forEach((k, i) => {
      cells[k] = tr.insertCell();
      cells[k].className = k;
      cells[k].dataset.label = labels[i].textContent;  // the column's name, shown on a phone
    });
    cells.progressBar = document.createElement("progress");
    cells.progressBar.max = 1;
    cells.progressText = el("span", "", "pct");
    cells.progress.append(cells.progressBar, cells.progressText);
    for (const [verb, label] of [["pause", "Pause"], ["resume", "Resume"], ["remove", "Remove"]]) {
      const b = el("button", label, verb);
      b.type = "button";
      b.dataset.verb = verb;
      cells.actions.append(b);
    }
    tr.cells_ = cells;
    body.append(tr);
    return tr;
  }

  function update(tr, t) {
    const c = tr.cells_;
    c.name.textContent = t.title || t.name;
    c.state.textContent = t.state + (t.error ? ": " + t.error : "");
    c.progressBar.value = t.progress;
    c.progressText.textContent = (t.progress * 100).toFixed(1) + "%";
    c.rates.textContent = "↓ " + bytes(t.download_rate) + "/s ↑ " + bytes(t.upload_rate) + "/s";
    c.ratio.textContent = t.ratio.toFixed(2) + " / " + t.ratio_goal.toFixed(2);
    c.seeded.textContent = duration(t.seeding_seconds) + " / " + duration(t.seed_seconds_goal) + (t.goal_met ? " ✓" : "");
    if (t.mam_satisfied !== null && t.mam_satisfied !== undefined) mam.set(t.info_hash, t.mam_satisfied);
    const m = mam.get(t.info_hash);
    c.mam.textContent = t.mam_id === null ? "not a MAM torrent" : m === undefined ? "…" : m ? "yes: satisfied" : "not yet";
    const lib = t.library;
    c.library.textContent = lib ? (lib.status === "placed" ? lib.path + " (" + lib.method + ")" : lib.status + ": " + (lib.error || lib.note || "")) : "—";
    const paused = ["paused", "finished"].includes(t.state);
    tr.querySelector("button.pause").hidden = paused;
    tr.querySelector("button.resume").hidden = !paused;
  }

  async function poll() {
    polls++;
    const withMam = polls % 10 === 1;  // MAM's view costs a request; the table itself is local
    try {
      const list = await call("GET", "/web/status" + (withMam ? "?mam=1" : ""));
      const seen = new Set();
      for (const t of list) {
        seen.add(t.info_hash);
        const tr = rows.get(t.info_hash) || makeRow(t);
        rows.set(t.info_hash, tr);
        update(tr, t);
      }
      for (const [h, tr] of rows) if (!seen.has(h)) { tr.remove(); rows.delete(h); }
      document.getElementById("torrents-meta").textContent =
        list.length ? list.length + " torrent(s); updated " + new Date().toLocaleTimeString() : "No torrents yet: search and download a book.";
    } catch (e) {
      document.getElementById("torrents-meta").textContent = "Could not reach the service: " + e.message;
    }
  }

  body.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-verb]");
    if (!b) return;
    const tr = b.closest("tr");
    const name = tr.cells_.name.textContent;
    let payload = undefined;
    if (b.dataset.verb === "remove") {
      if (!window.confirm("Remove “" + name + "” from mamdl? Its files are kept.")) return;
      payload = { delete_data: false };
    }
    try {
      await call("POST", "/web/torrents/" + tr.dataset.hash + "/" + b.dataset.verb, payload);
      notice(b.dataset.verb === "remove" ? "Removed " + name + "." : name + ": " + b.dataset.verb + "d.", "ok");
      polls = 0;  // ask MAM's view again on the next poll
      await poll();
    } catch (e) {
      notice("Refused: " + e.message, "error");
    }
  });

  poll();
  setInterval(poll, 1500);
}

// ------------------------------------------------------------------ rate limits (torrents page)

function setupLimits() {
  const form = document.getElementById("limits");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {
      download_kibps: form.elements.download_kibps.value,
      upload_kibps: form.elements.upload_kibps.value,
    };
    try {
      const r = await call("POST", "/web/limits", body);
      const shown = (k) => (k === 0 ? "unlimited" : k + " KiB/s");
      notice("Limits saved: download " + shown(r.download_kibps) + ", upload " + shown(r.upload_kibps) +
        (r.applied_now ? ", applied now." : "."), "ok");
    } catch (e) {
      notice(e.message, "error");
    }
  });
}

function setupLogout() {
  const b = document.getElementById("logout");
  if (!b) return;
  b.addEventListener("click", async () => {
    await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": CSRF }, credentials: "same-origin" });
    window.location = "/login";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupSearch();
  setupTorrents();
  setupLimits();
  setupLogout();
});
