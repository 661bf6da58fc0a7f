"""Reviews in process, as reviewers and cities meet them: the review screen keeps each
verdict and note across a reload, and the notes reach the city with the decision."""

from __future__ import annotations

import re

import pytest

from domain.accounts import Role
from tests.factories import WWC_2022, answers
from tests.web.conftest import Browser, Web

CITY = "br-recife"
CLAIMED = 12


@pytest.fixture(scope="module")
async def people(web: Web) -> dict[str, Browser]:
    await web.account("editora@recife.test", Role.CITY_EDITOR, language="pt",
                      cities_to_join=[{"name": "Recife", "country": "BR"}])
    await web.account("ana@rfa.test", Role.REVIEWER)
    await web.account("otro@rfa.test", Role.REVIEWER)
    await web.account("ops@rfa.test", Role.OPERATOR)
    editor = await web.sign_in("editora@recife.test")
    joined = await editor.post("/api/cities", json={"name": "Recife", "country": "BR",
                                                    "population": 1_488_920})
    assert joined.status_code == 201, joined.text
    submitted = await editor.post(f"/api/cities/{CITY}/assessment/submit", json={
        "answers": answers(WWC_2022, CLAIMED).model_dump(mode="json")})
    assert submitted.status_code == 200, submitted.text
    operator = await web.sign_in("ops@rfa.test")
    assigned = await operator.post(f"/api/cities/{CITY}/reviewer",
                                   json={"reviewer": "ana@rfa.test"})
    assert assigned.status_code == 200, assigned.text
    return {"editor": editor, "reviewer": await web.sign_in("ana@rfa.test"),
            "other_reviewer": await web.sign_in("otro@rfa.test"), "operator": operator}


def field(page: str, element_id: str) -> str:
    """What a form field of the page holds (an input's value or a textarea's text)."""
    found = re.search(rf'<textarea[^>]*id="{element_id}"[^>]*>([^<]*)</textarea>', page)
    if found is None:
        found = re.search(rf'<input[^>]*id="{element_id}"[^>]*value="([^"]*)"', page)
    return found.group(1) if found else ""


async def test_a_recorded_note_is_on_the_review_screen_after_a_reload(
        people: dict[str, Browser]) -> None:
    reviewer = people["reviewer"]
    recorded = await reviewer.post(f"/api/cities/{CITY}/reviews", json={"reviews": [
        {"code": "DM1", "met": False, "note": "The inventory link answers 404."}]})
    assert recorded.status_code == 200, recorded.text
    page = (await reviewer.get(f"/portal/cities/{CITY}/review")).text
    assert field(page, "note-DM1") == "The inventory link answers 404."
