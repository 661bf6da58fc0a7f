"""Reviews in process, as reviewers and cities meet them: the review screen keeps each
verdict and note across a reload, and the notes reach the city with the decision."""

from __future__ import annotations

import re

import pytest

from domain.accounts import Role
from tests.factories import WWC_2022, answers
from tests.web.conftest import Browser, Web

CITY = "br-recife"
EMAIL = "ana@rfa.test"  # the reviewer
CLAIMED = 12
# The reviewer's verdicts: these are not met, each with its note; the others are.
NOT_MET = {WWC_2022.codes[0]: "The inventory link answers 404.",
           WWC_2022.codes[3]: "The policy was adopted after the deadline."}


@pytest.fixture(scope="module")
async def people(web: Web) -> dict[str, Browser]:
    await web.account("editora@recife.test", Role.CITY_EDITOR, language="pt",
                      cities_to_join=[{"name": "Recife", "country": "BR"},
                                      {"name": "Olinda", "country": "BR"}])
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
        {"code": "DM1", "met": False, "note": "A first look: the link answers 404."}]})
    assert recorded.status_code == 200, recorded.text
    page = (await reviewer.get(f"/portal/cities/{CITY}/review")).text
    assert field(page, "note-DM1") == "A first look: the link answers 404."


async def test_the_citys_answers_link_leads_its_reviewer_somewhere(
        people: dict[str, Browser]) -> None:
    """On the city's page the reviewer's "The city's answers" once led to the editors'
    assessment page, which is not found for a reviewer."""
    reviewer = people["reviewer"]
    page = (await reviewer.get(f"/portal/cities/{CITY}")).text
    link = re.search(r'<a class="button" href="([^"]+)">The city&#39;s answers</a>', page)
    assert link is not None, page
    answers_page = await reviewer.get(link.group(1))
    assert answers_page.status_code == 200, link.group(1)
    assert "https://city.example/DM1" in answers_page.text


async def test_the_sheet_is_saved_as_the_reviewer_goes_against_its_version(
        web: Web, people: dict[str, Browser]) -> None:
    reviewer, editor = people["reviewer"], people["editor"]
    sheet_url = f"/api/cities/{CITY}/review/sheet"
    loaded = await reviewer.get(sheet_url)
    assert (loaded.status_code, loaded.headers["ETag"]) == (200, 'W/"s0"'), loaded.text
    before = len((await editor.get(f"/api/cities/{CITY}/history")).json())
    # Every verdict given so far, with its notes: the codes the city claimed.
    sheet = {"reviews": [
        {"code": code, "met": code not in NOT_MET, "note": NOT_MET.get(code, "")}
        for code in WWC_2022.codes[:CLAIMED]]}
    saved = await reviewer.send("PUT", sheet_url, json=sheet, headers={"If-Match": 'W/"s0"'})
    assert (saved.status_code, saved.headers["ETag"]) == (200, 'W/"s1"'), saved.text
    # Kept in the sheet's own stream: the city's log (and timeline) holds none of it yet.
    assert len((await editor.get(f"/api/cities/{CITY}/history")).json()) == before
    stale = await reviewer.send("PUT", sheet_url, json=sheet, headers={"If-Match": 'W/"s0"'})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    unversioned = await reviewer.send("PUT", sheet_url, json=sheet)
    assert unversioned.status_code == 428
    # Another reviewer, and the city's editor, find no such sheet.
    for other in (people["other_reviewer"], editor):
        assert (await other.get(sheet_url)).status_code == 404
        assert (await other.send("PUT", sheet_url, json=sheet,
                                 headers={"If-Match": 'W/"s1"'})).status_code == 404

    # A reload shows the sheet as saved, over what was recorded before.
    page = (await reviewer.get(f"/portal/cities/{CITY}/review")).text
    dm = WWC_2022.codes[0]
    assert field(page, f"note-{dm}") == NOT_MET[dm]
    assert re.search(rf'name="v-{dm}" value="not_met" data-verdict checked', page)
    assert 'data-etag="W/&#34;s1&#34;"' in page

    # Completing records the sheet in the city's log, then no save lands after it.
    done = await reviewer.post(f"/api/cities/{CITY}/review/complete", json={})
    assert done.json()["status"] == "review_complete", done.text
    history = (await editor.get(f"/api/cities/{CITY}/history")).json()
    reviewed = [e["summary"] for e in history[before:] if e["type"] == "review.criterion_reviewed"]
    assert len(reviewed) == CLAIMED
    late = await reviewer.send("PUT", sheet_url, json=sheet, headers={"If-Match": 'W/"s2"'})
    assert (late.status_code, late.json()["code"]) == (409, "wrong_stage"), late.text


async def test_the_city_reads_each_criterion_not_met_with_its_note(
        web: Web, people: dict[str, Browser]) -> None:
    decided = await people["operator"].post(f"/api/cities/{CITY}/decision")
    assert decided.json()["last_decision_tier"] == "none", decided.text
    page = (await people["editor"].get(f"/portal/cities/{CITY}")).text  # her language: pt
    found = dict(re.findall(r'<li data-finding="(\w+)">(.*?)</li>', page, re.S))
    not_met = page[page.index('data-findings="not-met"'):]
    not_met = not_met[:not_met.index("</ul>")]
    assert sorted(re.findall(r'data-finding="(\w+)"', not_met)) == sorted(NOT_MET)
    for code, note in NOT_MET.items():
        assert "não atendido" in found[code]
        assert note in found[code]
    assert "Estratégia e governança de dados" in found["DM1"]  # the criterion, in her words
    # The report's practices in Portuguese too, though the city holds no certification.
    assert "Gestão de dados" in page
    assert "Data Management" not in page
    # The timeline: who by name, never an account id, the notes with the verdicts, the
    # standard by its title.
    timeline = page[page.index('id="timeline-title"'):]
    assert "acc-" not in timeline
    assert ">ana <span class=\"role\">(revisor" in timeline
    assert f"DM1: não cumprido. Nota: {NOT_MET['DM1']}" in timeline
    assert "wwc-2022" not in timeline


async def test_a_reviewer_reads_their_reviews_after_the_decision_and_no_one_elses(
        web: Web, people: dict[str, Browser]) -> None:
    reviewer, other = people["reviewer"], people["other_reviewer"]
    past = f"/portal/cities/{CITY}/reviews/1"
    history = await reviewer.get("/portal/reviews/history")
    assert history.status_code == 200
    assert f'data-review-record="{CITY}/1"' in history.text
    assert "not certified" in history.text
    # The live review screen is gone with the decision; the review itself stays readable.
    assert (await reviewer.get(f"/portal/cities/{CITY}/review")).status_code == 404
    read = await reviewer.get(past)
    assert read.status_code == 200
    assert all(note in read.text for note in NOT_MET.values())
    for language, words in (("es", "no certificada"), ("pt", "não certificada")):
        assert words in (await reviewer.get(f"{past}?lang={language}")).text
        assert words in (await reviewer.get(f"/portal/reviews/history?lang={language}")).text
    # Another reviewer, the city's editor: not found; nor in the other's history.
    assert (await other.get(past)).status_code == 404
    assert (await people["editor"].get(past)).status_code == 404
    assert CITY not in (await other.get(f"/portal/reviews/history?reviewer={EMAIL}")).text
    assert (await reviewer.get(f"/portal/cities/{CITY}/reviews/2")).status_code == 404
    # The staff read any reviewer's history, and any review.
    staff = await people["operator"].get(f"/portal/reviews/history?reviewer={EMAIL}")
    assert f'data-review-record="{CITY}/1"' in staff.text
    assert (await people["operator"].get(past)).status_code == 200


@pytest.mark.parametrize(("language", "share"), [("en", "25.58%"), ("es", "25,58\xa0%"),
                                                 ("pt", "25,58%")])
async def test_the_submit_step_writes_the_share_as_the_page_does(
        people: dict[str, Browser], language: str, share: str) -> None:
    """It said "25.58 %" on Spanish and Portuguese pages."""
    editor, olinda = people["editor"], "br-olinda"
    if (await editor.get(f"/api/cities/{olinda}")).status_code == 404:
        joined = await editor.post("/api/cities", json={"name": "Olinda", "country": "BR",
                                                        "population": 393_115})
        assert joined.status_code == 201, joined.text
        saved = await editor.send("PUT", f"/api/cities/{olinda}/assessment",
                                  json=answers(WWC_2022, 11).model_dump(mode="json"),
                                  headers={"If-Match": 'W/"v0"'})
        assert saved.status_code == 200, saved.text
    page = (await editor.get(f"/portal/cities/{olinda}/assessment/submit?lang={language}")).text
    assert f"({share})" in page
