"""Refusals in words (infra/i18n/refusals.py): every code the program can refuse with has a
sentence in every language, each raise site gives the facts its sentence names, and the
sentences read in the page's language with the facts in its forms."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from domain.accounts import LANGUAGES
from domain.answers import Answers, check_answers
from domain.errors import DomainError
from infra.i18n.catalogs import Catalogs
from infra.i18n.refusals import BY_STATUS, OTHERWISE, REFUSALS, placeholders, say
from infra.identity import passwords
from infra.standards.folder import load_catalog

REPO = Path(__file__).resolve().parents[2]
# Where refusals are raised: the domain, the workflows and activities, the adapters.
SOURCES = ("domain", "workflows", "activities", "infra")
CODE = re.compile(r"^[a-z]+(_[a-z]+)*$")
# Calls whose first argument is the code (not a `code=` keyword).
CODE_FIRST = {"CommandRefused", "PydanticCustomError"}
CATALOGS = Catalogs()
STANDARD = load_catalog()["wwc-2022"]


@dataclass(frozen=True)
class Site:
    """A place that refuses with `code`, and the facts it gives (None: not a literal)."""

    code: str
    facts: frozenset[str] | None
    where: str


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _constant(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) \
            and CODE.match(node.value):
        return node.value
    return None


def _facts(call: ast.Call) -> frozenset[str] | None:
    given = next((k.value for k in call.keywords if k.arg == "facts"), None)
    if _name(call) == "PydanticCustomError":  # its context holds the facts
        given = call.args[2] if len(call.args) > 2 else None
    if given is None:
        return frozenset()
    if isinstance(given, ast.Dict) and all(isinstance(k, ast.Constant) for k in given.keys):
        return frozenset(str(k.value) for k in given.keys if isinstance(k, ast.Constant))
    return None  # built elsewhere (e.g. passwords.BOUNDS): checked by a test of its own


def refusal_sites() -> Iterator[Site]:
    """Every code raised or answered anywhere in the program's sources, as written."""
    trees = [(path, ast.parse(path.read_text(), str(path)))
             for folder in SOURCES for path in sorted((REPO / folder).rglob("*.py"))]
    # The error classes' own codes (`code = "ineligible"`), used when a raise names none.
    defaults: dict[str, str] = {}
    for path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and any(
                            isinstance(t, ast.Name) and t.id == "code"
                            for t in statement.targets) and (
                            code := _constant(statement.value)) is not None:
                        defaults[node.name] = code
                        # A class is no raise site: its facts are its raisers'.
                        yield Site(code, None, f"{path.name}:{node.name}")
    for path, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            name = _name(node)
            keyword = {k.arg: k.value for k in node.keywords}
            code = _constant(keyword.get("code"))
            if code is None and name == "ApplicationError":
                code = _constant(keyword.get("type"))
            if code is None and name in CODE_FIRST and node.args:
                code = _constant(node.args[0])
            if code is None and name == "_problem" and len(node.args) > 2:
                code = _constant(node.args[2])  # the idempotency keeper's refusals
            if code is None and name in defaults and "code" not in keyword:
                code = defaults[name]
            if code is not None:
                yield Site(code, _facts(node), where)


SITES = list(refusal_sites())


def test_the_scan_finds_the_codes_people_meet() -> None:
    found = {s.code for s in SITES}
    assert {"missing_evidence", "conflict_of_interest", "ineligible", "wrong_stage",
            "stale_version", "throttled", "idempotency_key_reused", "invalid_link",
            "unstorable_value", "weak_password", "already_announced"} <= found
    assert len(found) >= 45, sorted(found)


def test_every_refusal_code_has_a_sentence() -> None:
    missing = sorted({f"{s.code} ({s.where})" for s in SITES if s.code not in REFUSALS})
    assert not missing, "codes without a sentence in infra/i18n/refusals.py: " + \
        ", ".join(missing)


def test_every_raise_site_gives_the_facts_its_sentence_names() -> None:
    short = [f"{s.where}: {s.code} lacks {sorted(placeholders(REFUSALS[s.code]) - s.facts)}"
             for s in SITES if s.code in REFUSALS and s.facts is not None
             and not placeholders(REFUSALS[s.code]) <= s.facts]
    assert not short, "\n".join(short)


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_sentence_is_translated_with_its_facts(language: str) -> None:
    root = resources.files("infra.i18n").joinpath("locales", language, "LC_MESSAGES")
    with root.joinpath("messages.po").open("rb") as file:
        catalog = read_po(file)
    for sentence in [*REFUSALS.values(), *BY_STATUS.values(), OTHERWISE]:
        message = catalog.get(sentence)
        assert message is not None, f"{language}: {sentence!r}"
        assert message.string, f"{language}: {sentence!r}"
        assert not message.fuzzy, f"{language}: fuzzy: {sentence!r}"
        assert placeholders(str(message.string)) == placeholders(sentence), sentence


def test_a_missing_evidence_refusal_reads_in_each_language_with_its_facts() -> None:
    answers = Answers.model_validate({"criteria": {"DM1": {"met": True, "evidence": []}}})
    with pytest.raises(DomainError) as refused:
        check_answers(STANDARD, answers, require_evidence=True)
    error = refused.value
    said = {code: say(CATALOGS.get(code), status=422, code=error.code, facts=error.facts)
            for code in LANGUAGES}
    assert said["en"] == ("DM1 is claimed as met but lacks its evidence: supporting "
                          "documentation (0 of 1 links or documents given).")
    assert said["es"].startswith("DM1 ")
    assert "documentación de respaldo" in said["es"]
    assert said["pt"].startswith("DM1 ")
    assert "documentação comprobatória" in said["pt"]
    for language in ("es", "pt"):
        assert "missing_evidence" not in said[language]
        assert "evidence" not in said[language]


def test_facts_take_the_languages_forms_and_words() -> None:
    pt = CATALOGS.get("pt")
    assert say(pt, status=409, code="wrong_stage", facts={"stage": "under_review"}) == \
        "Isso não pode ser feito agora: a candidatura está em revisão."
    assert "1.000.000" in say(CATALOGS.get("es"), status=409, code="ineligible", facts={
        "name": "X", "eligible": "U.S. cities only", "minimum": 1_000_000})
    assert "15 de jun. de 2027" in say(pt, status=409, code="too_early",
                                       facts={"from_on": "2027-06-15"})


def test_without_its_facts_a_refusal_falls_back_to_its_status_never_to_english() -> None:
    es = CATALOGS.get("es")
    assert say(es, status=422, code="missing_evidence") == say(es, status=422)
    assert say(es, status=409, code="no_such_code") == say(es, status=409)
    assert say(es, status=418) == es.gettext(OTHERWISE) != OTHERWISE


def test_a_weak_passwords_facts_are_the_ones_its_sentence_names() -> None:
    assert placeholders(REFUSALS["weak_password"]) <= set(passwords.BOUNDS)
