// The console's only way to the server: the same JSON API every client uses, signed in by the
// session cookie. A request that changes state carries the session's CSRF token.

const SAFE = new Set(["GET", "HEAD"]);

function meta(name) {
  const tag = document.querySelector(`meta[name="${name}"]`);
  return tag ? tag.getAttribute("content") || "" : "";
}

export const session = {
  principal: meta("principal"),
  roles: new Set(meta("roles").split(" ").filter(Boolean)),
  csrf: meta("csrf-token"),
  has(...roles) {
    return this.roles.has("admin") || roles.some((r) => this.roles.has(r));
  },
};

// What a person reads instead of a status code. The server's own detail follows, since it
// says what exactly was wrong ("prompt is at most 2000 characters").
const WORDS = {
  unauthenticated: "You are signed out.",
  forbidden: "Your account may not do this.",
  csrf_failed: "The page was open too long to send this safely.",
  not_found: "This item does not exist, or it is not yours to see.",
  validation_failed: "Some of what you entered needs correcting.",
  conflict: "Someone changed this in the meantime.",
  payload_too_large: "The file is too large.",
  rate_limited: "Too many requests for now.",
  unavailable: "The service is busy for a moment.",
  internal_error: "Something went wrong on our side; it was logged.",
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `request failed (${status})`);
    this.status = status;
    this.problem = problem;
  }

  // one or two sentences for a person: what happened, then the server's specifics
  get words() {
    const p = this.problem;
    const lead = WORDS[p.code] || p.title || "The request failed.";
    let detail = p.detail && p.detail !== lead ? p.detail : "";
    if (Array.isArray(p.errors) && p.errors.length) {
      detail = p.errors
        .map((e) => {
          const where = (e.loc || []).filter((x) => x !== "body").join(" › ");
          return where ? `${where}: ${e.msg}` : e.msg;
        })
        .join("; ");
    }
    if (this.status === 401) detail = "Sign in again to continue.";
    return detail ? `${lead} ${detail}` : lead;
  }
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  try {
    if (type.includes("json")) return await response.json();
    return { detail: (await response.text()).slice(0, 300) };
  } catch {
    return {};
  }
}

export async function api(path, { method = "GET", json, form, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (!SAFE.has(method)) headers["X-CSRF-Token"] = session.csrf;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, credentials: "same-origin", signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { title: "The server could not be reached. Check the connection and try again." });
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response;
}

// An upload whose progress is shown: fetch cannot report upload progress, XMLHttpRequest can.
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", session.csrf);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let parsed = {};
      try {
        parsed = JSON.parse(xhr.responseText || "{}");
      } catch {
        parsed = { detail: xhr.responseText.slice(0, 300) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(parsed);
      else reject(new ApiError(xhr.status, parsed));
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError(0, { title: "The upload was interrupted. Check the connection and try again." })),
    );
    xhr.send(form);
  });
}

// Media the API serves behind the role check, turned into a blob: URL for <video>/<img>.
export async function mediaUrl(path) {
  const response = await api(path);
  const blob = await response.blob();
  return URL.createObjectURL(blob);
}

// A command is accepted before the read model shows it (projections run behind the event
// log): ask again, briefly, until what was just done can be read back.
export async function readBack(path, ok, { tries = 40, wait = 250 } = {}) {
  for (let i = 0; ; i++) {
    try {
      const value = await api(path);
      if (ok(value)) return value;
    } catch (err) {
      if (err.status !== 404 || i >= tries) throw err;
    }
    if (i >= tries) return null;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
