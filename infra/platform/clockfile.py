"""The program clock of a deployment, kept in DATA_DIR/clock.json so every command starts
new workflows on the same clock. Absent = real time (production)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from domain.clock import ProgramClock

FILE = "clock.json"


def load_clock(data_dir: Path, now: datetime | None = None) -> ProgramClock:
    path = data_dir / FILE
    if path.exists():
        return ProgramClock.model_validate_json(path.read_text())
    return ProgramClock.real_time(now or datetime.now(UTC))


def save_clock(data_dir: Path, clock: ProgramClock) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / FILE).write_text(clock.model_dump_json(indent=2))


def program_today(data_dir: Path) -> date:
    """Today on the deployment's program clock."""
    return load_clock(data_dir).today(datetime.now(UTC))
