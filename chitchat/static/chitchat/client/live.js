// The live side of the client: one WebSocket at /ws/?token=, reconnected after any loss.
//
// Resumable sync (API 1.1): every frame but `typing` carries `pos`. The app starts the socket
// from the position GET /events/ gave before it loaded anything over REST, and the socket
// keeps the last `pos` it saw; each (re)connection asks for `&since=<pos>`, and the server
// replays every event after it before the live ones: nothing is missed, nothing comes twice.
// A position the server no longer keeps (`resync_required`, close 4410) or does not know
// (4400) makes the app reload its chats over REST and start again from a new position.
// Without any position (GET /events/ failed) the socket connects plain and `onOpen` is told
// so: the app then catches up over REST with `?after=`, as a v1 client would.

const PING_EVERY = 25_000; // keeps proxies from dropping an idle socket
const PONG_WITHIN = 10_000; // no answer to a ping by then: the connection is dead
const BACKOFF = [500, 1_000, 2_000, 4_000, 8_000, 15_000];

// Close codes the server uses.
const UNAUTHORIZED = 4401;
const RESYNC_REQUIRED = 4410;
const INVALID_SINCE = 4400;

export class LiveSocket {
  // onResync() reloads the app's state over REST and resolves to the position to go on
  // from (or null); onOpen({resumed}) runs after each connection, resumed when it asked for
  // `since`.
  constructor({ api, onFrame, onOpen, onStatus, onResync }) {
    this.api = api;
    this.onFrame = onFrame;
    this.onOpen = onOpen;
    this.onStatus = onStatus;
    this.onResync = onResync;
    this.socket = null;
    this.running = false;
    this.resyncing = false;
    this.resyncs = 0; // resyncs in a row with no event between: backs off
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.pos = null; // the last `pos` seen, sent back as `since`
    window.addEventListener("online", () => this.reconnectNow());
  }

  // Connect, resuming after `pos` (from GET /events/, taken before the REST loads).
  start(pos = null) {
    if (this.running) return;
    this.running = true;
    this.pos = pos;
    this.attempt = 0;
    this.resyncs = 0;
    this.connect();
  }

  stop() {
    this.running = false;
    this.resyncing = false;
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
    if (!this.running || this.resyncing || !this.api.signedIn) return;
    this.onStatus("connecting");
    const resumed = this.pos !== null;
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.onStatus("online");
      this.startHeartbeat();
      this.onOpen({ resumed });
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
        // The close (4410) follows; nothing after this frame belongs to our position.
        this.resync();
        return;
      }
      if (typeof frame.pos === "string") {
        this.pos = frame.pos;
        this.resyncs = 0;
      }
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
      if (event.code === RESYNC_REQUIRED || event.code === INVALID_SINCE) {
        this.resync();
        return;
      }
      this.retry();
    });
  }

  // The server no longer has our position (or never gave it): the app reloads its state
  // over REST and hands back a new position; then connect from there.
  resync() {
    if (this.resyncing || !this.running) return;
    this.resyncing = true;
    this.pos = null;
    const socket = this.socket;
    this.socket = null;
    this.stopHeartbeat();
    if (socket) socket.close(1000);
    this.onStatus("offline");
    Promise.resolve()
      .then(() => this.onResync())
      .then(
        (pos) => {
          if (!this.resyncing) return; // stopped meanwhile
          this.resyncing = false;
          this.pos = typeof pos === "string" ? pos : null;
          // At once the first time; a server that keeps refusing the position it gave
          // must not get a reload of everything in a tight loop.
          const wait = this.resyncs === 0 ? 0 : BACKOFF[Math.min(this.resyncs, BACKOFF.length - 1)];
          this.resyncs += 1;
          this.retry(wait);
        },
        () => {
          // Offline, say: reload again after the usual wait.
          if (!this.resyncing) return;
          this.resyncing = false;
          this.retryTimer = setTimeout(
            () => this.resync(),
            BACKOFF[Math.min(this.attempt++, BACKOFF.length - 1)],
          );
        },
      );
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
