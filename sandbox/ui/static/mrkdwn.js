/* Slack mrkdwn → DOM nodes, and Slack's <!date^…> formatting in the reader's timezone.
 *
 * Nothing here builds HTML from strings: what a person typed only ever becomes text nodes
 * (textContent) and attribute values set one by one, inside the few elements created below
 * with createElement. So no message can open a tag or leave an attribute, whatever it holds.
 * Exposed as window.BR.mrkdwn / BR.plain / BR.text (each returns a DocumentFragment).
 */
(function () {
  "use strict";
  const BR = (window.BR = window.BR || {});

  const EMOJI = {
    pushpin: "📌", round_pushpin: "📍", white_check_mark: "✅", heavy_check_mark: "✔️",
    ballot_box_with_check: "☑️", x: "❌", warning: "⚠️", rotating_light: "🚨", fire: "🔥",
    eyes: "👀", "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", tada: "🎉",
    lock: "🔒", unlock: "🔓", key: "🔑", shield: "🛡️", bell: "🔔", no_bell: "🔕",
    hourglass: "⌛", hourglass_flowing_sand: "⏳", alarm_clock: "⏰", stopwatch: "⏱️",
    clock1: "🕐", calendar: "📆", date: "📅", memo: "📝", pencil: "📝", pencil2: "✏️",
    page_facing_up: "📄", clipboard: "📋", file_folder: "📁", open_file_folder: "📂",
    link: "🔗", mag: "🔍", bar_chart: "📊", chart_with_upwards_trend: "📈",
    email: "📧", envelope: "✉️", incoming_envelope: "📨", phone: "📞", telephone_receiver: "📞",
    loudspeaker: "📢", mega: "📣", speech_balloon: "💬", information_source: "ℹ️",
    question: "❓", exclamation: "❗", heavy_exclamation_mark: "❗", red_circle: "🔴",
    large_orange_circle: "🟠", large_yellow_circle: "🟡", large_green_circle: "🟢",
    large_blue_circle: "🔵", white_circle: "⚪", black_circle: "⚫", arrow_forward: "▶️",
    arrow_right: "➡️", fast_forward: "⏩", repeat: "🔁", arrows_counterclockwise: "🔄",
    heavy_plus_sign: "➕", heavy_minus_sign: "➖", no_entry: "⛔", no_entry_sign: "🚫",
    construction: "🚧", busts_in_silhouette: "👥", bust_in_silhouette: "👤", wave: "👋",
    raised_hands: "🙌", pray: "🙏", muscle: "💪", rocket: "🚀", sparkles: "✨", zap: "⚡",
    bulb: "💡", books: "📚", scales: "⚖️", classical_building: "🏛️", bank: "🏦",
    moneybag: "💰", credit_card: "💳", computer: "💻", desktop_computer: "🖥️", iphone: "📱",
    floppy_disk: "💾", package: "📦", inbox_tray: "📥", outbox_tray: "📤", label: "🏷️",
    triangular_flag_on_post: "🚩", checkered_flag: "🏁", dart: "🎯", hammer_and_wrench: "🛠️",
    wrench: "🔧", gear: "⚙️", spiral_note_pad: "🗒️", card_index: "📇", ledger: "📒",
    closed_lock_with_key: "🔐", smile: "😄", slightly_smiling_face: "🙂", thinking_face: "🤔",
    white_small_square: "▫️", black_small_square: "▪️", small_blue_diamond: "🔹",
    small_orange_diamond: "🔸", heavy_multiplication_x: "✖️", zzz: "💤", sleeping: "😴",
    hospital: "🏥", ambulance: "🚑", police_car: "🚓", globe_with_meridians: "🌐",
    earth_asia: "🌏", cn: "🇨🇳", eu: "🇪🇺", us: "🇺🇸", gb: "🇬🇧", hk: "🇭🇰",
  };
  BR.EMOJI = EMOJI;

  const unent = (s) => String(s).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

  function emoji(text) {
    return text.replace(/:([a-z0-9_+\-']+):/g, (m, name) => EMOJI[name] || m);
  }

  /* An element with attributes set one by one and children appended as nodes or text. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === "") continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }
  BR.el = el;

  function fragment(children) {
    const frag = document.createDocumentFragment();
    for (const child of children) {
      if (child === null || child === undefined || child === "") continue;
      frag.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return frag;
  }

  /* Text with its line breaks shown as <br> elements. */
  function lines(text) {
    const out = [];
    String(text).split("\n").forEach((line, i) => {
      if (i) out.push(el("br"));
      out.push(line);
    });
    return out;
  }
  BR.emojiOf = (name) => EMOJI[name] || `:${name}:`;

  // -- dates --------------------------------------------------------------------------------

  function parts(date, tz, opts, locale) {
    const out = {};
    for (const p of new Intl.DateTimeFormat(locale || "en-US", { timeZone: tz, ...opts }).formatToParts(date)) {
      out[p.type] = p.value;
    }
    return out;
  }

  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"];
    const v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  function dayKey(date, tz) {
    const p = parts(date, tz, { year: "numeric", month: "2-digit", day: "2-digit" });
    return `${p.year}-${p.month}-${p.day}`;
  }

  /* Format epoch seconds the way Slack's <!date^…^format|…> does, for one reader. */
  function formatDate(epoch, format, ctx) {
    const tz = ctx.tz || "UTC";
    const zh = (ctx.locale || "").startsWith("zh");
    const loc = zh ? "zh-CN" : "en-US";
    const date = new Date(epoch * 1000);
    const now = new Date((ctx.now || Date.now() / 1000) * 1000);
    const y = parts(date, tz, { year: "numeric", month: "2-digit", day: "2-digit" });
    const dateNum = `${y.year}-${y.month}-${y.day}`;
    const day = Number(y.day);
    const long = (weekday) => {
      if (zh) {
        return new Intl.DateTimeFormat(loc, {
          timeZone: tz, year: "numeric", month: "long", day: "numeric",
          ...(weekday ? { weekday: "long" } : {}),
        }).format(date);
      }
      const p = parts(date, tz, { weekday: "long", month: "long", year: "numeric" });
      return `${weekday ? p.weekday + ", " : ""}${p.month} ${ordinal(day)}, ${p.year}`;
    };
    const short = () =>
      new Intl.DateTimeFormat(loc, { timeZone: tz, year: "numeric", month: "short", day: "numeric" }).format(date);
    const pretty = (fallback) => {
      const key = dayKey(date, tz);
      const today = dayKey(now, tz);
      const yesterday = dayKey(new Date(now.getTime() - 86400000), tz);
      const tomorrow = dayKey(new Date(now.getTime() + 86400000), tz);
      if (key === today) return zh ? "今天" : "today";
      if (key === yesterday) return zh ? "昨天" : "yesterday";
      if (key === tomorrow) return zh ? "明天" : "tomorrow";
      return fallback();
    };
    const time = (secs) =>
      new Intl.DateTimeFormat(loc, {
        timeZone: tz, hour: "numeric", minute: "2-digit", ...(secs ? { second: "2-digit" } : {}),
        hour12: !zh,
      }).format(date);
    const ago = () => {
      const d = Math.round(now.getTime() / 1000 - epoch);
      const abs = Math.abs(d);
      const unit = abs < 60 ? ["second", abs] : abs < 3600 ? ["minute", Math.round(abs / 60)]
        : abs < 86400 ? ["hour", Math.round(abs / 3600)] : ["day", Math.round(abs / 86400)];
      return new Intl.RelativeTimeFormat(loc, { numeric: "auto" }).format(d >= 0 ? -unit[1] : unit[1], unit[0]);
    };
    const tokens = {
      date_num: () => dateNum,
      date: () => long(false),
      date_short: short,
      date_long: () => long(true),
      date_pretty: () => pretty(() => long(false)),
      date_short_pretty: () => pretty(short),
      date_long_pretty: () => pretty(() => long(true)),
      time: () => time(false),
      time_secs: () => time(true),
      ago,
    };
    return format.replace(/\{(\w+)\}/g, (m, name) => (tokens[name] ? tokens[name]() : m));
  }
  BR.formatDate = formatDate;

  /* The time of a message ts, as a reader in `tz` sees it in the message list. */
  BR.fmtTs = function (ts, ctx) {
    const epoch = Number(ts);
    if (!epoch) return "";
    return formatDate(epoch, "{time}", ctx);
  };

  // -- the special <…> forms -------------------------------------------------------------------

  function safeUrl(url) {
    return /^(https?:|mailto:|\/)/i.test(url) ? url : null;
  }

  function special(inner, ctx) {
    const bar = inner.indexOf("|");
    const head = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : null;
    if (head.startsWith("@")) {
      const id = head.slice(1);
      const user = (ctx.users || {})[id];
      const name = user ? user.real_name || user.name : label ? unent(label).replace(/^@/, "") : id;
      const mine = ctx.me && id === ctx.me ? " mention-me" : "";
      return el("span", { class: `mention${mine}`, "data-user-id": id }, `@${name}`);
    }
    if (head.startsWith("#")) {
      const id = head.slice(1);
      const ch = (ctx.channels || {})[id];
      const name = ch ? ch.name : label ? unent(label) : "private-channel";
      return el("span", { class: "channel-link", "data-channel-link": id }, `#${name}`);
    }
    if (head.startsWith("!subteam^")) {
      const id = head.slice("!subteam^".length);
      const handle = (ctx.usergroups || {})[id];
      return el("span", { class: "mention" }, handle ? `@${handle}` : label ? unent(label) : "@group");
    }
    if (head.startsWith("!date^")) {
      const bits = head.split("^");
      const epoch = Number(bits[1]);
      const format = bits[2] || "{date_num} {time}";
      const link = bits[3] ? safeUrl(unent(bits[3])) : null;
      let text;
      let when = null;
      try {
        text = Number.isFinite(epoch) ? formatDate(epoch, format, ctx) : unent(label || "");
        when = new Date(epoch * 1000).toISOString();
      } catch (e) {
        text = unent(label || "");
      }
      const time = el("time", { class: "slack-date", datetime: when, title: label ? unent(label) : null }, text);
      return link ? el("a", { href: link, target: "_blank", rel: "noopener" }, time) : time;
    }
    if (head === "!here" || head === "!channel" || head === "!everyone") {
      return el("span", { class: "mention" }, `@${head.slice(1)}`);
    }
    if (head.startsWith("!")) return unent(label || head.slice(1));
    const url = safeUrl(unent(head));
    const text = label !== null ? unent(label) : unent(head).replace(/^mailto:/, "");
    if (!url) return text;
    return el("a", { href: url, target: "_blank", rel: "noopener" }, text);
  }

  // -- inline markup ---------------------------------------------------------------------------

  // Held pieces (specials, code) stand in the text as \u0001<n>\u0002 while the rest is parsed;
  // the same characters typed by a person are dropped first, so they cannot name a held piece.
  const HELD = /\u0001(\d+)\u0002/g;
  const STYLES = [
    ["b", /(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?!\w)/g],
    ["i", /(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?!\w)/g],
    ["s", /(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?!\w)/g],
  ];

  /* Replace each match of `re` in the string parts with what make(match) returns. */
  function split(parts, re, make) {
    const out = [];
    for (const part of parts) {
      if (typeof part !== "string") {
        out.push(part);
        continue;
      }
      let last = 0;
      re.lastIndex = 0;
      let m;
      while ((m = re.exec(part)) !== null) {
        out.push(part.slice(last, m.index), ...make(m));
        last = m.index + m[0].length;
      }
      out.push(part.slice(last));
    }
    return out.filter((x) => x !== "");
  }

  /* One line (already unescaped) as nodes: bold/italic/strike, then held pieces, then emoji. */
  function inline(text, held, depth) {
    let parts = [text];
    for (let i = depth; i < STYLES.length; i++) {
      const [tag, re] = STYLES[i];
      parts = split(parts, re, (m) => [m[1], el(tag, null, inline(m[2], held, i + 1))]);
    }
    parts = split(parts, HELD, (m) => {
      const piece = held[Number(m[1])];
      return piece === undefined ? [] : [typeof piece === "function" ? piece() : piece];
    });
    return parts.map((p) => (typeof p === "string" ? document.createTextNode(emoji(p)) : p));
  }

  /* Slack mrkdwn as a DocumentFragment. ctx: {users, channels, usergroups, me, tz, locale, now}. */
  function mrkdwn(text, ctx) {
    ctx = ctx || {};
    const held = [];
    // A factory, not a node: a held piece may be used more than once only as a fresh copy.
    const hold = (make) => `\u0001${held.push(make) - 1}\u0002`;
    let src = String(text == null ? "" : text).replace(/[\u0001\u0002]/g, "");
    // Code first: what is inside it is shown as typed, links and mentions included.
    src = src.replace(/```([\s\S]*?)```/g, (m, code) =>
      hold(() => el("pre", { class: "code-block" }, unent(code.replace(/^\n/, ""))))
    );
    src = src.replace(/`([^`\n]+)`/g, (m, code) => hold(() => el("code", null, unent(code))));
    src = src.replace(/<([^<>\n]+)>/g, (m, inner) => hold(() => special(inner, ctx)));
    const out = [];
    let quote = null;
    let previous = null;
    for (const line of src.split("\n")) {
      const isQuote = line.startsWith(">");
      const nodes = inline(unent(isQuote ? line.replace(/^>\s?/, "") : line), held, 0);
      if (isQuote) {
        if (!quote) {
          quote = el("blockquote");
          out.push(quote);
        } else {
          quote.append(el("br"));
        }
        quote.append(...nodes);
        previous = "quote";
      } else {
        quote = null;
        if (previous === "line") out.push(el("br"));
        out.push(...nodes);
        previous = "line";
      }
    }
    return fragment(out);
  }
  BR.mrkdwn = mrkdwn;

  /* A plain_text object (emoji shortcodes converted unless emoji is false), as nodes. */
  BR.plain = function (obj) {
    if (!obj) return fragment([]);
    const text = typeof obj === "string" ? obj : obj.text || "";
    return fragment([typeof obj === "object" && obj.emoji === false ? text : emoji(text)]);
  };

  /* A text object of either kind, as nodes. */
  BR.text = function (obj, ctx) {
    if (!obj) return fragment([]);
    if (typeof obj === "string") return mrkdwn(obj, ctx);
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
    const text = obj.emoji === false ? obj.text || "" : emoji(obj.text || "");
    return fragment(lines(text));
  };
})();
