"""Block Kit checks: what Slack rejects in a message or a view.

Each block goes through slack_sdk's own models (which catch wrong shapes and some
limits), then through the limits those models miss. Problems come back as Slack words
them in ``response_metadata.messages``: ``[ERROR] … [json-pointer:/blocks/0/text/text]``.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_VALUE = 2000
MAX_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
MAX_MESSAGE_TEXT = 40000
MAX_UPDATE_TEXT = 4000
MAX_OPTION_TEXT = 75
MAX_OPTIONS = 100
MAX_OPTION_GROUPS = 100
MAX_GROUP_LABEL = 75
MAX_SUGGESTED_VALUE = 150


def _err(text: str, pointer: str) -> str:
    return f"[ERROR] {text} [json-pointer:{pointer}]"


def _too_long(limit: int, pointer: str) -> str:
    return _err(f"must be less than {limit + 1} characters", pointer)


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def _check_ids(obj: dict[str, Any], pointer: str, out: list[str]) -> None:
    for key in ("action_id", "block_id"):
        value = obj.get(key)
        if isinstance(value, str) and len(value) > MAX_ID:
            out.append(_too_long(MAX_ID, f"{pointer}/{key}"))


def _check_options(options: Any, pointer: str, out: list[str]) -> None:
    if not isinstance(options, list):
        return
    if len(options) > MAX_OPTIONS:
        out.append(_err(f"must provide no more than {MAX_OPTIONS} items", pointer))
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        if len(_text_of(option.get("text"))) > MAX_OPTION_TEXT:
            out.append(_too_long(MAX_OPTION_TEXT, f"{pointer}/{i}/text/text"))
        value = option.get("value")
        if isinstance(value, str) and len(value) > MAX_VALUE:
            out.append(_too_long(MAX_VALUE, f"{pointer}/{i}/value"))


def _check_element(element: Any, pointer: str, out: list[str]) -> None:
    if not isinstance(element, dict):
        return
    _check_ids(element, pointer, out)
    kind = element.get("type")
    if kind == "button":
        if len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT:
            out.append(_too_long(MAX_BUTTON_TEXT, f"{pointer}/text/text"))
    value = element.get("value")
    if isinstance(value, str) and len(value) > MAX_VALUE:
        out.append(_too_long(MAX_VALUE, f"{pointer}/value"))
    _check_options(element.get("options"), f"{pointer}/options", out)
    for g, group in enumerate(element.get("option_groups") or []):
        if isinstance(group, dict):
            _check_options(group.get("options"), f"{pointer}/option_groups/{g}/options", out)


def check_options_answer(answer: Any) -> list[str]:
    """What Slack rejects in an app's answer to a block_suggestion (an external select's options).

    The answer is a JSON object with `options` (at most 100) or `option_groups` (at most 100,
    each a label and at most 100 options); an option's text is at most 75 characters and its
    value at most 150. Slack shows the person an error in the menu and no options otherwise.
    """
    if not isinstance(answer, dict):
        return [_err("the options response must be a JSON object", "/")]
    options, groups = answer.get("options"), answer.get("option_groups")
    if options is None and groups is None:
        return [_err("missing required field: options or option_groups", "/")]
    if options is not None and groups is not None:
        return [_err("provide options or option_groups, not both", "/")]
    out: list[str] = []

    def check(items: Any, pointer: str) -> None:
        if not isinstance(items, list):
            out.append(_err("must be an array", pointer))
            return
        _check_options(items, pointer, out)
        for i, option in enumerate(items):
            if not isinstance(option, dict) or not _text_of(option.get("text")):
                out.append(_err("missing required field: text", f"{pointer}/{i}"))
                continue
            value = option.get("value")
            if not isinstance(value, str) or not value:
                out.append(_err("missing required field: value", f"{pointer}/{i}/value"))
            elif len(value) > MAX_SUGGESTED_VALUE:
                out.append(_too_long(MAX_SUGGESTED_VALUE, f"{pointer}/{i}/value"))

    if options is not None:
        check(options, "/options")
    else:
        if not isinstance(groups, list):
            return [_err("must be an array", "/option_groups")]
        if len(groups) > MAX_OPTION_GROUPS:
            out.append(_err(f"must provide no more than {MAX_OPTION_GROUPS} items", "/option_groups"))
        for g, group in enumerate(groups):
            where = f"/option_groups/{g}"
            if not isinstance(group, dict):
                out.append(_err("must be an object", where))
                continue
            label = _text_of(group.get("label"))
            if not label:
                out.append(_err("missing required field: label", f"{where}/label"))
            elif len(label) > MAX_GROUP_LABEL:
                out.append(_too_long(MAX_GROUP_LABEL, f"{where}/label/text"))
            check(group.get("options"), f"{where}/options")
    return _dedupe(out)


def _check_block_limits(block: dict[str, Any], pointer: str, out: list[str]) -> None:
    _check_ids(block, pointer, out)
    kind = block.get("type")
    if kind == "section":
        if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
            out.append(_too_long(MAX_SECTION_TEXT, f"{pointer}/text/text"))
        fields = block.get("fields") or []
        if len(fields) > MAX_SECTION_FIELDS:
            out.append(_err(f"must provide no more than {MAX_SECTION_FIELDS} items", f"{pointer}/fields"))
        for i, item in enumerate(fields):
            if len(_text_of(item)) > MAX_FIELD_TEXT:
                out.append(_too_long(MAX_FIELD_TEXT, f"{pointer}/fields/{i}/text"))
        _check_element(block.get("accessory"), f"{pointer}/accessory", out)
    elif kind == "header":
        if len(_text_of(block.get("text"))) > MAX_HEADER_TEXT:
            out.append(_too_long(MAX_HEADER_TEXT, f"{pointer}/text/text"))
    elif kind == "actions":
        elements = block.get("elements") or []
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            out.append(_err(f"must provide no more than {MAX_ACTIONS_ELEMENTS} items", f"{pointer}/elements"))
        for i, element in enumerate(elements):
            _check_element(element, f"{pointer}/elements/{i}", out)
    elif kind == "context":
        elements = block.get("elements") or []
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            out.append(_err(f"must provide no more than {MAX_CONTEXT_ELEMENTS} items", f"{pointer}/elements"))
    elif kind == "input":
        _check_element(block.get("element"), f"{pointer}/element", out)


def check_blocks(blocks: Any, max_blocks: int = MAX_MESSAGE_BLOCKS, pointer: str = "/blocks") -> list[str]:
    """Every problem Slack would report for a list of blocks, in Slack's words."""
    if not isinstance(blocks, list):
        return [_err("must be an array", pointer)]
    out: list[str] = []
    if len(blocks) > max_blocks:
        out.append(_err(f"must provide no more than {max_blocks} items", pointer))
    for i, raw in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(raw, dict) or "type" not in raw:
            out.append(_err("missing required field: type", where))
            continue
        found: list[str] = []
        _check_block_limits(raw, where, found)
        if not found:
            # Only when our precise, pointer-carrying checks pass, so one problem is one message.
            try:
                parsed = Block.parse(raw)
                if parsed is None:
                    found.append(_err(f"unsupported type: {raw.get('type')}", f"{where}/type"))
                else:
                    parsed.validate_json()
            except (SlackObjectFormationError, TypeError, AttributeError, KeyError, ValueError) as exc:
                found.append(_err(str(exc) or type(exc).__name__, where))
        out.extend(found)
    return _dedupe(out)


def check_view(view: Any) -> list[str]:
    """Every problem Slack would report for a modal or home view."""
    if not isinstance(view, dict):
        return [_err("must be an object", "/view")]
    out: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        out.append(_err("must be one of modal, home", "/view/type"))
    if kind == "modal":
        if not view.get("title"):
            out.append(_err("missing required field: title", "/view/title"))
        elif len(_text_of(view.get("title"))) > MAX_VIEW_TITLE:
            out.append(_too_long(MAX_VIEW_TITLE, "/view/title/text"))
        for key in ("submit", "close"):
            if view.get(key) and len(_text_of(view[key])) > MAX_VIEW_BUTTON:
                out.append(_too_long(MAX_VIEW_BUTTON, f"/view/{key}/text"))
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and not view.get("submit"):
            out.append(_err("submit is required when an input block is present", "/view/submit"))
    metadata = view.get("private_metadata")
    if isinstance(metadata, str) and len(metadata) > MAX_PRIVATE_METADATA:
        out.append(_too_long(MAX_PRIVATE_METADATA, "/view/private_metadata"))
    callback_id = view.get("callback_id")
    if isinstance(callback_id, str) and len(callback_id) > MAX_CALLBACK_ID:
        out.append(_too_long(MAX_CALLBACK_ID, "/view/callback_id"))
    external_id = view.get("external_id")
    if isinstance(external_id, str) and len(external_id) > MAX_ID:
        out.append(_too_long(MAX_ID, "/view/external_id"))
    out.extend(check_blocks(view.get("blocks", []), MAX_VIEW_BLOCKS, "/view/blocks"))
    if not out:
        try:
            View(**view).validate_json()
        except (SlackObjectFormationError, TypeError, AttributeError, KeyError, ValueError) as exc:
            out.append(_err(str(exc) or type(exc).__name__, "/view"))
    return _dedupe(out)


def _dedupe(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))
