// The live side of the client: one WebSocket at /ws/?token=, reconnected after any loss.
//
// After every (re)connection `onOpen` runs, and the app catches up over REST with `?after=`
// (what the v1 server offers). Resumable sync (API 1.1): frames that carry `pos` tell that
// the server keeps an event log; the socket then reconnects with `&since=<last pos>` and the
// server replays what was missed (the `?after=` catch-up still runs and finds nothing new).

const PING_EVERY = 25_000; // keeps proxies from dropping an idle socket
const PONG_WITHIN = 10_000; // no answer to a ping by then: the connection is dead
const BACKOFF = [500, 1_000, 2_000, 4_000, 8_000, 15_000];

// Close codes the server uses.
const UNAUTHORIZED = 4401;
const RESYNC_REQUIRED = 4410;
const INVALID_SINCE = 4400;

export class LiveSocket {
  constructor({ api, onFrame, onOpen, onStatus, onResync }) {
    this.api = api;
    this.onFrame = onFrame;
    this.onOpen = onOpen;
    this.onStatus = onStatus;
    this.onResync = onResync;
    this.socket = null;
    this.running = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.pos = null; // last `pos` seen (API 1.1), sent back as `since`
    window.addEventListener("online", () => this.reconnectNow());
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.running = false;
    this.pos = null;
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000);
    }
    this.onStatus("stopped");
  }

  get open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (this.open) this.socket.send(JSON.stringify(frame));
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ token: this.api.access || "" });
    if (this.pos !== null) query.set("since", this.pos);
    return `${scheme}//${location.host}/ws/?${query}`;
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (!this.running || !this.api.signedIn) return;
    this.onStatus("connecting");
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.onStatus("online");
      this.startHeartbeat();
      this.onOpen();
    });
    socket.addEventListener("message", (event) => {
      if (this.socket !== socket) return;
      this.heard();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "pong" || frame.type === "error") return;
      if (frame.type === "resync_required") {
        this.resync();
        return;
      }
      if (typeof frame.pos === "string") this.pos = frame.pos;
      this.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopHeartbeat();
      if (!this.running) return;
      this.onStatus("offline");
      if (event.code === UNAUTHORIZED) {
        // The access token expired or was refused: a fresh one, then reconnect at once.
        this.api.refresh().then(
          () => this.retry(0),
          () => this.retry(),
        );
        return;
      }
      if (event.code === RESYNC_REQUIRED || event.code === INVALID_SINCE) this.resync();
      this.retry();
    });
  }

  // The server no longer has our position: reload everything over REST, live from now on.
  resync() {
    this.pos = null;
    this.onResync();
  }

  retry(delay) {
    if (!this.running) return;
    const wait = delay ?? BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)];
    this.attempt += 1;
    // Jitter, so clients dropped together do not all come back in the same instant.
    const jitter = delay === 0 ? 1 : 0.75 + Math.random() / 2;
    this.retryTimer = setTimeout(() => this.connect(), wait * jitter);
  }

  // The browser says the network is back: do not wait for the backoff.
  reconnectNow() {
    if (this.running && !this.socket) {
      this.attempt = 0;
      this.connect();
    }
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      this.send({ type: "ping" });
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.drop(), PONG_WITHIN);
    }, PING_EVERY);
  }

  // Silent for too long: the connection is dead even if the browser has not noticed (its
  // close event may come minutes later). Let it go and connect anew.
  drop() {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    this.stopHeartbeat();
    socket.close(4000);
    this.onStatus("offline");
    this.retry(0);
  }

  heard() {
    clearTimeout(this.pongTimer);
  }

  stopHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }
}
