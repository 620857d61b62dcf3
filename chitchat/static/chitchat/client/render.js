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

// An <article> for one message. `me` is the signed-in user's id.
export function messageArticle(message, me) {
  const authorId = `message-${message.id}-author`;
  const mine = message.author && message.author.id === me;
  const article = element("article", {
    className: mine ? "message mine" : "message",
    "data-id": message.id,
    "aria-labelledby": authorId,
  });
  fillMessage(article, message, me);
  return article;
}

// (Re)build the inside of a message's article, e.g. after an edit or a like.
export function fillMessage(article, message, me) {
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
  );

  const parts = [header];
  // API 1.1: the message it answers.
  if (message.reply_to) parts.push(replyQuote(message.reply_to));
  parts.push(element("p", { className: "body", text: message.body }));
  // API 1.1: attachments, images inline (through their thumbnail).
  if (Array.isArray(message.attachments) && message.attachments.length) {
    parts.push(attachmentList(message.attachments));
  }
  // API 1.1: reactions, shown read-only.
  // TODO(API 1.1 reactions): a picker and toggling through
  // POST /messages/{id}/reactions/ and DELETE /messages/{id}/reactions/{emoji}/.
  if (Array.isArray(message.reactions) && message.reactions.length) {
    parts.push(reactionList(message.reactions));
  }

  const liked = Boolean(message.liked_by_me);
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
  );
  if (mine) {
    actions.append(
      element("button", { type: "button", "data-action": "edit", text: "Edit" }),
      element("button", { type: "button", "data-action": "delete", text: "Delete" }),
    );
  }
  parts.push(actions);
  article.replaceChildren(...parts);
}

function replyQuote(reply) {
  if (reply.deleted) {
    return element("blockquote", { className: "reply", text: "Reply to a deleted message" });
  }
  return element(
    "blockquote",
    { className: "reply" },
    element("span", { className: "author", text: reply.author ? reply.author.username : "" }),
    ": ",
    element("span", { text: reply.body || "" }),
  );
}

// The files need the Bearer token, which an <img src> or a link cannot send: the app fetches
// each one (data-attachment) and puts in a blob: URL (see hydrateAttachments in app.js).
function attachmentList(attachments) {
  const list = element("ul", { className: "attachments", "aria-label": "Attachments" });
  for (const attachment of attachments) {
    const isImage = Boolean(attachment.width && attachment.height);
    const item = element("li");
    if (isImage) {
      item.append(
        element("img", {
          alt: attachment.name,
          width: Math.min(attachment.width, 320),
          "data-attachment": `${attachment.url}thumbnail/`,
        }),
      );
    }
    item.append(
      element("button", {
        type: "button",
        className: "linklike",
        "data-action": "download",
        "data-url": attachment.url,
        "data-name": attachment.name,
        text: `${attachment.name} (${Math.ceil(attachment.size / 1024)} KB)`,
      }),
    );
    list.append(item);
  }
  return list;
}

function reactionList(reactions) {
  const list = element("ul", { className: "reactions", "aria-label": "Reactions" });
  for (const reaction of reactions) {
    list.append(
      element("li", {
        className: reaction.me ? "reaction me" : "reaction",
        text: `${reaction.emoji} ${reaction.count}`,
      }),
    );
  }
  return list;
}
