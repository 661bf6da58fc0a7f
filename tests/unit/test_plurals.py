"""Count phrases say one thing and many things in each language ("1 of 1 criterion met",
"2 of 2 criteria met"; "1 de 1 criterio cumplido"): every page phrase that counts goes
through the catalogs' plural forms (gettext's ngettext), and every plural entry has its
forms in Spanish and Portuguese with the same placeholders."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import jinja2
import pytest
from babel.messages.pofile import read_po

from domain.accounts import LANGUAGES
from infra.i18n.catalogs import Catalogs

CATALOGS = Catalogs()
TEMPLATES = Path(__file__).resolve().parents[2] / "infra" / "web" / "portal" / "templates"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
# What a page counts: a number placed right before one of these is a count phrase.
COUNTED = ("accounts?|breaks?|cities|city|criteri(?:a|on)|days?|documents?|events?|links?"
           "|notes?|questions?|rows?|reviews?|hours?|tokens?|sessions?")
COUNT_PHRASE = re.compile(rf"%\(\w+\)[sd] (?:\w+ )?(?:{COUNTED})\b")
SINGLE = re.compile(r"""\b_\(\s*(["'])(.*?)\1\s*\)""", re.DOTALL)


def plural_entries() -> list[tuple[str, str]]:
    root = resources.files("infra.i18n").joinpath("locales")
    with root.joinpath("messages.pot").open("rb") as file:
        return [(m.id[0], m.id[1]) for m in read_po(file) if isinstance(m.id, tuple)]


def test_no_template_says_a_count_without_its_plural_forms() -> None:
    """`_("%(n)d cities")` says "1 cities": a count phrase must be ngettext's."""
    found = [f"{path.relative_to(TEMPLATES)}: {match.group(2)}"
             for path in sorted(TEMPLATES.rglob("*.html"))
             for match in SINGLE.finditer(path.read_text(encoding="utf-8"))
             if COUNT_PHRASE.search(match.group(2))]
    assert found == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_plural_entry_has_its_forms_with_the_same_placeholders(language: str) -> None:
    root = resources.files("infra.i18n").joinpath("locales")
    with root.joinpath(language, "LC_MESSAGES", "messages.po").open("rb") as file:
        catalog = read_po(file)
    for one, many in plural_entries():
        message = catalog.get((one, many))
        assert message is not None, (language, one)
        forms = message.string
        assert isinstance(forms, tuple)
        assert all(forms), (language, one)
        # The singular may say "this city" for "%(n)d cities"; the others count.
        wanted = sorted(PLACEHOLDER.findall(many))
        assert set(PLACEHOLDER.findall(forms[0])) <= set(wanted), (language, forms[0])
        for form in forms[1:]:
            assert sorted(PLACEHOLDER.findall(form)) == wanted, (language, form)


SCORE = ("%(points)d of %(total)d criterion met (%(percent)s): %(tier)s",
         "%(points)d of %(total)d criteria met (%(percent)s): %(tier)s")


@pytest.mark.parametrize(("language", "one", "two"), [
    ("en", "1 of 1 criterion met (100%): Gold", "2 of 2 criteria met (100%): Gold"),
    ("es", "1 de 1 criterio cumplido (100%): Gold", "2 de 2 criterios cumplidos (100%): Gold"),
    ("pt", "1 de 1 critério atendido (100%): Gold", "2 de 2 critérios atendidos (100%): Gold"),
])
def test_a_count_of_one_is_singular_and_of_two_plural(language: str, one: str,
                                                        two: str) -> None:
    """As the pages render them: the template's ngettext with the page's language."""
    page = jinja2.Environment(autoescape=True).from_string(
        "{{ ngettext(one, many, total)|format(points=total, total=total, percent='100%', "
        "tier='Gold') }}")
    shown = CATALOGS.get(language)
    said = [page.render(ngettext=shown.ngettext, one=SCORE[0], many=SCORE[1], total=n)
            for n in (1, 2)]
    assert said == [one, two]
