// The Chit-Chat web client: signing in, the chat list, the open chat, live events.
// Plain ES modules, nothing to build. State lives in `state`; the DOM mirrors it.

import { Api, ApiError, pathOf } from "./api.js";
import { LiveSocket } from "./live.js";
import { element, fillMessage, messageArticle } from "./render.js";

const PAGE_SIZE = 50;
const CATCH_UP_PAGE_SIZE = 200;
const TYPING_SEND_EVERY = 3_000; // the server relays at most one a second per chat
const TYPING_SHOWN_FOR = 6_000; // a typist who goes quiet this long has stopped
const NEAR_BOTTOM = 80; // px: closer than this to the end, new messages keep it in view

const $ = (id) => document.getElementById(id);

const api = new Api();
const live = new LiveSocket({
  api,
  onFrame: (frame) => handleFrame(frame),
  // A socket that resumed with `since` has replayed what was missed; one without a position
  // catches up over REST.
  onOpen: ({ resumed }) => {
    if (!resumed) catchUp();
  },
  onStatus: (status) => showConnection(status),
  onResync: () => reloadFromScratch(),
});

const state = {
  me: null, // {id, username}
  chats: new Map(), // id -> chat, as the API gives it
  order: [], // chat ids, latest activity first
  open: null, // the open chat: {id, messages: Map(id -> message), next, loadingOlder}
  typers: new Map(), // user id -> {username, timer}, in the open chat
  lastTypingSent: 0,
  reloadTimer: null,
  // What the composer holds besides its text, for one chat: the message replied to and the
  // files uploaded for the next message ({id|null, name, size, promise}).
  draft: { chatId: null, replyTo: null, uploads: [] },
  blobs: new Map(), // attachment path -> Promise of a blob: URL
};

// ---------------------------------------------------------------------------------------
// Signing in and out
// ---------------------------------------------------------------------------------------

function show(section) {
  for (const id of ["loading", "auth", "workspace"]) $(id).hidden = id !== section;
  $("account").hidden = section !== "workspace";
  if (section !== "auth") $("auth").replaceChildren();
}

// Put one of the signed-out forms in the page (from its <template>).
function showAuthForm(name) {
  show("auth");
  $("auth").replaceChildren($(`${name}-template`).content.cloneNode(true));
  if (name === "signin") {
    $("signin-form").addEventListener("submit", signIn);
    $("show-register").addEventListener("click", () => showAuthForm("register"));
  } else {
    $("register-form").addEventListener("submit", register);
    $("show-signin").addEventListener("click", () => showSignIn());
  }
}

function showSignIn(message = "") {
  showAuthForm("signin");
  $("signin-error").textContent = message;
  $("signin-username").focus();
}

function formFields(form) {
  return Object.fromEntries(new FormData(form).entries());
}

async function signIn(event) {
  event.preventDefault();
  const { username, password } = formFields(event.target);
  const error = $("signin-error");
  if (!username || !password) {
    error.textContent = "Enter your username and password.";
    return;
  }
  error.textContent = "";
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api.signIn(username.trim(), password);
  } catch (failure) {
    error.textContent =
      failure.status === 401 ? "Wrong username or password." : failure.message;
    button.disabled = false;
    return;
  }
  await enterApp();
}

async function register(event) {
  event.preventDefault();
  const fields = formFields(event.target);
  const error = $("register-error");
  if (fields.password !== fields.password2) {
    error.textContent = "The two passwords differ.";
    $("register-password2").focus();
    return;
  }
  error.textContent = "";
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api.register({ ...fields, username: fields.username.trim() });
  } catch (failure) {
    error.textContent = failure.message;
    button.disabled = false;
    return;
  }
  await enterApp();
}

$("sign-out").addEventListener("click", () => api.signOut());

// Here, in another tab, or when the refresh token is refused: forget everything shown.
api.on("signedout", () => {
  live.stop();
  closeChat();
  clearDraft();
  forgetBlobs();
  state.me = null;
  state.chats.clear();
  state.order = [];
  $("chat-list").replaceChildren();
  $("me").textContent = "";
  document.title = "Chit-Chat";
  // The next person to sign in here starts from no chat, not from this one's.
  history.replaceState(null, "", location.pathname);
  showSignIn();
});

async function enterApp() {
  show("loading");
  try {
    state.me = await api.get("users/me/");
  } catch (failure) {
    if (!api.signedIn) return; // signed out meanwhile: the sign-in form is up
    $("loading").textContent = `Cannot load your account: ${failure.message}`;
    return;
  }
  $("me").textContent = state.me.username;
  show("workspace");
  // The position first, then the REST loads: the socket replays every event after it, so
  // nothing that happens while the chats load is missed (a replayed one that the load saw
  // already changes nothing).
  const pos = await currentPosition();
  if (!api.signedIn) return; // signed out meanwhile: the socket must not start
  live.start(pos);
  try {
    await loadChats();
    await route({ focus: false });
  } catch (failure) {
    // Shown until the next successful load (the socket's catch-up retries it).
    if (api.signedIn) $("chat-list-error").textContent = `Cannot load your chats: ${failure.message}`;
  }
}

// Where the event log stands now (API 1.1), or null when it cannot be asked (the socket then
// connects without `since` and the app catches up over REST).
async function currentPosition() {
  try {
    const { pos } = await api.get("events/");
    return typeof pos === "string" ? pos : null;
  } catch {
    return null;
  }
}

// The server no longer keeps our position (resync_required): a new position, then the chat
// list and the open chat again over REST. Resolves to the position the socket goes on from.
async function reloadFromScratch() {
  const { pos } = await api.get("events/");
  await loadChats();
  if (state.open) await openChat(state.open.id, { focus: false });
  return pos;
}

// ---------------------------------------------------------------------------------------
// The chat list
// ---------------------------------------------------------------------------------------

async function loadChats() {
  const chats = [];
  let path = `chats/?mine=true&page_size=100`;
  // At most a few pages: the list is for navigating, not an export.
  for (let page = 0; path && page < 10; page += 1) {
    const data = await api.get(path);
    chats.push(...data.results);
    path = data.next ? pathOf(data.next) : null;
  }
  $("chat-list-error").textContent = "";
  state.chats = new Map(chats.map((chat) => [chat.id, chat]));
  state.order = chats.map((chat) => chat.id);
  renderChatList();
  if (state.open) {
    renderChatHeader();
    // The list may have been read before our last read marker reached the server.
    markRead();
  }
}

// Reload the list a moment later (several events may ask for it at once).
function reloadChatsSoon() {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(() => loadChats().catch(() => {}), 300);
}

function renderChatList() {
  const list = $("chat-list");
  const focusedId = document.activeElement && document.activeElement.dataset.chatId;
  const items = [];
  let unreadTotal = 0;
  for (const id of state.order) {
    const chat = state.chats.get(id);
    if (!chat) continue;
    const unread = chat.unread_count || 0;
    unreadTotal += unread;
    const badgeId = `chat-${id}-unread`;
    const link = element("a", {
      href: `#/chats/${id}`,
      "data-chat-id": id,
      "aria-current": state.open && state.open.id === id ? "page" : null,
      "aria-describedby": unread ? badgeId : null,
      text: chat.name,
    });
    const item = element("li", { className: unread ? "unread" : "" }, link);
    if (unread) {
      const mentions = chat.mention_count ? `, ${chat.mention_count} mentioning you` : "";
      item.append(
        element(
          "span",
          { className: "badge", id: badgeId },
          element("span", { "aria-hidden": "true", text: chat.mention_count ? `@${unread}` : unread }),
          element("span", { className: "visually-hidden", text: `${unread} unread${mentions}` }),
        ),
      );
    }
    items.push(item);
  }
  list.replaceChildren(...items);
  $("chat-list-empty").hidden = items.length > 0;
  document.title = unreadTotal ? `(${unreadTotal}) Chit-Chat` : "Chit-Chat";
  if (focusedId) {
    const again = list.querySelector(`a[data-chat-id="${focusedId}"]`);
    if (again) again.focus();
  }
}

function moveChatToTop(chatId) {
  state.order = [chatId, ...state.order.filter((id) => id !== chatId)];
}

$("new-chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("new-chat-name");
  const error = $("new-chat-error");
  const name = input.value.trim();
  if (!name) {
    error.textContent = "Give the chat a name.";
    return;
  }
  error.textContent = "";
  try {
    const chat = await api.post("chats/", { name });
    input.value = "";
    state.chats.set(chat.id, chat);
    moveChatToTop(chat.id);
    renderChatList();
    location.hash = `#/chats/${chat.id}`;
  } catch (failure) {
    error.textContent = failure.message;
  }
});

$("direct-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("direct-username");
  const error = $("direct-error");
  const username = input.value.trim();
  error.textContent = "";
  if (!username) {
    error.textContent = "Whom do you want to write to?";
    return;
  }
  try {
    const found = await api.get(`users/?search=${encodeURIComponent(username)}&page_size=50`);
    const user = found.results.find((u) => u.username.toLowerCase() === username.toLowerCase());
    if (!user) {
      error.textContent = `No one is called ${username}.`;
      return;
    }
    const chat = await api.post("chats/direct/", { user_id: user.id });
    input.value = "";
    state.chats.set(chat.id, chat);
    if (!state.order.includes(chat.id)) moveChatToTop(chat.id);
    renderChatList();
    location.hash = `#/chats/${chat.id}`;
  } catch (failure) {
    error.textContent = failure.message;
  }
});

// ---------------------------------------------------------------------------------------
// The open chat
// ---------------------------------------------------------------------------------------

function chatIdFromHash() {
  const match = /^#\/chats\/(\d+)$/.exec(location.hash);
  return match ? Number(match[1]) : null;
}

window.addEventListener("hashchange", () => {
  if (state.me) route({ focus: true });
});

async function route({ focus }) {
  const id = chatIdFromHash();
  if (id === null) {
    closeChat();
    return;
  }
  if (state.open && state.open.id === id) return;
  await openChat(id, { focus });
}

function closeChat() {
  state.open = null;
  clearTypers();
  $("message-list").replaceChildren();
  $("chat").hidden = true;
  $("no-chat").hidden = false;
  renderChatList();
}

function renderChatHeader() {
  const chat = state.chats.get(state.open.id);
  if (!chat) return;
  $("chat-title").textContent = chat.name;
  const kind = chat.kind === "direct" ? "direct chat" : "group chat";
  const members = `${chat.member_count} member${chat.member_count === 1 ? "" : "s"}`;
  $("chat-meta").textContent = [kind, members, chat.description].filter(Boolean).join(" · ");
}

async function openChat(id, { focus }) {
  // `deleted`: ids deleted while shown, so a REST page read before the deletion cannot bring
  // one back. `picking`: the message whose reaction picker is open.
  const open = {
    id,
    messages: new Map(),
    deleted: new Set(),
    next: null,
    loadingOlder: false,
    picking: null,
  };
  state.open = open;
  // The reply and the uploads belong to one chat (a reload of the same chat keeps them).
  if (state.draft.chatId !== id) clearDraft();
  state.draft.chatId = id;
  renderDraft();
  clearTypers();
  $("message-list").replaceChildren();
  $("composer-error").textContent = "";
  $("no-chat").hidden = true;
  $("chat").hidden = false;
  $("load-older").hidden = true;
  $("history-start").hidden = true;
  if (!state.chats.has(id)) {
    try {
      state.chats.set(id, await api.get(`chats/${id}/`));
    } catch (failure) {
      showChatError(failure);
      return;
    }
  }
  renderChatHeader();
  renderChatList();
  if (focus) $("message-input").focus();
  try {
    const page = await api.get(`chats/${id}/messages/?page_size=${PAGE_SIZE}`);
    if (state.open !== open) return;
    open.next = page.next;
    for (const message of [...page.results].reverse()) insertMessage(message);
    showHistoryEdge();
    scrollToBottom();
    markRead();
  } catch (failure) {
    if (state.open === open) showChatError(failure);
  }
}

function showChatError(failure) {
  $("chat-title").textContent = "This chat cannot be shown";
  $("chat-meta").textContent = failure.message;
}

function showHistoryEdge() {
  const open = state.open;
  $("load-older").hidden = !open.next;
  $("history-start").hidden = Boolean(open.next);
}

async function loadOlder() {
  const open = state.open;
  if (!open || !open.next || open.loadingOlder) return;
  open.loadingOlder = true;
  const log = $("messages");
  try {
    const page = await api.get(pathOf(open.next));
    if (state.open !== open) return;
    open.next = page.next;
    // Keep what the reader is looking at in place while older messages go in above it.
    const fromBottom = log.scrollHeight - log.scrollTop;
    for (const message of page.results) insertMessage(message, { follow: false });
    log.scrollTop = log.scrollHeight - fromBottom;
    showHistoryEdge();
  } catch (failure) {
    $("composer-error").textContent = failure.message;
  } finally {
    open.loadingOlder = false;
  }
}

$("load-older").addEventListener("click", () => loadOlder());

// Scrolling up to the top of the history loads the page before it.
new IntersectionObserver(
  (entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadOlder();
  },
  { root: $("messages") },
).observe($("history-status"));

function nearBottom() {
  const log = $("messages");
  return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM;
}

function scrollToBottom() {
  const log = $("messages");
  log.scrollTop = log.scrollHeight;
}

// Put a message in the open chat, or refresh it if it is there already (a live event and a
// REST answer may bring the same one). Articles stay in id order.
function insertMessage(message, { follow = true } = {}) {
  const open = state.open;
  if (!open || message.chat_id !== open.id || open.deleted.has(message.id)) return;
  const known = open.messages.get(message.id);
  if (known) {
    // Socket frames have no liked_by_me (nor `me` in reactions): keep ours.
    if (!("liked_by_me" in message)) message.liked_by_me = known.liked_by_me;
    if (Array.isArray(message.reactions) && Array.isArray(known.reactions)) {
      for (const reaction of message.reactions) {
        if (!("me" in reaction)) {
          const old = known.reactions.find((r) => r.emoji === reaction.emoji);
          reaction.me = Boolean(old && old.me);
        }
      }
    }
    open.messages.set(message.id, message);
    refreshArticle(message);
    return;
  }
  const stayAtBottom = follow && nearBottom();
  open.messages.set(message.id, message);
  const article = messageArticle(message, state.me.id, uiOf(message.id));
  const list = $("message-list");
  let before = null;
  for (let node = list.lastElementChild; node; node = node.previousElementSibling) {
    if (Number(node.dataset.id) < message.id) break;
    before = node;
  }
  list.insertBefore(article, before);
  hydrateAttachments(article);
  if (stayAtBottom) scrollToBottom();
}

function uiOf(id) {
  return { picking: Boolean(state.open && state.open.picking === id) };
}

// Rebuild a shown message's article, keeping the focus on the same control: a live update
// (someone else's like or reaction) must not throw a keyboard user out of the message.
// An article being edited, or asking whether to delete, is left alone until that ends.
function refreshArticle(message) {
  const article = articleOf(message.id);
  if (!article || article.querySelector(".editing, .confirm")) return;
  const focused = article.contains(document.activeElement) ? document.activeElement : null;
  const key = focused && focused.dataset.action
    ? { action: focused.dataset.action, emoji: focused.dataset.emoji, picker: focused.dataset.fromPicker }
    : null;
  fillMessage(article, message, state.me.id, uiOf(message.id));
  hydrateAttachments(article);
  if (key) {
    const again = [...article.querySelectorAll(`[data-action="${key.action}"]`)].find(
      (node) => node.dataset.emoji === key.emoji && node.dataset.fromPicker === key.picker,
    );
    // A reaction chip that went away (the last one taken back): its picker button or React.
    (again || article.querySelector("[data-action=pick]"))?.focus();
  }
}

function removeMessage(id) {
  if (!state.open) return;
  state.open.messages.delete(id);
  state.open.deleted.add(id);
  if (state.open.picking === id) state.open.picking = null;
  // Replies to it now quote a deleted message (as the server will say from now on).
  updateQuotesOf(id, { id, author: null, body: null, deleted: true });
  if (state.draft.replyTo && state.draft.replyTo.id === id) {
    setReplyTo(null);
    $("composer-error").textContent = "The message you were replying to was deleted.";
  }
  const article = articleOf(id);
  if (!article) return;
  const hadFocus = article.contains(document.activeElement);
  article.remove();
  if (hadFocus) $("message-input").focus();
}

// The replies shown to message `id` quote `quote` ({id, author, body} or deleted).
function updateQuotesOf(id, quote) {
  for (const message of state.open.messages.values()) {
    if (message.reply_to && message.reply_to.id === id) {
      message.reply_to = quote;
      refreshArticle(message);
    }
  }
}

function articleOf(id) {
  return $("message-list").querySelector(`article[data-id="${id}"]`);
}

function newestMessageId() {
  let newest = 0;
  if (state.open) for (const id of state.open.messages.keys()) newest = Math.max(newest, id);
  return newest;
}

// Tell the server the open chat is read up to its newest message.
function markRead() {
  const open = state.open;
  if (!open || document.hidden) return;
  const newest = newestMessageId();
  const chat = state.chats.get(open.id);
  if (!newest || !chat) return;
  if (open.readUpTo >= newest && !chat.unread_count) return;
  open.readUpTo = newest;
  chat.unread_count = 0;
  if (chat.mention_count) chat.mention_count = 0;
  renderChatList();
  api.post(`chats/${open.id}/read/`, { message_id: newest }).catch(() => {});
}

document.addEventListener("visibilitychange", () => markRead());

// After a connection without a position (GET /events/ could not be asked): new messages of
// the open chat with ?after=, then the newest page again so edits and deletions made
// meanwhile show, then the chat list for unread counts.
async function catchUp() {
  try {
    await loadChats();
    const open = state.open;
    if (!open) return;
    let path = `chats/${open.id}/messages/?after=${newestMessageId()}&page_size=${CATCH_UP_PAGE_SIZE}`;
    while (path && state.open === open) {
      const page = await api.get(path);
      for (const message of page.results) insertMessage(message);
      path = page.next ? pathOf(page.next) : null;
    }
    const newest = await api.get(`chats/${open.id}/messages/?page_size=${PAGE_SIZE}`);
    if (state.open !== open) return;
    reconcile(newest.results);
    markRead();
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 0) return; // offline again
    $("composer-error").textContent = failure.message;
  }
}

// `page` is a full newest-first page: anything we show within its id range that it lacks
// was deleted meanwhile.
function reconcile(page) {
  if (!page.length) return;
  const lowest = page[page.length - 1].id;
  const present = new Set(page.map((message) => message.id));
  for (const id of [...state.open.messages.keys()]) {
    if (id >= lowest && !present.has(id)) removeMessage(id);
  }
  for (const message of page) insertMessage(message);
}

// ---------------------------------------------------------------------------------------
// Writing: send, edit, delete, like
// ---------------------------------------------------------------------------------------

function newClientId() {
  return crypto.randomUUID
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const open = state.open;
  const input = $("message-input");
  const body = input.value;
  const draft = state.draft;
  if (!open || (!body.trim() && !draft.uploads.length)) return;
  const error = $("composer-error");
  error.textContent = "";
  if (draft.uploads.some((upload) => upload.id === null)) {
    error.textContent = "Wait for the files to finish uploading (or remove them).";
    return;
  }
  // The same client_id on a retry gets the first message back, never a second copy.
  const clientId = input.dataset.clientId || newClientId();
  delete input.dataset.clientId;
  const replyTo = draft.replyTo;
  const uploads = draft.uploads;
  const fields = { body, client_id: clientId };
  if (replyTo) fields.reply_to = replyTo.id;
  if (uploads.length) fields.attachment_ids = uploads.map((upload) => upload.id);
  // The box empties at once, so the next message can be typed while this one travels.
  input.value = "";
  state.lastTypingSent = 0;
  draft.replyTo = null;
  draft.uploads = [];
  renderDraft();
  try {
    const message = await api.post(`chats/${open.id}/messages/`, fields);
    insertMessage(message);
    scrollToBottom();
    noteActivity(message);
    markRead();
  } catch (failure) {
    // Not sent: the text, the reply and the files go back (before anything added since).
    input.value = input.value ? `${body}\n${input.value}` : body;
    input.dataset.clientId = clientId;
    if (state.draft === draft && state.open === open) {
      draft.replyTo = draft.replyTo || replyTo;
      draft.uploads = [...uploads, ...draft.uploads];
      renderDraft();
    }
    error.textContent = `Not sent: ${failure.message}`;
  }
});

$("message-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  } else if (event.key === "Escape" && state.draft.replyTo) {
    setReplyTo(null);
  }
});

$("message-input").addEventListener("input", (event) => {
  delete event.target.dataset.clientId; // a changed text is a new message
  const now = Date.now();
  if (state.open && event.target.value.trim() && now - state.lastTypingSent > TYPING_SEND_EVERY) {
    state.lastTypingSent = now;
    live.send({ type: "typing", chat_id: state.open.id });
  }
});

// One listener for the buttons of every message.
$("message-list").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const article = button.closest("article");
  const message = state.open && state.open.messages.get(Number(article.dataset.id));
  if (!message) return;
  const action = button.dataset.action;
  if (action === "like") toggleLike(message);
  else if (action === "pick") togglePicker(message);
  else if (action === "react") toggleReaction(message, button.dataset.emoji);
  else if (action === "reply") setReplyTo(message, { focus: true });
  else if (action === "edit") startEditing(article, message);
  else if (action === "delete") askDelete(article, message);
  else if (action === "download") download(button.dataset.url, button.dataset.name);
});

// Escape closes the reaction picker, back to its React button.
$("message-list").addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !state.open || state.open.picking === null) return;
  const article = event.target.closest("article");
  if (article && Number(article.dataset.id) === state.open.picking) {
    event.preventDefault();
    closePicker({ focus: true });
  }
});

// A click anywhere else closes the picker too (not one on a button that the click's own
// handler has just rebuilt away: it opened the picker).
document.addEventListener("click", (event) => {
  if (!state.open || state.open.picking === null || !event.target.isConnected) return;
  const article = event.target.closest && event.target.closest("article");
  if (!article || Number(article.dataset.id) !== state.open.picking) closePicker({ focus: false });
});

function togglePicker(message) {
  const open = state.open;
  if (open.picking === message.id) {
    closePicker({ focus: true });
    return;
  }
  const previous = open.picking;
  open.picking = message.id;
  const before = previous !== null && open.messages.get(previous);
  if (before) refreshArticle(before);
  refreshArticle(message);
  articleOf(message.id)?.querySelector(".picker button")?.focus();
}

function closePicker({ focus }) {
  const open = state.open;
  const id = open.picking;
  open.picking = null;
  const message = open.messages.get(id);
  if (!message) return;
  refreshArticle(message);
  if (focus) articleOf(id)?.querySelector("[data-action=pick]")?.focus();
}

// React with an emoji, or take one's reaction back when it is there already.
async function toggleReaction(message, emoji) {
  const current = state.open.messages.get(message.id) || message;
  const mine = (current.reactions || []).some((r) => r.emoji === emoji && r.me);
  const fromPicker = state.open.picking === message.id;
  try {
    const updated = mine
      ? await api.delete(`messages/${message.id}/reactions/${encodeURIComponent(emoji)}/`)
      : await api.post(`messages/${message.id}/reactions/`, { emoji });
    if (fromPicker && state.open && state.open.picking === message.id) {
      state.open.picking = null;
      insertMessage(updated);
      articleOf(message.id)?.querySelector("[data-action=pick]")?.focus();
    } else {
      insertMessage(updated);
    }
  } catch (failure) {
    $("composer-error").textContent = failure.message;
  }
}

// ---------------------------------------------------------------------------------------
// The composer's reply and files
// ---------------------------------------------------------------------------------------

function clearDraft() {
  state.draft = { chatId: null, replyTo: null, uploads: [] };
  renderDraft();
}

function setReplyTo(message, { focus = false } = {}) {
  state.draft.replyTo = message
    ? { id: message.id, author: message.author, body: message.body }
    : null;
  renderDraft();
  if (focus || !message) $("message-input").focus();
}

function renderDraft() {
  const { replyTo, uploads } = state.draft;
  const bar = $("replying");
  bar.hidden = !replyTo;
  if (replyTo) {
    const name = replyTo.author ? replyTo.author.username : "deleted user";
    const text = replyTo.body || "(attachment)";
    $("replying-to").replaceChildren(
      "Replying to ",
      element("strong", { text: name }),
      ": ",
      element("span", { className: "quoted", text }),
    );
  }
  const list = $("uploads");
  list.hidden = uploads.length === 0;
  list.replaceChildren(
    ...uploads.map((upload, index) =>
      element(
        "li",
        { className: upload.id === null ? "uploading" : "" },
        element("span", {
          text: `${upload.name} (${upload.id === null ? "uploading…" : `${Math.max(1, Math.ceil(upload.size / 1024))} KB`})`,
        }),
        element("button", {
          type: "button",
          className: "linklike",
          "data-index": index,
          "aria-label": `Remove ${upload.name}`,
          text: "Remove",
        }),
      ),
    ),
  );
}

$("cancel-reply").addEventListener("click", () => setReplyTo(null));

$("uploads").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-index]");
  if (!button) return;
  state.draft.uploads.splice(Number(button.dataset.index), 1);
  renderDraft();
  $("attach").focus();
});

// The button opens the browser's file chooser (the <input type=file> itself stays hidden,
// so the contract's "Attach file" is the one control).
$("attach").addEventListener("click", () => $("attach-input").click());

$("attach-input").addEventListener("change", (event) => {
  const files = [...event.target.files];
  event.target.value = "";
  for (const file of files) upload(file);
});

const MAX_ATTACHMENTS = 10;

async function upload(file) {
  const open = state.open;
  const draft = state.draft;
  const error = $("composer-error");
  if (!open) return;
  if (draft.uploads.length >= MAX_ATTACHMENTS) {
    error.textContent = `At most ${MAX_ATTACHMENTS} files per message.`;
    return;
  }
  error.textContent = "";
  const entry = { id: null, name: file.name, size: file.size };
  draft.uploads.push(entry);
  renderDraft();
  try {
    const attachment = await api.upload(`chats/${open.id}/attachments/`, file);
    entry.id = attachment.id;
    entry.name = attachment.name;
    entry.size = attachment.size;
  } catch (failure) {
    draft.uploads = draft.uploads.filter((other) => other !== entry);
    if (state.draft === draft) error.textContent = `${file.name} was not uploaded: ${failure.message}`;
  }
  if (state.draft === draft) renderDraft();
}

async function toggleLike(message) {
  try {
    const path = `messages/${message.id}/like/`;
    const updated = message.liked_by_me ? await api.delete(path) : await api.post(path);
    insertMessage(updated);
    articleOf(message.id)?.querySelector("[data-action=like]")?.focus();
  } catch (failure) {
    $("composer-error").textContent = failure.message;
  }
}

function startEditing(article, message) {
  const bodyNode = article.querySelector(".body");
  const actions = article.querySelector(".actions");
  const inputId = `message-${message.id}-edit`;
  const input = element("textarea", { id: inputId, rows: 2, maxlength: 5000 });
  input.value = message.body;
  const form = element(
    "form",
    { className: "editing" },
    element("label", { for: inputId, className: "visually-hidden", text: "Revised text" }),
    input,
    element("button", { type: "submit", text: "Save" }),
    element("button", { type: "button", "data-role": "cancel", text: "Cancel" }),
    element("p", { className: "error", role: "alert" }),
  );
  const stop = () => {
    form.remove();
    bodyNode.hidden = false;
    actions.hidden = false;
    const current = state.open && state.open.messages.get(message.id);
    if (current) fillMessage(article, current, state.me.id);
    article.querySelector("[data-action=edit]")?.focus();
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.value.trim()) {
      form.querySelector(".error").textContent = "A message cannot be empty; delete it instead.";
      return;
    }
    try {
      const updated = await api.patch(`messages/${message.id}/`, { body: input.value });
      state.open.messages.set(updated.id, updated);
      stop();
    } catch (failure) {
      form.querySelector(".error").textContent = failure.message;
    }
  });
  form.querySelector("[data-role=cancel]").addEventListener("click", stop);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") stop();
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  bodyNode.hidden = true;
  actions.hidden = true;
  bodyNode.after(form);
  input.focus();
}

function askDelete(article, message) {
  const actions = article.querySelector(".actions");
  const confirm = element(
    "div",
    { className: "confirm", role: "group", "aria-label": "Delete this message?" },
    element("span", { text: "Delete this message? " }),
    element("button", { type: "button", "data-role": "yes", text: "Yes, delete" }),
    element("button", { type: "button", "data-role": "no", text: "Keep it" }),
  );
  const keep = () => {
    confirm.remove();
    actions.hidden = false;
    article.querySelector("[data-action=delete]")?.focus();
  };
  confirm.querySelector("[data-role=no]").addEventListener("click", keep);
  confirm.addEventListener("keydown", (event) => {
    if (event.key === "Escape") keep();
  });
  confirm.querySelector("[data-role=yes]").addEventListener("click", async () => {
    try {
      await api.delete(`messages/${message.id}/`);
      removeMessage(message.id);
    } catch (failure) {
      keep();
      $("composer-error").textContent = failure.message;
    }
  });
  actions.hidden = true;
  actions.after(confirm);
  confirm.querySelector("[data-role=no]").focus();
}

// Attachments (API 1.1) need the Bearer token: fetch them and hand out blob: URLs.
async function fetchBlob(path) {
  let response = await fetch(path, { headers: { Authorization: `Bearer ${api.access}` } });
  if (response.status === 401) {
    await api.refresh();
    response = await fetch(path, { headers: { Authorization: `Bearer ${api.access}` } });
  }
  if (!response.ok) throw new ApiError(response.status, null);
  return response.blob();
}

// One fetch per image for as long as the page lives (an article is rebuilt on every like
// or reaction; its image must not be fetched again each time).
function blobUrl(path) {
  let url = state.blobs.get(path);
  if (!url) {
    url = fetchBlob(path).then((blob) => URL.createObjectURL(blob));
    url.catch(() => state.blobs.delete(path)); // tried again when next shown
    state.blobs.set(path, url);
  }
  return url;
}

function forgetBlobs() {
  for (const url of state.blobs.values()) url.then((u) => URL.revokeObjectURL(u), () => {});
  state.blobs.clear();
}

function hydrateAttachments(article) {
  if (!article) return;
  for (const img of article.querySelectorAll("img[data-attachment]:not([src])")) {
    blobUrl(img.dataset.attachment).then(
      (url) => {
        img.src = url;
      },
      () => {
        img.alt = `${img.alt} (cannot be shown)`;
      },
    );
  }
}

async function download(path, name) {
  try {
    const url = URL.createObjectURL(await fetchBlob(path));
    const link = element("a", { href: url, download: name });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (failure) {
    $("composer-error").textContent = failure.message;
  }
}

// ---------------------------------------------------------------------------------------
// Live events
// ---------------------------------------------------------------------------------------

function showConnection(status) {
  const node = $("connection");
  node.hidden = status === "online" || status === "stopped";
  node.textContent =
    status === "connecting" ? "Connecting…" : status === "offline" ? "Offline: reconnecting…" : "";
}

// A new message in any chat: the list's order and unread counts follow.
function noteActivity(message) {
  const chat = state.chats.get(message.chat_id);
  if (!chat) return;
  // Already counted: the chat list was loaded after it (a replayed event), or sent here.
  if (chat.last_message && chat.last_message.id >= message.id) return;
  chat.last_message = message;
  moveChatToTop(chat.id);
  const seen = state.open && state.open.id === chat.id && !document.hidden;
  if (message.author && message.author.id !== state.me.id && !seen) {
    chat.unread_count = (chat.unread_count || 0) + 1;
    const mentioned = Array.isArray(message.mentions)
      && message.mentions.some((user) => user.id === state.me.id);
    if (mentioned) chat.mention_count = (chat.mention_count || 0) + 1;
  }
  renderChatList();
}

function handleFrame(frame) {
  const { type, chat_id: chatId, data } = frame;
  const inOpenChat = state.open && state.open.id === chatId;
  if (!state.chats.has(chatId) && type !== "typing") {
    // A chat we did not know of (added by someone, joined on another device).
    reloadChatsSoon();
  }
  switch (type) {
    case "message.created":
      if (inOpenChat) {
        insertMessage(data);
        stopTyping(data.author && data.author.id);
        markRead();
      }
      noteActivity(data);
      break;
    case "message.updated":
      if (inOpenChat && state.open.messages.has(data.id)) insertMessage(data);
      if (inOpenChat) {
        updateQuotesOf(data.id, {
          id: data.id,
          author: data.author,
          body: Array.from(data.body).slice(0, 200).join(""),
        });
      }
      break;
    case "message.deleted":
      if (inOpenChat) removeMessage(data.id);
      break;
    case "message.liked": {
      const message = inOpenChat && state.open.messages.get(data.id);
      if (message) {
        const liked = data.user.id === state.me.id ? data.liked : message.liked_by_me;
        insertMessage({ ...message, like_count: data.like_count, liked_by_me: liked });
      }
      break;
    }
    case "message.reacted": {
      // API 1.1
      const message = inOpenChat && state.open.messages.get(data.id);
      if (message && Array.isArray(message.reactions)) {
        const reactions = message.reactions.map((reaction) => ({ ...reaction }));
        let reaction = reactions.find((r) => r.emoji === data.emoji);
        if (!reaction) {
          reaction = { emoji: data.emoji, count: 0, me: false };
          reactions.push(reaction);
        }
        reaction.count = data.count;
        if (data.user.id === state.me.id) reaction.me = data.reacted;
        insertMessage({ ...message, reactions: reactions.filter((r) => r.count > 0) });
      }
      break;
    }
    case "message.pinned": {
      // API 1.1
      const message = inOpenChat && state.open.messages.get(data.id);
      if (message) insertMessage({ ...message, pinned: data.pinned });
      break;
    }
    case "typing":
      if (inOpenChat && data.user.id !== state.me.id) startTyping(data.user);
      break;
    case "member.joined":
    case "member.left": {
      if (data.user.id === state.me.id) {
        if (type === "member.left") forgetChat(chatId);
        else reloadChatsSoon();
        break;
      }
      const chat = state.chats.get(chatId);
      if (chat) {
        chat.member_count += type === "member.joined" ? 1 : -1;
        if (inOpenChat) renderChatHeader();
      }
      if (type === "member.left" && inOpenChat) stopTyping(data.user.id);
      break;
    }
    case "chat.updated": {
      const chat = state.chats.get(chatId);
      if (chat) {
        Object.assign(chat, data);
        renderChatList();
        if (inOpenChat) renderChatHeader();
      }
      break;
    }
    case "chat.deleted":
      forgetChat(chatId);
      break;
    case "chat.read": {
      // API 1.1: read on another device
      const chat = state.chats.get(chatId);
      if (chat) {
        chat.unread_count = data.unread_count;
        chat.mention_count = data.mention_count;
        renderChatList();
      }
      break;
    }
    default:
      break;
  }
}

function forgetChat(chatId) {
  state.chats.delete(chatId);
  state.order = state.order.filter((id) => id !== chatId);
  if (state.open && state.open.id === chatId) {
    location.hash = "";
    closeChat();
  } else {
    renderChatList();
  }
}

// ---------------------------------------------------------------------------------------
// Typing
// ---------------------------------------------------------------------------------------

function startTyping(user) {
  const known = state.typers.get(user.id);
  if (known) clearTimeout(known.timer);
  state.typers.set(user.id, {
    username: user.username,
    timer: setTimeout(() => stopTyping(user.id), TYPING_SHOWN_FOR),
  });
  renderTypers();
}

function stopTyping(userId) {
  const known = state.typers.get(userId);
  if (!known) return;
  clearTimeout(known.timer);
  state.typers.delete(userId);
  renderTypers();
}

function clearTypers() {
  for (const { timer } of state.typers.values()) clearTimeout(timer);
  state.typers.clear();
  renderTypers();
}

function renderTypers() {
  const names = [...state.typers.values()].map(({ username }) => `${username} is typing`);
  $("typing").textContent = names.join(", ");
}

// ---------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------

if (api.signedIn) {
  api.schedule();
  enterApp();
} else {
  showSignIn();
}
