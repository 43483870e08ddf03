/* Slack mrkdwn → safe HTML, and Slack's <!date^…> formatting in the reader's timezone.
 *
 * Everything a person typed is HTML-escaped before any markup is added; the only HTML
 * produced is the small set of tags below. Exposed as window.BR.mrkdwn / BR.plain / BR.fmt.
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

  const esc = (s) =>
    String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const unent = (s) => String(s).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  BR.esc = esc;

  function emoji(html) {
    return html.replace(/:([a-z0-9_+\-']+):/g, (m, name) => EMOJI[name] || m);
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
      return `<span class="mention${mine}" data-user-id="${esc(id)}">@${esc(name)}</span>`;
    }
    if (head.startsWith("#")) {
      const id = head.slice(1);
      const ch = (ctx.channels || {})[id];
      const name = ch ? ch.name : label ? unent(label) : "private-channel";
      return `<span class="channel-link" data-channel-link="${esc(id)}">#${esc(name)}</span>`;
    }
    if (head.startsWith("!subteam^")) {
      const id = head.slice("!subteam^".length);
      const handle = (ctx.usergroups || {})[id];
      const text = handle ? `@${handle}` : label ? unent(label) : "@group";
      return `<span class="mention">${esc(text)}</span>`;
    }
    if (head.startsWith("!date^")) {
      const bits = head.split("^");
      const epoch = Number(bits[1]);
      const format = bits[2] || "{date_num} {time}";
      const link = bits[3] ? safeUrl(unent(bits[3])) : null;
      let text;
      try {
        text = Number.isFinite(epoch) ? formatDate(epoch, format, ctx) : unent(label || "");
      } catch (e) {
        text = unent(label || "");
      }
      const title = label ? ` title="${esc(unent(label))}"` : "";
      const body = `<time class="slack-date" datetime="${esc(new Date(epoch * 1000).toISOString())}"${title}>${esc(text)}</time>`;
      return link ? `<a href="${esc(link)}" target="_blank" rel="noopener">${body}</a>` : body;
    }
    if (head === "!here" || head === "!channel" || head === "!everyone") {
      return `<span class="mention">@${head.slice(1)}</span>`;
    }
    if (head.startsWith("!")) return esc(unent(label || head.slice(1)));
    const url = safeUrl(unent(head));
    const text = label !== null ? unent(label) : unent(head).replace(/^mailto:/, "");
    if (!url) return esc(text);
    return `<a href="${esc(url)}" target="_blank" rel="noopener">${esc(text)}</a>`;
  }

  // -- inline markup ---------------------------------------------------------------------------

  function inline(escaped) {
    return escaped
      .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?!\w)/g, "$1<b>$2</b>")
      .replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?!\w)/g, "$1<i>$2</i>")
      .replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?!\w)/g, "$1<s>$2</s>");
  }

  /* Slack mrkdwn to HTML. ctx: {users, channels, usergroups, me, tz, locale, now}. */
  function mrkdwn(text, ctx) {
    ctx = ctx || {};
    const tokens = [];
    const hold = (html) => `\u0001${tokens.push(html) - 1}\u0002`;
    let src = String(text == null ? "" : text);
    src = src.replace(/<([^<>\n]+)>/g, (m, inner) => hold(special(inner, ctx)));
    src = src.replace(/```([\s\S]*?)```/g, (m, code) => hold(`<pre class="code-block">${esc(unent(code.replace(/^\n/, "")))}</pre>`));
    src = src.replace(/`([^`\n]+)`/g, (m, code) => hold(`<code>${esc(unent(code))}</code>`));
    const lines = src.split("\n");
    const out = [];
    let quote = [];
    const flush = () => {
      if (quote.length) out.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
      quote = [];
    };
    for (const line of lines) {
      const isQuote = line.startsWith(">");
      const body = emoji(inline(esc(unent(isQuote ? line.replace(/^>\s?/, "") : line))));
      if (isQuote) {
        quote.push(body);
      } else {
        flush();
        out.push(body);
      }
    }
    flush();
    let html = out.join("\n").replace(/\n(<blockquote>)/g, "$1").replace(/(<\/blockquote>)\n/g, "$1");
    html = html.replace(/\n/g, "<br>");
    for (let i = 0; i < 3 && html.includes("\u0001"); i++) {
      html = html.replace(/\u0001(\d+)\u0002/g, (m, n) => tokens[Number(n)]);
    }
    return html;
  }
  BR.mrkdwn = mrkdwn;

  /* A plain_text object (emoji shortcodes converted when asked) as safe HTML. */
  BR.plain = function (obj) {
    if (!obj) return "";
    const text = typeof obj === "string" ? obj : obj.text || "";
    const html = esc(text);
    return typeof obj === "object" && obj.emoji === false ? html : emoji(html);
  };

  /* A text object of either kind. */
  BR.text = function (obj, ctx) {
    if (!obj) return "";
    if (typeof obj === "string") return mrkdwn(obj, ctx);
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
    return BR.plain(obj).replace(/\n/g, "<br>");
  };
})();
