"""The application layer: program operations for every front door (CLI, demo, HTTP API),
apart from any one of them. `open_program` connects one to the running service."""

from infra.application.connect import open_program
from infra.application.service import ProgramService

__all__ = ["ProgramService", "open_program"]
