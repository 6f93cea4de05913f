// telebridge dashboard: plain JavaScript, no dependencies. It polls
// /api/v1/status every 2 seconds and /api/v1/deliveries for the table, and
// opens /api/v1/deliveries/{eventId} in the detail view.
"use strict";

const $ = (sel) => document.querySelector(sel);
const palette = ["#1d4ed8", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#dc2626", "#4b5563", "#db2777"];
const state = { cursor: 0, newest: 0, rows: [], filters: null, sinksKnown: "" };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

const fmt = (n) => (n === undefined || n === null) ? "-" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 1 });
const badge = (status) => el("span", { class: "badge status-" + status }, status);
const stateBadge = (ok, reason) => el("span", { class: "badge " + (ok ? "ok" : "bad"), title: reason || "" }, ok ? "connected" : "down");

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || (r.status + " " + r.statusText));
  return body;
}

// ---- status, cards and chart ----

async function refreshStatus() {
  let st;
  try {
    st = await getJSON("/api/v1/status");
  } catch (e) {
    $("#ready").textContent = "unreachable";
    $("#ready").className = "badge bad";
    return;
  }
  $("#ready").textContent = st.ready ? "ready" : "not ready";
  $("#ready").className = "badge " + (st.ready ? "ok" : "bad");
  $("#ready").title = (st.notReady || []).join("\n");
  $("#updated").textContent = "updated " + new Date(st.time).toLocaleTimeString();

  const src = $("#sources tbody");
  src.replaceChildren(...(st.sources || []).map((s) => el("tr", {},
    el("td", {}, s.name), el("td", {}, stateBadge(s.connected, s.reason)),
    el("td", { class: "num" }, fmt(s.rate)), el("td", { class: "num" }, fmt(s.consumed)),
    el("td", { class: "num", title: (s.partitions || []).map((p) => p.topic + "/" + p.partition + ": " + p.lag).join("\n") }, fmt(s.lag)),
    el("td", { class: "num" }, fmt(s.inFlight)), el("td", { class: "num" }, fmt(s.poison)),
    el("td", { class: "num", title: Object.entries(s.unroutedByType || {}).filter(([, n]) => n > 0).map(([t, n]) => t + ": " + n).join("\n") }, fmt(s.unrouted)))));
  const snk = $("#sinks tbody");
  snk.replaceChildren(...(st.sinks || []).map((s) => el("tr", {},
    el("td", {}, s.name), el("td", {}, s.kind), el("td", {}, stateBadge(s.connected, s.reason)),
    el("td", { class: "num" }, fmt(s.rate)), el("td", { class: "num" }, fmt(s.delivered)),
    el("td", { class: "num" }, fmt(s.retries)), el("td", { class: "num" }, fmt(s.failed)),
    el("td", { class: "num" }, fmt(s.deadLettered)))));

  const h = st.history;
  const totals = [
    ["delivered", fmt(st.delivered)],
    ["dead letters", fmt(st.deadLetters)],
    ["latency p50 / p99", fmt(st.latencyP50Ms) + " / " + fmt(st.latencyP99Ms) + " ms"],
    ["lag (all sources)", fmt((st.sources || []).reduce((a, s) => a + s.lag, 0))],
    ["history records", h ? fmt(h.recorded) : "off"],
    ["history dropped", h ? fmt(h.dropped + h.writeFailed) : "-"],
  ];
  $("#totals").replaceChildren(...totals.map(([k, v]) => el("div", { class: "stat" }, el("b", {}, v), el("span", {}, k))));

  const names = (st.sinks || []).map((s) => s.name).join(",");
  if (names !== state.sinksKnown) {
    state.sinksKnown = names;
    const sel = $("#filters select[name=sink]");
    const cur = sel.value;
    sel.replaceChildren(el("option", { value: "" }, "any"), ...(st.sinks || []).map((s) => el("option", {}, s.name)));
    sel.value = cur;
  }
  drawChart(st.series);
}

function drawChart(series) {
  const canvas = $("#chart");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, w, h);
  const lines = [];
  for (const [n, v] of Object.entries(series.sources || {})) lines.push({ name: "source " + n, v });
  for (const [n, v] of Object.entries(series.sinks || {})) lines.push({ name: "sink " + n, v });
  for (const [n, v] of Object.entries(series.sinkFailures || {})) if (v.some((x) => x > 0)) lines.push({ name: "sink " + n + " failures", v, dash: true });
  const len = (series.times || []).length;
  let maxV = 1;
  for (const l of lines) for (const x of l.v) maxV = Math.max(maxV, x);
  const pad = { l: 46, r: 8, t: 8, b: 18 };
  const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#6b7280"; ctx.strokeStyle = "#e5e7eb"; ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + ph - (ph * i) / 4;
    ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(w - pad.r, y); ctx.stroke();
    ctx.fillText(fmt((maxV * i) / 4), 2, y + 4);
  }
  if (len > 0) {
    ctx.fillText(new Date(series.times[0]).toLocaleTimeString(), pad.l, h - 4);
    const last = new Date(series.times[len - 1]).toLocaleTimeString();
    ctx.fillText(last, w - pad.r - ctx.measureText(last).width, h - 4);
  }
  const legend = [];
  lines.forEach((l, i) => {
    const color = palette[i % palette.length];
    legend.push(el("span", {}, el("i", { style: "background:" + color }), l.name));
    if (len < 2) return;
    ctx.strokeStyle = color; ctx.lineWidth = 2;
    ctx.setLineDash(l.dash ? [4, 3] : []);
    ctx.beginPath();
    l.v.forEach((x, j) => {
      const px = pad.l + (pw * j) / Math.max(len - 1, 1), py = pad.t + ph - (ph * x) / maxV;
      if (j === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    });
    ctx.stroke();
  });
  ctx.setLineDash([]);
  if (len < 2) legend.push(el("span", { class: "muted" }, "collecting samples…"));
  $("#legend").replaceChildren(...legend);
}

// ---- history table ----

function filterParams() {
  const f = new FormData($("#filters"));
  const p = new URLSearchParams();
  for (const k of ["sink", "status", "type", "asset", "eventId", "since", "until"]) {
    const v = (f.get(k) || "").trim();
    if (v) p.set(k, v);
  }
  return p;
}

function row(r) {
  let dest = r.topic || "";
  if (r.partition >= 0 && r.offset >= 0) dest += " [" + r.partition + "]@" + r.offset;
  if (r.qos !== undefined && r.qos !== null) dest += " qos" + r.qos;
  return el("tr", { "data-event": r.eventId, "data-id": r.id, onclick: () => openDetail(r.eventId) },
    el("td", { class: "mono" }, r.time.replace("T", " ").replace(/\.(\d{3})\d*Z$/, ".$1")),
    el("td", {}, r.sink), el("td", {}, badge(r.status)), el("td", { class: "num" }, r.attempt),
    el("td", {}, r.type), el("td", { class: "mono" }, r.assetId || "-"),
    el("td", { class: "mono" }, r.eventId.slice(0, 8) + "…"), el("td", { class: "mono" }, dest),
    el("td", { class: "num" }, fmt(r.latencyMs) + " ms"), el("td", { class: "err", title: r.error || "" }, r.error || ""));
}

async function loadHistory(reset) {
  const p = filterParams();
  p.set("limit", "100");
  if (!reset && state.cursor) p.set("before", state.cursor);
  const errBox = $("#history-error");
  let page;
  try {
    page = await getJSON("/api/v1/deliveries?" + p);
    errBox.hidden = true;
  } catch (e) {
    errBox.textContent = e.message;
    errBox.hidden = false;
    return;
  }
  const body = $("#deliveries tbody");
  if (reset) {
    body.replaceChildren();
    state.rows = [];
    state.newest = page.records.length ? page.records[0].id : state.newest;
  }
  for (const r of page.records) body.append(row(r));
  state.rows.push(...page.records);
  state.cursor = page.next || 0;
  $("#older").hidden = !page.next;
  $("#count").textContent = state.rows.length ? state.rows.length + " attempts shown" : "no matching attempts";
}

// poll new records (live mode): newer than the newest shown, prepended.
async function pollNew() {
  if (!$("#filters input[name=live]").checked || !state.newest) {
    if (!state.newest && $("#filters input[name=live]").checked) return loadHistory(true);
    return;
  }
  const p = filterParams();
  p.set("after", state.newest);
  p.set("limit", "200");
  let page, top;
  try {
    // The newest id overall first: if the filtered page comes back short,
    // the next poll starts there instead of rescanning non-matching records.
    top = await getJSON("/api/v1/deliveries?limit=1");
    page = await getJSON("/api/v1/deliveries?" + p);
  } catch (e) { return; }
  const body = $("#deliveries tbody");
  for (const r of page.records) body.prepend(row(r));
  if (page.records.length) state.newest = page.records[page.records.length - 1].id;
  if (page.records.length < 200 && top.records.length) state.newest = Math.max(state.newest, top.records[0].id);
  while (body.children.length > 500) body.lastChild.remove();
}

// ---- detail view ----

// prettyJSON indents JSON text token by token without parsing numbers, so
// 64-bit ids keep every digit (JSON.parse would round them).
function prettyJSON(text) {
  const frag = document.createDocumentFragment();
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|(true|false|null)|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([{[])|([}\]])|(,)|\s+/g;
  let depth = 0, m;
  const nl = () => "\n" + "  ".repeat(depth);
  while ((m = re.exec(text))) {
    if (m[1]) {
      frag.append(el("span", { class: m[2] ? "k" : "s" }, m[1]));
      if (m[2]) frag.append(": ");
    } else if (m[3]) frag.append(el("span", { class: "b" }, m[3]));
    else if (m[4]) frag.append(el("span", { class: "n" }, m[4]));
    else if (m[5]) { depth++; frag.append(m[5] + nl()); }
    else if (m[6]) { depth--; frag.append(nl() + m[6]); }
    else if (m[7]) frag.append("," + nl());
  }
  return frag;
}

async function openDetail(eventId) {
  if (location.hash !== "#event=" + eventId) history.replaceState(null, "", "#event=" + encodeURIComponent(eventId));
  let ev;
  try {
    ev = await getJSON("/api/v1/deliveries/" + encodeURIComponent(eventId));
  } catch (e) {
    $("#detail-title").textContent = "Delivery " + eventId;
    $("#detail-meta").replaceChildren(el("dt", {}, "error"), el("dd", {}, e.message));
    $("#detail-deliveries").replaceChildren();
    $("#detail-payload").replaceChildren();
    $("#detail").hidden = false;
    return;
  }
  $("#detail-title").textContent = "Delivery of " + ev.type + " " + ev.eventId;
  const meta = [["eventId", ev.eventId], ["type", ev.type], ["asset", ev.assetId || "-"],
    ["source", ev.sourceTopic + " [" + ev.sourcePartition + "]@" + ev.sourceOffset]];
  $("#detail-meta").replaceChildren(...meta.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("#detail-deliveries").replaceChildren(...ev.deliveries.map((d) => {
    const final = d.final ? "final" : "in progress (retrying)";
    return el("div", { class: "delivery", "data-sink": d.sink },
      el("h4", {}, "sink " + d.sink, el("span", { class: "muted" }, d.kind), badge(d.status),
        el("span", { class: "muted" }, d.attempts.length + " attempt(s), " + final)),
      el("table", { class: "timeline" },
        el("thead", {}, el("tr", {}, ...["#", "time (UTC)", "status", "destination", "latency", "error"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...d.attempts.map((a) => el("tr", {},
          el("td", { class: "num" }, a.attempt), el("td", { class: "mono" }, a.time),
          el("td", {}, badge(a.status)),
          el("td", { class: "mono" }, (a.topic || "") + (a.partition >= 0 && a.offset >= 0 ? " [" + a.partition + "]@" + a.offset : "") + (a.qos !== undefined && a.qos !== null ? " qos" + a.qos : "")),
          el("td", { class: "num" }, fmt(a.latencyMs) + " ms"),
          el("td", { class: "err" }, a.error || ""))))));
  }));
  const pre = $("#detail-payload");
  if (ev.payload !== undefined) {
    const raw = await fetch("/api/v1/deliveries/" + encodeURIComponent(eventId) + "/payload", { cache: "no-store" }).then((r) => r.text());
    pre.replaceChildren(prettyJSON(raw));
    $("#detail-payload-note").textContent = ev.payloadTruncated ? "(truncated)" : "";
  } else if (ev.payloadText !== undefined) {
    pre.replaceChildren(document.createTextNode(ev.payloadText));
    $("#detail-payload-note").textContent = "(truncated, not valid JSON)";
  } else {
    pre.replaceChildren(document.createTextNode("payloads are not recorded (history.payloads.enabled: false)"));
    $("#detail-payload-note").textContent = "";
  }
  $("#detail").hidden = false;
}

function closeDetail() {
  $("#detail").hidden = true;
  history.replaceState(null, "", location.pathname + location.search);
}

// ---- wiring ----

$("#filters").addEventListener("submit", (e) => { e.preventDefault(); state.cursor = 0; loadHistory(true); });
$("#older").addEventListener("click", () => loadHistory(false));
$("#detail-close").addEventListener("click", closeDetail);
$("#detail").addEventListener("click", (e) => { if (e.target.id === "detail") closeDetail(); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeDetail(); });

const params = new URLSearchParams(location.search);
for (const k of ["sink", "status", "type", "asset", "eventId", "since", "until"]) {
  if (params.has(k)) {
    const f = $("#filters [name=" + k + "]");
    if (f.tagName === "SELECT" && ![...f.options].some((o) => o.value === params.get(k))) f.append(el("option", {}, params.get(k)));
    f.value = params.get(k);
  }
}

refreshStatus().then(() => {
  loadHistory(true);
  const m = location.hash.match(/^#event=(.+)$/);
  if (m) openDetail(decodeURIComponent(m[1]));
});
setInterval(refreshStatus, 2000);
setInterval(pollNew, 2000);
