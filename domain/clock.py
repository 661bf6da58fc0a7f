"""The program clock: how workflow (real) time maps to program calendar time.

Production runs at speed 1 from the present. The demo and the tests run years in seconds
with a high speed, and every recorded date is still a real calendar date. Speed 0 freezes
program time (timers then never fire)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ProgramClock(BaseModel):
    model_config = ConfigDict(frozen=True)

    origin_real: datetime
    origin_program: datetime
    speed: float = Field(default=1.0, ge=0)

    @field_validator("origin_real", "origin_program")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @classmethod
    def real_time(cls, now: datetime) -> ProgramClock:
        return cls(origin_real=now, origin_program=now, speed=1.0)

    @classmethod
    def compressed(cls, now: datetime, program_start: date, speed: float) -> ProgramClock:
        """Program time starts at `program_start` (midnight UTC) now and runs `speed` times
        faster than real time."""
        return cls(origin_real=now, origin_program=midnight(program_start), speed=speed)

    def at(self, real: datetime) -> datetime:
        return self.origin_program + (real - self.origin_real) * self.speed

    def today(self, real: datetime) -> date:
        return self.at(real).date()

    def real_delay(self, real_now: datetime, program_target: datetime) -> timedelta | None:
        """Real time until the program reaches `program_target`; None if it never will."""
        ahead = program_target - self.at(real_now)
        if ahead <= timedelta(0):
            return timedelta(0)
        if self.speed == 0:
            return None
        return ahead / self.speed

    def frozen(self, real_now: datetime) -> ProgramClock:
        return ProgramClock(origin_real=real_now, origin_program=self.at(real_now), speed=0)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
