"use strict";
// summarise view: index, article view and review of one feed. No network: the data is in
// the page (#meta: the index and the errors; #blobs: one gzipped record per line).

const META = JSON.parse(document.getElementById("meta").textContent);
const INDEX = META.index;
const ROW = 30; // px, the same as --row in the CSS
const BY_ID = new Map(INDEX.map((row, n) => [row.id, n]));
const PALETTE = [
  ["#dbe7ff", "#2f5fd0"], ["#ffe1cc", "#c4560c"], ["#d7f5df", "#137a3a"], ["#f6dcf5", "#9b2b97"],
  ["#fff3bf", "#a07900"], ["#d6f3f7", "#0b7b8a"], ["#ffd9dc", "#c0263a"], ["#e6e0ff", "#5b3fc4"],
  ["#e9f2d0", "#5b7a10"], ["#f0e2d6", "#8a5a32"],
];
const NO_SPEAKER = ["#eceef2", "#7a8699"];
const $ = (id) => document.getElementById(id);

let blobLines = null; // split on first use: most visits open a few records
const cache = new Map();
let filtered = INDEX.map((_, n) => n);
let current = 0; // position in `filtered`
let openN = null; // the record shown in the article view
let selectedQuote = null;

// --- review state, kept in localStorage per feed (by the feed's SHA-256) ----------------

const STORE_KEY = "summarise-review:" + META.digest;
let unsaved = false; // localStorage refused (full, or off for file:// pages): say so
function loadReview() {
  try { return JSON.parse(localStorage.getItem(STORE_KEY) || "{}") || {}; }
  catch (e) { unsaved = true; return {}; }
}
let review = loadReview();
function saveReview() {
  try { localStorage.setItem(STORE_KEY, JSON.stringify(review)); unsaved = false; }
  catch (e) { unsaved = true; }
  updateReviewCount();
}
const reviewKey = (id, item, index) => JSON.stringify([id, item, index]);
function decision(id, item, index) { return review[reviewKey(id, item, index)] || null; }
function decide(rec, item, index, verdict, speaker) {
  const key = reviewKey(rec.id, item, index);
  const list = item === "quote" ? rec.summary.quotes : rec.summary.participants;
  const text = item === "quote" ? list[index].text : list[index].name;
  if (review[key] && review[key].verdict === verdict && verdict !== "fix") delete review[key]; // a second click undoes
  else review[key] = {
    id: rec.id, sha256: (rec.source || {}).sha256 || "", item, index, text, verdict,
    speaker: verdict === "fix" ? speaker : null, reviewed_at: new Date().toISOString(),
  };
  saveReview();
  renderArticle(rec);
}
function reviewedIn(id) {
  let n = 0;
  for (const d of Object.values(review)) if (d.id === id) n++;
  return n;
}
function updateReviewCount() {
  const n = Object.keys(review).length;
  $("review-count").textContent = (n ? `${n} decision${n === 1 ? "" : "s"}` : "") +
    (unsaved ? " (the browser refuses to keep them: export before closing)" : "");
}
function exportCorrections() {
  const lines = Object.values(review)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.item.localeCompare(b.item) || a.index - b.index))
    .map((d) => JSON.stringify({
      id: d.id, sha256: d.sha256, item: d.item, index: d.index, text: d.text,
      verdict: d.verdict, speaker: d.speaker, reviewed_at: d.reviewed_at,
    }) + "\n");
  const url = URL.createObjectURL(new Blob(lines, { type: "application/x-ndjson" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = "corrections.jsonl";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// --- records: decoded on demand ---------------------------------------------------------

async function loadRecord(n) {
  if (cache.has(n)) return cache.get(n);
  if (blobLines === null) blobLines = $("blobs").textContent.trim().split("\n");
  const bytes = Uint8Array.from(atob(blobLines[n]), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const rec = JSON.parse(await new Response(stream).text());
  cache.set(n, rec);
  return rec;
}

// --- index: filters, search, a list that renders only the rows in view -------------------

function searchText(row) {
  if (row._s === undefined) {
    row._s = [row.id, row.title, row.headline, row.location, ...row.participants, ...row.quote_texts]
      .join("\n").toLowerCase();
  }
  return row._s;
}

function fillOptions(select, values) {
  for (const v of [...new Set(values)].filter(Boolean).sort()) {
    const o = document.createElement("option");
    o.value = v;
    o.textContent = v;
    select.appendChild(o);
  }
}

function applyFilters() {
  const terms = $("search").value.toLowerCase().split(/\s+/).filter(Boolean);
  const who = $("f-participant").value.trim().toLowerCase();
  const country = $("f-country").value, kind = $("f-kind").value;
  const backend = $("f-backend").value, warning = $("f-warning").value;
  const ungrounded = $("f-ungrounded").checked;
  filtered = [];
  INDEX.forEach((row, n) => {
    if (country && !row.countries.includes(country)) return;
    if (kind && row.kind !== kind) return;
    if (backend && row.backend !== backend) return;
    if (warning && !row.warnings.includes(warning)) return;
    if (ungrounded && !row.ungrounded) return;
    if (who && !row.participants.some((p) => p.toLowerCase().includes(who))) return;
    if (terms.length) {
      const s = searchText(row);
      if (!terms.every((t) => s.includes(t))) return;
    }
    filtered.push(n);
  });
  $("shown").textContent = `${filtered.length.toLocaleString("en")} of ${INDEX.length.toLocaleString("en")} shown`;
  $("list").scrollTop = 0;
  current = 0;
  renderList();
}

function cell(cls, text, title) {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  if (title) s.title = title;
  return s;
}

function renderList() {
  const list = $("list"), spacer = $("list-spacer");
  spacer.style.height = `${filtered.length * ROW}px`;
  const first = Math.max(0, Math.floor(list.scrollTop / ROW) - 5);
  const last = Math.min(filtered.length, first + Math.ceil((list.clientHeight || 600) / ROW) + 10);
  const rows = document.createDocumentFragment();
  for (let i = first; i < last; i++) {
    const n = filtered[i], row = INDEX[n];
    const div = document.createElement("div");
    div.className = "row" + (i === current ? " current" : "");
    div.style.cssText = `position:absolute;left:0;right:0;top:${i * ROW}px`;
    div.dataset.id = row.id;
    div.dataset.pos = i;
    div.append(
      cell("c-title", row.title || row.id, row.id),
      cell("c-date", row.date), cell("c-kind", row.kind),
      cell("c-parts", row.participants.join(", ")),
      cell("c-n", row.quotes),
      cell("c-n" + (row.ungrounded ? " bad" : ""), row.ungrounded),
      cell("c-n", row.warnings.length, row.warnings.join(", ")),
      cell("c-n", reviewedIn(row.id) || (row.reviewed ? "✓" : ""), row.reviewed ? "review applied, complete" : ""),
    );
    rows.appendChild(div);
  }
  spacer.replaceChildren(rows);
}

function moveCurrent(delta) {
  if (!filtered.length) return;
  current = Math.max(0, Math.min(filtered.length - 1, current + delta));
  const list = $("list"), top = current * ROW;
  if (top < list.scrollTop) list.scrollTop = top;
  else if (top + ROW > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW - list.clientHeight;
  renderList();
}

function open(n) { location.hash = "#" + encodeURIComponent(INDEX[n].id); }

function renderErrors() {
  const rows = [
    ...META.errors.map((e) => [e.id, e.stage, e.error, e.message, (e.source || {}).path || ""]),
    ...META.unreadable.map((where) => ["", "view", "unreadable_line", where, ""]),
  ];
  if (!rows.length) return;
  $("errors-section").hidden = false;
  const body = $("errors-table").querySelector("tbody");
  for (const r of rows) {
    const tr = document.createElement("tr");
    tr.className = "error-row";
    for (const v of r) {
      const td = document.createElement("td");
      td.textContent = v == null ? "" : String(v);
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

// --- article view ---------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function speakerColours(quotes) {
  const colours = new Map();
  for (const q of quotes) {
    const who = q.speaker || "";
    if (who && !colours.has(who)) colours.set(who, PALETTE[colours.size % PALETTE.length]);
  }
  return (who) => (who && colours.get(who)) || NO_SPEAKER;
}

function validSpan(span, length) {
  return Array.isArray(span) && Number.isInteger(span[0]) && Number.isInteger(span[1]) &&
    span[0] >= 0 && span[0] < span[1] && span[1] <= length;
}

// Quotes become a tree (a quote inside a quote nests; one that crosses another is listed
// but not highlighted); mentions are then placed inside the innermost quote that holds
// their start, cut where a quote begins or ends, never across another mention.
function highlightTree(rec, length) {
  const quotes = rec.summary.quotes
    .map((q, i) => ({ s: q.span && q.span[0], e: q.span && q.span[1], kind: "q", i, children: [] }))
    .filter((q) => rec.summary.quotes[q.i].grounded && validSpan(rec.summary.quotes[q.i].span, length))
    .sort((a, b) => a.s - b.s || b.e - a.e);
  const root = { s: 0, e: length, children: [] };
  const stack = [root], crossing = [];
  for (const q of quotes) {
    while (stack.length > 1 && stack[stack.length - 1].e <= q.s) stack.pop();
    const top = stack[stack.length - 1];
    if (q.e <= top.e) { top.children.push(q); stack.push(q); }
    else crossing.push(q.i);
  }
  rec.summary.participants.forEach((p, pi) => {
    for (const m of p.mentions || []) {
      if (validSpan(m, length)) placeMention(root, { s: m[0], e: m[1], kind: "m", p: pi, children: [] });
    }
  });
  return { root, crossing };
}

function placeMention(node, m) {
  const inside = node.children.find((c) => c.kind === "q" && c.s <= m.s && m.s < c.e);
  if (inside) return placeMention(inside, { ...m, e: Math.min(m.e, inside.e) });
  const next = node.children.filter((c) => c.s > m.s).reduce((e, c) => Math.min(e, c.s), node.e);
  const cut = { ...m, e: Math.min(m.e, next) };
  if (node.children.some((c) => c.kind === "m" && c.s < cut.e && m.s < c.e)) return;
  node.children.push(cut);
}

function renderNode(node, cps, rec, colourOf) {
  const out = document.createDocumentFragment();
  let pos = node.s;
  for (const child of [...node.children].sort((a, b) => a.s - b.s)) {
    if (child.s > pos) out.append(cps.slice(pos, child.s).join(""));
    const inner = renderNode(child, cps, rec, colourOf);
    if (child.kind === "q") {
      const q = rec.summary.quotes[child.i];
      const [bg, fg] = colourOf(q.speaker);
      const d = decision(rec.id, "quote", child.i);
      out.append(el("mark", {
        class: "quote" + (selectedQuote === child.i ? " selected" : "") + (d && d.verdict === "reject" ? " rejected" : ""),
        "data-span": `${child.s},${child.e}`, "data-speaker": q.speaker || "", "data-quote": child.i,
        style: `--c:${bg};--cd:${fg}`, title: q.speaker || "no speaker",
        onclick: () => selectQuote(rec, child.i),
      }, inner));
    } else {
      const p = rec.summary.participants[child.p];
      out.append(el("span", { class: "mention", "data-span": `${child.s},${child.e}`, "data-participant": p.name, title: p.name }, inner));
    }
    pos = child.e;
  }
  if (node.e > pos) out.append(cps.slice(pos, node.e).join(""));
  return out;
}

function attribution(rec, q) {
  if (!q.grounded) return "not found in the article (ungrounded)";
  const head = (q.text || "").slice(0, 20);
  const about = (code) => (rec.warnings || []).find((w) => w && w.code === code && head && String(w.message).includes(head));
  const mismatch = about("speaker_mismatch");
  if (mismatch) return "the article attributes it to someone else: " + mismatch.message;
  if (about("quote_unmarked")) return "in the article, but not between quotation marks";
  if (!q.speaker) return "no speaker given";
  const unnamed = (rec.warnings || []).some((w) => w && w.code === "name_unattested" && String(w.message).includes(`${q.speaker}`));
  if (unnamed) return "the speaker is not named in the article";
  return "no contradiction found in the article";
}

function verdictBadge(d) {
  if (!d) return null;
  const word = d.verdict === "fix" ? `speaker fixed: ${d.speaker}` : d.verdict === "accept" ? "accepted" : "rejected";
  return el("span", { class: `verdict verdict-${d.verdict}` }, " · " + word);
}

function quoteItem(rec, i) {
  const q = rec.summary.quotes[i];
  const d = decision(rec.id, "quote", i);
  const [bg, fg] = speakerColours(rec.summary.quotes)(q.speaker);
  const fix = el("span", { class: "fix", hidden: "" },
    el("input", { type: "text", list: `names-${rec.id}`, value: (d && d.speaker) || q.speaker || "", "aria-label": "speaker", class: "fix-input" }),
    el("button", { type: "button", class: "fix-save", onclick: (ev) => {
      const value = ev.target.parentNode.querySelector("input").value.trim();
      if (value) decide(rec, "quote", i, "fix", value);
    } }, "save"));
  const said = String(q.text || "");
  const text = said.length > 160 ? said.slice(0, 160) + "…" : said;
  return el("div", { class: "item quote-item", "data-quote": i },
    el("span", { class: "swatch", style: `--c:${bg};--cd:${fg}` }),
    el("span", { class: "who" }, q.speaker || "(no speaker)"), " ",
    el("span", { class: "muted" }, `${q.match || ""}${q.span ? ` [${q.span[0]}, ${q.span[1]})` : ""}`),
    verdictBadge(d),
    el("div", { class: "said", onclick: () => selectQuote(rec, i) }, `“${text}”`),
    el("span", { class: "review" },
      el("button", { type: "button", class: "accept", title: "The quote and its speaker are right", onclick: () => decide(rec, "quote", i, "accept") }, "accept"),
      el("button", { type: "button", class: "reject", title: "Not a quote of this article, or wrong", onclick: () => decide(rec, "quote", i, "reject") }, "reject"),
      el("button", { type: "button", class: "fix-speaker", title: "The words are right, the speaker is not", onclick: () => { fix.hidden = !fix.hidden; } }, "fix speaker"),
      fix));
}

function participantItem(rec, i) {
  const p = rec.summary.participants[i];
  const d = decision(rec.id, "participant", i);
  const facts = [p.role, p.affiliation, p.country, p.present ? "took part" : "mentioned",
    `${(p.mentions || []).length} mention${(p.mentions || []).length === 1 ? "" : "s"}`].filter(Boolean).join(" · ");
  return el("div", { class: "item participant-item", "data-participant": i },
    el("span", { class: "who" }, p.name), " ", el("span", { class: "muted" }, facts),
    p.attested === false ? el("span", { class: "bad" }, " · not named in the article") : null,
    verdictBadge(d),
    el("span", { class: "review" },
      el("button", { type: "button", class: "accept", onclick: () => decide(rec, "participant", i, "accept") }, "accept"),
      el("button", { type: "button", class: "reject", onclick: () => decide(rec, "participant", i, "reject") }, "reject")));
}

function selectQuote(rec, i) {
  selectedQuote = i;
  renderArticle(rec);
  const mark = document.querySelector(`mark.quote[data-quote="${i}"]`);
  if (mark) mark.scrollIntoView({ block: "center" });
}

function detailPanel(rec, crossing) {
  if (selectedQuote === null || !rec.summary.quotes[selectedQuote]) return null;
  const q = rec.summary.quotes[selectedQuote];
  const rows = [
    ["speaker", q.speaker || "(none)"], ["match", q.match || ""], ["grounded", String(q.grounded)],
    ["offsets", q.span ? `[${q.span[0]}, ${q.span[1]})` : "none"],
    ["attribution", attribution(rec, q)],
  ];
  if (crossing.includes(selectedQuote)) rows.push(["note", "crosses another quote: listed, not highlighted"]);
  return el("section", { id: "detail" }, el("h2", {}, "Selected quote"),
    el("table", {}, el("tbody", {}, ...rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", { class: `detail-${k}` }, v))))),
    el("div", {}, `“${q.text}”`));
}

function renderArticle(rec) {
  const text = (rec.article && rec.article.text) || "";
  const cps = Array.from(text); // code points: the unit of the spans
  const { root, crossing } = highlightTree(rec, cps.length);
  const colourOf = speakerColours(rec.summary.quotes);
  const names = el("datalist", { id: `names-${rec.id}` }, ...rec.summary.participants.map((p) => el("option", { value: p.name })));
  const quotes = rec.summary.quotes, parts = rec.summary.participants;
  const missing = [
    ...quotes.map((q, i) => (!q.grounded ? quoteItem(rec, i) : null)),
    ...parts.map((p, i) => (p.attested === false ? participantItem(rec, i) : null)),
  ].filter(Boolean);
  const ev = rec.summary.event || {};
  const prov = rec.provenance || {};
  const raw = el("pre", { class: "raw" });
  const details = el("details", { id: "raw-json", ontoggle: () => { if (!raw.textContent) raw.textContent = JSON.stringify(rec, null, 2); } },
    el("summary", {}, "Raw JSON"), raw);
  const body = el("div", {},
    el("p", { class: "headline" }, el("b", {}, rec.summary.headline || "")),
    el("div", { class: "text", id: "text" }, renderNode(root, cps, rec, colourOf)));
  const aside = el("aside", {},
    detailPanel(rec, crossing),
    el("section", { id: "ungrounded-panel" }, el("h2", {}, `Not found in the text (${missing.length})`),
      ...(missing.length ? missing : [el("div", { class: "muted" }, "every quote and name was found")])),
    el("section", { id: "quotes-panel" }, el("h2", {}, `Quotes (${quotes.length})`), ...quotes.map((q, i) => quoteItem(rec, i))),
    el("section", { id: "participants-panel" }, el("h2", {}, `Participants (${parts.length})`), ...parts.map((p, i) => participantItem(rec, i))),
    el("section", { id: "warnings-panel" }, el("h2", {}, `Warnings (${(rec.warnings || []).length})`),
      ...(rec.warnings || []).map((w) => el("div", { class: "item warn" }, el("code", {}, (w && w.code) || String(w)), " ", (w && w.message) || ""))),
    el("section", {}, el("h2", {}, "Issues and outcomes"),
      ...(rec.summary.issues || []).map((x) => el("div", { class: "item" }, el("b", {}, x.topic), ": ", x.summary)),
      ...(rec.summary.outcomes || []).map((x) => el("div", { class: "item" }, el("b", {}, x.status), ": ", x.description))),
    el("section", {}, details), names);
  const facts = [["date", ev.date], ["kind", ev.kind], ["location", ev.location], ["published", rec.article && rec.article.published],
    ["backend", prov.backend], ["model", prov.model], ["id", rec.id],
    ["review", prov.review && `${prov.review.complete ? "complete" : "partial"}, ${(prov.review.items || []).length} verdicts applied`],
  ].filter(([, v]) => v);
  const url = rec.source && rec.source.url;
  $("article").replaceChildren(
    el("h1", {}, (rec.article && rec.article.title) || rec.summary.headline || rec.id),
    el("div", { class: "facts" }, ...facts.flatMap(([k, v]) => [`${k} `, el("b", {}, String(v)), " · "]),
      url ? el("a", { href: url, rel: "noreferrer noopener", target: "_blank" }, "source") : ""),
    body, aside);
}

async function showArticle(n) {
  const rec = await loadRecord(n);
  if (openN !== n) selectedQuote = null;
  openN = n;
  const pos = filtered.indexOf(n);
  if (pos >= 0) current = pos;
  $("position").textContent = pos >= 0 ? `${pos + 1} of ${filtered.length}` : "not in the filtered list";
  // Lines of other producers or versions may lack parts: render what there is.
  for (const key of ["quotes", "participants", "issues", "outcomes"]) {
    const items = rec.summary[key];
    rec.summary[key] = (Array.isArray(items) ? items : []).map((x) => (x && typeof x === "object" ? x : {}));
  }
  if (!Array.isArray(rec.warnings)) rec.warnings = [];
  renderArticle(rec);
  $("index-view").hidden = true;
  $("article-view").hidden = false;
  document.title = `${INDEX[n].title || INDEX[n].id} · summarise view`;
  window.scrollTo(0, 0);
}

function showIndex() {
  openN = null;
  $("article-view").hidden = true;
  $("index-view").hidden = false;
  document.title = `${META.title} · summarise view`;
  renderList();
}

function route() {
  let id = location.hash.slice(1);
  try { id = decodeURIComponent(id); } catch (e) { /* a stray % typed by hand: take it as is */ }
  if (id && BY_ID.has(id)) showArticle(BY_ID.get(id));
  else showIndex();
}

function step(delta) {
  if (openN === null) return moveCurrent(delta);
  const pos = Math.max(0, Math.min(filtered.length - 1, current + delta));
  if (filtered.length) open(filtered[pos]);
}

function onKey(ev) {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(ev.target.tagName);
  if (typing) {
    if (ev.key === "Escape") ev.target.blur();
    if (ev.key === "Enter" && ev.target.id === "search") $("list").focus();
    return;
  }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === "/") { ev.preventDefault(); if (openN !== null) location.hash = ""; $("search").focus(); }
  else if (ev.key === "j") step(1);
  else if (ev.key === "k") step(-1);
  else if (ev.key === "Enter" && openN === null && filtered.length) open(filtered[current]);
  else if (ev.key === "Escape" && openN !== null) location.hash = "";
}

function init() {
  $("counts").textContent = `${INDEX.length.toLocaleString("en")} records · ${META.errors.length.toLocaleString("en")} errors`;
  fillOptions($("f-country"), INDEX.flatMap((r) => r.countries));
  fillOptions($("f-kind"), INDEX.map((r) => r.kind));
  fillOptions($("f-backend"), INDEX.map((r) => r.backend));
  fillOptions($("f-warning"), INDEX.flatMap((r) => r.warnings));
  const people = [...new Set(INDEX.flatMap((r) => r.participants))].sort().slice(0, 5000);
  $("participant-list").replaceChildren(...people.map((p) => el("option", { value: p })));
  for (const id of ["search", "f-participant"]) $(id).addEventListener("input", applyFilters);
  for (const id of ["f-country", "f-kind", "f-backend", "f-warning", "f-ungrounded"]) $(id).addEventListener("change", applyFilters);
  $("list").addEventListener("scroll", renderList, { passive: true });
  $("list").addEventListener("click", (ev) => {
    const row = ev.target.closest(".row[data-pos]");
    if (row) { current = Number(row.dataset.pos); open(filtered[current]); }
  });
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("export").addEventListener("click", exportCorrections);
  $("clear-review").addEventListener("click", () => {
    if (confirm("Forget every decision kept for this feed in this browser?")) { review = {}; saveReview(); route(); }
  });
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", renderList);
  renderErrors();
  updateReviewCount();
  applyFilters();
  route();
  document.body.dataset.readyMs = performance.now().toFixed(1); // for bench/bench_view.py
  document.body.dataset.ready = "1";
}

init();
