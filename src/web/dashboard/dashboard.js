/* caseflow's dashboard: signs in with a bearer token, reads the report API
   (GET /api/v1/reports/NAME, the rows of caseflow-ctl report NAME --json)
   and follows the live feed (GET /api/v1/notifications, Server-Sent Events
   read with fetch, so that the token goes in a header and never in an
   address). A published small count is null in the API and shown here as
   "hidden", never as 0 or blank. No build step, no library but Chart.js. */
"use strict";

const TOKEN_KEY = "caseflow-token";
const FEED_MAX = 200;           /* notifications kept on the page */
const REFRESH_MS = 30000;       /* the reports are read again this often */
const state = { token: null, status: null, programme: "", chart: null, lastEventId: null,
                feedAbort: null, timer: null };

const $ = (id) => document.getElementById(id);

/* ---- the token: from #token=..., else this tab's sessionStorage -------- */

function takeToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);   /* out of the address bar and history */
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  if (state.feedAbort) state.feedAbort.abort();
  clearInterval(state.timer);
  $("board").hidden = true;
  $("sign-out").hidden = true;
  $("programme-pick").hidden = true;
  $("who").textContent = "";
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = reason || "";
}

class ApiError extends Error {
  constructor(status, reason) { super(reason); this.status = status; }
}

async function api(path, method) {
  const r = await fetch(path, { method: method || "GET", headers: { Authorization: "Bearer " + state.token },
                                cache: "no-store" });
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON: said below */ }
  if (r.status === 401) { signOut((body && body.error) || "Sign in again."); throw new ApiError(401, "signed out"); }
  if (!r.ok) throw new ApiError(r.status, (body && body.error) || ("HTTP " + r.status));
  return body;
}

/* ---- tables ------------------------------------------------------------ */

function cell(value, column) {
  const td = document.createElement("td");
  td.dataset.column = column;
  if (value === null || value === undefined) {
    td.innerHTML = '<span class="hidden-cell" title="hidden: a small count, or a figure that would give one away">hidden</span>';
    td.dataset.hidden = "1";
  } else {
    td.textContent = String(value);
    if (typeof value === "string") td.className = "text";
  }
  return td;
}

/* rows (the API's objects) as a table of columns (default: all, in order). */
function table(rows, columns) {
  const t = document.createElement("table");
  if (!rows.length) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = "Nothing yet.";
    return p;
  }
  /* "suppressed" names a row's hidden cells (docs/operations.md, "JSON
     output"): not a column */
  columns = columns || Object.keys(rows[0]).filter((c) => c !== "suppressed");
  const head = t.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement("th");
    th.textContent = c.replace(/_/g, " ");
    if (typeof rows[0][c] === "string") th.className = "text";
    head.appendChild(th);
  }
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const c of columns) tr.appendChild(cell(row[c], c));
  }
  return t;
}

function show(id, node) {
  const el = $(id);
  el.replaceChildren(node);
}

function refused(id, err) {
  const p = document.createElement("p");
  p.className = err.status === 403 ? "note" : "error";
  p.textContent = err.status === 403 ? "Not shown to this token: " + err.message : err.message;
  show(id, p);
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  if (state.programme) q.set("programme", state.programme);
  const s = q.toString();
  return s ? "?" + s : "";
}

/* ---- the sections ------------------------------------------------------ */

/* One table per programme: its stages in funnel order, as the API gives them. */
async function funnel() {
  const rows = await api("/api/v1/reports/stages" + query({}));
  const by = new Map();
  for (const r of rows) {
    if (!by.has(r.programme)) by.set(r.programme, []);
    by.get(r.programme).push(r);
  }
  const box = document.createElement("div");
  box.className = "tables";
  for (const [programme, list] of by) {
    const div = document.createElement("div");
    div.className = "funnel";
    div.dataset.programme = programme;
    const h = document.createElement("h3");
    h.textContent = programme;
    div.append(h, table(list, ["stage", "cases_now", "persons_now", "cases_ever", "persons_ever"]));
    box.appendChild(div);
  }
  if (!rows.length) box.appendChild(table([]));
  $("funnel").replaceChildren(...box.childNodes);
  fillProgrammes([...by.keys()]);
}

function fillProgrammes(seen) {
  const status = state.status;
  const sel = $("programme");
  const mine = status.token.programmes;
  const options = mine.length ? mine : seen;
  if (mine.length === 1) { $("programme-pick").hidden = true; return; }
  const want = (mine.length ? [] : [""]).concat(options);
  if (sel.options.length === want.length) return;
  sel.replaceChildren(...want.map((p) => new Option(p || "all programmes", p)));
  sel.value = state.programme;
  $("programme-pick").hidden = false;
}

async function returns() {
  const by = $("returns-by").value, period = $("returns-period").value;
  const count = $("returns-count").value;
  const rows = await api("/api/v1/reports/returns" + query({ by, period }));
  show("returns-table", table(rows));
  if (!rows.length) return;
  const [groupKey, periodKey] = Object.keys(rows[0]);
  const periods = [...new Set(rows.map((r) => r[periodKey]))].sort();
  const totals = new Map();
  for (const r of rows) totals.set(r[groupKey], (totals.get(r[groupKey]) || 0) + (r[count] || 0));
  const groups = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a)).slice(0, 10);
  const palette = ["#1f6feb", "#2da44e", "#bf8700", "#cf222e", "#8250df", "#1b7c83", "#bc4c00",
                   "#6e7781", "#a475f9", "#4ac26b"];
  /* points {x: period, y: count}; a hidden count (null) is left out, not
     drawn as a bar of 0 (the table marks it hidden); a period without a row
     had no returns: 0 */
  const datasets = groups.map((g, i) => ({
    label: g, backgroundColor: palette[i % palette.length],
    data: periods.flatMap((p) => {
      const r = rows.find((x) => x[groupKey] === g && x[periodKey] === p);
      const y = r ? r[count] : 0;
      return y === null || y === undefined ? [] : [{ x: p, y }];
    }),
  }));
  if (!window.Chart) { $("returns-nochart").hidden = false; return; }
  if (state.chart) state.chart.destroy();
  state.chart = new window.Chart($("returns-chart"), {
    type: "bar",
    data: { labels: periods, datasets },
    options: { animation: false, responsive: true,
               plugins: { legend: { position: "right" },
                          subtitle: { display: true, text: "hidden small counts are not drawn: see the table" } },
               scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: count } } } },
  });
}

async function section(id, path, columns) {
  try {
    show(id, table(await api(path), columns));
  } catch (err) {
    if (err.status !== 401) refused(id, err);
  }
}

/* The broker's status and workers, from its control endpoint (as
   caseflow-ctl status), in GET /api/v1/status for a token of every
   programme; null when caseflow-web has no control endpoint. */
async function brokerStatus() {
  const s = (await api("/api/v1/status")).broker;
  if (s === undefined || s === null) { $("broker-status").replaceChildren(); return; }
  if (!s.ok) {
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = "The broker: " + s.error;
    $("broker-status").replaceChildren(p);
    return;
  }
  const b = s.status, dl = document.createElement("dl");
  dl.className = "stats";
  const items = [["intake", b.paused ? "paused" : "taking events"],
                 ["uptime", Math.round(b.uptime_ms / 1000) + " s"],
                 ["queued events", b.queue_events], ["queued jobs", b.queue_jobs],
                 ["events in flight", b.inflight_events], ["in/s", b.in_per_s], ["acked/s", b.acked_per_s]];
  for (const [k, v] of items) {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = v === undefined ? "-" : String(v);
    dl.append(dt, dd);
  }
  const workers = table(b.workers || [], ["id", "host", "pid", "state", "credit", "jobs_held",
                                          "events_done", "heartbeat_age_ms"]);
  workers.id = "workers";
  $("broker-status").replaceChildren(dl, workers);
}

/* Dead letters are the operator's (a token of the operator role that sees
   every programme): the API refuses them to anyone else, and the page does
   not show the section. */
function operator() {
  return state.status.token.role === "operator" && !state.status.token.programmes.length;
}

/* The dead letters, each with a Replay button. */
async function deadLetters() {
  const rows = await api("/api/v1/dlq");
  const t = table(rows, ["id", "time", "event_id", "type", "tries", "error"]);
  if (rows.length) {
    t.tHead.rows[0].appendChild(document.createElement("th"));
    rows.forEach((row, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "replay";
      b.textContent = "Replay";
      b.dataset.id = row.id;
      b.addEventListener("click", () => replay(row.id, b));
      t.tBodies[0].rows[i].insertCell().appendChild(b);
    });
  }
  show("dlq", t);
}

async function replay(id, button) {
  button.disabled = true;
  try {
    const [o] = await api("/api/v1/dlq/" + encodeURIComponent(id) + "/replay", "POST");
    $("dlq-outcome").textContent = id + ": " + o.outcome + (o.error ? " (" + o.error + ")" : "");
  } catch (err) {
    if (err.status === 401) return;
    $("dlq-outcome").textContent = id + ": " + err.message;
  }
  await deadLetters().catch((err) => err.status !== 401 && refused("dlq", err));
}

async function refresh() {
  const jobs = [
    funnel().catch((err) => err.status !== 401 && refused("funnel", err)),
    returns().catch((err) => err.status !== 401 && refused("returns-table", err)),
    section("durations", "/api/v1/reports/durations" + query({})),
    section("detention", "/api/v1/reports/detention" + query({})),
    section("monitor", "/api/v1/reports/reintegration" + query({ by: "origin" })),
  ];
  if (!state.status.token.programmes.length) {
    jobs.push(section("funding", "/api/v1/reports/funding?by=donor"));
    jobs.push(section("flows", "/api/v1/reports/flows?by=route&period=month",
                      ["route", "month", "count", "uasc", "uasc_share"]));
  } else {
    for (const id of ["funding", "flows"]) refused(id, { status: 403, message: "not by programme" });
  }
  if (!state.status.token.programmes.length)
    jobs.push(brokerStatus().catch((err) => err.status !== 401 && refused("broker-status", err)));
  if (operator()) jobs.push(deadLetters().catch((err) => err.status !== 401 && refused("dlq", err)));
  await Promise.all(jobs);
  document.body.dataset.loaded = String(Date.now());    /* for the browser test */
}

/* ---- the live feed ----------------------------------------------------- */

function feedState(text, cls) {
  const b = $("feed-state");
  b.textContent = text;
  b.className = "badge " + (cls || "");
}

function brokerStats(s) {
  const dl = document.createElement("dl");
  dl.className = "stats";
  const items = [["workers", s.workers], ["events/s", s.events_per_s], ["queued events", s.queue_events],
                 ["queued jobs", s.queue_jobs], ["jobs in flight", s.inflight_jobs],
                 ["events in", s.events_in], ["events acked", s.events_acked],
                 ["notifications dropped", s.dropped], ["outbox errors", s.outbox_errors]];
  for (const [k, v] of items) {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = v === undefined ? "-" : String(v);
    dl.append(dt, dd);
  }
  const when = document.createElement("p");
  when.className = "note";
  when.textContent = "at " + new Date(s.time).toLocaleTimeString();
  $("broker").replaceChildren(dl, when);
}

function notification(n) {
  if (n.topic === "stats") { brokerStats(n); return; }
  const li = document.createElement("li");
  if (n.topic.startsWith("alert.")) li.className = "alert";
  const t = document.createElement("time");
  t.textContent = new Date(n.time).toLocaleTimeString();
  const topic = document.createElement("span");
  topic.className = "topic";
  topic.textContent = n.topic;
  li.dataset.topic = n.topic;
  if (n.event_id) li.dataset.eventId = n.event_id;
  const detail = document.createElement("span");
  const parts = [n.stage, n.flag, n.limit, n.mark && "mark " + n.mark, n.reason, n.persons && n.persons + " persons"];
  detail.textContent = " " + parts.filter(Boolean).join(", ");
  li.append(t, topic, detail);
  const list = $("feed");
  list.prepend(li);
  while (list.children.length > FEED_MAX) list.lastChild.remove();
}

function sseBlock(block) {
  let id = null, event = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const i = line.indexOf(": ");
    const key = i < 0 ? line : line.slice(0, i), value = i < 0 ? "" : line.slice(i + 2);
    if (key === "id") id = value;
    else if (key === "event") event = value;
    else if (key === "data") data += value;
  }
  if (id) state.lastEventId = id;
  if (!data) return;
  const body = JSON.parse(data);
  if (event === "notification") notification(body);
  else if (event === "snapshot") {
    const open = (body.open_alerts || []).length;
    feedState("live", "ok");
    $("feed").dataset.openAlerts = String(open);
  } else if (event === "error") feedState("no snapshot", "warn");
}

/* Follows the feed; after a drop, reconnects with Last-Event-ID so that
   nothing is missed (the server resends what came since, or a snapshot). */
async function follow() {
  while (state.token) {
    const abort = new AbortController();
    state.feedAbort = abort;
    try {
      const headers = { Authorization: "Bearer " + state.token };
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      const r = await fetch("/api/v1/notifications", { headers, cache: "no-store", signal: abort.signal });
      if (r.status === 401) { signOut("Sign in again."); return; }
      if (r.status === 503) { feedState("no feed", "warn"); return; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      feedState("live", "ok");
      const reader = r.body.getReader(), dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          sseBlock(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
      }
    } catch (err) {
      if (abort.signal.aborted && !state.token) return;
    }
    feedState("reconnecting", "warn");
    await new Promise((done) => setTimeout(done, 2000));
  }
}

/* ---- start ------------------------------------------------------------- */

async function start() {
  state.token = takeToken();
  if (!state.token) { signOut(); return; }
  try {
    state.status = await api("/api/v1/status");
  } catch (err) {
    if (err.status !== 401) signOut(err.message);
    return;
  }
  const s = state.status;
  $("sign-in").hidden = true;
  $("board").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = s.token.role + (s.token.programmes.length ? " · " + s.token.programmes.join(", ") : "");
  $("redis").textContent = s.redis.ok ? "redis ok" : "redis: " + s.redis.error;
  $("redis").className = "badge " + (s.redis.ok ? "ok" : "bad");
  $("exact-note").textContent = s.token.role === "viewer" ? "" : "This token may also read exact figures through the API (exact=1).";
  $("dlq-card").hidden = !operator();
  if (s.token.programmes.length > 1) state.programme = s.token.programmes[0];
  await refresh();
  state.timer = setInterval(refresh, REFRESH_MS);
  follow();
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    $("token-input").value = "";
    start();
  });
  $("sign-out").addEventListener("click", () => signOut("Signed out."));
  $("programme").addEventListener("change", (e) => { state.programme = e.target.value; refresh(); });
  for (const id of ["returns-by", "returns-period", "returns-count"])
    $(id).addEventListener("change", () => returns().catch((err) => refused("returns-table", err)));
  start();
});
