"""`breachroom check` judges every configuration file before the bot loads it, naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from incident.playbook import BUILTIN_DIR
from incident.roles_config import DEFAULT_ROLES_PATH
from incident.severity import DEFAULT_SEVERITY_PATH


def line_of(text: str, fragment: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if fragment in row)


def copy(tmp_path: Path, source: Path, name: str, change: tuple[str, str] | None = None) -> Path:
    text = source.read_text(encoding="utf-8")
    if change:
        assert change[0] in text
        text = text.replace(change[0], change[1], 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_configuration_passes(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    for var in ("BREACHROOM_ROLES_FILE", "BREACHROOM_PLAYBOOK_DIR", "BREACHROOM_REGIMES_FILE"):
        monkeypatch.delenv(var, raising=False)
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    for name in ("roles.yaml: OK", "regimes.yaml: OK", "severity.yaml: OK", "data_breach.yaml: OK"):
        assert name in out
    assert "all configuration files are valid" in out


def test_each_broken_file_is_named_with_its_line_and_the_exit_status_is_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    roles = copy(tmp_path, DEFAULT_ROLES_PATH, "roles.yaml", ("  - key: deputy", "  - key: Deputy"))
    severity = copy(tmp_path, DEFAULT_SEVERITY_PATH, "severity.yaml", ("cadence: 1h", "cadence: soon"))
    monkeypatch.setenv("BREACHROOM_ROLES_FILE", str(roles))  # the file the bot would load is the one checked

    code = main(["check", "--severity", str(severity)])

    err = capsys.readouterr().err
    assert code == 1
    assert f"{roles}:{line_of(roles.read_text(), 'key: Deputy')}: key 'Deputy' is not valid" in err
    assert f"{severity}:{line_of(severity.read_text(), 'cadence: soon')}:" in err
    assert "not checked: the roles file they refer to is invalid" in err
    assert "the configuration has errors" in err


def test_a_broken_playbook_in_a_given_folder_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    for source in BUILTIN_DIR.glob("*.yaml"):
        copy(folder, source, source.name)
    broken = copy(
        folder, BUILTIN_DIR / "ransomware.yaml", "ransomware.yaml", ("owner: forensics", "owner: hacker")
    )

    code = main(["check", "--playbooks", str(folder)])

    err = capsys.readouterr().err
    assert code == 1
    assert f"{broken}:{line_of(broken.read_text(), 'owner: hacker')}: unknown role 'hacker'" in err


def test_playbook_show_takes_the_id_as_an_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbook", "show", "ransomware", "--locale", "en"]) == 0
    assert capsys.readouterr().out.startswith("Ransomware — ransomware v2")
    assert main(["playbook", "show", "nope"]) == 1
    assert "no playbook 'nope' (known: data_breach" in capsys.readouterr().err
