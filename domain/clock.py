"""The program clock: how workflow (real) time maps to program calendar time.

Production runs at speed 1 from the present. The demo and the tests run years in seconds
with a high speed, and every recorded date is still a real calendar date. Speed 0 freezes
program time (timers then never fire)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import Field, field_validator, model_validator

from domain.model import Frozen


class ProgramClock(Frozen):
    origin_real: datetime
    origin_program: datetime
    speed: float = Field(default=1.0, ge=0)
    # Optionally, from program time `until` on the clock runs at `then_speed` instead (the
    # demo replays history fast, then carries on at real speed from "today").
    until: datetime | None = None
    then_speed: float = Field(default=1.0, ge=0)

    @field_validator("origin_real", "origin_program", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _switch_reachable(self) -> ProgramClock:
        if self.until is not None and self.speed == 0:
            raise ValueError("a frozen clock never reaches `until`")
        return self

    def _switch_real(self) -> datetime | None:
        """The real instant at which program time reaches `until`."""
        if self.until is None:
            return None
        return self.origin_real + (self.until - self.origin_program) / self.speed

    @classmethod
    def real_time(cls, now: datetime) -> ProgramClock:
        return cls(origin_real=now, origin_program=now, speed=1.0)

    @classmethod
    def compressed(cls, now: datetime, program_start: date, speed: float) -> ProgramClock:
        """Program time starts at `program_start` (midnight UTC) now and runs `speed` times
        faster than real time."""
        return cls(origin_real=now, origin_program=midnight(program_start), speed=speed)

    def at(self, real: datetime) -> datetime:
        switch = self._switch_real()
        if switch is not None and self.until is not None and real > switch:
            return self.until + (real - switch) * self.then_speed
        return self.origin_program + (real - self.origin_real) * self.speed

    def today(self, real: datetime) -> date:
        return self.at(real).date()

    def real_delay(self, real_now: datetime, program_target: datetime) -> timedelta | None:
        """Real time until the program reaches `program_target`; None if it never will."""
        now = self.at(real_now)
        if program_target <= now:
            return timedelta(0)
        switch = self._switch_real()
        if switch is None or self.until is None:
            return None if self.speed == 0 else (program_target - now) / self.speed
        if real_now >= switch:
            slow = program_target - now
            return None if self.then_speed == 0 else slow / self.then_speed
        if program_target <= self.until:
            return (program_target - now) / self.speed
        if self.then_speed == 0:
            return None
        return (self.until - now) / self.speed + (program_target - self.until) / self.then_speed

    def frozen(self, real_now: datetime) -> ProgramClock:
        return ProgramClock(origin_real=real_now, origin_program=self.at(real_now), speed=0)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
