/* The sandbox workspace page: sidebar, channel, composer, modals, App Home, live updates.
 *
 * State comes from GET /ui/api/state?as=…&channel=…; every action is a POST to /ui/api/*,
 * which the sandbox turns into the signed request Slack would send the bot. An EventSource
 * on /ui/api/events says when to read the state again.
 */
(function () {
  "use strict";
  const BR = window.BR;
  const h = BR.h;
  const $ = (sel, root) => (root || document).querySelector(sel);

  const params = new URLSearchParams(location.search);
  const app = {
    as: params.get("as") || "alice",
    channel: params.get("c") || null,
    state: null,
    seen: {}, // person id -> channel id -> latest ts read
    dismissed: new Set(),
    msgNodes: new Map(), // ts -> {sig, node}
    renderedChannel: null,
    modalKey: null,
    homeRequested: new Set(),
    pinsOpen: false,
    busy: 0,
  };

  // -- talking to the sandbox --------------------------------------------------------------------

  async function api(path, body) {
    const init = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ as: app.as, ...body }),
    };
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      toast(`The sandbox did not answer: ${e.message}`);
      throw e;
    }
    const data = await resp.json().catch(() => ({ ok: false, error: `HTTP ${resp.status}` }));
    return { status: resp.status, data };
  }

  async function act(path, body) {
    app.busy++;
    document.body.dataset.busy = String(app.busy);
    try {
      const { data } = await api(path, body);
      if (data.ok === false && data.error) toast(data.error);
      return data;
    } finally {
      app.busy--;
      document.body.dataset.busy = String(app.busy);
      refresh();
    }
  }

  let refreshing = null;
  let again = false;
  function refresh() {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again);
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  async function load() {
    const asked = { as: app.as, channel: app.channel };
    const q = new URLSearchParams({ as: asked.as });
    if (asked.channel) q.set("channel", asked.channel);
    const { status, data } = await api(`/ui/api/state?${q}`);
    if (app.as !== asked.as || app.channel !== asked.channel) {
      again = true; // the person or channel changed while this was on its way: read again
      return;
    }
    if (status === 404 && app.channel && app.channel !== "home") {
      toast("That channel is not visible to this person.");
      app.channel = null;
      return load();
    }
    if (status !== 200) {
      toast(data.error || `state: HTTP ${status}`);
      return;
    }
    app.state = data;
    app.as = data.me.name;
    if (!app.channel) {
      const general = data.channels.find((c) => c.name === "general") || data.channels[0];
      app.channel = general ? general.id : "home";
      return load();
    }
    render();
  }

  function connect() {
    const live = $("#live");
    const source = new EventSource("/ui/api/events");
    source.addEventListener("open", () => {
      live.className = "live on";
      live.title = "Live updates connected";
      document.body.dataset.live = "on";
      refresh();
    });
    source.addEventListener("change", () => refresh());
    source.addEventListener("error", () => {
      live.className = "live off";
      live.title = "Reconnecting…";
      document.body.dataset.live = "off";
    });
  }

  // -- helpers ------------------------------------------------------------------------------------

  function fmtCtx() {
    const s = app.state;
    const users = {};
    for (const p of s.people) users[p.id] = p;
    const channels = {};
    for (const c of s.channels) channels[c.id] = c;
    return {
      users, channels, usergroups: s.usergroups, me: s.me.id, tz: s.me.tz, locale: s.me.locale, now: s.now,
    };
  }

  function personById(id) {
    return app.state.people.find((p) => p.id === id);
  }

  function initials(name) {
    return (name || "?").split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
  }

  function avatar(user, bot) {
    if (bot) return h("div", { class: "avatar bot", text: "🛡" });
    let hue = 0;
    for (const ch of (user && user.id) || "") hue = (hue * 31 + ch.charCodeAt(0)) % 360;
    const node = h("div", { class: "avatar", text: initials(user && user.real_name) });
    node.style.background = `hsl(${hue} 45% 45%)`; // CSSOM: the CSP allows no style attributes
    return node;
  }

  function toast(text) {
    const node = h("div", { class: "toast", role: "status", text });
    $("#toasts").append(node);
    setTimeout(() => node.remove(), 6000);
  }

  function setUrl() {
    const q = new URLSearchParams({ as: app.as });
    if (app.channel) q.set("c", app.channel);
    history.replaceState(null, "", `?${q}`);
  }

  function channelLabel(c) {
    if (c.is_im) return c.id === app.state.dm ? app.state.bot.real_name : "Direct message";
    return c.name;
  }

  function currentIsHome() {
    return app.channel === "home";
  }

  // -- rendering: sidebar ----------------------------------------------------------------------------

  function renderSidebar() {
    const s = app.state;
    $("#team-name").textContent = s.team.name;
    const select = $("#person");
    if (!select.options.length) {
      for (const p of s.people.filter((p) => !p.is_bot)) {
        select.append(h("option", { value: p.name, text: `${p.real_name} — ${p.department}` }));
      }
    }
    select.value = s.me.name;
    const me = $("#me");
    me.replaceChildren(
      avatar(s.me),
      h(
        "div",
        { class: "me-text" },
        h("div", { class: "me-name", "data-me": s.me.name, text: s.me.real_name }),
        h("div", { class: "me-dept", text: `${s.me.department} · ${s.me.tz}` })
      )
    );
    const seen = (app.seen[s.me.id] = app.seen[s.me.id] || {});
    const fresh = Object.keys(seen).length === 0;
    const nav = $("#nav");
    const item = (c, icon) => {
      if (fresh) seen[c.id] = c.latest;
      const unread = Number(c.latest) > Number(seen[c.id] || 0) && c.id !== app.channel;
      return h(
        "a",
        {
          href: `?as=${encodeURIComponent(s.me.name)}&c=${c.id}`,
          class: `nav-item${c.id === app.channel ? " active" : ""}${unread ? " unread" : ""}`,
          "data-channel-id": c.id,
          "data-channel-name": c.is_im ? "" : c.name,
          "data-private": c.is_private && !c.is_im ? "true" : "false",
          onclick: (ev) => {
            ev.preventDefault();
            openChannel(c.id);
          },
        },
        h("span", { class: "nav-icon", text: icon }),
        h("span", { class: "nav-name", text: channelLabel(c) })
      );
    };
    const channels = s.channels.filter((c) => !c.is_im);
    const dms = s.channels.filter((c) => c.is_im);
    const items = [
      h(
        "a",
        {
          href: `?as=${encodeURIComponent(s.me.name)}&c=home`,
          class: `nav-item${currentIsHome() ? " active" : ""}`,
          "data-nav": "home",
          onclick: (ev) => {
            ev.preventDefault();
            openChannel("home");
          },
        },
        h("span", { class: "nav-icon", text: "🏠" }),
        h("span", { class: "nav-name", text: `${s.bot.real_name} · Home` })
      ),
      h("div", { class: "nav-section", text: "Channels" }),
      channels.map((c) => item(c, c.is_private ? "🔒" : "#")),
      h("div", { class: "nav-section", text: "Direct messages" }),
      dms.map((c) => item(c, "🛡")),
    ];
    nav.replaceChildren(...items.flat());
  }

  // -- rendering: a channel ----------------------------------------------------------------------------

  function renderHeader() {
    const header = $("#channel-header");
    if (currentIsHome()) {
      header.replaceChildren(
        h("div", { class: "ch-title" }, h("span", { class: "ch-icon", text: "🛡" }), h("span", { text: app.state.bot.real_name })),
        h(
          "div",
          { class: "tabs" },
          h("span", { class: "tab active", text: "Home" }),
          h("a", { class: "tab", href: "#", text: "Messages", onclick: (ev) => (ev.preventDefault(), openChannel(app.state.dm)) })
        )
      );
      return;
    }
    const c = app.state.channel;
    const title = c.is_im ? app.state.bot.real_name : c.name;
    const pins = c.pins.length;
    header.replaceChildren(
      h(
        "div",
        { class: "ch-title", "data-channel-title": c.is_im ? "" : c.name },
        h("span", { class: "ch-icon", text: c.is_im ? "🛡" : c.is_private ? "🔒" : "#" }),
        h("span", { text: title }),
        c.archived ? h("span", { class: "badge", text: "archived" }) : null
      ),
      c.is_im
        ? h("div", { class: "tabs" },
            h("a", { class: "tab", href: "#", text: "Home", onclick: (ev) => (ev.preventDefault(), openChannel("home")) }),
            h("span", { class: "tab active", text: "Messages" }))
        : h("div", { class: "ch-topic", nodes: BR.mrkdwn(c.topic || c.purpose || "", fmtCtx()) }),
      h(
        "div",
        { class: "ch-tools" },
        c.is_im ? null : h("span", { class: "ch-members", title: "Members", text: `👥 ${c.members.length}` }),
        h("button", {
          class: `btn small${app.pinsOpen ? " active" : ""}`,
          type: "button",
          "data-pins-toggle": true,
          text: `📌 ${pins} pinned`,
          onclick: () => {
            app.pinsOpen = !app.pinsOpen;
            render();
          },
        })
      )
    );
  }

  function messageSig(m) {
    return JSON.stringify([m, app.state.me.id, app.dismissed.has(m.ts)]);
  }

  function reactionsBar(m, c) {
    const me = app.state.me.id;
    const bar = h("div", { class: "reactions" });
    for (const r of m.reactions || []) {
      const mine = r.users.includes(me);
      const names = r.users.map((u) => (personById(u) || { name: u }).name).join(", ");
      bar.append(
        h("button", {
          type: "button",
          class: `reaction${mine ? " mine" : ""}`,
          "data-reaction": r.name,
          title: `${names} reacted with :${r.name}:`,
          text: `${BR.emojiOf(r.name)} ${r.count}`,
          onclick: () => act("/ui/api/react", { channel: c.id, ts: m.ts, name: r.name, remove: mine }),
        })
      );
    }
    return bar;
  }

  const PICKS = ["pushpin", "white_check_mark", "eyes", "+1", "warning", "rotating_light", "memo", "tada"];

  function reactButton(m, c) {
    const menu = h("div", { class: "emoji-menu", hidden: true });
    for (const name of PICKS) {
      menu.append(
        h("button", {
          type: "button",
          class: "emoji-pick",
          "data-emoji": name,
          title: `:${name}:`,
          text: BR.emojiOf(name),
          onclick: (ev) => {
            ev.stopPropagation();
            menu.hidden = true;
            const existing = (m.reactions || []).find((r) => r.name === name);
            const mine = existing && existing.users.includes(app.state.me.id);
            act("/ui/api/react", { channel: c.id, ts: m.ts, name, remove: !!mine });
          },
        })
      );
    }
    const btn = h("button", {
      type: "button",
      class: "tool",
      title: "Add reaction",
      "data-add-reaction": true,
      text: "☺+",
      onclick: (ev) => {
        ev.stopPropagation();
        document.querySelectorAll(".emoji-menu").forEach((x) => x !== menu && (x.hidden = true));
        menu.hidden = !menu.hidden;
      },
    });
    return h("div", { class: "msg-tools" }, btn, menu);
  }

  function messageNode(m, c, replies) {
    const fmt = fmtCtx();
    const author = m.bot ? app.state.bot : personById(m.user) || { real_name: m.user || "unknown", name: m.user };
    const content = h("div", { class: "msg-content" });
    const where = m.ephemeral ? { channel: c.id, ts: m.ts, ephemeral: true } : { channel: c.id, ts: m.ts };
    const r = {
      fmt,
      people: app.state.people,
      channelList: app.state.channels,
      act: (kind, info) => act(`/ui/api/${kind}`, { ...where, block: info.block, element: info.element, choice: info.choice }),
    };
    if (m.blocks && m.blocks.length) content.append(BR.renderBlocks(m.blocks, r));
    else if (m.text) content.append(h("div", { class: "msg-text", nodes: BR.mrkdwn(m.text, fmt) }));
    for (const a of m.attachments || []) {
      const att = h("div", { class: "attachment" });
      // Through the CSSOM, not a style attribute: the page's CSP allows no inline styles.
      if (a.color) att.style.borderLeftColor = a.color.startsWith("#") ? a.color : `#${a.color}`;
      if (a.title) att.append(h("div", { class: "att-title", nodes: BR.mrkdwn(a.title, fmt) }));
      if (a.text) att.append(h("div", { nodes: BR.mrkdwn(a.text, fmt) }));
      for (const f of a.fields || []) att.append(h("div", { class: "section-field" }, h("b", { text: f.title || "" }), h("br"), BR.mrkdwn(f.value || "", fmt)));
      if (a.blocks) att.append(BR.renderBlocks(a.blocks, r));
      content.append(att);
    }
    for (const f of m.files || []) {
      content.append(
        h("a", { class: "file", href: f.url, target: "_blank", rel: "noopener", "data-file-id": f.id },
          h("span", { class: "file-icon", text: "📄" }),
          h("span", { class: "file-meta" }, h("span", { class: "file-title", text: f.title }), h("span", { class: "file-size", text: f.size ? `${f.size} bytes` : "" })))
      );
    }
    const node = h(
      "div",
      {
        class: `msg${m.ephemeral ? " ephemeral" : ""}${m.pinned ? " pinned" : ""}`,
        "data-ts": m.ts,
        "data-user": m.user || "",
        "data-ephemeral": m.ephemeral ? "true" : null,
        "data-pinned": m.pinned ? "true" : null,
        id: `msg-${m.ts.replace(".", "-")}`,
      },
      avatar(author, m.bot),
      h(
        "div",
        { class: "msg-body" },
        m.pinned ? h("div", { class: "pinned-marker", "data-pinned-marker": true, text: "📌 Pinned in this channel" }) : null,
        h(
          "div",
          { class: "msg-head" },
          h("span", { class: "author", text: author.real_name }),
          m.bot ? h("span", { class: "app-badge", text: "APP" }) : null,
          h("time", { class: "msg-time", title: m.ts, text: BR.fmtTs(m.ts, fmt) }),
          m.edited ? h("span", { class: "edited", "data-edited": true, text: "(edited)" }) : null
        ),
        content,
        m.ephemeral
          ? h("div", { class: "eph-note" },
              h("span", { text: "👁 Only visible to you" }),
              h("a", { href: "#", class: "dismiss", text: "Dismiss", onclick: (ev) => {
                ev.preventDefault();
                app.dismissed.add(m.ts);
                render();
              } }))
          : null,
        m.ephemeral ? null : reactionsBar(m, c),
        replies && replies.length
          ? h("div", { class: "thread", "data-thread": m.ts },
              h("div", { class: "thread-count", text: `${replies.length} ${replies.length === 1 ? "reply" : "replies"}` }),
              replies.map((x) => messageNode(x, c, null)))
          : null
      ),
      m.ephemeral ? null : reactButton(m, c)
    );
    return node;
  }

  function renderMessages() {
    const list = $("#messages");
    const c = app.state.channel;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (app.renderedChannel !== c.id) {
      list.replaceChildren();
      app.msgNodes.clear();
      app.renderedChannel = c.id;
    }
    const replies = {};
    const top = [];
    for (const m of c.messages) {
      if (app.dismissed.has(m.ts) && m.ephemeral) continue;
      if (m.thread_ts && m.thread_ts !== m.ts && c.messages.some((p) => p.ts === m.thread_ts)) {
        (replies[m.thread_ts] = replies[m.thread_ts] || []).push(m);
      } else {
        top.push(m);
      }
    }
    const keep = new Set();
    let prev = null;
    for (const m of top) {
      const sig = messageSig([m, replies[m.ts] || []]);
      let entry = app.msgNodes.get(m.ts);
      if (!entry || entry.sig !== sig) {
        const node = messageNode(m, c, replies[m.ts]);
        if (entry) entry.node.replaceWith(node);
        entry = { sig, node };
        app.msgNodes.set(m.ts, entry);
      }
      keep.add(m.ts);
      const want = prev ? prev.nextSibling : list.firstChild;
      if (want !== entry.node) list.insertBefore(entry.node, want);
      prev = entry.node;
    }
    for (const [ts, entry] of app.msgNodes) {
      if (!keep.has(ts)) {
        entry.node.remove();
        app.msgNodes.delete(ts);
      }
    }
    if (!top.length && !list.querySelector(".empty")) {
      list.append(h("div", { class: "empty", text: c.is_im ? "This is the start of your messages with the app." : `This is the very beginning of #${c.name}.` }));
    } else if (top.length) {
      list.querySelectorAll(".empty").forEach((n) => n.remove());
    }
    if (atBottom || app.scrollNext) list.scrollTop = list.scrollHeight;
    app.scrollNext = false;
  }

  function renderPins() {
    const panel = $("#pins-panel");
    const c = app.state.channel;
    if (!app.pinsOpen || !c) {
      panel.hidden = true;
      return;
    }
    panel.hidden = false;
    const fmt = fmtCtx();
    const pinned = c.messages.filter((m) => c.pins.includes(m.ts));
    panel.replaceChildren(...[
      h("div", { class: "panel-head" }, h("span", { text: "📌 Pinned" }),
        h("button", { class: "x", type: "button", text: "×", title: "Close", onclick: () => ((app.pinsOpen = false), render()) })),
      pinned.length
        ? pinned.map((m) =>
            h(
              "a",
              {
                class: "pin-item",
                href: "#",
                "data-pin-ts": m.ts,
                onclick: (ev) => {
                  ev.preventDefault();
                  const node = document.getElementById(`msg-${m.ts.replace(".", "-")}`);
                  if (node) {
                    node.scrollIntoView({ block: "center" });
                    node.classList.add("flash");
                    setTimeout(() => node.classList.remove("flash"), 1200);
                  }
                },
              },
              h("div", { class: "pin-author", text: m.bot ? app.state.bot.real_name : (personById(m.user) || {}).real_name || "" }),
              h("div", { class: "pin-text", nodes: BR.mrkdwn(summaryOf(m), fmt) })
            )
          )
        : h("div", { class: "empty", text: "Nothing is pinned here yet." })
    ].flat());
  }

  function summaryOf(m) {
    const header = (m.blocks || []).find((b) => b.type === "header");
    const text = header ? header.text.text : m.text || "";
    return text.length > 200 ? `${text.slice(0, 199)}…` : text;
  }

  // -- rendering: App Home --------------------------------------------------------------------------------

  function renderHome() {
    const list = $("#messages");
    app.renderedChannel = "home";
    app.msgNodes.clear();
    const home = app.state.home;
    const key = home ? `${app.state.me.id}:${home.hash}` : `none:${app.state.me.id}`;
    if (list.dataset.homeKey === key) return;
    list.dataset.homeKey = key;
    if (!home) {
      list.replaceChildren(h("div", { class: "empty", "data-home-empty": true, text: "The app has not published a Home tab for you yet." }));
      return;
    }
    const r = {
      fmt: fmtCtx(),
      people: app.state.people,
      channelList: app.state.channels,
      act: (kind, info) => act(`/ui/api/${kind}`, { view_id: home.id, block: info.block, element: info.element, choice: info.choice }),
    };
    list.replaceChildren(h("div", { class: "home-view", "data-view-id": home.id }, BR.renderBlocks(home.blocks, r)));
  }

  // -- rendering: modals -----------------------------------------------------------------------------------

  function renderModal() {
    const root = $("#modal-root");
    const view = app.state.modal;
    if (!view) {
      root.replaceChildren();
      app.modalKey = null;
      return;
    }
    const key = `${app.state.me.id}:${view.id}:${view.hash}:${JSON.stringify(view.errors)}`;
    if (key === app.modalKey) return;
    const old = root.querySelector(".modal");
    const keepState = old && old.dataset.viewId === view.id ? BR.formState(old) : null;
    app.modalKey = key;
    const r = {
      fmt: fmtCtx(),
      people: app.state.people,
      channelList: app.state.channels,
      form: true,
      errors: view.errors || {},
      act: (kind, info) => act(`/ui/api/${kind}`, { view_id: view.id, block: info.block, element: info.element, choice: info.choice }),
    };
    const body = h("form", { class: "modal-body", onsubmit: (ev) => (ev.preventDefault(), submit()) }, BR.renderBlocks(view.blocks, r));
    const known = new Set((view.blocks || []).map((b) => b.block_id));
    const stray = Object.entries(view.errors || {}).filter(([k]) => !known.has(k));
    if (stray.length) body.prepend(h("div", { class: "field-error", role: "alert", text: stray.map(([, v]) => v).join(" ") }));
    const submitBtn = view.submit
      ? h("button", { class: "btn primary", type: "button", "data-modal-submit": true, nodes: BR.plain(view.submit), onclick: () => submit() })
      : null;
    const closeText = view.close ? BR.plain(view.close) : view.submit ? "Cancel" : "Close";
    const modal = h(
      "div",
      {
        class: "modal",
        role: "dialog",
        "aria-modal": "true",
        "data-view-id": view.id,
        "data-callback-id": view.callback_id || "",
        "data-depth": app.state.modal_depth,
      },
      h(
        "div",
        { class: "modal-head" },
        app.state.modal_depth > 1 ? h("button", { class: "x back", type: "button", title: "Back", text: "←", onclick: () => closeModal(view) }) : null,
        h("span", { class: "modal-app", text: "🛡" }),
        h("h2", { class: "modal-title", nodes: BR.plain(view.title) }),
        h("button", { class: "x", type: "button", title: "Close", "data-modal-x": true, text: "×", onclick: () => closeModal(view) })
      ),
      body,
      h(
        "div",
        { class: "modal-foot" },
        h("button", { class: "btn", type: "button", "data-modal-close": true, nodes: closeText, onclick: () => closeModal(view) }),
        submitBtn
      )
    );
    if (keepState) BR.restoreForm(modal, keepState);
    root.replaceChildren(h("div", { class: "modal-backdrop" }, modal));
    const firstError = modal.querySelector(".field-error");
    if (firstError) {
      firstError.closest(".b-input")?.scrollIntoView({ block: "center" });
    } else if (!keepState) {
      const first = modal.querySelector(".b-input input, .b-input textarea, .b-input select");
      if (first) first.focus();
    }
  }

  async function submit() {
    const view = app.state.modal;
    const modal = $("#modal-root .modal");
    if (!view || !modal) return;
    const values = BR.formValues(modal, view);
    // As Slack does: a required input left empty never reaches the app.
    const missing = BR.missingRequired(modal, view);
    if (Object.keys(missing).length) {
      app.modalKey = null;
      app.state.modal = { ...view, errors: { ...(view.errors || {}), ...missing } };
      renderModal();
      return;
    }
    modal.classList.add("submitting");
    modal.querySelectorAll(".modal-foot button").forEach((b) => (b.disabled = true));
    try {
      await act("/ui/api/submit", { view_id: view.id, values });
    } finally {
      modal.classList.remove("submitting");
      modal.querySelectorAll(".modal-foot button").forEach((b) => (b.disabled = false));
    }
  }

  function closeModal(view) {
    return act("/ui/api/close", { view_id: view.id });
  }

  // -- composer ------------------------------------------------------------------------------------------------

  function renderComposer() {
    const input = $("#composer-input");
    const c = app.state.channel;
    const where = currentIsHome() ? "the app" : c.is_im ? app.state.bot.real_name : `#${c.name}`;
    input.placeholder = `Message ${where} — or a slash command, e.g. /breach help`;
    $("#composer").hidden = currentIsHome();
    const note = $("#composer-note");
    note.textContent = c && !c.is_im && !c.is_member ? `You are not a member of #${c.name}: only slash commands work here.` : "";
  }

  async function send() {
    const input = $("#composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    app.scrollNext = true;
    const channel = app.state.channel.id;
    if (text.startsWith("/")) await act("/ui/api/command", { channel, text });
    else await act("/ui/api/say", { channel, text });
    input.focus();
  }

  // -- navigation ---------------------------------------------------------------------------------------------

  function openChannel(id) {
    app.channel = id;
    app.pinsOpen = false;
    app.scrollNext = true;
    setUrl();
    if (id === "home") {
      $("#messages").dataset.homeKey = "";
      act("/ui/api/home", {});
    } else {
      refresh();
    }
  }

  function switchPerson(name) {
    app.as = name;
    app.modalKey = null;
    app.renderedChannel = null;
    app.scrollNext = true;
    $("#messages").dataset.homeKey = "";
    setUrl();
    refresh().then(() => {
      if (app.channel === "home") act("/ui/api/home", {});
    });
  }

  function render() {
    const s = app.state;
    if (!s) return;
    document.body.dataset.version = String(s.version);
    document.body.dataset.as = s.me.name;
    document.title = `${currentIsHome() ? "Home" : s.channel.is_im ? s.bot.real_name : "#" + s.channel.name} · ${s.team.name} (sandbox)`;
    if (!currentIsHome()) {
      const seen = (app.seen[s.me.id] = app.seen[s.me.id] || {});
      seen[s.channel.id] = s.channel.latest;
    }
    setUrl();
    renderSidebar();
    renderHeader();
    if (currentIsHome()) {
      renderHome();
      $("#pins-panel").hidden = true;
    } else {
      $("#messages").dataset.homeKey = "";
      renderMessages();
      renderPins();
    }
    renderComposer();
    renderModal();
    document.body.dataset.ready = "true";
  }

  // -- start ---------------------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("#person").addEventListener("change", (ev) => switchPerson(ev.target.value));
    $("#composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      send();
    });
    $("#composer-input").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        send();
      }
    });
    document.addEventListener("click", () => document.querySelectorAll(".emoji-menu").forEach((m) => (m.hidden = true)));
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && app.state && app.state.modal && !document.querySelector(".confirm-dialog")) closeModal(app.state.modal);
    });
    refresh().then(() => {
      if (app.channel === "home") act("/ui/api/home", {});
    });
    connect();
  });
})();
