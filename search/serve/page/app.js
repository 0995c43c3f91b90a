// notesearch's page: search as you type, the hit read in place, related papers as a graph and a timeline.
// Plain JavaScript, no build step, nothing from the network. Everything a note or an answer holds is put on
// the page as text (textContent); the one exception is a note's HTML, which the server renders inert
// (search/serve/render.py: raw HTML escaped, links checked, no images), under a CSP without inline script.
"use strict";

const DEBOUNCE_MS = 150;
const K = 20;
const POLL_MS = 5000;

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
};

// ------------------------------------------------------------------ talking to the server

class ApiError extends Error {
  constructor(message, kind, status) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

async function api(path, params = {}, options = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" },
      signal: options.signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    serverState("stopped");
    throw new ApiError("The server does not answer: it has stopped. Start it again with `notesearch serve`.",
      "ServerStopped", 0);
  }
  serverState("up");
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401) serverState("login");
    const error = (data && data.error) || {};
    throw new ApiError(error.message || `${response.status} ${response.statusText}`, error.kind || "HttpError",
      response.status);
  }
  if (options.withHeaders) return { data, headers: response.headers };
  return data;
}

function serverState(state) {
  const box = $("server-state");
  if (state === "up") {
    box.hidden = true;
    document.body.classList.remove("stopped");
    return;
  }
  box.hidden = false;
  document.body.classList.toggle("stopped", state === "stopped");
  box.textContent = state === "stopped"
    ? "The server has stopped: nothing can be searched until it runs again (notesearch serve). This page reconnects by itself."
    : "Not logged in: open the page from the URL with its token that `notesearch serve` printed (also in serve.json).";
}

// Words for an error, with what to do.
function describe(error) {
  if (error.kind === "NoIndex") return `No index yet. ${error.message}. Build one with \`notesearch index PATH\`.`;
  return error.message;
}

// ------------------------------------------------------------------ the query and its filters

const filters = {
  folder: $("folder"), yearFrom: $("year-from"), yearTo: $("year-to"),
  dateFrom: $("date-from"), dateTo: $("date-to"), papers: $("papers-only"),
};

function quoted(value) {
  const clean = value.replace(/"/g, " ").trim().replace(/\s+/g, " ");
  return /\s/.test(clean) ? `"${clean}"` : clean;
}

function range(from, to) {
  const low = from.value.trim(), high = to.value.trim();
  if (!low && !high) return "";
  if (low && low === high) return low;
  return `${low}..${high}`;
}

// The query as the command line takes it: the words typed, then each filter in the query syntax.
function effectiveQuery() {
  const parts = [];
  const typed = $("q").value.trim();
  if (typed) parts.push(/\bOR\b/.test(typed) && (filters.folder.value || filters.yearFrom.value || filters.yearTo.value
    || filters.dateFrom.value || filters.dateTo.value) ? `(${typed})` : typed);
  if (filters.folder.value) parts.push(`path:${quoted(filters.folder.value)}`);
  const years = range(filters.yearFrom, filters.yearTo);
  if (years) parts.push(`year:${years}`);
  const dates = range(filters.dateFrom, filters.dateTo);
  if (dates) parts.push(`date:${dates}`);
  return parts.join(" ");
}

const hasWords = (text) => /[\p{L}\p{N}]/u.test(text);

// ------------------------------------------------------------------ search as you type

let searchTimer = 0;
let searchSeq = 0;
let searchAbort = null;
let hits = [];
let selected = -1;

function scheduleSearch() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, DEBOUNCE_MS);
}

async function runSearch() {
  const seq = ++searchSeq;
  if (searchAbort) searchAbort.abort();
  const typed = $("q").value.trim();
  const query = effectiveQuery();
  const shown = $("query-shown");
  shown.hidden = !query || query === typed;
  shown.textContent = shown.hidden ? "" : `searching: ${query}`;
  if (!hasWords(typed)) {
    showHits([], typed ? "The query has no letter or digit: nothing to search for." : "Type to search your notes.");
    return;
  }
  searchAbort = new AbortController();
  const papersOnly = filters.papers.checked;
  let answer, warnings = [];
  try {
    const found = await api("/api/search", {
      q: query, mode: $("mode").value, k: papersOnly ? K * 3 : K, explain: $("explain").checked ? "1" : "",
    }, { signal: searchAbort.signal, withHeaders: true });
    answer = found.data;
    warnings = JSON.parse(found.headers.get("Notesearch-Warnings") || "[]");
  } catch (error) {
    if (error.name === "AbortError" || seq !== searchSeq) return;
    showHits([], describe(error), "error");
    return;
  }
  if (seq !== searchSeq) return; // a newer query was typed meanwhile: this answer is stale
  let found = answer.hits || [];
  if (papersOnly) found = found.filter((hit) => hit.paper).slice(0, K);
  const empty = papersOnly ? `No paper matches ${query}.` : `No results for ${query}.`;
  showHits(found, found.length ? "" : empty, found.length ? "" : "empty", warnings);
  const route = $("route");
  route.hidden = !answer.route;
  route.textContent = answer.route ? `(${answer.route})` : "";
  $("results").dataset.took = answer.took_ms;
}

// A snippet with its **marked** words as <mark>, all as text.
function marked(snippet) {
  const span = el("span", { class: "snippet" });
  snippet.split("**").forEach((part, n) => {
    if (part) span.append(n % 2 ? el("mark", { text: part }) : document.createTextNode(part));
  });
  return span;
}

let folders = []; // the index's folders, longest first: paths are shown from the folder's name on

function shownPath(path) {
  for (const folder of folders) {
    if (path.startsWith(folder + "/")) return folder.split("/").pop() + path.slice(folder.length);
  }
  return path;
}

function where(item, full = false) {
  const end = item.line_end && item.line_end !== item.line_start ? `-${item.line_end}` : "";
  return [full ? item.path : shownPath(item.path), item.region, `${item.line_start}${end}`].filter(Boolean).join(":");
}

function hitTitle(hit) {
  return hit.section && !hit.paper && hit.section !== hit.title ? `${hit.title} › ${hit.section}` : hit.title;
}

function explainLine(hit) {
  const num = (v, digits) => (v === null || v === undefined ? "-" : Number(v).toFixed(digits));
  const kw = hit.keyword_rank ? `#${hit.keyword_rank} (${num(hit.keyword_score, 2)})` : "-";
  const vec = hit.vector_rank ? `#${hit.vector_rank} (${num(hit.vector_similarity, 3)})` : "-";
  const exact = hit.exact_match ? "  exact" : "";
  return `keyword ${kw}  vector ${vec}  fused ${num(hit.fused_score, 4)}${exact}  matched: ${(hit.matched || []).join(", ") || "-"}`;
}

function hitElement(hit, n, extra) {
  const year = hit.paper && hit.paper.year ? ` (${hit.paper.year})` : "";
  const item = el("li", {
    class: "hit", tabindex: "-1", "data-path": hit.path, "data-line": hit.line_start, "data-region": hit.region || "",
    "data-rank": n + 1,
  },
  el("div", { class: "hit-head" }, el("span", { class: "rank", text: `${n + 1}.` }),
    el("span", { class: "hit-title", text: hitTitle(hit) + year }),
    hit.paper ? el("span", { class: "badge", text: "paper" }) : null),
  el("div", { class: "where", text: where(hit), title: where(hit, true) }),
  marked(hit.snippet || ""));
  if (extra) item.append(extra);
  return item;
}

function showHits(found, message, kind = "", warnings = []) {
  hits = found;
  selected = -1;
  const list = $("hits");
  list.replaceChildren(...found.map((hit, n) => {
    const item = hitElement(hit, n, $("explain").checked && hit.fused_score !== undefined
      ? el("div", { class: "explain", text: explainLine(hit) }) : null);
    item.addEventListener("click", () => { select(n); openHit(hit); });
    return item;
  }));
  const box = $("message");
  const lines = [message, ...warnings].filter(Boolean);
  box.textContent = lines.join(" — ");
  box.hidden = !lines.length;
  box.className = `state ${kind}`;
}

function select(n) {
  const items = $("hits").children;
  if (!items.length) return;
  selected = Math.max(0, Math.min(n, items.length - 1));
  for (const [i, item] of Array.from(items).entries()) item.classList.toggle("selected", i === selected);
  items[selected].focus({ preventScroll: true });
  items[selected].scrollIntoView({ block: "nearest" });
}

// ------------------------------------------------------------------ reading a note

let current = null; // the hit whose note is open

async function openHit(hit) {
  current = hit;
  $("reader").hidden = false;
  document.body.classList.add("reading");
  $("note-title").textContent = hitTitle(hit);
  $("note-location").textContent = where(hit);
  $("note-changed").hidden = true;
  showTab("note");
  const note = $("note");
  note.replaceChildren(el("p", { class: "state", text: "Opening the note…" }));
  try {
    // The whole note (a notebook's cell, a PDF's page: that region), as HTML the server rendered inert.
    const found = await api("/api/note", { path: hit.path, region: hit.region || "" });
    if (current !== hit) return;
    note.innerHTML = found.html;
    $("note-changed").hidden = !found.changed;
  } catch (error) {
    if (current !== hit) return;
    note.replaceChildren(el("p", { class: "state error", text: describe(error) }));
    return;
  }
  markPassage(hit.line_start, hit.line_end || hit.line_start);
  updateEditorLink(hit);
  loadRelated(hit);
}

// Mark the blocks of the note that hold lines first..last, and scroll the first of them into view.
function markPassage(first, last) {
  const note = $("note");
  let target = null;
  for (const block of note.querySelectorAll("[data-line]")) {
    const start = Number(block.dataset.line), end = Number(block.dataset.lineEnd || start);
    const inside = start >= first && start <= last;
    const holds = start <= first && end >= last && !block.querySelector("[data-line]");
    if (inside || holds) {
      const shown = block.tagName === "CODE" && block.parentElement.tagName === "PRE" ? block.parentElement : block;
      shown.classList.add("passage");
      if (!target) target = shown;
    }
  }
  note.dataset.passage = `${first}-${last}`;
  if (target) {
    target.scrollIntoView({ block: "center", inline: "nearest" });
    target.setAttribute("id", "passage");
  }
}

// "open in editor": the target NOTESEARCH_HYPERLINK gives the command line (cli_render.link), filled the same way:
// {path} the absolute path URL-quoted, {host} the server's host name, {line} the line (1 in a cell or a page),
// {page} a PDF's page. The server tells the template (`hyperlink` in /api/stats); without one there is no link:
// a browser will not open file:// from a page.
let hyperlink = null;

function editorTarget(hit) {
  if (!hyperlink || !hyperlink.template) return null;
  // A path the server showed relative to its working folder is made absolute with that folder.
  const absolute = hit.path.startsWith("/") ? hit.path : hyperlink.cwd && `${hyperlink.cwd.replace(/\/+$/, "")}/${hit.path}`;
  if (!absolute) return null;
  const page = hit.region && hit.region.startsWith("p") ? hit.region.slice(1) : "";
  const path = absolute.split("/").map(encodeURIComponent).join("/");
  const target = hyperlink.template.replaceAll("{host}", hyperlink.host || "").replaceAll("{path}", path)
    .replaceAll("{line}", String(hit.region ? 1 : hit.line_start)).replaceAll("{page}", page || "1");
  return page && !hyperlink.template.includes("{page}") && target.startsWith("file://") ? `${target}#page=${page}` : target;
}

function updateEditorLink(hit) {
  const link = $("editor");
  const target = editorTarget(hit);
  link.hidden = !target;
  if (target) link.href = target;
}

// Clicking a relative link in a note opens that note here (its path resolved against the note's folder).
$("note").addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || !current) return;
  const href = link.getAttribute("href");
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("#")) {
    if (!href.startsWith("#")) link.target = "_blank";
    return;
  }
  event.preventDefault();
  const folder = current.path.includes("/") ? current.path.slice(0, current.path.lastIndexOf("/") + 1) : "";
  const parts = [];
  for (const part of (folder + decodeURIComponent(href.split("#")[0])).split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  const path = (current.path.startsWith("/") ? "/" : "") + parts.join("/");
  openHit({ path, region: "", line_start: 1, line_end: 1, title: path.split("/").pop(), section: "" });
});

async function copyLocation() {
  if (!current) return;
  const text = [current.path, current.region, current.line_start].filter(Boolean).join(":");
  const button = $("copy");
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "copied";
  } catch (error) {
    window.prompt("Copy path:line", text);
  }
  setTimeout(() => { button.textContent = "copy path:line"; }, 1500);
}

// ------------------------------------------------------------------ related papers and passages

function showTab(name) {
  $("note").hidden = name !== "note";
  $("related").hidden = name !== "related";
  $("show-note").setAttribute("aria-pressed", String(name === "note"));
  $("show-related").setAttribute("aria-pressed", String(name === "related"));
}

let relatedSeq = 0;

async function loadRelated(hit) {
  const seq = ++relatedSeq;
  $("related-message").textContent = "Finding related papers and passages…";
  $("paper-view").hidden = true;
  $("passage-view").hidden = true;
  let answer;
  try {
    answer = await api("/api/related", { passage: [hit.path, hit.region, hit.line_start].filter(Boolean).join(":"), k: 8 });
  } catch (error) {
    if (seq === relatedSeq) $("related-message").textContent = describe(error);
    return;
  }
  if (seq !== relatedSeq) return;
  showRelated(answer);
}

function showRelated(answer) {
  const anchor = answer.anchor;
  const found = answer.hits || [];
  if (anchor && anchor.paper) {
    $("related-message").textContent = found.length ? "" : "No related papers.";
    $("paper-view").hidden = false;
    drawPapers(anchor, found);
  } else {
    $("related-message").textContent = found.length ? "" : "No related passages.";
    $("passage-view").hidden = false;
    const list = $("related-passages");
    list.replaceChildren(...found.map((hit, n) => {
      const item = hitElement(hit, n, el("div", { class: "why", text: `why: ${(hit.reasons || []).join("; ")}` }));
      item.addEventListener("click", () => openHit(hit));
      return item;
    }));
    const papers = found.filter((hit) => hit.paper);
    $("named-papers").replaceChildren(...(papers.length ? papers.map((hit) => {
      const item = el("li", { class: "paper-link", tabindex: "0", "data-paper": hit.paper.title },
        `${hit.paper.title}${hit.paper.year ? ` (${hit.paper.year})` : ""}`);
      item.addEventListener("click", () => openHit(hit));
      return item;
    }) : [el("li", { class: "muted", text: "none" })]));
  }
}

// The kind of link an edge stands for, from a related paper's reasons (search/relate/graph.py words them).
const KINDS = [
  ["link", (r) => r.startsWith("link:"), () => "linked"],
  ["predecessor", (r) => r.startsWith("reference: the anchor's note names"), () => "predecessor the note names"],
  ["reference", (r) => r.startsWith("reference:"), () => "its note names this one"],
  ["author", (r) => r.startsWith("shared authors:"), (r) => `shared author: ${r.slice(16).split(",")[0].trim()}`],
  ["together", (r) => r.startsWith("named together"), () => "named together"],
  ["tag", (r) => r.startsWith("shared tags:"), (r) => `shared tag: ${r.slice(12).split(",")[0].trim()}`],
  ["method", (r) => r.startsWith("shared terms:"), (r) => `shared method/task: ${r.slice(13).split(",")[0].trim()}`],
  ["similar", (r) => r.startsWith("similar text"), () => "similar text"],
];

function linkKind(reasons) {
  for (const [kind, test, label] of KINDS) {
    const reason = (reasons || []).find(test);
    if (reason) return { kind, label: label(reason) };
  }
  return { kind: "other", label: (reasons || [])[0] || "related" };
}

const SVG = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}, text) => {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
};

function short(title, size) {
  return title.length > size ? `${title.slice(0, size - 1).trimEnd()}…` : title;
}

function paperNode(paper, x, y, centre, onClick) {
  const group = svg("g", {
    class: centre ? "paper centre" : "paper", "data-paper": paper.title, tabindex: "0", role: "button",
    transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
  });
  group.append(svg("title", {}, `${paper.title}${paper.year ? ` (${paper.year})` : ""}`));
  group.append(svg("circle", { r: centre ? 14 : 9 }));
  const label = svg("text", { y: centre ? 30 : 22, "text-anchor": "middle" });
  label.append(svg("tspan", { x: 0, class: "year" }, paper.year ? String(paper.year) : "—"));
  label.append(svg("tspan", { x: 0, dy: "1.2em" }, short(paper.title, centre ? 40 : 26)));
  group.append(label);
  if (onClick) {
    group.addEventListener("click", onClick);
    group.addEventListener("keydown", (event) => { if (event.key === "Enter") onClick(); });
  }
  return group;
}

// A radial graph: the paper in the middle, its related papers around it, each edge named by its kind of link.
function drawPapers(anchor, found) {
  const centrePaper = { title: anchor.paper.title || anchor.title, year: anchor.paper.year || anchor.year };
  $("graph-anchor").textContent = `of ${centrePaper.title}`;
  const graph = $("graph");
  graph.replaceChildren();
  graph.dataset.centre = centrePaper.title;
  const cx = 360, cy = 220, rx = 270, ry = 170;
  const edges = svg("g", { class: "edges" });
  const nodes = svg("g", { class: "nodes" });
  const kinds = new Map();
  found.forEach((hit, n) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * n) / found.length;
    const x = cx + rx * Math.cos(angle), y = cy + ry * Math.sin(angle);
    const link = linkKind(hit.reasons);
    kinds.set(link.kind, link.kind);
    edges.append(svg("line", { x1: cx, y1: cy, x2: x, y2: y, class: `edge ${link.kind}` }));
    const lx = cx + (x - cx) * 0.6, ly = cy + (y - cy) * 0.6 - 3;
    edges.append(svg("text", { x: lx.toFixed(1), y: ly.toFixed(1), class: `edge-label ${link.kind}`, "text-anchor": "middle" },
      short(link.label, 34)));
    const paper = { title: hit.paper ? hit.paper.title : hit.title, year: hit.paper ? hit.paper.year : null };
    nodes.append(paperNode(paper, x, y, false, () => recentre(hit)));
  });
  nodes.append(paperNode(centrePaper, cx, cy, true, null));
  graph.append(edges, nodes);
  $("legend").replaceChildren(...Array.from(kinds.keys()).map((kind) =>
    el("span", { class: `key ${kind}`, text: KINDS.find((k) => k[0] === kind) ? kindName(kind) : kind })));
  drawTimeline(centrePaper, found);
  const list = $("related-papers");
  list.replaceChildren(...found.map((hit, n) => {
    const item = hitElement(hit, n, el("div", { class: "why", text: `why: ${(hit.reasons || []).join("; ")}` }));
    item.addEventListener("click", () => openHit(hit));
    return item;
  }));
}

function kindName(kind) {
  return { link: "linked", predecessor: "predecessor the note names", reference: "its note names this one", author: "shared author",
    together: "named together", tag: "shared tag", method: "shared method/task", similar: "similar text" }[kind];
}

function drawTimeline(centre, found) {
  const papers = [{ ...centre, centre: true, hit: null },
    ...found.map((hit) => ({ title: hit.paper ? hit.paper.title : hit.title, year: hit.paper && hit.paper.year, hit }))];
  papers.sort((a, b) => (a.year || 99999) - (b.year || 99999));
  $("timeline").replaceChildren(...papers.map((paper) => {
    const item = el("li", { class: paper.centre ? "centre" : "", "data-year": paper.year || "" },
      el("span", { class: "year", text: paper.year ? String(paper.year) : "—" }),
      el("span", { class: "title", text: paper.title }));
    if (paper.hit) item.addEventListener("click", () => recentre(paper.hit));
    return item;
  }));
}

// Re-centre the graph on a related paper: its related papers, and its note opened beside.
async function recentre(hit) {
  current = hit;
  $("note-title").textContent = hitTitle(hit);
  $("note-location").textContent = where(hit);
  updateEditorLink(hit);
  await loadRelated(hit);
  // Its note, marked at its passage, is there when the reader goes back to the note tab.
  try {
    const found = await api("/api/note", { path: hit.path, region: hit.region || "" });
    if (current !== hit) return;
    $("note").innerHTML = found.html;
    markPassage(hit.line_start, hit.line_end || hit.line_start);
  } catch (error) {
    $("note").replaceChildren(el("p", { class: "state error", text: describe(error) }));
  }
}

// ------------------------------------------------------------------ the index

let lastGeneration = null;

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

async function loadStats() {
  let stats;
  try {
    stats = await api("/api/stats");
  } catch (error) {
    if (error.status !== 404) {
      $("index-summary").textContent = describe(error);
      return null;
    }
    try {
      stats = await api("/api/ping"); // a server without /api/stats: its index and generation only
    } catch (second) {
      $("index-summary").textContent = describe(second);
      return null;
    }
  }
  if (stats.hyperlink) hyperlink = { template: stats.hyperlink, host: stats.host, cwd: stats.cwd };
  folders = (stats.folders || []).map((f) => f.path.replace(/\/+$/, "")).sort((a, b) => b.length - a.length);
  const listed = (stats.folders || []).map((f) =>
    `${f.path} (${plural(f.files, "file")}, ${plural(f.passages, "passage")})`);
  const parts = [listed.join(" · ") || `index ${stats.index}`];
  if (stats.passages !== undefined) parts.push(plural(stats.passages, "passage"));
  if (stats.papers !== undefined) parts.push(plural(stats.papers, "paper"));
  if (stats.model) parts.push(`model ${stats.model}`);
  parts.push(`generation ${stats.generation}`);
  if (stats.updated) parts.push(`updated ${new Date(stats.updated).toLocaleString()}`);
  if (stats.watching) parts.push("watching for changes");
  $("index-summary").textContent = parts.join(" — ");
  const select = filters.folder;
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "", text: "any" }),
    ...(stats.folders || []).map((f) => el("option", { value: f.path.replace(/\/+$/, "").split("/").pop(), text: f.path })));
  select.value = chosen;
  if (lastGeneration !== null && stats.generation !== lastGeneration) {
    if (!following) {
      $("index-updates").textContent = `index updated to generation ${stats.generation} at ${new Date().toLocaleTimeString()}`;
    }
    if (hasWords($("q").value)) runSearch(); // the hits of the new generation
  }
  lastGeneration = stats.generation;
  if (stats.updating !== undefined && !following) {
    const run = $("index-run");
    run.hidden = !stats.updating;
    if (stats.updating) run.textContent = "an index run is going on…";
  }
  return stats;
}

const STAGES = { read: ["reading", "notes"], keyword: ["indexing", "passages"], embed: ["embedding", "passages"] };

function showProgress(progress) {
  const run = $("index-run");
  if (!progress) {
    run.hidden = true;
    return;
  }
  const [label, unit] = STAGES[progress.stage] || [progress.stage, "items"];
  run.hidden = false;
  const who = progress.by === "watch" ? "the watcher's index run" : "index run";
  run.textContent = `${who}: ${label} ${progress.done}/${progress.total} ${unit}`;
}

// Index runs and the watcher's updates as they happen, from the server's events (GET /api/events: `state`
// first, then each run's `progress` steps and its `run` end); where they cannot be had, a look at the index
// every few seconds.
let following = false;

function runAccount(run) {
  const who = run.by === "watch" ? "the watcher's index run" : "an index run";
  const at = run.finished ? new Date(run.finished).toLocaleTimeString() : "";
  if (run.error) return `${who} failed at ${at}: ${run.error.message}`;
  const r = run.report || {};
  if (!r.changed && r.changed !== undefined) return `${who} at ${at}: no change`;
  return `${who} at ${at}: added ${r.added}, updated ${r.updated}, removed ${r.removed} — `
    + `${plural(r.passages, "passage")}, generation ${r.generation}`;
}

function followIndex() {
  if (!window.EventSource) return poll();
  const events = new EventSource("/api/events");
  let opened = false;
  events.addEventListener("open", () => {
    opened = following = true;
    serverState("up");
  });
  events.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    if (lastGeneration !== null && state.generation !== lastGeneration) loadStats();
    const run = $("index-run");
    run.hidden = !state.updating;
    if (state.updating) run.textContent = "an index run is going on…";
  });
  events.addEventListener("progress", (event) => showProgress(JSON.parse(event.data)));
  events.addEventListener("run", (event) => {
    showProgress(null);
    $("index-updates").textContent = runAccount(JSON.parse(event.data));
    loadStats();
  });
  events.addEventListener("error", () => {
    if (!opened) {
      events.close();
      poll();
    } else if (events.readyState !== EventSource.OPEN) {
      serverState("stopped"); // it reconnects by itself, and `open` says when it is back
    }
  });
}

function poll() {
  following = false;
  $("index-updates").title = `the page looks at the index every ${POLL_MS / 1000} s`;
  setInterval(loadStats, POLL_MS);
}

// ------------------------------------------------------------------ keyboard and wiring

document.addEventListener("keydown", (event) => {
  const typing = event.target.matches("input, select, textarea");
  if (event.key === "/" && !typing) {
    event.preventDefault();
    $("q").focus();
    $("q").select();
    return;
  }
  const inList = event.target === $("q") || event.target.closest("#hits");
  if (!inList || !hits.length) return;
  if (event.key === "ArrowDown") {
    event.preventDefault();
    select(selected + 1);
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    if (selected <= 0) {
      selected = -1;
      $("q").focus();
    } else select(selected - 1);
  } else if (event.key === "Enter") {
    event.preventDefault();
    const n = selected < 0 ? 0 : selected;
    select(n);
    openHit(hits[n]);
  } else if (event.key === "Escape") {
    $("q").focus();
  }
});

$("search").addEventListener("submit", (event) => { event.preventDefault(); });
$("q").addEventListener("input", scheduleSearch);
$("mode").addEventListener("change", runSearch);
$("explain").addEventListener("change", runSearch);
for (const input of Object.values(filters)) input.addEventListener(input.type === "checkbox" || input.tagName === "SELECT" ? "change" : "input", scheduleSearch);
$("filters-toggle").addEventListener("click", () => {
  const box = $("filters");
  box.hidden = !box.hidden;
  $("filters-toggle").setAttribute("aria-expanded", String(!box.hidden));
});
$("filters-clear").addEventListener("click", () => {
  for (const input of Object.values(filters)) {
    if (input.type === "checkbox") input.checked = false;
    else input.value = "";
  }
  runSearch();
});
$("copy").addEventListener("click", copyLocation);
$("show-note").addEventListener("click", () => showTab("note"));
$("show-related").addEventListener("click", () => showTab("related"));

loadStats().then(followIndex);
if (hasWords($("q").value)) runSearch();
