/* Block Kit → DOM, for messages, modals and the App Home.
 *
 * Every interactive element carries data-block-index / data-element-index (its place, which
 * is how the page tells the sandbox driver what was used), plus data-action-id and
 * data-block-id for tests. Inputs expose brGet()/brSet() (raw form state, kept across view
 * updates) and brChoice() (the value submitted, in the driver's terms).
 */
(function () {
  "use strict";
  const BR = (window.BR = window.BR || {});

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      // Content is nodes (or strings, which append as text): never parsed as HTML.
      else if (key === "nodes") node.append(...[value].flat());
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key in node && typeof value !== "string") node[key] = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  BR.h = h;

  const optText = (o) => (o && o.text ? o.text.text || "" : "");

  // -- confirm dialogs -------------------------------------------------------------------------

  BR.confirm = function (confirm, fmt) {
    return new Promise((resolve) => {
      const done = (answer) => {
        backdrop.remove();
        resolve(answer);
      };
      const yes = h("button", {
        class: `btn ${confirm.style === "danger" ? "danger" : "primary"}`,
        "data-confirm-yes": true,
        nodes: BR.plain(confirm.confirm || { text: "Yes" }),
        onclick: () => done(true),
      });
      const backdrop = h(
        "div",
        { class: "modal-backdrop confirm-backdrop" },
        h(
          "div",
          { class: "modal confirm-dialog", role: "alertdialog", "data-confirm-dialog": true },
          h("div", { class: "modal-head" }, h("h2", { nodes: BR.plain(confirm.title || { text: "Are you sure?" }) })),
          h("div", { class: "modal-body", nodes: BR.text(confirm.text, fmt) }),
          h(
            "div",
            { class: "modal-foot" },
            h("button", {
              class: "btn",
              "data-confirm-no": true,
              nodes: BR.plain(confirm.deny || { text: "Cancel" }),
              onclick: () => done(false),
            }),
            yes
          )
        )
      );
      document.body.append(backdrop);
      yes.focus();
    });
  };

  // -- dates in the reader's timezone --------------------------------------------------------------

  function zoneParts(epochMs, tz) {
    const out = {};
    const f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23",
    });
    for (const p of f.formatToParts(new Date(epochMs))) out[p.type] = p.value;
    return out;
  }
  function zonedToEpoch(local, tz) {
    const [d, t] = local.split("T");
    const [Y, M, D] = d.split("-").map(Number);
    const [hh, mm] = (t || "00:00").split(":").map(Number);
    const guess = Date.UTC(Y, M - 1, D, hh, mm);
    const p = zoneParts(guess, tz);
    const seen = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute);
    return Math.round((guess - (seen - guess)) / 1000);
  }
  function epochToZoned(epoch, tz) {
    const p = zoneParts(epoch * 1000, tz);
    return `${p.year}-${p.month}-${p.day}T${String(+p.hour % 24).padStart(2, "0")}:${p.minute}`;
  }

  // -- elements -------------------------------------------------------------------------------------

  function place(attrs, el, bi, ei, block) {
    return {
      ...attrs,
      "data-action-id": el.action_id || "",
      "data-block-id": block.block_id || "",
      "data-block-index": bi,
      "data-element-index": ei === null ? "accessory" : ei,
      "data-type": el.type,
    };
  }

  function options(el) {
    const list = [...(el.options || [])];
    for (const g of el.option_groups || []) list.push(...(g.options || []));
    return list;
  }

  function selectNode(el, bi, ei, block, r, onPick) {
    const sel = h("select", place({ class: "select" }, el, bi, ei, block));
    const placeholder = el.placeholder ? optText({ text: el.placeholder }) : "Select an item";
    let initial = "";
    if (el.type === "users_select") {
      initial = el.initial_user || "";
      for (const p of r.people.filter((p) => !p.is_bot)) {
        sel.append(h("option", { value: p.id, text: `${p.real_name} (${p.name})` }));
      }
    } else if (el.type === "conversations_select" || el.type === "channels_select") {
      initial = el.initial_conversation || el.initial_channel || "";
      for (const c of r.channelList.filter((c) => !c.is_im)) sel.append(h("option", { value: c.id, text: `#${c.name}` }));
    } else {
      initial = el.initial_option ? el.initial_option.value : "";
      const add = (parent, o) => parent.append(h("option", { value: o.value, text: optText(o) }));
      for (const o of el.options || []) add(sel, o);
      for (const g of el.option_groups || []) {
        const grp = h("optgroup", { label: optText({ text: g.label }) });
        for (const o of g.options || []) add(grp, o);
        sel.append(grp);
      }
    }
    sel.prepend(h("option", { value: "", text: placeholder, disabled: true, class: "placeholder" }));
    sel.value = initial;
    if (!sel.value) sel.value = "";
    sel.brGet = () => sel.value;
    sel.brSet = (v) => (sel.value = v);
    sel.brChoice = () => (sel.value ? sel.value : undefined);
    if (onPick) sel.addEventListener("change", () => sel.value && onPick(sel.value));
    return sel;
  }

  function choiceList(el, bi, ei, block, r, kind, onPick) {
    const multi = kind === "checkbox";
    const box = h("div", place({ class: `choices ${multi ? "checkboxes" : "radios"}`, role: "group" }, el, bi, ei, block));
    const name = `f${Math.random().toString(36).slice(2)}`;
    const initial = multi
      ? new Set((el.initial_options || []).map((o) => o.value))
      : new Set(el.initial_option ? [el.initial_option.value] : []);
    let list = [];
    if (el.type === "multi_users_select") {
      list = r.people.filter((p) => !p.is_bot).map((p) => ({ value: p.id, label: `${p.real_name} (${p.name})` }));
      for (const u of el.initial_users || []) initial.add(u);
    } else {
      list = options(el).map((o) => ({
        value: o.value,
        nodes: BR.text(o.text, r.fmt),
        desc: o.description ? BR.text(o.description, r.fmt) : null,
      }));
    }
    for (const o of list) {
      const input = h("input", { type: multi ? "checkbox" : "radio", name, value: o.value, checked: initial.has(o.value) });
      const label = h(
        "label",
        { class: "choice", "data-option-value": o.value },
        input,
        h("span", { class: "choice-text", nodes: o.nodes || o.label }),
        o.desc ? h("span", { class: "choice-desc", nodes: o.desc }) : null
      );
      box.append(label);
    }
    const checked = () => [...box.querySelectorAll("input:checked")].map((i) => i.value);
    box.brGet = checked;
    box.brSet = (values) => box.querySelectorAll("input").forEach((i) => (i.checked = values.includes(i.value)));
    box.brChoice = () => (multi ? checked() : checked()[0]);
    if (onPick) box.addEventListener("change", () => onPick(box.brChoice()));
    return box;
  }

  function overflowNode(el, bi, ei, block, r, onPick) {
    const menu = h("div", { class: "overflow-menu", hidden: true });
    const wrap = h("div", { class: "overflow" });
    const btn = h("button", place({ class: "btn overflow-btn", type: "button", title: "More actions", text: "⋯" }, el, bi, ei, block));
    btn.addEventListener("click", (ev) => {
      ev.stopPropagation();
      document.querySelectorAll(".overflow-menu").forEach((m) => m !== menu && (m.hidden = true));
      menu.hidden = !menu.hidden;
    });
    for (const o of options(el)) {
      menu.append(
        h("button", {
          type: "button",
          class: "overflow-item",
          "data-option-value": o.value,
          nodes: BR.plain(o.text),
          onclick: (ev) => {
            ev.stopPropagation();
            menu.hidden = true;
            if (o.url) window.open(o.url, "_blank", "noopener");
            onPick(o.value);
          },
        })
      );
    }
    wrap.append(btn, menu);
    return wrap;
  }

  function textInput(el, bi, ei, block) {
    const common = place({ class: "text-input", placeholder: el.placeholder ? optText({ text: el.placeholder }) : null }, el, bi, ei, block);
    let node;
    if (el.type === "plain_text_input" && el.multiline) {
      node = h("textarea", { ...common, rows: 4, maxlength: el.max_length || null });
    } else if (el.type === "number_input") {
      node = h("input", {
        ...common, type: "number", step: el.is_decimal_allowed ? "any" : "1",
        min: el.min_value ?? null, max: el.max_value ?? null,
      });
    } else {
      const type = el.type === "email_text_input" ? "email" : el.type === "url_text_input" ? "url" : "text";
      node = h("input", { ...common, type, maxlength: el.max_length || null });
    }
    node.value = el.initial_value || "";
    node.brGet = () => node.value;
    node.brSet = (v) => (node.value = v);
    node.brChoice = () => node.value;
    return node;
  }

  function pickerNode(el, bi, ei, block, r, onPick) {
    const tz = r.fmt.tz || "UTC";
    let node;
    if (el.type === "datepicker") {
      node = h("input", place({ class: "text-input", type: "date" }, el, bi, ei, block));
      node.value = el.initial_date || "";
      node.brChoice = () => node.value || undefined;
    } else if (el.type === "timepicker") {
      node = h("input", place({ class: "text-input", type: "time" }, el, bi, ei, block));
      node.value = el.initial_time || "";
      node.brChoice = () => node.value || undefined;
    } else {
      node = h("input", place({ class: "text-input", type: "datetime-local", title: `Time zone: ${tz}` }, el, bi, ei, block));
      node.value = el.initial_date_time ? epochToZoned(el.initial_date_time, tz) : "";
      node.brChoice = () => (node.value ? zonedToEpoch(node.value, tz) : undefined);
    }
    node.brGet = () => node.value;
    node.brSet = (v) => (node.value = v);
    if (onPick) node.addEventListener("change", () => node.brChoice() !== undefined && onPick(node.brChoice()));
    return node;
  }

  /* One element. `live`: fire block_actions on use (messages, home, dispatching inputs). */
  function element(el, bi, ei, block, r, live) {
    if (!el || typeof el !== "object") return null;
    const fire = (kind) => (choice) => r.act(kind, { block: bi, element: ei, choice, el });
    const pick = live ? fire("select") : null;
    switch (el.type) {
      case "button": {
        const style = el.style === "primary" ? " primary" : el.style === "danger" ? " danger" : "";
        const btn = h("button", place({ class: `btn${style}`, type: "button", nodes: BR.plain(el.text) }, el, bi, ei, block));
        if (el.value !== undefined) btn.dataset.value = el.value;
        btn.addEventListener("click", async () => {
          if (el.confirm && !(await BR.confirm(el.confirm, r.fmt))) return;
          if (el.url) window.open(el.url, "_blank", "noopener");
          r.act("click", { block: bi, element: ei, el });
        });
        return btn;
      }
      case "static_select":
      case "external_select":
      case "users_select":
      case "conversations_select":
      case "channels_select":
        return selectNode(el, bi, ei, block, r, pick);
      case "multi_static_select":
      case "multi_external_select":
      case "multi_users_select":
      case "checkboxes":
        return choiceList(el, bi, ei, block, r, "checkbox", pick);
      case "radio_buttons":
        return choiceList(el, bi, ei, block, r, "radio", pick);
      case "overflow":
        return overflowNode(el, bi, ei, block, r, fire("select"));
      case "datepicker":
      case "timepicker":
      case "datetimepicker":
        return pickerNode(el, bi, ei, block, r, pick);
      case "plain_text_input":
      case "number_input":
      case "email_text_input":
      case "url_text_input":
        return textInput(el, bi, ei, block);
      case "image":
        return imageNode(el.image_url, el.alt_text, "el-image");
      case "mrkdwn":
      case "plain_text":
        return h("span", { class: "ctx-text", nodes: BR.text(el, r.fmt) });
      default:
        return h("span", { class: "unsupported", text: `[${el.type}]` });
    }
  }

  function imageNode(url, alt, cls) {
    const local = typeof url === "string" && url.startsWith("/");
    if (local) return h("img", { class: cls, src: url, alt: alt || "" });
    // No external assets: show what the image is, and link to it.
    return h(
      "a",
      { class: `${cls} image-placeholder`, href: url || "#", target: "_blank", rel: "noopener", title: url || "" },
      `🖼 ${alt || "image"}`
    );
  }

  // -- rich text (what people's own messages carry) -------------------------------------------------

  function richInline(elements, r) {
    return (elements || []).map((e) => {
      let node;
      if (e.type === "text") node = BR.text({ type: "plain_text", text: e.text || "", emoji: false });
      else if (e.type === "link") node = h("a", { href: /^(https?:|mailto:)/i.test(e.url || "") ? e.url : "#", target: "_blank", rel: "noopener" }, e.text || e.url);
      else if (e.type === "user") node = BR.mrkdwn(`<@${e.user_id}>`, r.fmt);
      else if (e.type === "channel") node = BR.mrkdwn(`<#${e.channel_id}>`, r.fmt);
      else if (e.type === "emoji") node = document.createTextNode(BR.emojiOf(e.name));
      else if (e.type === "date") node = BR.mrkdwn(`<!date^${e.timestamp}^${e.format}|${e.fallback || ""}>`, r.fmt);
      else node = document.createTextNode(e.text || "");
      const s = e.style || {};
      if (s.code) node = h("code", null, node);
      if (s.bold) node = h("b", null, node);
      if (s.italic) node = h("i", null, node);
      if (s.strike) node = h("s", null, node);
      return node;
    });
  }

  function richText(block, r) {
    const node = h("div", { class: "b-rich" });
    for (const part of block.elements || []) {
      if (part.type === "rich_text_section") node.append(h("div", { nodes: richInline(part.elements, r) }));
      else if (part.type === "rich_text_preformatted") node.append(h("pre", { class: "code-block", nodes: richInline(part.elements, r) }));
      else if (part.type === "rich_text_quote") node.append(h("blockquote", { nodes: richInline(part.elements, r) }));
      else if (part.type === "rich_text_list") {
        const list = h(part.style === "ordered" ? "ol" : "ul");
        for (const item of part.elements || []) list.append(h("li", { nodes: richInline(item.elements, r) }));
        node.append(list);
      }
    }
    return node;
  }

  // -- blocks ---------------------------------------------------------------------------------------

  function inputBlock(block, bi, r) {
    const el = block.element || {};
    const live = !r.form || block.dispatch_action;
    const field = element(el, bi, null, block, r, live);
    const error = (r.errors || {})[block.block_id || ""];
    const label = h(
      "div",
      { class: "field-label" },
      h("span", { nodes: BR.plain(block.label) }),
      block.optional ? h("span", { class: "optional", text: "(optional)" }) : null
    );
    return h(
      "div",
      { class: `b-input${error ? " has-error" : ""}`, "data-input-type": el.type || "" },
      label,
      field,
      block.hint ? h("div", { class: "hint", nodes: BR.plain(block.hint) }) : null,
      error ? h("div", { class: "field-error", role: "alert", "data-error-for": block.block_id || "", text: error }) : null
    );
  }

  function block(b, bi, r) {
    const base = { "data-block-id": b.block_id || "", "data-block-index": bi, "data-block-type": b.type };
    switch (b.type) {
      case "header":
        return h("div", { ...base, class: "b-header", nodes: BR.plain(b.text) });
      case "section": {
        const main = h("div", { class: "section-main" });
        if (b.text) main.append(h("div", { class: "section-text", nodes: BR.text(b.text, r.fmt) }));
        if (b.fields && b.fields.length) {
          const grid = h("div", { class: "section-fields" });
          for (const f of b.fields) grid.append(h("div", { class: "section-field", nodes: BR.text(f, r.fmt) }));
          main.append(grid);
        }
        const acc = b.accessory ? element(b.accessory, bi, null, b, r, true) : null;
        return h("div", { ...base, class: "b-section" }, main, acc ? h("div", { class: "accessory" }, acc) : null);
      }
      case "context":
        return h(
          "div",
          { ...base, class: "b-context" },
          (b.elements || []).map((e, ei) => element(e, bi, ei, b, r, true))
        );
      case "divider":
        return h("hr", { ...base, class: "b-divider" });
      case "actions":
        return h(
          "div",
          { ...base, class: "b-actions" },
          (b.elements || []).map((e, ei) => element(e, bi, ei, b, r, true))
        );
      case "image":
        return h(
          "figure",
          { ...base, class: "b-image" },
          b.title ? h("figcaption", { nodes: BR.plain(b.title) }) : null,
          imageNode(b.image_url, b.alt_text, "block-image")
        );
      case "input":
        return h("div", base, inputBlock(b, bi, r));
      case "rich_text":
        return h("div", base, richText(b, r));
      case "file":
        return h("div", { ...base, class: "b-file", text: `📎 file ${b.external_id || ""}` });
      default:
        return h("div", { ...base, class: "unsupported", text: `[unsupported block: ${b.type}]` });
    }
  }

  /* r: {fmt, act(kind, {block, element, choice, el}), people, channelList, form?, errors?} */
  BR.renderBlocks = function (blocks, r) {
    const root = h("div", { class: "blocks" });
    (blocks || []).forEach((b, bi) => root.append(block(b, bi, r)));
    return root;
  };

  /* The raw state of every input in a rendered view, keyed "block_id/action_id". */
  BR.formState = function (root) {
    const out = {};
    root.querySelectorAll("[data-block-index] [data-element-index='accessory'], .b-input [data-action-id]").forEach((n) => {
      if (n.brGet) out[`${n.dataset.blockId}/${n.dataset.actionId}`] = n.brGet();
    });
    return out;
  };
  BR.restoreForm = function (root, state) {
    root.querySelectorAll(".b-input [data-action-id]").forEach((n) => {
      const key = `${n.dataset.blockId}/${n.dataset.actionId}`;
      if (n.brSet && key in state) n.brSet(state[key]);
    });
  };

  /* What the driver's submit takes: {block_id (or label): choice}. */
  BR.formValues = function (root, view) {
    const values = {};
    (view.blocks || []).forEach((b, bi) => {
      if (b.type !== "input") return;
      const node = root.querySelector(`.b-input [data-block-index="${bi}"][data-element-index="accessory"]`);
      if (!node || !node.brChoice) return;
      const choice = node.brChoice();
      if (choice === undefined) return;
      const key = b.block_id || (b.label && b.label.text) || "";
      values[key] = choice;
    });
    return values;
  };

  /* Required inputs left empty: {block_id: message}, checked before anything is sent. */
  BR.missingRequired = function (root, view) {
    const missing = {};
    (view.blocks || []).forEach((b, bi) => {
      if (b.type !== "input" || b.optional) return;
      const node = root.querySelector(`.b-input [data-block-index="${bi}"][data-element-index="accessory"]`);
      const choice = node && node.brChoice ? node.brChoice() : undefined;
      const empty = choice === undefined || choice === "" || (Array.isArray(choice) && !choice.length);
      if (empty) missing[b.block_id || ""] = "Please complete this required field.";
    });
    return missing;
  };

  BR.zonedToEpoch = zonedToEpoch;
  document.addEventListener("click", () => document.querySelectorAll(".overflow-menu").forEach((m) => (m.hidden = true)));
})();
