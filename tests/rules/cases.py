"""Loading the worked cases of kechuang/rules/cases/*.yaml (shared by the tests)."""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).resolve().parents[2] / "kechuang" / "rules" / "cases"


@dataclass
class Case:
    file: str
    name: str
    on: dt.date
    situation: dict[str, Any]
    expect: dict[str, Any]
    explain: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.file}: {self.name}"


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        base = content.get("base", {})
        for raw in content["cases"]:
            unknown = set(raw) - {"name", "assessed_on", "situation", "expect", "explain", "replace_base"}
            assert not unknown, f"{path.name} {raw.get('name')}: unknown keys {unknown}"
            situation = {} if raw.get("replace_base") else dict(base)
            situation.update(raw.get("situation") or {})
            cases.append(
                Case(
                    file=path.name,
                    name=raw["name"],
                    on=raw.get("assessed_on", content["assessed_on"]),
                    situation=situation,
                    expect=raw.get("expect") or {},
                    explain=raw.get("explain") or {},
                )
            )
    return cases
