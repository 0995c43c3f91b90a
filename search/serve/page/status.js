// The index at the bottom of the page: its folders, counts, model, generation and last update (/api/stats, or
// /api/ping from a server without it), and its index runs as they happen, from the server's events
// (GET /api/events: `state` first, then each run's `progress` steps and its `run` end); where events cannot be
// had, a look at the index every few seconds.

import { $, api, describe, serverState } from "/static/api.js";

const POLL_MS = 5000;
const STAGES = { read: ["reading", "notes"], keyword: ["indexing", "passages"], embed: ["embedding", "passages"] };

let lastGeneration = null;
let following = false;
let told = () => {};

export function plural(n, word) {
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
  const newer = lastGeneration !== null && stats.generation !== lastGeneration;
  if (newer && !following) {
    $("index-updates").textContent = `index updated to generation ${stats.generation} at ${new Date().toLocaleTimeString()}`;
  }
  lastGeneration = stats.generation;
  if (stats.updating !== undefined && !following) {
    const run = $("index-run");
    run.hidden = !stats.updating;
    if (stats.updating) run.textContent = "an index run is going on…";
  }
  told(stats, newer);
  return stats;
}

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

function runAccount(run) {
  const who = run.by === "watch" ? "the watcher's index run" : "an index run";
  const at = run.finished ? new Date(run.finished).toLocaleTimeString() : "";
  if (run.error) return `${who} failed at ${at}: ${run.error.message}`;
  const r = run.report || {};
  if (!r.changed && r.changed !== undefined) return `${who} at ${at}: no change`;
  return `${who} at ${at}: added ${r.added}, updated ${r.updated}, removed ${r.removed} — `
    + `${plural(r.passages, "passage")}, generation ${r.generation}`;
}

function listen() {
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
  return null;
}

function poll() {
  following = false;
  $("index-updates").title = `the page looks at the index every ${POLL_MS / 1000} s`;
  setInterval(loadStats, POLL_MS);
}

// Show the index and follow it; `onStats(stats, newer)` hears of each look at it (`newer`: a new generation).
export function followIndex(onStats) {
  told = onStats;
  loadStats().then(listen);
}
