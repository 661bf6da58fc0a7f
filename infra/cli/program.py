"""Program operations: each command goes to the city's (or cohort's) workflow through the
application layer, so a refusal prints the domain's reason (exit 4, or 3 for bad input)
and records nothing."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from activities.ports import CityRef
from domain import commands
from domain.answers import Answers, parse_self_assessment
from domain.drafts import check_confirmed_codes
from domain.streams import city_key
from domain.views import open_standard
from infra.application import ProgramService
from infra.bootstrap import open_program
from infra.cli.common import (
    JsonOption,
    Request,
    RequestIdOption,
    async_command,
    city_key_arg,
    cli_settings,
    confirm,
    echo_json,
    print_view,
    retryable,
    send_and_print,
    shown,
)
from infra.platform.errors import CommandRefused, InvalidInput, UsageError
from infra.platform.files import load_document
from infra.postgres.service_database import open_pool
from infra.readside.announcements import ReadModelAwaitingAnnouncement

City = Annotated[str, typer.Argument(help="City key, e.g. us-boston-ma (see `wwc list`).",
                                     callback=city_key_arg)]
# Every command that changes something takes it (see `infra.cli.common.Request`).
RequestId = Annotated[str | None, RequestIdOption]

assessment_app = typer.Typer(help="A city's self-assessment.", no_args_is_help=True)
review_app = typer.Typer(help="The review team's work on an application.",
                         no_args_is_help=True)
cohort_app = typer.Typer(help="Cohorts: certified cities announced together.",
                         no_args_is_help=True)


def join_command(
    name: Annotated[str, typer.Option(help="City name as announced, e.g. 'Boston, MA'.")],
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2 code, e.g. US, BR, MX.")],
    population: Annotated[int, typer.Option(help="Residents (30,000 at least).")],
    standard: Annotated[str | None, typer.Option(
        help="Standard to assess against (default: the one in force).")] = None,
    latitude: Annotated[float | None, typer.Option(
        help="The city's latitude in degrees, for the public map (with --longitude).")] = None,
    longitude: Annotated[float | None, typer.Option(
        help="The city's longitude in degrees (west is negative).")] = None,
    as_json: Annotated[bool, JsonOption] = False,
    request_id: RequestId = None,
) -> None:
    """Join the network: starts the city's workflow and opens its first application."""
    if (latitude is None) != (longitude is None):
        raise UsageError("give --latitude and --longitude together (or neither)")
    location = (commands.Location(latitude=latitude, longitude=longitude)
                if latitude is not None and longitude is not None else None)
    command = commands.JoinNetwork(name=name, country=country, population=population,
                                   standard_id=standard, location=location)
    _join(command, as_json, request_id)


@async_command
async def _join(command: commands.JoinNetwork, as_json: bool, request_id: str | None) -> None:
    request = Request(request_id)
    key = city_key(command.country, command.name)
    with retryable(request):
        async with open_program(cli_settings()) as program:
            view = await program.join(command, update_id=request.update_id(key, type(command)))
            print_view(view, as_json, program.program_today())


def _answers_from(file: Path, expected_standard: str | None) -> Answers:
    assessment = parse_self_assessment(load_document(file), origin=str(file))
    if expected_standard and assessment.standard != expected_standard:
        raise InvalidInput(f"{file} is written for {assessment.standard}, but the "
                           f"application is under {expected_standard}")
    return assessment.to_answers()


def _assessment(city: str, file: Path, *, submit: bool, as_json: bool,
                request_id: str | None, confirm: list[str] | None = None) -> None:
    confirmed = tuple(confirm or ())

    async def from_file(program: ProgramService) -> commands.CityCommand:
        # The file must be written for the standard of the city's open application.
        view = await program.view(city)
        answers = _answers_from(file, view.standard_id)
        # A confirmed code the standard does not have is refused naming the option (the
        # service would refuse it too, naming the command's field).
        standard = open_standard(view, program.catalog)
        if standard is not None:
            check_confirmed_codes(standard, confirmed, field="--confirm")
        return (commands.SubmitAssessment(answers=answers, confirmed=confirmed) if submit
                else commands.SaveAssessment(answers=answers, confirmed=confirmed))

    _send(city, from_file, as_json, request_id)


_send = async_command(send_and_print)

# A reapplication starts from the last review's answers, each criterion to confirm
# (domain/carry_over.py); the refusal `unconfirmed_carry_over` names those left.
Confirm = Annotated[list[str] | None, typer.Option(
    "--confirm", metavar="CODE", help="A criterion carried over from the last review that "
    "still holds (repeat for each); a reapplication's answers claiming one unconfirmed "
    "are refused, as is a code the standard does not have (exit 3).")]


@assessment_app.command("submit")
def submit_command(
    city: City,
    file: Annotated[Path, typer.Argument(help="Self-assessment file (JSON or YAML).")],
    confirm: Confirm = None,
    as_json: Annotated[bool, JsonOption] = False,
    request_id: RequestId = None,
) -> None:
    """Submit the self-assessment for review (claimed criteria need their evidence)."""
    _assessment(city, file, submit=True, as_json=as_json, request_id=request_id,
                confirm=confirm)


@assessment_app.command("save")
def save_command(
    city: City,
    file: Annotated[Path, typer.Argument(help="Self-assessment file (JSON or YAML).")],
    confirm: Confirm = None,
    as_json: Annotated[bool, JsonOption] = False,
    request_id: RequestId = None,
) -> None:
    """Save a draft of the self-assessment (evidence not yet required)."""
    _assessment(city, file, submit=False, as_json=as_json, request_id=request_id,
                confirm=confirm)


@review_app.command("assign")
def assign_command(city: City, reviewer: Annotated[str, typer.Argument(
                       help="The reviewer's account e-mail (`wwc users add EMAIL --role "
                            "reviewer`).")],
                   as_json: Annotated[bool, JsonOption] = False,
                   request_id: RequestId = None) -> None:
    """Assign a reviewer (an active reviewer's account, never one affiliated with the
    city); the application moves under review."""
    _send(city, commands.AssignReviewer(reviewer=reviewer), as_json, request_id)


def _sheet(file: Path) -> commands.RecordReviews:
    data = load_document(file)
    if not isinstance(data, dict) or not data:
        raise InvalidInput(f"{file}: expected a mapping of criterion code to true, false or "
                           "a list of checklist items")
    reviews = []
    for code, value in data.items():
        if isinstance(value, bool):
            reviews.append(commands.RecordCriterionReview(code=str(code), met=value))
        elif isinstance(value, list):
            reviews.append(commands.RecordCriterionReview(code=str(code),
                                                          items=tuple(str(v) for v in value)))
        else:
            raise InvalidInput(f"{file}: criterion {code}: expected true, false or a list "
                               f"of items, got {value!r}")
    return commands.RecordReviews(reviews=tuple(reviews))


@review_app.command("record")
def record_command(
    city: City,
    code: Annotated[str | None, typer.Argument(help="Criterion code, e.g. DM1.")] = None,
    met: Annotated[bool, typer.Option("--met/--not-met", help="The review's verdict.")] = True,
    items: Annotated[str | None, typer.Option(
        help="Checklist items found met, comma-separated (checklist criteria).")] = None,
    note: Annotated[str, typer.Option(help="The reviewer's note.")] = "",
    sheet: Annotated[Path | None, typer.Option(
        help="A whole validation sheet: YAML/JSON mapping code -> true/false/[items].")] = None,
    as_json: Annotated[bool, JsonOption] = False,
    request_id: RequestId = None,
) -> None:
    """Record the review of one criterion, or of a whole sheet of them."""
    if (code is None) == (sheet is None):
        raise UsageError("give a criterion code or --sheet FILE (one of them)")
    command: commands.CityCommand = _sheet(sheet) if sheet is not None else (
        commands.RecordCriterionReview(
            code=str(code), met=met, note=note,
            items=tuple(i.strip() for i in items.split(",") if i.strip()) if items else None))
    _send(city, command, as_json, request_id)


@review_app.command("clarify")
def clarify_command(city: City, criterion: Annotated[str, typer.Argument(help="Code.")],
                    question: Annotated[str, typer.Argument(help="What the city must answer.")],
                    as_json: Annotated[bool, JsonOption] = False,
                    request_id: RequestId = None) -> None:
    """Ask the city to clarify an answer; the review waits for the answer."""
    _send(city, commands.RequestClarification(criterion=criterion, question=question), as_json,
          request_id)


@review_app.command("answer")
def answer_command(
    city: City, clarification: Annotated[int, typer.Argument(help="Clarification number.")],
    answer: Annotated[str, typer.Argument(help="The city's answer.")],
    evidence: Annotated[list[str] | None, typer.Option(help="Link (repeatable).")] = None,
    as_json: Annotated[bool, JsonOption] = False,
    request_id: RequestId = None,
) -> None:
    """Record the city's answer to a clarification request."""
    _send(city, commands.AnswerClarification(
        clarification_id=clarification, answer=answer, evidence=tuple(evidence or ())), as_json,
          request_id)


@review_app.command("complete")
def complete_command(
    city: City,
    outcome: Annotated[list[str] | None, typer.Option(
        help="Outcome benchmark validated as met (repeatable); default: the city's own.")] = None,
    as_json: Annotated[bool, JsonOption] = False,
    request_id: RequestId = None,
) -> None:
    """Complete the review (every claimed criterion reviewed, no clarification open)."""
    outcomes = {name: True for name in outcome} if outcome else None
    _send(city, commands.CompleteReview(outcomes=outcomes), as_json, request_id)


def decide_command(city: City, as_json: Annotated[bool, JsonOption] = False,
                   request_id: RequestId = None) -> None:
    """Score the reviewed answers and record the decision (tier or not certified)."""
    _send(city, commands.Decide(), as_json, request_id)


def reapply_command(
    city: City,
    standard: Annotated[str | None, typer.Option(help="Standard (default: in force).")] = None,
    as_json: Annotated[bool, JsonOption] = False,
    request_id: RequestId = None,
) -> None:
    """Open a new application; a current certification holds until the new decision."""
    _send(city, commands.Reapply(standard_id=standard), as_json, request_id)


def withdraw_command(city: City,
                     reason: Annotated[str, typer.Option(help="Why the city withdraws.")],
                     as_json: Annotated[bool, JsonOption] = False,
                     request_id: RequestId = None) -> None:
    """Withdraw the city from the network (it may join again later)."""
    _send(city, commands.Withdraw(reason=reason), as_json, request_id)


@cohort_app.command("create")
def cohort_create_command(
    cohort_id: Annotated[str, typer.Argument(help="e.g. 2024-06")],
    announce_on: Annotated[str, typer.Option("--date", help="Announcement date, YYYY-MM-DD.")],
    request_id: RequestId = None,
) -> None:
    """Create a cohort; on its date it announces every certified decision awaiting it."""
    try:
        day = date.fromisoformat(announce_on)
    except ValueError:
        raise UsageError(f"--date {announce_on!r} is not a date (YYYY-MM-DD)") from None
    try:
        command = commands.CreateCohort(cohort_id=cohort_id, announce_on=day)
    except ValidationError:
        raise UsageError(f"cohort id {cohort_id!r}: use letters, digits, '.', '_' and '-' "
                         "(at most 64), starting with a letter or digit") from None
    _create_cohort(command, request_id)


@async_command
async def _create_cohort(command: commands.CreateCohort, request_id: str | None) -> None:
    request = Request(request_id)
    with retryable(request):
        async with open_program(cli_settings()) as program:
            nothing_new = await program.create_cohort(
                command, request_id=request.update_id(command.cohort_id, type(command)))
    typer.echo(f"cohort {command.cohort_id} will be announced on {command.announce_on} (or "
               f"now: `wwc cohort announce {command.cohort_id}`)")
    if nothing_new:
        typer.echo(f"nothing new recorded: {nothing_new}")


@cohort_app.command("announce")
def cohort_announce_command(
    cohort_id: Annotated[str, typer.Argument(help="Cohort id.")],
    as_json: Annotated[bool, JsonOption] = False,
    request_id: RequestId = None,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Do not list the cities and ask first (asked only on a terminal).")]
        = False,
) -> None:
    """Announce the cohort now instead of on its date: every certified decision awaiting
    an announcement is published in it. On a terminal it first lists those cities and
    asks; a script (stdin not a terminal) or --yes announces at once."""
    if not yes and sys.stdin.isatty():
        awaiting = asyncio.run(_awaiting_announcement(cohort_id))
        if awaiting is not None:  # None: already announced, which the announcement says
            typer.echo(f"cohort {cohort_id} will announce {_cities(len(awaiting))} now, "
                       "publicly:" if awaiting else f"cohort {cohort_id} has no certified "
                       "decision awaiting an announcement: announced now, it stays empty")
            for city in awaiting:
                typer.echo(f"  {city.tier.value:<9} {shown(city.name)} ({city.city_key})")
            confirm(f"Announce cohort {cohort_id} now?")
    _announce_cohort(cohort_id, as_json, request_id)


def _cities(count: int) -> str:
    return f"{count} {'city' if count == 1 else 'cities'}"


async def _awaiting_announcement(cohort_id: str) -> list[CityRef] | None:
    """The certified decisions an announcement of `cohort_id` would publish now (read as
    the cohort's workflow reads them), or None when the cohort is announced already; a
    cohort that does not exist is "not found"."""
    settings = cli_settings()
    async with open_program(settings) as program:
        if (await program.cohort(cohort_id)).announced_on is not None:
            return None
    async with open_pool(settings) as pool:
        return await ReadModelAwaitingAnnouncement(pool).cities()


@async_command
async def _announce_cohort(cohort_id: str, as_json: bool, request_id: str | None) -> None:
    request = Request(request_id)
    nothing_new = None
    with retryable(request):
        async with open_program(cli_settings()) as program:
            try:
                result = await program.announce_cohort(
                    cohort_id, update_id=request.update_id(cohort_id, commands.AnnounceCohort))
            except CommandRefused as refused:
                # A cohort's workflow ends with its announcement, and its update ids with
                # it: a retry (an id given) that finds the cohort announced is answered
                # with the announcement. Without one, announcing twice is refused.
                if not request.retry or refused.code != "already_announced":
                    raise
                result = await program.cohort(cohort_id)
                nothing_new = f"cohort {cohort_id} was already announced on {result.announced_on}"
    if as_json:
        echo_json({**result.model_dump(mode="json"), "nothing_new": nothing_new})
        return
    typer.echo(f"cohort {cohort_id} announced on {result.announced_on}: "
               f"{_cities(len(result.cities))}")
    for city in result.cities:
        typer.echo(f"  {city.tier.value:<9} {shown(city.name)} ({city.city_key})")
    for skipped in result.skipped:
        typer.echo(f"  not announced: {skipped}")
    if nothing_new:
        typer.echo(f"nothing new recorded: {nothing_new}")
