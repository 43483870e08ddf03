"""Every id Slack sees (action ids, callback ids, block ids) lives here."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    # The incident card (value: incident id)
    CARD_RETRY_SETUP = "card_retry_setup"
    CARD_REFRESH = "card_refresh"
    CARD_POST_UPDATE = "card_post_update"
    CARD_NEXT_PHASE = "card_next_phase"
    CARD_ASSIGN_ROLE = "card_assign_role"
    CARD_SEVERITY = "card_severity"
    CARD_RESOLVE = "card_resolve"
    CARD_CLOSE = "card_close"
    CARD_TIMELINE = "card_timeline"
    # Access to a confidential incident
    REQUEST_ACCESS = "request_access"
    ACCESS_APPROVE = "access_approve"
    ACCESS_DENY = "access_deny"
    # Checklist items (value: item id and version)
    ITEM_DONE = "item_done"
    ITEM_NA = "item_na"
    ITEM_ASSIGN = "item_assign"
    ITEM_REOPEN = "item_reopen"
    ITEM_NOTE = "item_note"
    # Reminders (value: reminder id)
    REMINDER_SNOOZE = "reminder_snooze"
    REMINDER_DONE = "reminder_done"
    REMINDER_POST_UPDATE = "reminder_post_update"
    # App Home
    HOME_OPEN_INCIDENT = "home_open_incident"
    # The phase gate's refusal (value: "<incident id>:<phase key>")
    PHASE_OVERRIDE = "phase_override"
    # Follow-up actions list (value: action item id)
    ACTION_DONE = "action_done"
    # The notify form's regime select (re-shows that regime's required notice contents)
    NOTIFY_REGIME = "notify_regime"
    # The card's suggested severity (value: "<incident id>:<severity>")
    CARD_ACCEPT_SEVERITY = "card_accept_severity"
    # App Home's Settings part (admins)
    SETTINGS_EDIT = "settings_edit"
    # Draft the notice for one obligation (value: "<incident id>:<regime>/<key>")
    NOTICE_DRAFT = "notice_draft"
    # The declare and facts forms' menus of the regimes file's jurisdictions and data categories
    # (the declare form's jurisdictions dispatch: choosing them may ask for a clock's legal start;
    # past 100 options either menu loads its options as one types)
    JURISDICTIONS = "jurisdictions"
    DATA_CATEGORIES = "data_categories"


class CallbackId(StrEnum):
    DECLARE = "declare"
    CLOSE = "close"
    RESOLVE = "resolve"
    ASSIGN_ROLE = "assign_role"
    STATUS_UPDATE = "status_update"
    ITEM_NA = "item_na"
    ITEM_ASSIGN = "item_assign"
    ITEM_NOTE = "item_note"
    PHASE_OVERRIDE = "phase_override"
    NOTIFY = "notify"
    DECISION = "decision"
    EVIDENCE = "evidence"
    ACTION_ITEM = "action_item"
    LOG_EVENT = "log_event"
    ADD_TO_TIMELINE = "add_to_timeline"
    FACTS = "facts"
    NO_NOTIFY = "no_notify"
    SETTINGS = "settings"
    NOTICE_DRAFT = "notice_draft"
