"""Rendering a page: the template, the caller, the page's language and its CSRF token.

Every page carries a strict Content-Security-Policy (scripts and styles from this server
only, no inline script), and the CSRF token of the caller's session in a meta tag, which
the portal's script sends back in the X-CSRF-Token header of every change."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, ValidationError

from domain.accounts import LANGUAGES
from domain.standard import Standard
from domain.text import escape_controls
from infra.i18n.catalogs import LANGUAGE_COOKIE, NAMES, Catalogs, Language
from infra.i18n.refusals import say
from infra.i18n.words import N_, tier_word
from infra.identity.sessions import csrf_token_for
from infra.platform.errors import ServiceError
from infra.standards.guidance import shipped_guidance
from infra.web.access import PASSWORD_CHANGE_REQUIRED, Rule
from infra.web.problems import Problem
from infra.web.routing import FORM_FIELDS, SESSION_COOKIE, Caller, caller_of, identify, route

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# A form's field refused (missing, too long, a NUL or control character in it), named by
# its label on the page: what the API would answer 422 for, said in the page's words.
INVALID_FIELD = N_("Check “%(field)s”: it is missing or not valid.")
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml", ".ico": "image/x-icon"}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media_type: str
    etag: str


def _static_files() -> dict[str, StaticFile]:
    """The shipped static files, read once: nothing else can be asked for by name."""
    found = {}
    for entry in resources.files("infra.web.portal").joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in STATIC_TYPES:
            body = entry.read_bytes()
            found[entry.name] = StaticFile(body, STATIC_TYPES[suffix],
                                           hashlib.sha256(body).hexdigest()[:16])
    return found


def _inert(value: Any) -> Any:
    """Every value a page shows, with control and bidi-override characters written as
    escapes. Autoescaping makes stored text inert as HTML, not as text: U+202E would
    still turn a name around on the page. Commands refuse them (domain/text.py); this
    covers what older versions stored. Line breaks stay (answers have them)."""
    if not isinstance(value, str):
        return value
    shown = escape_controls(value, keep_lines=True)
    if shown == value:
        return value
    # The escapes are letters, digits and backslashes: as safe in markup as in text.
    return Markup(shown) if isinstance(value, Markup) else shown


def _standard_names(request: Request) -> Callable[[str | None], str]:
    """A standard's id to its title (`wwc-2022` -> "... v3.0 (2022)"), for the pages:
    the id itself for one the catalog does not hold (or no id: a dash)."""
    found = getattr(request.app.state, "services", None)
    catalog: Mapping[str, Standard] = found.program.catalog if found is not None else {}

    def name(standard_id: str | None) -> str:
        if not standard_id:
            return "—"
        return catalog[standard_id].title if standard_id in catalog else standard_id
    return name


class Portal:
    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("infra.web.portal", "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
            lstrip_blocks=True, finalize=_inert)
        self.catalogs = Catalogs()
        self.static = _static_files()
        # What counts as evidence per criterion, checked complete in every language now:
        # a shipped standard with a gap stops the portal here, not a page later.
        self.guidance = shipped_guidance()
        self.env.globals["static"] = self.static_url
        self.env.globals["tier_word"] = tier_word

    def static_url(self, name: str) -> str:
        # Versioned by content: a changed file is a new URL, so it may be cached for long.
        return f"/static/{name}?v={self.static[name].etag}"

    def language(self, request: Request, caller: Caller) -> Language:
        return self.catalogs.choose(
            asked=request.query_params.get("lang"),
            remembered=request.cookies.get(LANGUAGE_COOKIE),
            account=caller.account.language if caller.account else None,
            accept_language=request.headers.get("Accept-Language"))

    async def render(self, request: Request, template: str, *, status: int = 200,
                     headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
        caller = await identify(request)
        language = self.language(request, caller)
        session_id = request.cookies.get(SESSION_COOKIE)
        formats = language.formats
        body = self.env.get_template(template).render(
            _=language.gettext, ngettext=language.ngettext, lang=language.code,
            fmt_date=language.date, fmt_number=formats.number, fmt_percent=formats.percent,
            fmt_moment=formats.moment, country_name=formats.country,
            standard_name=_standard_names(request),
            languages=[(c, NAMES[c]) for c in LANGUAGES],
            account=caller.account, path=request.url.path,
            # Another language keeps the rest of the page's query (a search, a link's
            # secret on the page that asks for a password).
            lang_query=lambda code: urlencode(
                [*((k, v) for k, v in request.query_params.multi_items() if k != "lang"),
                 ("lang", code)]),
            # A refusal (a Problem) in the page's language and words, never its code.
            say_refusal=lambda p: say(language, status=p.status, code=p.code, facts=p.facts),
            guidance=lambda standard_id, code: self.guidance[standard_id].text(
                code, language.code) if standard_id in self.guidance else None,
            csrf=csrf_token_for(session_id) if caller.via == "session" and session_id
            else "", **context)
        response = HTMLResponse(body, status_code=status,
                                headers={**SECURITY_HEADERS, **(headers or {})})
        response.headers["Vary"] = "Cookie, Accept-Language"
        response.headers["Cache-Control"] = "no-store" if caller.account else "no-cache"
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, request.query_params["lang"],
                                max_age=365 * 86400, samesite="lax", path="/")
        return response

    async def error_page(self, request: Request, problem: Problem,
                         headers: dict[str, str] | None) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if problem.status == 401:  # a page that needs a sign-in: go and sign in, then back
            return Response(status_code=303,
                            headers={"Location": f"/sign-in?{urlencode({'next': target})}"})
        if problem.code == PASSWORD_CHANGE_REQUIRED:  # a one-time password: change it first
            where = urlencode({"next": target if request.method == "GET" else "/portal"})
            return Response(status_code=303, headers={"Location": f"/account/password?{where}"})
        return await self.render(request, "error.html", status=problem.status,
                                 headers=headers, problem=problem)


def portal(request: Request) -> Portal:
    found: Portal = request.app.state.portal
    return found


def page(router: APIRouter, path: str, rule: Rule) -> Callable[[Callable[..., Any]],
                                                                 Callable[..., Any]]:
    """A GET page behind `rule` (the same guard as the API's routes), not in the OpenAPI
    document."""
    return route(router, "GET", path, rule, include_in_schema=False,
                 response_class=HTMLResponse)


def posted(router: APIRouter, path: str, rule: Rule) -> Callable[[Callable[..., Any]],
                                                                   Callable[..., Any]]:
    """A form a page posts (the confirmation steps), behind `rule`: it works without
    JavaScript (its CSRF token is the form's `csrf_token` field) and answers a page or a
    redirect. Not in the OpenAPI document."""
    return route(router, "POST", path, rule, include_in_schema=False,
                 response_class=HTMLResponse)


async def form_of(request: Request) -> dict[str, str]:
    """The posted form's text fields (the guard read it already, for its CSRF token)."""
    form = await request.form(max_files=0, max_fields=FORM_FIELDS)
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def form_list(request: Request, name: str) -> list[str]:
    """Every value of a field the form may send many times (ticked boxes)."""
    form = await request.form(max_files=0, max_fields=FORM_FIELDS)
    return [v for v in form.getlist(name) if isinstance(v, str)]


def refused_field(form: Mapping[str, str], labels: Mapping[str, str],
                  rule: type[BaseModel] | None = None) -> str | None:
    """The label (a msgid, for `INVALID_FIELD`) of the first of the form's fields in
    `labels` the API would refuse: one holding a NUL (the API's bodies refuse it anywhere,
    and PostgreSQL cannot store it), or one `rule` (the API's body for the same request)
    refuses. None when all is well. Checked before anything is counted or recorded."""
    for name, label in labels.items():
        if "\x00" in form.get(name, ""):
            return label
    if rule is not None:
        try:
            rule.model_validate({name: form.get(name, "") for name in rule.model_fields})
        except ValidationError as error:
            where = error.errors()[0]["loc"]
            return labels.get(str(where[0]) if where else "", next(iter(labels.values())))
    return None


def new_nonce() -> str:
    """A confirmation step's own id: its form posted twice (a double click, a retry after
    a lost answer) runs its command once (`form_update_id`)."""
    return secrets.token_hex(16)


def form_update_id(request: Request, what: str, nonce: str) -> str | None:
    """The Temporal update id of a confirmed step, as the API's Idempotency-Key makes it
    (`routing.update_id`): the caller's, the step's and the form's own."""
    if not nonce or len(nonce) > 64:
        return None
    account = caller_of(request).signed_in
    return hashlib.sha256(f"{account.account_id}:{what}:form:{nonce}".encode()
                          ).hexdigest()[:32]


def problem_of(refused: ServiceError) -> Problem:
    """A refusal as a page shows it (`say_refusal`): its status, code and facts."""
    return Problem(title="Refused", status=refused.kind.http_status, detail=refused.message,
                   code=refused.code, kind=refused.kind.value, facts=refused.facts or None)
