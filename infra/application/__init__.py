"""The application layer: program operations for every front door (CLI, demo, HTTP API),
apart from any one of them. `infra.bootstrap` builds it over its adapters."""

from infra.application.port import Program
from infra.application.service import ProgramService

__all__ = ["Program", "ProgramService"]
