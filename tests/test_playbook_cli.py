"""`breachroom playbook check|show`: a firm's edited playbook is judged before the bot ever loads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from incident.playbook import BUILTIN_DIR
from tests.test_playbook import GOOD  # the small playbook the loader is tested with


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)

    code = main(["playbook", "check", str(path)])

    out = capsys.readouterr().out
    assert code == 0
    assert f"{path}: OK — tiny v2: 2 phases, 2 items" in out


def test_the_builtin_playbooks_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbook", "check", str(BUILTIN_DIR)]) == 0
    assert "data_breach v2" in capsys.readouterr().out


def test_an_unknown_role_is_refused_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace("owner: compliance", "owner: hacker"))

    code = main(["playbook", "check", str(path)])

    err = capsys.readouterr().err
    assert code == 1
    assert f"{path}:18: unknown role 'hacker'" in err
    assert "1 problem found." in err


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("key: tell_regulator", "key: form_team"), 16, "duplicate item key 'form_team' (first on line 8)"),
        (("en: Tell the regulator", "fr: Informer"), 17, "title is missing the en translation"),
        (("due: 15m", "due: soon"), 11, "due: bad duration 'soon'"),
    ],
)
def test_each_mistake_names_its_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: tuple[str, str],
    line: int,
    message: str,
) -> None:
    path = write(tmp_path, GOOD.replace(*change))

    assert main(["playbook", "check", str(path)]) == 1

    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err and message in err


def test_every_mistake_is_listed_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace("owner: compliance", "owner: hacker").replace("due: 15m", "due: x"))

    assert main(["playbook", "check", str(path)]) == 1

    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}:11: due: bad duration 'x'")
    assert err[1].startswith(f"{path}:18: unknown role 'hacker'")
    assert err[2] == "2 problems found."


def test_show_prints_the_default_playbook_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbook", "show", "--locale", "en"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("Data breach response — data_breach v2")
    assert "1. Respond [respond] · opens at declaration" in out
    assert (
        "   • Isolate affected systems [isolate_systems] — Technical lead · due 1h after declaration" in out
    )


def test_show_another_playbook_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbook", "show", "--id", "ransomware", "--locale", "zh-CN"]) == 0

    out = capsys.readouterr().out
    assert "ransomware 第 2 版" in out.splitlines()[0]
    assert "应急响应" in out


def test_show_an_unknown_playbook_says_which_exist(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbook", "show", "--id", "nope"]) == 1

    err = capsys.readouterr().err
    assert "no playbook 'nope'" in err and "data_breach" in err and "ransomware" in err
