// notesearch's page: search as you type, the hit read in place, related papers as a graph and a timeline.
// Plain JavaScript modules, no build step, nothing from the network. Everything a note or an answer holds is
// put on the page as text (textContent); the one exception is a note's HTML, which the server renders inert
// (search/serve/render.py: raw HTML escaped, links checked, no images), under a CSP without inline script.
import { $, api, describe, el, serverState } from "/static/api.js";
import { drawPapers } from "/static/graph.js";
import { followIndex } from "/static/status.js";

const DEBOUNCE_MS = 150;
const K = 20;

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

// Copy `path:line` (`path:region:line` in a cell or a page) as `get` and an editor take it. Where the clipboard
// is refused, the text is selected on the page for the reader to copy.
async function copyLocation() {
  if (!current) return;
  const text = [current.path, current.region, current.line_start].filter(Boolean).join(":");
  const button = $("copy");
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "copied";
  } catch (error) {
    const shown = $("note-location");
    shown.textContent = text;
    window.getSelection().selectAllChildren(shown);
    button.textContent = "selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "copy path:line"; }, 2000);
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

// A related paper or passage in a list, with all its reasons; a click opens it.
function relatedItem(hit, n) {
  const item = hitElement(hit, n, el("div", { class: "why", text: `why: ${(hit.reasons || []).join("; ")}` }));
  item.addEventListener("click", () => openHit(hit));
  return item;
}

function showRelated(answer) {
  const anchor = answer.anchor;
  const found = answer.hits || [];
  if (anchor && anchor.paper) {
    $("related-message").textContent = found.length ? "" : "No related papers.";
    $("paper-view").hidden = false;
    drawPapers(anchor, found, { item: relatedItem, recentre });
  } else {
    $("related-message").textContent = found.length ? "" : "No related passages.";
    $("passage-view").hidden = false;
    $("related-passages").replaceChildren(...found.map(relatedItem));
    const named = answer.named || [];
    $("named-papers").replaceChildren(...(named.length ? named.map(namedItem)
      : [el("li", { class: "muted", text: "none" })]));
  }
}

// A paper the passage names: the name it uses, the paper's title and year; a click (or Enter) shows its graph.
function namedItem(paper) {
  const title = paper.paper ? paper.paper.title : paper.title;
  const item = el("li", { class: "paper-link", tabindex: "0", "data-paper": title, title: where(paper, true) },
    el("span", { class: "named-as", text: paper.name }),
    `${paper.name.toLowerCase() === title.toLowerCase() ? "" : `→ ${title}`}${paper.year ? ` (${paper.year})` : ""}`,
    el("span", { class: "where", text: ` ${where(paper)}` }));
  const open = () => recentre(paper);
  item.addEventListener("click", open);
  item.addEventListener("keydown", (event) => { if (event.key === "Enter") open(); });
  return item;
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

// What the page takes from each look at the index: its folders (to shorten paths, and for the folder filter),
// the editor link's template, and a new generation's hits.
function indexSeen(stats, newer) {
  if (stats.hyperlink) hyperlink = { template: stats.hyperlink, host: stats.host, cwd: stats.cwd };
  folders = (stats.folders || []).map((f) => f.path.replace(/\/+$/, "")).sort((a, b) => b.length - a.length);
  const select = filters.folder;
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "", text: "any" }),
    ...folders.map((path) => el("option", { value: path.split("/").pop(), text: path })));
  select.value = chosen;
  if (newer && hasWords($("q").value)) runSearch(); // the hits of the new generation
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

followIndex(indexSeen);
if (hasWords($("q").value)) runSearch();
