"""The report's own words, in both languages."""

from __future__ import annotations

from incident.text import Text

LABELS: dict[str, Text] = {
    "title.internal": Text("安全报告（内部）", "Security report (internal)"),
    "title.client": Text("安全报告（致客户）", "Security report (for clients)"),
    "period": Text("报告期间", "Period"),
    "generated": Text("生成时间", "Generated"),
    "previous": Text("上一期间", "previous period"),
    "section.summary": Text("概况", "Summary"),
    "section.severity": Text("按严重级别", "By severity"),
    "section.category": Text("按数据类别", "By data category"),
    "section.times": Text("响应用时（中位数 / 最长）", "Response times (median / worst)"),
    "section.clocks": Text("法规时限", "Regulatory clocks"),
    "section.register": Text("事件登记", "Incidents"),
    "section.actions": Text("后续行动", "Follow-up actions"),
    "section.drills": Text("应急演练", "Drills"),
    "section.lessons": Text("经验教训", "Lessons learned"),
    "section.decisions": Text("通知决定", "Notification decisions"),
    "incidents": Text("真实事件数", "Real incidents"),
    "trend": Text("趋势", "Trend"),
    "to_declare": Text("发现到宣布", "Discovery to declaration"),
    "to_contain": Text("发现到控制", "Discovery to containment"),
    "to_notify": Text("发现到通知", "Discovery to notification"),
    "to_resolve": Text("宣布到解决", "Declaration to resolution"),
    "median": Text("中位数", "median"),
    "worst": Text("最长", "worst"),
    "none": Text("无", "none"),
    "clocks_met": Text("按时完成的法规通知", "Regulatory clocks met"),
    "met_rate": Text("达成率", "met rate"),
    "open_actions": Text("未完成的后续行动", "Open follow-up actions"),
    "overdue_actions": Text("其中逾期", "of which overdue"),
    "policy_changes": Text("本期制度修订", "Policy changes this period"),
    "training_changes": Text("本期培训", "Training changes this period"),
    "drills_held": Text("本期演练", "Drills held"),
    "drill.contained": Text("控制用时", "time to contain"),
    "drill.clocks": Text("时限达成/错过", "clocks met/missed"),
    "drill.closed": Text("已结束", "closed"),
    "drill.open": Text("进行中", "still open"),
    "lessons_count": Text("本期记录的经验教训条数", "Lessons recorded this period"),
    "col.key": Text("编号", "Key"),
    "col.severity": Text("级别", "Severity"),
    "col.status": Text("状态", "Status"),
    "col.title": Text("标题", "Title"),
    "col.categories": Text("数据类别", "Data categories"),
    "col.people": Text("受影响人数", "People affected"),
    "col.notify": Text("通知", "Notifications"),
    "col.action": Text("行动", "Action"),
    "col.owner": Text("负责人", "Owner"),
    "col.due": Text("截止", "Due"),
    "col.category": Text("类别", "Category"),
    "col.regime": Text("法规", "Regime"),
    "col.decision": Text("决定", "Decision"),
    "col.rationale": Text("理由", "Rationale"),
    "col.by": Text("决定人", "Decided by"),
    "privileged": Text("（受律师-客户特权保护）", " (legally privileged)"),
    "overdue": Text("已逾期", "overdue"),
    "decision.notified": Text("已通知", "notified"),
    "decision.not_notified": Text("决定不通知", "not notified"),
    "decision.pending": Text("待定", "pending"),
    "kind.log": Text("登记", "logged"),
    "client_note": Text(
        "本报告为对客户版本：不含人员姓名、客户名称、内部记录及受特权保护的内容。",
        "This is the client-facing version: it leaves out people's and clients' names, internal notes and "
        "anything marked legally privileged.",
    ),
}


def label(key: str, locale: str) -> str:
    return LABELS[key].get(locale)
