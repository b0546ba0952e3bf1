// The platefarm web page (docs/web.md): turnovers with live progress, a turnover's shots,
// failures and contact sheet, retry-failed; clip ingest and search with thumbnails. It calls
// the same /v1 API as the CLI with the token the user gives (kept in this tab's
// sessionStorage). Data from the farm is put in the page as text nodes only, never as HTML.

const TOKEN_KEY = "platefarm.token";
let token = sessionStorage.getItem(TOKEN_KEY) || "";
const view = document.getElementById("view");
const connection = document.getElementById("connection");
/** What the current view started (streams, timers, blob URLs); stopped when it changes. */
let viewScope = newScope();

function newScope() {
  const controller = new AbortController();
  const timers = [];
  const urls = [];
  return {
    signal: controller.signal,
    every(ms, fn) { timers.push(setInterval(fn, ms)); },
    url(blob) { const u = URL.createObjectURL(blob); urls.push(u); return u; },
    stop() {
      controller.abort();
      timers.forEach(clearInterval);
      urls.forEach((u) => URL.revokeObjectURL(u));
    },
  };
}

// ---- DOM -------------------------------------------------------------------------------

/** `h("td", {class: "num"}, "12")`: an element with attributes, listeners (`onclick`) and
 * children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function badge(state) {
  return h("span", { class: `state ${state}`, "data-state": state }, String(state).replaceAll("_", " "));
}

function bar(done, total, failed, final) {
  const pct = total > 0 ? Math.min(100, (100 * done) / total) : 0;
  const failedPct = total > 0 ? Math.min(100 - pct, (100 * failed) / total) : 0;
  const el = h("div", { class: final ? "bar final" : "bar", role: "progressbar",
    "aria-valuemin": 0, "aria-valuemax": total, "aria-valuenow": done });
  const fill = h("span");
  fill.style.width = `${pct}%`;
  el.append(fill);
  if (failedPct > 0) {
    const f = h("span", { class: "failed" });
    f.style.width = `${failedPct}%`;
    el.append(f);
  }
  return el;
}

function message(text, kind = "") {
  return h("div", { class: `message ${kind}` }, text);
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function pending(chunks) {
  return (chunks.planned || 0) + (chunks.published || 0) + (chunks.running || 0);
}

const FINAL = new Set(["completed", "completed_with_failures", "failed", "cancelled"]);

// ---- API -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(`${status}: ${body.error || "request failed"}`);
    this.status = status;
    this.body = body;
  }
  /** The message with every field problem (422) on its own line. */
  describe() {
    const lines = [this.message];
    for (const p of this.body.problems || []) lines.push(`  ${p.path}: ${p.reason}`);
    return lines.join("\n");
  }
}

function describe(e) {
  if (e instanceof ApiError) return e.describe();
  return `the API did not answer: ${e.message || e}`;
}

function setConnection(text, bad) {
  connection.textContent = text;
  connection.classList.toggle("bad", bad);
}

async function api(path, opts = {}) {
  const headers = new Headers(opts.headers || {});
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const init = { method: opts.method || "GET", headers, signal: opts.signal };
  if (opts.body !== undefined) {
    headers.set("Content-Type", "application/json");
    init.body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    if (e.name !== "AbortError") setConnection("API unreachable", true);
    throw e;
  }
  if (r.status === 401) setConnection(token ? "wrong API token" : "API token needed", true);
  else setConnection("connected", false);
  if (!r.ok) {
    let body = {};
    try { body = await r.json(); } catch { body = { error: r.statusText }; }
    throw new ApiError(r.status, body);
  }
  return r;
}

const getJson = async (path, signal) => (await api(path, { signal })).json();
const enc = encodeURIComponent;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Follows `GET /v1/turnovers/{id}/events` (EventSource cannot send the token, so the stream
 * is read with fetch). Calls `onEvent(name, data)`; reconnects after a dropped stream until
 * `isFinal()`; returns when the turnover is final or the view changes. */
async function follow(id, onEvent, isFinal, signal) {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const r = await api(`/v1/turnovers/${enc(id)}/events`, {
        signal, headers: { Accept: "text/event-stream" } });
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      attempt = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replaceAll("\r\n", "\n");
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let name = "message";
          const data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue; // keep-alive
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "event") name = val;
            else if (field === "data") data.push(val);
          }
          if (data.length) onEvent(name, JSON.parse(data.join("\n")));
        }
      }
      if (isFinal()) return;
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status < 500) return;
    }
    await sleep(Math.min(5000, 250 * 2 ** attempt));
  }
}

/** Runs `fn` at most once per `ms`, and once more after a burst. */
function throttle(fn, ms) {
  let timer = null;
  let again = false;
  const run = () => {
    if (timer) { again = true; return; }
    fn();
    timer = setTimeout(() => { timer = null; if (again) { again = false; run(); } }, ms);
  };
  return run;
}

/** Shows an API picture (fetched with the token) in `img`. */
async function showPicture(img, path, scope) {
  try {
    const blob = await (await api(path, { signal: scope.signal })).blob();
    img.addEventListener("load", () => { img.dataset.loaded = "true"; }, { once: true });
    img.src = scope.url(blob);
    return true;
  } catch (e) {
    if (e.name !== "AbortError") img.replaceWith(message(describe(e), "error"));
    return false;
  }
}

// ---- Turnovers -------------------------------------------------------------------------

function turnoverRow(s) {
  const final = FINAL.has(s.state);
  return h("tr", { "data-id": s.turnover_id, "data-state": s.state },
    h("td", {}, h("a", { href: `#/turnovers/${enc(s.turnover_id)}` }, s.turnover_id)),
    h("td", {}, s.production),
    h("td", {}, badge(s.state)),
    h("td", {}, bar(s.frames_done, s.frames_total, 0, final)),
    h("td", { class: "num" }, `${s.frames_done} / ${s.frames_total}`),
    h("td", { class: "num" }, String(s.chunks.done)),
    h("td", { class: "num" }, String(s.chunks.failed)),
    h("td", { class: "num" }, String(pending(s.chunks))),
    h("td", { class: "dim" }, when(s.submitted_at)));
}

function submitPanel(onSubmitted) {
  const text = h("textarea", { id: "turnover-json", spellcheck: "false",
    placeholder: '{"production": "…", "shots": [ … ]}  (paths are keys in the farm\'s store; docs/turnover.md)' });
  const file = h("input", { type: "file", id: "turnover-file", accept: ".json,application/json" });
  const out = h("div", { id: "submit-result" });
  file.addEventListener("change", async () => {
    if (file.files.length) text.value = await file.files[0].text();
  });
  const button = h("button", { id: "submit", type: "button" }, "Submit");
  button.addEventListener("click", async () => {
    out.replaceChildren();
    button.disabled = true;
    try {
      const r = await api("/v1/turnovers", { method: "POST", body: text.value });
      const receipt = await r.json();
      out.append(message(
        `${receipt.existing ? "Already submitted" : "Submitted"} ${receipt.turnover_id}: ` +
        `${receipt.n_shots} shots, ${receipt.n_chunks} chunks, ${receipt.n_frames} frames`, "ok"));
      onSubmitted(receipt.turnover_id);
    } catch (e) {
      out.append(message(describe(e), "error"));
    } finally {
      button.disabled = false;
    }
  });
  return h("section", {}, h("h2", {}, "Submit a turnover"),
    h("div", { class: "row" }, file, button), text, out);
}

async function turnoversView(scope, params) {
  const tbody = h("tbody", { id: "turnovers" });
  const status = h("div");
  const production = h("input", { id: "filter-production", placeholder: "production", value: params.get("production") || "" });
  const state = h("select", { id: "filter-state" },
    ["", "running", "completed", "completed_with_failures", "failed", "cancelled"].map((s) =>
      h("option", { value: s, selected: s === (params.get("state") || "") }, s ? s.replaceAll("_", " ") : "any state")));
  const applyFilter = () => {
    const q = new URLSearchParams();
    if (production.value.trim()) q.set("production", production.value.trim());
    if (state.value) q.set("state", state.value);
    location.hash = `#/turnovers${q.toString() ? `?${q}` : ""}`;
  };
  production.addEventListener("change", applyFilter);
  state.addEventListener("change", applyFilter);
  const followed = new Set();

  const replaceRow = (s) => {
    const old = tbody.querySelector(`tr[data-id="${CSS.escape(s.turnover_id)}"]`);
    const row = turnoverRow(s);
    if (old) old.replaceWith(row); else tbody.prepend(row);
  };
  const watch = (id) => {
    if (followed.has(id)) return;
    followed.add(id);
    let final = false;
    const refresh = throttle(async () => {
      try {
        const s = await getJson(`/v1/turnovers/${enc(id)}`, scope.signal);
        final = FINAL.has(s.state);
        replaceRow(s);
      } catch (e) { if (e.name !== "AbortError") status.replaceChildren(message(describe(e), "error")); }
    }, 300);
    follow(id, (name, data) => {
      if (name === "snapshot") { final = FINAL.has(data.state); replaceRow(data); }
      else refresh();
    }, () => final, scope.signal);
  };
  const load = async () => {
    const q = new URLSearchParams(params);
    q.set("limit", "100");
    try {
      const list = await getJson(`/v1/turnovers?${q}`, scope.signal);
      tbody.replaceChildren(...list.map(turnoverRow));
      status.replaceChildren(list.length ? "" : message("No turnovers yet: submit one above."));
      for (const s of list) if (!FINAL.has(s.state)) watch(s.turnover_id);
    } catch (e) {
      if (e.name !== "AbortError") status.replaceChildren(message(describe(e), "error"));
    }
  };
  view.replaceChildren(
    submitPanel((id) => { load().then(() => watch(id)); }),
    h("section", {},
      h("div", { class: "row" }, h("h2", {}, "Turnovers"), production, state),
      status,
      h("table", {},
        h("thead", {}, h("tr", {}, ["Turnover", "Production", "State", "Progress"].map((t) => h("th", {}, t)),
          ["Frames", "Done", "Failed", "Pending"].map((t) => h("th", { class: "num" }, t)), h("th", {}, "Submitted"))),
        tbody)));
  await load();
  scope.every(10000, load); // turnovers submitted elsewhere
}

async function turnoverView(scope, id) {
  const head = h("section", { id: "turnover" }, h("h2", {}, id), message("loading…"));
  const shots = h("section", {}, h("h2", {}, "Shots"));
  const failures = h("section", { id: "failures" }, h("h2", {}, "Failures"));
  const sheet = h("section", { id: "contact-sheet-panel" }, h("h2", {}, "Contact sheet"));
  const actionResult = h("div", { id: "action-result" });
  view.replaceChildren(head, shots, failures, sheet);
  let final = false;
  let sheetFrames = -1;

  const action = (label, path, cls, enabled) => {
    const b = h("button", { type: "button", id: label.toLowerCase().replace(/\s+/g, "-"), class: cls, disabled: !enabled }, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      actionResult.replaceChildren();
      try {
        const r = await (await api(path, { method: "POST" })).json();
        const n = r.chunks_retried ?? r.chunks_cancelled ?? 0;
        actionResult.append(message(`${label}: ${n} chunks`, "ok"));
        final = false;
        await render();
        startFollowing();
      } catch (e) {
        actionResult.append(message(describe(e), "error"));
        b.disabled = false;
      }
    });
    return b;
  };

  const showSheet = async (d) => {
    if (d.frames_done === sheetFrames) return;
    sheetFrames = d.frames_done;
    const hasPlates = Object.values(d.outputs || {}).some((keys) => keys.some((k) => k.toLowerCase().endsWith(".exr")));
    if (!hasPlates) {
      sheet.replaceChildren(h("h2", {}, "Contact sheet"), message("No plate delivered yet."));
      return;
    }
    // The previous sheet stays until the new one is decoded.
    const img = h("img", { class: "sheet", id: "contact-sheet", alt: `contact sheet of ${id}: the first plate of each shot` });
    const holder = h("div", {}, img);
    if (await showPicture(img, `/v1/turnovers/${enc(id)}/contact-sheet`, scope)) {
      try { await img.decode(); } catch { /* shown as it is */ }
    }
    sheet.replaceChildren(h("h2", {}, "Contact sheet"), h("p", { class: "dim" }, "First plate of each shot, ACES 2.0 SDR 100 nits (Rec.709) view"), holder);
  };

  const render = async () => {
    let d;
    try {
      d = await getJson(`/v1/turnovers/${enc(id)}`, scope.signal);
    } catch (e) {
      if (e.name !== "AbortError") head.replaceChildren(h("h2", {}, id), message(describe(e), "error"));
      return;
    }
    final = FINAL.has(d.state);
    head.replaceChildren(
      h("div", { class: "row" }, h("h2", {}, d.turnover_id), badge(d.state),
        h("span", { class: "dim" }, `${d.production} · priority ${d.priority}`,
          d.deadline ? ` · deadline ${when(d.deadline)}` : "")),
      h("div", { class: "row" }, bar(d.frames_done, d.frames_total, 0, final),
        h("span", { id: "frames" }, `${d.frames_done} / ${d.frames_total} frames`),
        h("span", { class: "dim" }, `chunks: ${d.chunks.done} done, ${d.chunks.failed} failed, ${pending(d.chunks)} pending`)),
      h("div", { class: "row" },
        action("Retry failed", `/v1/turnovers/${enc(id)}/retry-failed`, "", d.chunks.failed > 0),
        action("Cancel", `/v1/turnovers/${enc(id)}/cancel`, "danger", !final),
        h("a", { href: "#/turnovers" }, "all turnovers")),
      actionResult);
    shots.replaceChildren(h("h2", {}, "Shots"), h("table", { id: "shots" },
      h("thead", {}, h("tr", {}, h("th", {}, "Shot"), h("th", {}, "Input"), h("th", {}, "Progress"),
        ["Frames", "Done", "Failed", "Pending", "Outputs"].map((t) => h("th", { class: "num" }, t)),
        h("th", {}, "Delivery"))),
      h("tbody", {}, d.shots.map((s) => h("tr", { "data-shot": s.shot },
        h("td", {}, s.shot), h("td", { class: "mono" }, s.input_pattern),
        h("td", {}, bar(s.frames_done, s.frames_total, 0, s.delivery === "delivered")),
        h("td", { class: "num" }, `${s.frames_done} / ${s.frames_total}`),
        h("td", { class: "num" }, String(s.chunks.done)),
        h("td", { class: "num" }, String(s.chunks.failed)),
        h("td", { class: "num" }, String(pending(s.chunks))),
        h("td", { class: "num" }, String((d.outputs[s.shot] || []).length)),
        h("td", {}, badge(s.delivery), s.delivery_detail ? h("div", { class: "dim" }, s.delivery_detail) : ""))))));
    failures.replaceChildren(h("h2", {}, `Failures (${d.failures.length})`),
      d.failures.length === 0 ? h("p", { class: "dim" }, "No chunk failed.") :
        h("table", {}, h("thead", {}, h("tr", {}, ["Chunk", "Shot", "Frames", "Reason", "Attempts", "Worker"].map((t) => h("th", {}, t)))),
          h("tbody", {}, d.failures.map((f) => h("tr", {},
            h("td", { class: "mono" }, f.chunk_id), h("td", {}, f.shot),
            h("td", {}, `${f.frame_start}–${f.frame_end}`),
            h("td", { class: "reason" }, f.reason || ""), h("td", { class: "num" }, String(f.attempts)),
            h("td", { class: "dim" }, f.worker_id || ""))))));
    if (final || d.frames_done > 0) await showSheet(d);
  };
  const refresh = throttle(render, 400);
  const startFollowing = () => {
    if (!final) follow(id, () => refresh(), () => final, scope.signal).then(() => render());
  };
  await render();
  startFollowing();
}

// ---- Clips -----------------------------------------------------------------------------

function timecodeText(tc) {
  if (!tc || !tc.start) return "";
  return `${tc.start} – ${tc.end} @ ${tc.rate}`;
}

function clipRow(c, scope) {
  const img = h("img", { class: "thumb", alt: `thumbnail of ${c.name}`, loading: "lazy" });
  showPicture(img, `/v1/clips/thumbnail?location=${enc(c.location)}&key=${enc(c.key)}`, scope);
  const cam = c.camera || {};
  const im = c.image || {};
  const fr = c.frames || {};
  const missing = (fr.missing || []).length;
  const bad = (fr.bad || []).length;
  return h("tr", { "data-clip": c.name },
    h("td", {}, img),
    h("td", {}, h("strong", {}, c.name), h("div", { class: "dim mono" }, c.key)),
    h("td", {}, c.reel || ""),
    h("td", {}, [cam.make, cam.model].filter(Boolean).join(" "), cam.serial ? h("div", { class: "dim" }, `#${cam.serial}`) : ""),
    h("td", { class: "mono" }, timecodeText(c.timecode)),
    h("td", {}, im.width ? `${im.width}×${im.height}` : "", im.bit_depth ? h("div", { class: "dim" }, `${im.bit_depth}-bit ${c.format || ""}`) : ""),
    h("td", {}, `${fr.first}–${fr.last} (${fr.count})`,
      missing ? h("div", { class: "dim" }, `${missing} missing`) : "",
      bad ? h("div", { class: "dim" }, `${bad} unreadable`) : ""),
    h("td", {}, c.colour && c.colour.guess ? `${c.colour.guess} (guess)` : ""));
}

async function clipsView(scope, params) {
  const field = (name, placeholder) => h("label", {}, name,
    h("input", { id: `clip-${name}`, name, placeholder, value: params.get(name) || "" }));
  const form = h("form", { id: "clip-search", class: "grid" },
    field("reel", "A001"), field("camera", "make, model or serial"),
    field("timecode", "HH:MM:SS:FF"), field("text", "words"),
    h("label", {}, "\u00a0", h("button", { type: "submit", id: "search" }, "Search")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const el of form.querySelectorAll("input")) if (el.value.trim()) q.set(el.name, el.value.trim());
    const next = `#/clips?${q}`;
    if (location.hash === next) render(); else location.hash = next;
  });

  const locationInput = h("input", { id: "ingest-location", placeholder: "a prefix of the farm's store, e.g. day1/" });
  const thumbs = h("input", { type: "checkbox", id: "ingest-thumbnails", checked: true });
  const ingestOut = h("div", { id: "ingest-result" });
  const ingestButton = h("button", { type: "button", id: "ingest" }, "Ingest");
  ingestButton.addEventListener("click", async () => {
    ingestButton.disabled = true;
    ingestOut.replaceChildren(message("ingesting…"));
    try {
      const receipt = await (await api("/v1/ingests", { method: "POST",
        body: { location: locationInput.value, thumbnails: thumbs.checked } })).json();
      const where = receipt.location || "(the whole store)";
      let s;
      for (;;) {
        s = await getJson(`/v1/ingests/${enc(receipt.ingest_id)}`, scope.signal);
        if (s.state !== "running") break;
        ingestOut.replaceChildren(message(`${where}: ${s.clips_done + s.clips_failed} of ${s.clips_total} clips inspected on the workers…`));
        await sleep(400);
      }
      const lines = [`${where}: ${s.clips_done} clips, ${s.frames} frames recorded (${s.state.replaceAll("_", " ")})`];
      if (s.mhl) lines.push(`ASC MHL: ${s.mhl.verified} files verified against ${s.mhl.histories.length} history(ies)`);
      for (const b of s.bad_frames) lines.push(`bad frame ${b.frame} of ${b.clip} (${b.key}): ${b.reason}`);
      for (const f of s.failures) lines.push(`failed ${f.clip}: ${f.reason}`);
      for (const t of s.thumbnail_errors) lines.push(`${t.clip}: ${t.reason}`);
      ingestOut.replaceChildren(message(lines.join("\n"), s.state === "completed" ? "ok" : "error"));
      render();
    } catch (e) {
      if (e.name !== "AbortError") ingestOut.replaceChildren(message(describe(e), "error"));
    } finally {
      ingestButton.disabled = false;
    }
  });

  const matchOut = h("div", { id: "match" });
  const tbody = h("tbody", { id: "clips" });
  const status = h("div");
  const render = async () => {
    const q = new URLSearchParams();
    for (const k of ["reel", "camera", "timecode", "text"]) if (params.get(k)) q.set(k, params.get(k));
    try {
      const r = await getJson(`/v1/clips?${q}`, scope.signal);
      tbody.replaceChildren(...r.clips.map((c) => clipRow(c, scope)));
      status.replaceChildren(r.clips.length ? h("p", { class: "dim" }, `${r.clips.length} clips`) : message("No clip matches."));
      if (r.match) {
        const m = r.match;
        matchOut.replaceChildren(message(
          `${params.get("timecode")}${params.get("reel") ? ` on reel ${params.get("reel")}` : ""} is ` +
          `frame ${m.frame} of clip ${m.clip} — ${m.file} (${m.status})`, "match"));
      } else if (params.get("timecode")) {
        matchOut.replaceChildren(message(`No clip holds ${params.get("timecode")}.`, "error"));
      } else {
        matchOut.replaceChildren();
      }
    } catch (e) {
      if (e.name !== "AbortError") status.replaceChildren(message(describe(e), "error"));
    }
  };
  view.replaceChildren(
    h("section", {}, h("h2", {}, "Ingest camera originals"),
      h("div", { class: "row" }, locationInput, h("label", {}, thumbs, " thumbnails"), ingestButton), ingestOut),
    h("section", {}, h("h2", {}, "Find a clip"), form, matchOut),
    h("section", {}, h("h2", {}, "Clips"), status,
      h("table", {}, h("thead", {}, h("tr", {},
        ["", "Clip", "Reel", "Camera", "Timecode", "Image", "Frames", "Colour"].map((t) => h("th", {}, t)))), tbody)));
  await render();
}

// ---- Routing ---------------------------------------------------------------------------

async function route() {
  viewScope.stop();
  viewScope = newScope();
  const [path, query] = (location.hash.slice(1) || "/turnovers").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  document.getElementById("nav-turnovers").classList.toggle("active", parts[0] !== "clips");
  document.getElementById("nav-clips").classList.toggle("active", parts[0] === "clips");
  if (parts[0] === "clips") await clipsView(viewScope, params);
  else if (parts[0] === "turnovers" && parts[1]) await turnoverView(viewScope, decodeURIComponent(parts[1]));
  else await turnoversView(viewScope, params);
}

const tokenInput = document.getElementById("token");
tokenInput.value = token;
document.getElementById("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = tokenInput.value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
  route();
});
window.addEventListener("hashchange", route);
route();
