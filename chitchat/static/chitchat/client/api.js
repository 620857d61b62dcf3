// The REST side of the client: tokens (kept in localStorage so a reload keeps the session),
// authenticated requests, and refreshing the access token before it expires.

const STORAGE_KEY = "chitchat.tokens";
const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, body) {
    super(ApiError.describe(status, body));
    this.status = status;
    this.body = body;
    this.code = body && typeof body === "object" ? body.code : undefined;
  }

  // DRF's shapes: {"detail", "code"} or {"field": ["message", ...]}.
  static describe(status, body) {
    if (body && typeof body === "object") {
      if (typeof body.detail === "string") return body.detail;
      const parts = [];
      for (const [field, messages] of Object.entries(body)) {
        const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
        parts.push(field === "non_field_errors" ? text : `${field}: ${text}`);
      }
      if (parts.length) return parts.join(" ");
    }
    return status ? `The server answered ${status}.` : "The server cannot be reached.";
  }
}

// The payload of a JWT, only to read its expiry (the server checks the signature).
function tokenExpiry(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const { exp, iat } = JSON.parse(atob(payload));
    return { exp: exp * 1000, iat: (iat || exp - 300) * 1000 };
  } catch {
    return null;
  }
}

// A relative path for a `next`/`previous` URL, so pages stay on this origin (behind a proxy
// the server may spell its own URL with another scheme or host).
export function pathOf(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

export class Api {
  constructor() {
    this.tokens = Api.load();
    this.listeners = { signedout: [], tokens: [] };
    this.refreshing = null;
    this.refreshTimer = null;
    // Another tab signed in, refreshed (rotation: its refresh token is the live one now) or
    // signed out.
    window.addEventListener("storage", (event) => {
      if (event.key !== STORAGE_KEY) return;
      const tokens = Api.load();
      if (!tokens) {
        if (this.tokens) this.forget();
        return;
      }
      this.tokens = tokens;
      this.schedule();
      this.emit("tokens");
    });
  }

  static load() {
    try {
      const tokens = JSON.parse(localStorage.getItem(STORAGE_KEY));
      return tokens && tokens.access && tokens.refresh ? tokens : null;
    } catch {
      return null;
    }
  }

  on(name, callback) {
    this.listeners[name].push(callback);
  }

  emit(name) {
    for (const callback of this.listeners[name]) callback();
  }

  get signedIn() {
    return this.tokens !== null;
  }

  get access() {
    return this.tokens ? this.tokens.access : null;
  }

  store(tokens) {
    this.tokens = { access: tokens.access, refresh: tokens.refresh };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(this.tokens));
    this.schedule();
    this.emit("tokens");
  }

  // Forget the tokens here and in every tab.
  forget() {
    clearTimeout(this.refreshTimer);
    this.tokens = null;
    localStorage.removeItem(STORAGE_KEY);
    this.emit("signedout");
  }

  // Refresh a minute before the access token expires (a quarter of its life if shorter).
  schedule() {
    clearTimeout(this.refreshTimer);
    if (!this.tokens) return;
    const times = tokenExpiry(this.tokens.access);
    if (!times) return;
    const lead = Math.min(60_000, (times.exp - times.iat) / 4);
    const delay = Math.max(1_000, times.exp - lead - Date.now());
    this.refreshTimer = setTimeout(() => {
      this.refresh().catch(() => {
        // Offline: try again soon; a 401 has already signed out.
        if (this.tokens) this.refreshTimer = setTimeout(() => this.schedule(), 5_000);
      });
    }, delay);
  }

  // One refresh at a time, across tabs too: refresh tokens rotate and the old one is
  // blacklisted, so two tabs refreshing with the same token would sign one of them out.
  refresh() {
    if (!this.refreshing) {
      const run = () => this.refreshOnce();
      const locked = navigator.locks
        ? navigator.locks.request("chitchat.refresh", run)
        : run();
      this.refreshing = locked.finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  async refreshOnce() {
    const used = this.tokens && this.tokens.refresh;
    const stored = Api.load();
    if (stored && stored.refresh !== used) {
      // Another tab refreshed while we waited for the lock.
      this.tokens = stored;
      this.schedule();
      this.emit("tokens");
      return;
    }
    if (!used) throw new ApiError(401, { detail: "Signed out.", code: "not_authenticated" });
    const response = await fetch(`${API}/auth/token/refresh/`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ refresh: used }),
    });
    const body = await response.json().catch(() => null);
    if (response.status === 401 || response.status === 400) {
      this.forget();
      throw new ApiError(401, body);
    }
    if (!response.ok) throw new ApiError(response.status, body);
    this.store({ access: body.access, refresh: body.refresh || used });
  }

  // A JSON request to the API; one retry after refreshing on a 401.
  async request(method, path, body, { auth = true, retry = true } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && this.tokens) headers.Authorization = `Bearer ${this.tokens.access}`;
    let response;
    try {
      response = await fetch(path.startsWith("/") ? path : `${API}/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, null);
    }
    if (response.status === 401 && auth && retry && this.tokens) {
      await this.refresh();
      return this.request(method, path, body, { auth, retry: false });
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // A file upload (multipart/form-data, one part `file`); one retry after refreshing on a
  // 401. The browser sets the multipart Content-Type with its boundary.
  async upload(path, file, { retry = true } = {}) {
    const form = new FormData();
    form.append("file", file, file.name);
    let response;
    try {
      response = await fetch(`${API}/${path}`, {
        method: "POST",
        headers: { Accept: "application/json", Authorization: `Bearer ${this.access}` },
        body: form,
      });
    } catch {
      throw new ApiError(0, null);
    }
    if (response.status === 401 && retry && this.tokens) {
      await this.refresh();
      return this.upload(path, file, { retry: false });
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      if (response.status === 413 && !(data && data.detail)) {
        throw new ApiError(413, { detail: "The file is too large.", code: "file_too_large" });
      }
      throw new ApiError(response.status, data);
    }
    return data;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body) {
    return this.request("POST", path, body);
  }

  patch(path, body) {
    return this.request("PATCH", path, body);
  }

  delete(path) {
    return this.request("DELETE", path);
  }

  async signIn(username, password) {
    const tokens = await this.request(
      "POST",
      "auth/token/",
      { username, password },
      { auth: false },
    );
    this.store(tokens);
  }

  async register(fields) {
    const result = await this.request("POST", "auth/register/", fields, { auth: false });
    this.store(result);
    return result.user;
  }

  async signOut() {
    const refresh = this.tokens && this.tokens.refresh;
    this.forget();
    if (refresh) {
      // Blacklist the refresh token; signing out here does not wait for the server.
      await this.request("POST", "auth/logout/", { refresh }, { auth: false }).catch(() => {});
    }
  }
}
