// The page's helpers for the DOM and its one way to the server (fetch, same origin, the session cookie).

export const $ = (id) => document.getElementById(id);
export const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
};

export class ApiError extends Error {
  constructor(message, kind, status) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

export async function api(path, params = {}, options = {}) {
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

export function serverState(state) {
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
export function describe(error) {
  if (error.kind === "NoIndex") return `No index yet. ${error.message}. Build one with \`notesearch index PATH\`.`;
  return error.message;
}
