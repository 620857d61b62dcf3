// DOM builders. Text from the server only ever goes in through textContent (never innerHTML),
// so a message such as <img src=x onerror=alert(1)> shows as the text it is.

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

function shortTime(iso) {
  const date = new Date(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? timeFormat.format(date)
    : dateTimeFormat.format(date);
}

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// The picker's few common emoji, each with the name a screen reader announces.
export const REACTION_CHOICES = [
  ["👍", "thumbs up"],
  ["❤️", "heart"],
  ["😂", "laughing"],
  ["😮", "surprised"],
  ["😢", "sad"],
  ["🎉", "party"],
];

// An <article> for one message. `me` is the signed-in user's id; `ui` what the app shows
// around it (`picking`: the reaction picker is open).
export function messageArticle(message, me, ui = {}) {
  const authorId = `message-${message.id}-author`;
  const mine = message.author && message.author.id === me;
  const article = element("article", {
    className: mine ? "message mine" : "message",
    "data-id": message.id,
    "aria-labelledby": authorId,
  });
  fillMessage(article, message, me, ui);
  return article;
}

// (Re)build the inside of a message's article, e.g. after an edit or a reaction.
export function fillMessage(article, message, me, ui = {}) {
  const authorId = `message-${message.id}-author`;
  const mine = message.author && message.author.id === me;
  const header = element(
    "header",
    { className: "message-header" },
    element("span", {
      className: "author",
      id: authorId,
      text: message.author ? message.author.username : "deleted user",
    }),
    " ",
    element("time", {
      datetime: message.created_at,
      title: dateTimeFormat.format(new Date(message.created_at)),
      text: shortTime(message.created_at),
    }),
    message.edited_at
      ? element("span", {
          className: "edited",
          title: `Edited ${dateTimeFormat.format(new Date(message.edited_at))}`,
          text: " (edited)",
        })
      : null,
    message.pinned ? element("span", { className: "pinned", text: " · pinned" }) : null,
  );

  const parts = [header];
  // API 1.1: the message it answers.
  if (message.reply_to) parts.push(replyQuote(message.reply_to));
  // With attachments the body may be empty: no empty paragraph then.
  if (message.body) parts.push(element("p", { className: "body", text: message.body }));
  // API 1.1: attachments, images inline (through their thumbnail).
  if (Array.isArray(message.attachments) && message.attachments.length) {
    parts.push(attachmentList(message.attachments));
  }
  const reactions = Array.isArray(message.reactions) ? message.reactions : [];
  if (reactions.length) parts.push(reactionList(reactions));

  const liked = Boolean(message.liked_by_me);
  const pickerId = `message-${message.id}-picker`;
  const actions = element(
    "div",
    { className: "actions" },
    element("button", {
      type: "button",
      className: "like",
      "data-action": "like",
      "aria-pressed": liked ? "true" : "false",
      text: liked ? "♥ Liked" : "♡ Like",
    }),
    element("span", {
      className: "like-count",
      text: message.like_count ? plural(message.like_count, "like", "likes") : "",
    }),
    element("button", {
      type: "button",
      "data-action": "pick",
      "aria-expanded": ui.picking ? "true" : "false",
      "aria-controls": ui.picking ? pickerId : null,
      text: "React",
    }),
    element("button", { type: "button", "data-action": "reply", text: "Reply" }),
  );
  if (mine) {
    actions.append(
      element("button", { type: "button", "data-action": "edit", text: "Edit" }),
      element("button", { type: "button", "data-action": "delete", text: "Delete" }),
    );
  }
  parts.push(actions);
  if (ui.picking) parts.push(reactionPicker(pickerId, reactions));
  article.replaceChildren(...parts);
}

function replyQuote(reply) {
  if (reply.deleted) {
    return element("blockquote", {
      className: "reply deleted",
      "data-reply-to": reply.id,
      text: "Reply to a deleted message",
    });
  }
  return element(
    "blockquote",
    { className: "reply", "data-reply-to": reply.id },
    element("span", { className: "visually-hidden", text: "Reply to " }),
    element("span", { className: "author", text: reply.author ? reply.author.username : "" }),
    ": ",
    element("span", { className: "quoted", text: reply.body || "" }),
  );
}

function kilobytes(size) {
  return `${Math.max(1, Math.ceil(size / 1024))} KB`;
}

// The files need the Bearer token, which an <img src> or a link cannot send: the app fetches
// each one (data-attachment) and puts in a blob: URL (see hydrateAttachments in app.js).
function attachmentList(attachments) {
  const list = element("ul", { className: "attachments", "aria-label": "Attachments" });
  for (const attachment of attachments) {
    const isImage = Boolean(attachment.width && attachment.height);
    const item = element("li");
    if (isImage) {
      // Width and height reserve the space before the thumbnail arrives (no jump).
      const scale = Math.min(1, 320 / attachment.width, 320 / attachment.height);
      item.append(
        element("img", {
          alt: attachment.name,
          width: Math.round(attachment.width * scale),
          height: Math.round(attachment.height * scale),
          "data-attachment": `${attachment.url}thumbnail/`,
        }),
      );
    }
    item.append(
      element(
        "button",
        {
          type: "button",
          className: "linklike download",
          "data-action": "download",
          "data-url": attachment.url,
          "data-name": attachment.name,
        },
        element("span", { className: "visually-hidden", text: "Download " }),
        attachment.name,
        element("span", { className: "size", text: ` (${kilobytes(attachment.size)})` }),
      ),
    );
    list.append(item);
  }
  return list;
}

// One toggle button per emoji: pressed when the caller reacted with it.
function reactionList(reactions) {
  const list = element("ul", { className: "reactions", "aria-label": "Reactions" });
  for (const reaction of reactions) {
    list.append(
      element(
        "li",
        {},
        element("button", {
          type: "button",
          className: "reaction",
          "data-action": "react",
          "data-emoji": reaction.emoji,
          "aria-pressed": reaction.me ? "true" : "false",
          title: reaction.me ? `Take back your ${reaction.emoji}` : `React with ${reaction.emoji}`,
          text: `${reaction.emoji} ${reaction.count}`,
        }),
      ),
    );
  }
  return list;
}

function reactionPicker(id, reactions) {
  const picker = element("div", {
    className: "picker",
    id,
    role: "group",
    "aria-label": "Pick a reaction",
  });
  for (const [emoji, name] of REACTION_CHOICES) {
    const mine = reactions.some((reaction) => reaction.emoji === emoji && reaction.me);
    picker.append(
      element("button", {
        type: "button",
        "data-action": "react",
        "data-emoji": emoji,
        "data-from-picker": true,
        "aria-pressed": mine ? "true" : "false",
        "aria-label": `React with ${name}`,
        title: name,
        text: emoji,
      }),
    );
  }
  return picker;
}
