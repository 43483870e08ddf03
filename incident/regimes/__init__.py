"""Regulatory regimes: which breach-notification obligations an incident triggers, and by when.

The regimes are data (``incident/data/regimes.yaml``, version 2) the firm can edit. Each regime
yields one or more obligations, one per recipient, each with its own clock and notice. The
package holds one concept per module:

- ``facts``: what is known about an incident (``Facts``) and the fact vocabulary;
- ``durations``: deadline lengths (``30m``, ``72h``, ``14bd``) and business days;
- ``conditions``: the condition language and its three-valued evaluation;
- ``model``: ``Regimes`` → ``Regime`` → ``Obligation``, the jurisdictions and categories;
- ``loading``: the YAML file read into the model, mistakes reported with their lines;
- ``evaluation``: facts → per-obligation ``Applicability`` (status, reasons, deadline);
- ``deadlines``: clock states, time left, reminder times;
- ``diff``: how the verdicts moved when the facts did.
"""

from __future__ import annotations

from incident.regimes.conditions import (
    ANY,
    AllOf,
    AnyOf,
    Condition,
    ConditionField,
    Leaf,
    Not,
    Outcome,
    Vocabulary,
)
from incident.regimes.deadlines import (
    MISSED_STATES,
    REMINDER_OFFSETS,
    ClockState,
    clock_state,
    is_missed,
    reminder_times,
    time_left,
)
from incident.regimes.diff import Change, ChangeKind, diff
from incident.regimes.durations import Duration, add_business_days
from incident.regimes.evaluation import STATUS_KEYS, Applicability, Status, evaluate, status_label
from incident.regimes.facts import (
    CAC_GRADE_KEYS,
    CAC_GRADES,
    CLOCK_START_KEYS,
    CLOCK_STARTS,
    FACT_NAMES,
    FACT_SPECS,
    FLAG_FACTS,
    ROLES,
    CacGrade,
    ClockStart,
    Facts,
    InvalidFact,
    Role,
    cac_grade_label,
    clock_start_label,
)
from incident.regimes.loading import DEFAULT_REGIMES_PATH, default_vocabulary, load_regimes
from incident.regimes.model import (
    FILL_FIELDS,
    NOTICE_LANGUAGES,
    RECIPIENT_KINDS,
    After,
    Category,
    DeadlineOverride,
    Jurisdiction,
    JurisdictionGroup,
    NoticeItem,
    Obligation,
    RecipientKind,
    Regime,
    Regimes,
    Source,
    obligation_id,
    obligation_title,
    split_obligation_id,
)

__all__ = [
    "ANY",
    "CAC_GRADES",
    "CAC_GRADE_KEYS",
    "CLOCK_STARTS",
    "CLOCK_START_KEYS",
    "DEFAULT_REGIMES_PATH",
    "FACT_NAMES",
    "FACT_SPECS",
    "FILL_FIELDS",
    "FLAG_FACTS",
    "MISSED_STATES",
    "NOTICE_LANGUAGES",
    "RECIPIENT_KINDS",
    "REMINDER_OFFSETS",
    "ROLES",
    "STATUS_KEYS",
    "After",
    "AllOf",
    "AnyOf",
    "Applicability",
    "CacGrade",
    "Category",
    "Change",
    "ChangeKind",
    "ClockStart",
    "ClockState",
    "Condition",
    "ConditionField",
    "DeadlineOverride",
    "Duration",
    "Facts",
    "InvalidFact",
    "Jurisdiction",
    "JurisdictionGroup",
    "Leaf",
    "Not",
    "NoticeItem",
    "Obligation",
    "Outcome",
    "RecipientKind",
    "Regime",
    "Regimes",
    "Role",
    "Source",
    "Status",
    "Vocabulary",
    "add_business_days",
    "cac_grade_label",
    "clock_start_label",
    "clock_state",
    "default_vocabulary",
    "diff",
    "evaluate",
    "is_missed",
    "load_regimes",
    "obligation_id",
    "obligation_title",
    "reminder_times",
    "split_obligation_id",
    "status_label",
    "time_left",
]
