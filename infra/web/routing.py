"""Declaring routes with their access rule, and finding out who is calling.

`route(router, "POST", "/api/...", Rule.X)` registers a handler behind the rule's guard
and records the rule in the OpenAPI operation (`x-wwc-access`), where the app and the
authorization-matrix test find it. A handler receives the `Caller`."""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from domain.reviews import ReviewRecord
from domain.views import CityView
from infra.identity.directory import Account
from infra.identity.sessions import Session
from infra.platform.errors import InvalidInput
from infra.platform.files import DuplicateKey, loads_json
from infra.readside.reviews import city_reviews
from infra.web.access import Denied, Rule, check_role, may_see_city, not_found
from infra.web.idempotency import KEY_HEADER
from infra.web.kept import KeptView
from infra.web.problems import PROBLEM_RESPONSES
from infra.web.services import services
from workflows.actors import RequestContext

SESSION_COOKIE = "wwc_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"  # the same token, in a form posted without JavaScript
# The most fields a posted form may have (Starlette keeps the form the guard parsed for the
# route): an invitation may tick every city an editor acts for (the body stays under 1 MB).
FORM_FIELDS = 1000
REQUEST_ID_HEADER = "X-Request-ID"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACCESS_KEY = "x-wwc-access"
SECRET_ANSWER_KEY = "x-wwc-answer-holds-secret"
# A POST that changes nothing (the codec endpoint, which the stock Temporal UI calls and
# cannot send our CSRF header to): no CSRF token needed.
CHANGES_NOTHING_KEY = "x-wwc-changes-nothing"
# A POST whose body is a file the route streams (`uploads.py`): the route keeps its own
# Idempotency-Key, once the body's hash is known.
STREAMED_BODY_KEY = "x-wwc-streamed-body"


@dataclass(frozen=True)
class Caller:
    account: Account | None
    via: Literal["anonymous", "session", "token"]
    session: Session | None
    request_id: str

    def context(self) -> RequestContext:
        if self.account is None:
            return RequestContext(actor_id="anonymous", actor_role="public",
                                  correlation_id=self.request_id)
        return self.account.context(self.request_id)

    @property
    def signed_in(self) -> Account:
        if self.account is None:  # the guard lets no such caller through
            raise Denied(401, "sign in first")
        return self.account


# Request ids: this process's random prefix and a counter, unique across processes and
# restarts like a uuid4 but without a system call and an object per request.
_PROCESS_PREFIX = os.urandom(6).hex()
_SEQUENCE = itertools.count(1)


def new_request_id() -> str:
    return f"{_PROCESS_PREFIX}{next(_SEQUENCE):010x}"


def request_id(request: Request) -> str:
    """The id the access log gave the request: always one of ours (a caller's
    X-Request-ID is kept beside it, never instead of it: it would become the correlation
    id recorded on the events the request causes)."""
    found: str = getattr(request.state, "request_id", "") or new_request_id()
    return found


async def identify(request: Request, today: date | None = None) -> Caller:
    """The caller: an API token (Authorization: Bearer), a session cookie, or nobody.
    `today` is the program's date, when the caller already has it."""
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    found = services(request)
    rid = request_id(request)
    caller = Caller(account=None, via="anonymous", session=None, request_id=rid)
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        account = (await found.kept.token_account(
            token.strip(), today or found.program.program_today())
                   if scheme.lower() == "bearer" else None)
        if account is None:
            raise Denied(401, "the API token is not valid (unknown, expired or revoked)")
        caller = Caller(account=account, via="token", session=None, request_id=rid)
    elif session_id := request.cookies.get(SESSION_COOKIE):
        session = await found.sessions.resolve(session_id)
        account = await found.directory.get(session.account_id) if session else None
        if session is not None and account is not None and not account.disabled:
            caller = Caller(account=account, via="session", session=session, request_id=rid)
    request.state.caller = caller
    return caller


def guard(rule: Rule, *, changes_nothing: bool = False
          ) -> Callable[[Request], Awaitable[Caller]]:
    async def check(request: Request) -> Caller:
        # Answers of every route but a public one are private: not to be stored by a
        # cache (the access log adds `Cache-Control: no-store`), whatever they turn out
        # to be, a refusal included.
        request.state.public = rule is Rule.PUBLIC
        today = services(request).program.program_today()  # once: a token's and a view's
        caller = await identify(request, today)
        key = request.path_params.get("key")
        try:
            check_role(caller.account, rule)
        except Denied as denied:
            # Under a city's path, what is not yours does not exist (no probing of keys).
            if key is not None and denied.status == 403 and denied.code is None:
                raise not_found(str(key)) from None
            raise
        # A public route changes nothing of the caller's (signing in again only replaces
        # the session), so it needs no CSRF token; every other change does.
        if caller.via == "session" and request.method not in SAFE_METHODS \
                and rule is not Rule.PUBLIC and not changes_nothing:
            assert caller.session is not None
            if not caller.session.csrf_ok(await _csrf_token(request)):
                raise Denied(403, f"missing or wrong CSRF token (send the {CSRF_HEADER} "
                                  "header given at sign-in)")
        if rule.is_city_rule:
            request.state.city = await _city_for(request, caller, rule, str(key), today)
        return caller

    return check


async def _csrf_token(request: Request) -> str | None:
    """The CSRF token a change carries: the header the portal's script sends, or, from a
    form the browser posts without JavaScript, its `csrf_token` field. (Starlette keeps
    the parsed form on the request: the route reads the same one.)"""
    found = request.headers.get(CSRF_HEADER)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if found is None and kind == "application/x-www-form-urlencoded":
        field = (await request.form(max_files=0, max_fields=FORM_FIELDS)).get(CSRF_FIELD)
        return field if isinstance(field, str) else None
    return found


async def _city_for(request: Request, caller: Caller, rule: Rule, key: str,
                    today: date) -> KeptView:
    """The city's view from its read model (no workflow query per request), kept while
    the read model stands (`kept.py`): every write through the API brings it up to date
    before answering (`after_write`), the server's background loop follows the program's
    own writers (timers, cohorts, the CLI)."""
    account = caller.signed_in
    found = services(request)
    kept = await found.kept.city_view(key, today)
    reviewed_by = None
    if kept is not None and rule is Rule.ITS_REVIEWER:
        reviewed_by = await _reviewer_of(request, key)
    if kept is None or not may_see_city(account, rule, key, kept.view,
                                        reviewed_by=reviewed_by):
        raise not_found(key)
    return kept


async def _reviewer_of(request: Request, key: str) -> str | None:
    """The reviewer of the review the path names (`.../reviews/{number}`), read from the
    city's log; the city's reviews are kept for the route (`city_reviews_of`)."""
    number = str(request.path_params.get("number", ""))
    records = await city_reviews(services(request).store, key)
    request.state.reviews = records
    return next((r.reviewer for r in records if number.isdigit() and r.number == int(number)),
                None)


def city_reviews_of(request: Request) -> list[ReviewRecord]:
    """The city's reviews the guard read for an `ITS_REVIEWER` route."""
    found: list[ReviewRecord] = request.state.reviews
    return found


def city_view(request: Request) -> CityView:
    """The city a city rule admitted the caller to (looked up once, by the guard)."""
    kept: KeptView = request.state.city
    return kept.view


def city_json(request: Request) -> bytes:
    """That city's view as JSON, made once while the view stands."""
    kept: KeptView = request.state.city
    return kept.json


class GuardedRoute(APIRoute):
    """A route behind its access rule (`x-wwc-access`): the guard runs before FastAPI
    reads the route's parameters or body, so a caller who may not call it learns nothing
    of what it takes. (As a FastAPI dependency the guard cost as much again as the rest of
    a cheap read: FastAPI 0.165 solves each dependency's parameters anew per request.)"""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        extra = self.openapi_extra or {}
        rule = Rule(extra[ACCESS_KEY])
        changes_nothing = bool(extra.get(CHANGES_NOTHING_KEY))
        check = guard(rule, changes_nothing=changes_nothing)
        takes_body = self.body_field is not None
        # POSTs take an Idempotency-Key, kept per account once the guard has let the
        # caller in (`idempotency.py`); a public route, or one that changes nothing,
        # takes none.
        keyed = ("POST" in (self.methods or ()) and rule is not Rule.PUBLIC
                 and not changes_nothing and not extra.get(STREAMED_BODY_KEY))
        keep_answer = not extra.get(SECRET_ANSWER_KEY, False)
        template = f"POST {self.path}"
        async def guarded(request: Request) -> Response:
            caller = await check(request)
            if takes_body:
                # Parsed once, here, refusing a key written twice; FastAPI reuses it.
                request = StrictJsonRequest(request.scope, request.receive)
                await request.parse()
            if keyed and caller.account is not None and KEY_HEADER in request.headers:
                return await services(request).idempotency.run(
                    request, caller.account.account_id, template, handle,
                    keep_answer=keep_answer)
            return await handle(request)

        return guarded


class StrictJsonRequest(Request):
    """A request whose JSON body is parsed once, here, refusing a key written twice in an
    object (Python's parser keeps the last one silently: `{"name": "A", "name": "B"}`
    joined B) and absurd nesting, as invalid input naming the key (422). FastAPI then
    takes the parsed body from `json()`. Bodies that are not JSON, or not valid JSON, are
    left to FastAPI, which answers them as before (400)."""

    async def parse(self) -> None:
        kind = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if not (kind == "application/json" or kind.endswith("+json")):
            return
        body = await self.body()
        if not body:
            return
        try:
            self._json = loads_json(body)
        except DuplicateKey as error:
            raise InvalidInput(f"body: {error}", code="duplicate_key") from None
        except RecursionError:
            raise InvalidInput("body: nested too deeply", code="too_deep") from None
        except ValueError:
            return  # not JSON: FastAPI says so (400)


# An OpenAPI link: the operation (by its id: the handler's name) that the answer leads to,
# and where each of its path parameters comes from in the answer, e.g.
# ("status", {"key": "$response.body#/city_key"}).
Link = tuple[str, dict[str, str]]


def route(router: APIRouter, method: str, path: str, rule: Rule, *,
          status_code: int = 200, summary: str | None = None,
          responses: dict[int | str, dict[str, Any]] | None = None,
          response_model: Any = None, include_in_schema: bool = True,
          response_class: Any = None, answer_holds_secret: bool = False,
          links: dict[str, Link] | None = None, changes_nothing: bool = False,
          streamed_body: str | None = None,
          ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`answer_holds_secret`: the answer carries a secret shown once (a token, a made-up
    password), so a retry under the same Idempotency-Key is never given it again.
    `links`: what a successful answer leads to (OpenAPI links, under the link's name), so
    clients and the stateful fuzzing can follow a city, a cohort or an account from the
    answer that made it. The operation's id is the handler's name. `changes_nothing`: a
    POST that changes nothing (the codec endpoint, which the stock Temporal UI calls and
    cannot send our CSRF header to) needs no CSRF token. `streamed_body`: the body is a
    file the handler streams (`uploads.py`) and keeps its Idempotency-Key itself; the
    text describes it in the OpenAPI document."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        extra = {"response_class": response_class} if response_class is not None else {}
        openapi_extra: dict[str, Any] = {ACCESS_KEY: rule.value}
        if answer_holds_secret:
            openapi_extra[SECRET_ANSWER_KEY] = True
        if changes_nothing:
            openapi_extra[CHANGES_NOTHING_KEY] = True
        if streamed_body:
            openapi_extra[STREAMED_BODY_KEY] = True
            openapi_extra["requestBody"] = {"required": True, "description": streamed_body,
                                            "content": {"application/octet-stream": {
                                                "schema": {"type": "string",
                                                           "format": "binary"}}}}
        answered = dict(responses or {})
        if links:
            answered[status_code] = {**answered.get(status_code, {}), "links": {
                name: {"operationId": target, "parameters": parameters}
                for name, (target, parameters) in links.items()}}
        router.add_api_route(
            path, handler, methods=[method], status_code=status_code,
            include_in_schema=include_in_schema, **extra, operation_id=handler.__name__,
            route_class_override=GuardedRoute, openapi_extra=openapi_extra,
            summary=summary, responses={**PROBLEM_RESPONSES, **answered},
            response_model=response_model, description=(handler.__doc__ or "") +
            f"\n\nWho may call it: **{rule.value.replace('_', ' ')}**.")
        return handler

    return register


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every route of an app or router, into its included routers (newer FastAPI keeps
    an included router as one entry of the app's table, not as its routes)."""
    for found in routes:
        if isinstance(found, APIRoute):
            yield found
        elif (included := getattr(found, "original_router", None)) is not None:
            yield from api_routes(included.routes)


def caller_of(request: Request) -> Caller:
    found: Caller = request.state.caller
    return found


def update_id(request: Request, what: str) -> str | None:
    """A Temporal update id from the request's Idempotency-Key: a retry with the same key
    reaches the same update, which Temporal runs once."""
    key = request.headers.get(KEY_HEADER)
    if not key:
        return None
    caller = caller_of(request)
    who = caller.account.account_id if caller.account else "anonymous"
    return hashlib.sha256(f"{who}:{what}:{key}".encode()).hexdigest()[:32]

