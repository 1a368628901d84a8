"""The assignments the kit can grade: one hidden-check module each, in ``checks/``."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CHECKS = Path(__file__).resolve().parent / "checks"


@dataclass(frozen=True)
class Assignment:
    id: str  # nbgrader's assignment name, e.g. "01_loss_functions"

    @property
    def notebook(self) -> str:
        return self.id.split("_", 1)[1] + ".ipynb"

    @property
    def checks(self) -> Path:
        return CHECKS / f"{self.id}.py"


def all_assignments() -> dict[str, Assignment]:
    return {p.stem: Assignment(p.stem) for p in sorted(CHECKS.glob("*.py")) if re.fullmatch(r"\d\d_\w+", p.stem)}
