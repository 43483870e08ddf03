"""The firm's editable configuration, loaded and cross-checked once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from incident.playbook import Playbook, load_playbooks
from incident.regimes import Regimes, load_regimes
from incident.roles_config import RolesConfig, load_roles

DEFAULT_PLAYBOOK = "data_breach"


@dataclass(frozen=True)
class IncidentConfig:
    roles: RolesConfig
    playbooks: dict[str, Playbook]
    regimes: Regimes
    default_playbook: str = DEFAULT_PLAYBOOK

    def playbook(self, playbook_id: str | None) -> Playbook:
        return self.playbooks[playbook_id or self.default_playbook]


def load_config(
    roles_file: str | Path | None = None,
    playbook_dir: str | Path | None = None,
    regimes_file: str | Path | None = None,
) -> IncidentConfig:
    """Roles, then regimes, then the playbooks that refer to both; any problem raises ConfigError."""
    roles = load_roles(roles_file)
    regimes = load_regimes(regimes_file, roles.keys())
    playbooks = load_playbooks(playbook_dir, roles, set(regimes.ids()))
    default = DEFAULT_PLAYBOOK if DEFAULT_PLAYBOOK in playbooks else sorted(playbooks)[0]
    return IncidentConfig(roles=roles, playbooks=playbooks, regimes=regimes, default_playbook=default)
