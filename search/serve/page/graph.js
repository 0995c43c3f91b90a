// Related papers drawn: a radial graph (SVG) with the paper in the middle and each edge named by its kind of
// link, and a timeline of the same papers by year. Titles and reasons go in as text.

import { $, el } from "/static/api.js";

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
export function drawPapers(anchor, found, { item, recentre }) {
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
  drawTimeline(centrePaper, found, recentre);
  const list = $("related-papers");
  list.replaceChildren(...found.map(item));
}

function kindName(kind) {
  return { link: "linked", predecessor: "predecessor the note names", reference: "its note names this one", author: "shared author",
    together: "named together", tag: "shared tag", method: "shared method/task", similar: "similar text" }[kind];
}

function drawTimeline(centre, found, recentre) {
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
