"""What the portal gives to keep, without a server: the certificate and report PDFs (the
same bytes whenever they are made, their text extractable, the verification address and
hash in it, in the reader's language), the CSV files (formula injection neutralised, the
BOM Excel needs), the registry's search by name, and the guidance per criterion
(complete in every language for every shipped standard, a gap refused at load)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
import yaml
from pypdf import PdfReader

from domain.accounts import LANGUAGES
from domain.errors import StandardError
from domain.guidance import parse_guidance
from infra.i18n.catalogs import Catalogs
from infra.readside.rows import CertifiedCity
from infra.standards.folder import builtin_standards
from infra.standards.guidance import shipped_guidance
from infra.web.portal.csv_files import cell, csv_bytes
from infra.web.portal.pdf import (
    CertificateFacts,
    Decision,
    FindingLine,
    PracticeLine,
    ReportFacts,
    certificate_pdf,
    report_pdf,
)
from infra.web.portal.registry_search import RegistrySearch, folded
from tests.factories import WWC_2022

CATALOGS = Catalogs()
HASH = "4f" * 32
URL = "https://wwc.example.org/certificates/br-sao-jose-dos-campos/2024-06-17"
CERTIFICATE = CertificateFacts(
    city_name="São José dos Campos", country="BR", tier="gold", standard=WWC_2022.title,
    cohort_id="2024-06", awarded_on=date(2024, 6, 17), expires_on=date(2027, 6, 17),
    decision=Decision(number=14, decided_on=date(2024, 5, 2), hash=HASH), verify_url=URL)
REPORT = ReportFacts(
    city_name="Córdoba", country="AR", standard=WWC_2022.title, tier="none", points=11,
    total=43, percent=25.58,
    practices=(PracticeLine("Gestión de datos", 5, 9), PracticeLine("Liderazgo", 0, 7)),
    next_tier=("silver", ("DM1 Estrategia y gobernanza de datos",)),
    gates=(("Referencia internacional", False),),
    decision=Decision(number=9, decided_on=date(2024, 5, 2), hash=HASH))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_certificate_is_the_same_file_whenever_it_is_made() -> None:
    made = certificate_pdf(CATALOGS.get("pt"), CERTIFICATE)
    assert certificate_pdf(CATALOGS.get("pt"), CERTIFICATE) == made
    metadata = PdfReader(io.BytesIO(made)).metadata
    assert metadata is not None
    # Dated by the certification, never by the request; no library version in it.
    assert metadata.creation_date == datetime(2024, 6, 17, tzinfo=UTC)
    assert metadata.modification_date is None
    assert metadata.producer == "wwc-certification"
    assert certificate_pdf(CATALOGS.get("es"), CERTIFICATE) != made


@pytest.mark.parametrize(("language", "words"), [
    ("en", ("Certificate", "Gold", "Valid until", "Jun 17, 2027", "Brazil")),
    ("es", ("Certificado", "Oro", "Válida hasta", "17 jun 2027", "Brasil",
            "Verifique este certificado")),
    ("pt", ("Certificado", "Ouro", "Válida até", "17 de jun. de 2027", "Brasil",
            "Certificação What Works Cities".upper())),
])
def test_a_certificates_text_is_there_to_read_with_its_address_and_hash(
        language: str, words: tuple[str, ...]) -> None:
    text = text_of(certificate_pdf(CATALOGS.get(language), CERTIFICATE))
    for word in (*words, "São José dos Campos", "2024-06", URL, HASH):
        assert word in text, (language, word)


def test_a_report_says_the_outcome_per_practice_and_that_it_is_private() -> None:
    text = text_of(report_pdf(CATALOGS.get("es"), REPORT))
    for word in ("Informe de la decisión", "Córdoba", "Argentina", "No certificada",
                 "11 de 43 criterios cumplidos (25,58 %): no certificada",
                 "Gestión de datos", "5/9", "0/7", "Referencia internacional: no cumplido",
                 "DM1 Estrategia y gobernanza de datos", HASH, "Privado"):
        assert word in text, word
    assert report_pdf(CATALOGS.get("es"), REPORT) == report_pdf(CATALOGS.get("es"), REPORT)


FOUND = (FindingLine("DM2 Dados abertos", met=False, blocked=False,
                     note="O link responde 404.\nEnvie o endereço atual."),
         FindingLine("DM3 Inventário de dados", met=False, blocked=True, note=""),
         FindingLine("DM1 Estratégia", met=True, blocked=False, note="Bem documentado."),
         FindingLine("DM4 Qualidade", met=True, blocked=False, note=""))


@pytest.mark.parametrize(("language", "words"), [
    ("pt", ("O que a revisão encontrou", "DM2 Dados abertos: não atendido.",
            "O link responde 404. Envie o endereço atual.",
            "DM3 Inventário de dados: validado, mas um critério do qual depende não foi "
            "atendido.", "A equipe de revisão não deixou nota.",
            "As notas da equipe de revisão sobre critérios atendidos:",
            "DM1 Estratégia Bem documentado.")),
    ("en", ("What the review found", "DM2 Dados abertos: not met.",
            "O link responde 404. Envie o endereço atual.",
            "The review team left no note on it.")),
])
def test_a_report_says_what_the_review_found_with_the_review_teams_notes(
        language: str, words: tuple[str, ...]) -> None:
    text = " ".join(text_of(report_pdf(CATALOGS.get(language),
                                       replace(REPORT, findings=FOUND))).split())
    for word in words:
        assert word in text, (language, word)
    assert "DM4" not in text  # met, and nothing said of it: as the page, not listed
    everything_met = " ".join(text_of(report_pdf(CATALOGS.get("en"), replace(
        REPORT, findings=FOUND[2:]))).split())
    assert "Every criterion the city claimed counts as met." in everything_met


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3",
                                       "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_that_a_spreadsheet_would_run_is_written_as_text(dangerous: str) -> None:
    assert cell(dangerous) == "'" + dangerous
    written = csv_bytes(["City"], [[dangerous]]).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(written)))[1] == ["'" + dangerous]


def test_a_csv_is_utf8_with_its_bom_and_keeps_text_numbers_and_dates_as_they_are() -> None:
    body = csv_bytes(["Ciudad", "Días", "Desde"],
                     [["São Paulo, SP", 3, date(2026, 3, 1)], ['Say "hi"\nthere', -4, None],
                      ["a-b", 0, datetime(2026, 3, 1, 12, 30, tzinfo=UTC)]])
    assert body.startswith(b"\xef\xbb\xbfCiudad,D\xc3\xadas,Desde\r\n")
    assert list(csv.reader(io.StringIO(body.decode("utf-8-sig")))) == [
        ["Ciudad", "Días", "Desde"], ["São Paulo, SP", "3", "2026-03-01"],
        ['Say "hi"\nthere', "-4", ""], ["a-b", "0", "2026-03-01T12:30:00+00:00"]]


def test_the_registry_search_finds_a_name_with_or_without_accents() -> None:
    def row(name: str, tier: str = "gold", country: str = "CO") -> CertifiedCity:
        return CertifiedCity(city_key=folded(name), name=name, country=country, tier=tier,
                             standard_id="wwc-2022", cohort_id="2024-06",
                             awarded_on=date(2024, 6, 17), expires_on=date(2027, 6, 17))
    bogota, medellin = row("Bogotá"), row("Medellín", "silver")
    assert RegistrySearch.of({"q": " BOGOTA "}).keeps(bogota)
    assert not RegistrySearch.of({"q": "bogotá"}).keeps(medellin)
    assert RegistrySearch.of({"q": "ellin", "tier": "silver", "country": "co"}).keeps(medellin)
    assert not RegistrySearch.of({"q": "ellin", "tier": "gold"}).keeps(medellin)
    assert RegistrySearch.of({"tier": "nonsense"}).keeps(bogota)  # an unknown tier: any
    assert RegistrySearch.of({"q": "São  Paulo", "tier": "", "cohort": None}).query == \
        "q=S%C3%A3o+Paulo"


def test_every_shipped_criterion_has_guidance_in_every_language() -> None:
    guidance = shipped_guidance()
    standards = builtin_standards()
    assert {s.id for s in standards} == set(guidance)  # a file for every standard
    for standard in standards:
        for code in standard.codes:
            for language in LANGUAGES:
                said = guidance[standard.id].text(code, language)
                assert said is not None, (standard.id, code, language)
                assert len(said) >= 40, (standard.id, code, language)
            # Each language its own sentence, not the English one copied.
            assert len({guidance[standard.id].text(code, lang) for lang in LANGUAGES}) == 3


def test_a_guidance_file_with_a_gap_is_refused_naming_it() -> None:
    from importlib import resources
    source = resources.files("domain") / "standards" / "guidance" / "wwc-2022.yaml"
    data = yaml.safe_load(source.read_text("utf-8"))
    assert parse_guidance(data, WWC_2022).text("DM1", "es")
    del data["criteria"]["LC3"]["pt"]
    with pytest.raises(StandardError, match="criterion LC3 has no guidance in pt"):
        parse_guidance(data, WWC_2022)
    del data["criteria"]["LC3"]
    with pytest.raises(StandardError, match=r"criterion LC3 has no guidance$"):
        parse_guidance(data, WWC_2022)
    data["criteria"]["LC3"] = {lang: "" for lang in LANGUAGES}
    with pytest.raises(StandardError, match="LC3"):
        parse_guidance(data, WWC_2022)
    data["criteria"]["LC3"] = {"en": "x", "es": "y", "pt": "z"}
    data["criteria"]["ZZ9"] = data["criteria"]["LC3"]
    with pytest.raises(StandardError, match="has no criterion ZZ9"):
        parse_guidance(data, WWC_2022)
