"""The data protection officer (个人信息保护负责人): GDPR Art. 33(3)(b) and PIPL Art. 52 name one, so the
incident can have one, assigned like any role and told their duties."""

from __future__ import annotations

from handlers.roles import find_role
from incident.roles_config import load_roles
from tests.harness import Slack
from tests.test_declare import declare
from tests.test_roles import card_of, holders_of

DPO = "Data protection officer (DPO)"


def test_the_dpo_role_is_configured_in_both_languages() -> None:
    roles = load_roles()
    dpo = roles["dpo"]
    assert dpo.name.get("zh-CN") == "个人信息保护负责人" and dpo.name.get("en") == DPO
    assert "GDPR Art. 33(3)(b)" in dpo.duties.get("en") and "PIPL Art. 52" in dpo.duties.get("en")
    assert "个人信息保护法第五十二条" in dpo.duties.get("zh-CN")
    assert not dpo.may_manage  # advises and is the contact point; does not run the incident
    assert find_role(roles, "个人信息保护负责人") is dpo and find_role(roles, "DPO") is dpo


async def test_the_dpo_is_briefed_at_declaration_and_the_card_hands_the_role_over(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    # In the sandbox firm the compliance officer is also the DPO: briefed for each role she holds.
    assert f"{DPO}: <@UERIN0001>" in card_of(slack, incident).all_text
    [briefed] = [m for m in slack.erin.dms if DPO in m.all_text]
    assert incident.key in briefed.all_text
    assert "Be the contact point for regulators and the people affected" in briefed.all_text
    assert "GDPR Art. 33(3)(b), PIPL Art. 52" in briefed.all_text
    assert any("Compliance officer" in m.all_text and DPO not in m.all_text for m in slack.erin.dms)

    await slack.heidi.click(card_of(slack, incident), "Assign role")
    await slack.settle()
    assert DPO in str(slack.heidi.modal().data)
    delivery = await slack.heidi.submit({"Role": DPO, "Person": "grace"})
    assert not delivery.errors, delivery.errors
    await slack.settle()

    erin, grace = await holders_of(slack, incident, "dpo")
    assert (erin.user_id, erin.relieved_by, grace.user_id) == ("UERIN0001", "UHEIDI001", "UGRACE001")
    assert f"{DPO}: <@UGRACE001>" in card_of(slack, incident).all_text
    assert [m for m in slack.grace.dms if DPO in m.all_text and "PIPL Art. 52" in m.all_text]
    assert not [m for m in slack.bob.dms + slack.dave.dms if DPO in m.all_text]  # nobody else
    assert not slack.violations()


async def test_the_dpo_can_be_named_in_chinese_with_the_role_command(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    await slack.heidi.command("role 个人信息保护负责人 <@UFRANK001|frank>", channel=incident.channel_id)
    await slack.settle()
    assert [a.user_id for a in await holders_of(slack, incident, "dpo")] == ["UERIN0001", "UFRANK001"]
    assert any(DPO in m.all_text for m in slack.frank.dms)
    event = (await slack.timeline(incident))[-1]
    assert event.kind == "role_assigned"
    assert event.data == {"role": "dpo", "before": "UERIN0001", "after": "UFRANK001"}
