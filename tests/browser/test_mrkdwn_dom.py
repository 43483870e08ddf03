"""The page's mrkdwn renderer, run under Node with a minimal DOM: what people type stays text.

No browser needed: the renderer only ever calls createElement / createTextNode /
setAttribute / append, so a tiny document that records those calls shows exactly which
elements and attributes a message can produce. The shim's innerHTML throws, so any return
to string-built HTML fails here first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from sandbox.ui.routes import STATIC

NODE = shutil.which("node") or shutil.which("nodejs")

RUNNER = r"""
const fs = require("fs"), vm = require("vm");
class Text { constructor(t) { this.nodeType = 3; this.data = String(t); } }
class Parent {
  constructor() { this.childNodes = []; }
  append(...xs) {
    for (const x of xs) {
      if (typeof x === "string") this.childNodes.push(new Text(x));
      else if (x instanceof Fragment) { this.childNodes.push(...x.childNodes); x.childNodes = []; }
      else if (x instanceof Text || x instanceof Element) this.childNodes.push(x);
      else throw new Error("appended a non-node: " + typeof x);
    }
  }
}
class Fragment extends Parent {}
class Element extends Parent {
  constructor(tag) { super(); this.tagName = tag; this.attributes = {}; }
  setAttribute(k, v) { this.attributes[k] = String(v); }
  set innerHTML(v) { throw new Error("innerHTML used"); }
  set outerHTML(v) { throw new Error("outerHTML used"); }
  insertAdjacentHTML() { throw new Error("insertAdjacentHTML used"); }
}
const document = {
  createElement: (t) => new Element(t),
  createTextNode: (t) => new Text(t),
  createDocumentFragment: () => new Fragment(),
};
const sandbox = { document, Intl, Date, Math, Number, String, Object, Error };
sandbox.window = sandbox;
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(process.argv[process.argv.length - 1], "utf8"), sandbox);
const ser = (n) => n instanceof Text ? { text: n.data }
  : { tag: n.tagName, attrs: n.attributes, children: n.childNodes.map(ser) };
const ctx = {
  users: { UALICE001: { real_name: "Alice Chen" } }, channels: { C0GENERAL1: { name: "general" } },
  usergroups: {}, tz: "UTC", locale: "en-US", now: 1800000000,
};
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const out = cases.map((src) => {
  const div = new Element("div");
  div.append(sandbox.BR.mrkdwn(src, ctx));
  return div.childNodes.map(ser);
});
process.stdout.write(JSON.stringify(out));
"""

ALLOWED = {
    "b": set(),
    "i": set(),
    "s": set(),
    "br": set(),
    "code": set(),
    "pre": {"class"},
    "blockquote": set(),
    "span": {"class", "data-user-id", "data-channel-link"},
    "time": {"class", "datetime", "title"},
    "a": {"href", "target", "rel"},
}
HOSTILE = [
    # A label that tries to close the attribute it lands in and add a handler.
    '<!date^1700000000^{date}|x" onmouseover="alert(1)> and <@UALICE001|y" onclick="alert(2)>',
    # Typed placeholders that once pulled markup into an attribute: must name nothing.
    "<!date^1700000000^{date}|\u00011\u0002> <@UALICE001>",
    # A tag, as Slack delivers it (escaped), and raw.
    "&lt;img src=x onerror=alert(3)&gt; *&lt;script&gt;alert(4)&lt;/script&gt;*",
    "<img src=x onerror=alert(5)>",
    '<javascript:alert(6)|click> <https://ok.example/?q="><b>x</b>|link>',
    '```</pre><script>alert(7)</script>``` `"><svg onload=alert(8)>`',
]


def render(sources: list[str]) -> list[list[dict[str, Any]]]:
    if NODE is None:
        pytest.skip("Node.js is not installed")
    done = subprocess.run(
        [NODE, "-e", RUNNER, str(STATIC / "mrkdwn.js")],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for node in nodes:
        found.append(node)
        found.extend(walk(node.get("children", [])))
    return found


def text_of(nodes: list[dict[str, Any]]) -> str:
    return "".join(n.get("text", "") for n in walk(nodes))


def test_hostile_messages_render_as_text_and_open_no_tag() -> None:
    for source, nodes in zip(HOSTILE, render(HOSTILE), strict=True):
        for node in walk(nodes):
            if "tag" not in node:
                continue
            assert node["tag"] in ALLOWED, (source, node)
            assert set(node["attrs"]) <= ALLOWED[node["tag"]], (source, node)
            href = node["attrs"].get("href")
            assert href is None or href.startswith(("https:", "http:", "mailto:", "/")), (source, href)
    first, second, escaped, raw, links, code = render(HOSTILE)
    # The would-be attributes are plain text (or an attribute's whole value), never attributes.
    mention = next(n for n in walk(first) if n.get("attrs", {}).get("data-user-id"))
    assert mention["attrs"] == {"class": "mention", "data-user-id": "UALICE001"}
    assert (
        next(n for n in walk(first) if n.get("tag") == "time")["attrs"]["title"] == 'x" onmouseover="alert(1)'
    )
    # A typed \u0001n\u0002 names no held piece: the date's title stays the typed label, minus them.
    second_time = next(n for n in walk(second) if n.get("tag") == "time")
    assert second_time["attrs"]["title"] == "1" and "mention" not in json.dumps(second_time)
    assert "<img src=x onerror=alert(3)>" in text_of(escaped) and "<script>alert(4)</script>" in text_of(
        escaped
    )
    assert [n["tag"] for n in walk(escaped) if "tag" in n] == ["b"]
    assert all("tag" not in n or n["tag"] not in ("img", "script", "svg") for n in walk(raw + links + code))
    assert "javascript" not in json.dumps([n.get("attrs") for n in walk(links)])
    assert "</pre><script>alert(7)</script>" in text_of(code) and '"><svg onload=alert(8)>' in text_of(code)


def test_mrkdwn_still_reads_as_slack_shows_it() -> None:
    cases = [
        "*Payroll* _leaked_ ~maybe~ `BR-1`",
        "<@UALICE001> in <#C0GENERAL1>",
        ":pushpin: pinned\n> quoted",
    ]
    styled, mention, quoted = render(cases)
    assert [n["tag"] for n in walk(styled) if "tag" in n] == ["b", "i", "s", "code"]
    assert text_of(styled) == "Payroll leaked maybe BR-1"
    assert text_of(mention) == "@Alice Chen in #general"
    assert text_of(quoted) == "📌 pinnedquoted"  # the line break is the blockquote itself
    assert [n["tag"] for n in walk(quoted) if "tag" in n] == ["blockquote"]
