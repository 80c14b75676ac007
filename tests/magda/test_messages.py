"""Reading MAGDA's recorded answers into facts, and writing requests MAGDA accepts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from proactief.errors import (
    RegistryAnswerError,
    RegistryError,
    RegistryRefused,
    RegistryUnavailable,
)
from proactief.facts import (
    Address,
    DisabilityFile,
    Household,
    Income,
    ParkingCard,
    Person,
    SocialStatuses,
)
from proactief.magda import answers, messages

from .conftest import MAGDA_DIR

SAMPLE_FOLDERS = {
    "GeefPersoon": "Persoon/GeefPersoon/02.02.0000",
    "GeefGezinssamenstelling": "Persoon/GeefGezinssamenstelling/02.02.0000",
    "GeefHistoriekGezinssamenstelling": "Persoon/GeefHistoriekGezinssamenstelling/02.02.0000",
    "GeefSociaalStatuut": "SocZek/GeefSociaalStatuut/03.00.0000",
    "GeefAanslagbiljetPersonenbelasting": "Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000",
    "GeefDossierHandicap": "SocZek/GeefDossierHandicap/03.00.0000",
}
FACTS = {
    "GeefPersoon": Person,
    "GeefGezinssamenstelling": Household,
    "GeefHistoriekGezinssamenstelling": Household,
    "GeefSociaalStatuut": SocialStatuses,
    "GeefAanslagbiljetPersonenbelasting": Income,
    "GeefDossierHandicap": DisabilityFile,
}
# Samples that are errors on purpose, and the error each must become.
ERROR_SAMPLES = {
    "Persoon/GeefPersoon/02.02.0000/notfound.xml": (RegistryError, "30001"),
    "Persoon/GeefPersoon/02.02.0000/13662188822.xml": (RegistryUnavailable, "99994"),
    "Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/70021500155.xml": (
        RegistryRefused,
        "soap-client",
    ),
    "Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/91610100176.xml": (
        RegistryUnavailable,
        "99996",
    ),
    "Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/70021500159.xml": (
        RegistryRefused,
        "40000",
    ),
}


def _samples() -> list:
    if not MAGDA_DIR.is_dir():
        return [pytest.param(None, None, marks=pytest.mark.skip("no MAGDA samples"))]
    return [
        pytest.param(service, path, id=str(path.relative_to(MAGDA_DIR / "responses")))
        for service, folder in SAMPLE_FOLDERS.items()
        for path in sorted((MAGDA_DIR / "responses" / folder).glob("*.xml"))
    ]


def _sample(magda_dir: Path, service: str, name: str) -> bytes:
    return (
        magda_dir / "responses" / SAMPLE_FOLDERS[service] / f"{name}.xml"
    ).read_bytes()


@pytest.mark.parametrize(("service", "path"), _samples())
def test_every_sample_answer_is_read(service: str, path: Path) -> None:
    relative = path.relative_to(MAGDA_DIR / "responses").as_posix()
    try:
        facts = messages.parse_facts(path.read_bytes())
    except RegistryError as exc:
        # Errors must be the domain's, with the MAGDA code that explains them.
        assert exc.code, relative
        if relative in ERROR_SAMPLES:
            kind, code = ERROR_SAMPLES[relative]
            assert isinstance(exc, kind) and exc.code == code
        else:
            assert exc.code in messages.RETRYABLE_CODES | {"30001", "40000"}
        return
    assert isinstance(facts, FACTS[service])
    assert relative not in ERROR_SAMPLES


def test_sample_person_with_parents_box_number_and_position(magda_dir: Path) -> None:
    person = messages.parse_facts(_sample(magda_dir, "GeefPersoon", "01651899805"))
    assert person == Person(
        insz="01651899805",
        first_name="Laura",
        last_name="Peeters",
        birth_date="2001-05-18",
        address=Address(
            street="Hoogstraat",
            number="63",
            box="A",
            postcode="9000",
            municipality="Gent",
            since=date(2001, 5, 18),
        ),
        household_position="06",
        parents=("67722499797", "71690499880"),
    )


def test_sample_person_with_a_reference_address(magda_dir: Path) -> None:
    person = messages.parse_facts(_sample(magda_dir, "GeefPersoon", "75721232239"))
    assert person.address.reference_address is True
    assert person.address.street == "Gladiolenlaan"  # a non-standardised name
    assert person.address.municipality == "Sint-Pieters-Leeuw"


def test_sample_person_whose_reference_address_ended(magda_dir: Path) -> None:
    person = messages.parse_facts(_sample(magda_dir, "GeefPersoon", "80642515955"))
    assert person.address.reference_address is False


def test_sample_person_deceased(magda_dir: Path) -> None:
    person = messages.parse_facts(_sample(magda_dir, "GeefPersoon", "00630300188"))
    assert person.death_date == date(2009, 5, 5)


def test_sample_person_born_2000_with_unknown_month_and_day(magda_dir: Path) -> None:
    person = messages.parse_facts(_sample(magda_dir, "GeefPersoon", "00600099536"))
    assert person.birth_date == "2000-00-00"
    assert person.birth_year == 2000


def test_sample_person_with_a_new_number(magda_dir: Path) -> None:
    person = messages.parse_facts(_sample(magda_dir, "GeefPersoon", "75680836687"))
    assert person.insz == "75680836687"
    assert person.replaced_by == "00600000032"


def test_sample_household(magda_dir: Path) -> None:
    household = messages.parse_facts(
        _sample(magda_dir, "GeefGezinssamenstelling", "62680599650")
    )
    assert [(m.insz, m.position, m.birth_date) for m in household.members] == [
        ("57611399743", "01", "1957-01-13"),
        ("62680599650", "02", "1962-08-05"),
    ]
    assert household.subject == "57611399743"  # no subject given: the head


def test_sample_household_without_data_has_no_members(magda_dir: Path) -> None:
    answer = messages.read_answer(
        _sample(magda_dir, "GeefGezinssamenstelling", "notfound")
    )
    household = messages.parse_household(answer, subject="62680599650")
    assert household == Household(subject="62680599650", members=())


def test_sample_statuses_one_and_zero(magda_dir: Path) -> None:
    statuses = messages.parse_facts(
        _sample(magda_dir, "GeefSociaalStatuut", "01690129514")
    )
    assert statuses.applies == {"GENT_PARKING_CHILD": True, "GENT_PARKING_ADULT": False}
    assert statuses.not_found is False


def test_sample_statuses_no_data_is_not_found_not_an_error(magda_dir: Path) -> None:
    answer = messages.read_answer(
        _sample(magda_dir, "GeefSociaalStatuut", "06691087347")
    )
    statuses = messages.parse_social_statuses(
        answer, insz="06691087347", on=date(2026, 1, 1)
    )
    assert statuses == SocialStatuses(
        insz="06691087347", on=date(2026, 1, 1), applies={}, not_found=True
    )
    assert statuses.has("BIM_BVT") is None


def test_sample_status_period_gives_the_end_of_a_status_that_applies(
    magda_dir: Path,
) -> None:
    answer = messages.read_answer(
        _sample(magda_dir, "GeefSociaalStatuut", "66691666644")
    )
    statuses = messages.parse_social_statuses(answer, on=date(2025, 1, 1))
    assert statuses.applies == {"BIM_BVT_IN_FAMILY": True, "BIM_BVT": True}
    assert statuses.ends == {
        "BIM_BVT_IN_FAMILY": date(2030, 1, 1),
        "BIM_BVT": date(2030, 1, 1),
    }
    # a period that does not hold the date asked gives no end
    later = messages.parse_social_statuses(answer, on=date(2031, 1, 1))
    assert later.ends == {}


def test_sample_statuses_without_periods_have_no_known_end(magda_dir: Path) -> None:
    statuses = messages.parse_facts(
        _sample(magda_dir, "GeefSociaalStatuut", "00683042157")
    )
    assert statuses.applies["GENT_PARKING_ADULT"] is True
    assert statuses.ends == {}


@pytest.mark.parametrize(
    ("name", "cards"),
    [
        # a parking card and a reduction card: the reduction card is not read
        ("12630962125", (ParkingCard(date(2020, 2, 2), date(2030, 2, 2)),)),
        ("88681575651", (ParkingCard(date(2022, 2, 1), date(2030, 2, 1)),)),
        ("96721418968", (ParkingCard(date(2023, 6, 1), date(2030, 6, 1)),)),
        # a reduction card only
        ("89702316648", ()),
        # a file with recognitions and allowances, without social cards
        ("00683042157", ()),
        # a file found, with nothing in it
        ("10712995476", ()),
    ],
)
def test_sample_disability_file_gives_its_parking_cards(
    magda_dir: Path, name: str, cards: tuple
) -> None:
    answer = messages.read_answer(_sample(magda_dir, "GeefDossierHandicap", name))
    file = messages.parse_disability_file(answer, insz=name, on=date(2025, 1, 1))
    assert file == DisabilityFile(
        insz=name, on=date(2025, 1, 1), found=True, parking_cards=cards
    )


def test_sample_disability_file_not_found_is_no_file_not_an_error(
    magda_dir: Path,
) -> None:
    """NO_DATA_FOUND with KSZ's warning 70001: the person has no file."""
    answer = messages.read_answer(_sample(magda_dir, "GeefDossierHandicap", "notfound"))
    assert answer.has("70001") and answer.result_code == "0"
    file = messages.parse_disability_file(
        answer, insz="62680599650", on=date(2024, 3, 15)
    )
    assert file == DisabilityFile(insz="62680599650", on=date(2024, 3, 15), found=False)
    assert file.parking_card_on(date(2024, 3, 15)) is None


def test_the_parking_card_of_a_day_is_the_valid_one_that_runs_longest() -> None:
    file = DisabilityFile(
        "62680599650",
        date(2025, 1, 1),
        parking_cards=(
            ParkingCard(date(2015, 1, 1), date(2020, 1, 1)),
            ParkingCard(date(2020, 1, 2), date(2026, 1, 1)),
            ParkingCard(date(2024, 1, 1), None),
        ),
    )
    assert file.parking_card_on(date(2025, 1, 1)) == ParkingCard(date(2024, 1, 1))
    assert file.parking_card_on(date(2019, 1, 1)) == ParkingCard(
        date(2015, 1, 1), date(2020, 1, 1)
    )
    assert file.parking_card_on(date(2014, 1, 1)) is None


def _dossier_answer(source_status: str) -> bytes:
    to = _addressee("GeefDossierHandicap")
    answer = answers.disability_file_answer(
        to, "85673000192", [ParkingCard(date(2020, 1, 1))], "1234567890"
    )
    return answer.replace(b"DATA_FOUND", source_status.encode())


def test_a_disability_file_source_in_technical_error_is_unavailable() -> None:
    answer = messages.read_answer(_dossier_answer("TECHNICAL_ERROR"))
    with pytest.raises(RegistryUnavailable) as raised:
        messages.parse_disability_file(answer)
    assert raised.value.code == "dgph-technical_error"


def test_a_disability_file_of_30001_is_no_file() -> None:
    answer = messages.read_answer(
        answers.answer_error(_addressee("GeefDossierHandicap"), "30001")
    )
    file = messages.parse_disability_file(
        answer, insz="85673000192", on=date(2025, 3, 1)
    )
    assert file.found is False


@pytest.mark.parametrize(
    ("name", "year", "taxable"),
    [
        ("62691699717", 2022, Decimal("37586.45")),
        ("88651355302", 2022, Decimal("21562.75")),
        ("98712218264", 2022, Decimal("0.00")),
        # Only a partner column (B7555) while the person asked is the taxpayer.
        ("75663046194", 2025, None),
        # An assessment without items.
        ("51042500288", 2019, None),
    ],
)
def test_sample_income_in_euro_from_cents(
    magda_dir: Path, name: str, year: int, taxable: Decimal | None
) -> None:
    income = messages.parse_facts(
        _sample(magda_dir, "GeefAanslagbiljetPersonenbelasting", name)
    )
    assert income == Income(insz=name, income_year=year, taxable_income=taxable)


@pytest.mark.parametrize("name", ["notfound", "65021500159"])
def test_sample_income_not_available_is_unknown(magda_dir: Path, name: str) -> None:
    """45008 (year not available) and 30001 (no data) are unknown, never zero."""
    answer = messages.read_answer(
        _sample(magda_dir, "GeefAanslagbiljetPersonenbelasting", name)
    )
    income = messages.parse_income(answer, insz="65021500159", income_year=2023)
    assert income == Income(insz="65021500159", income_year=2023, taxable_income=None)


def test_answer_inside_a_soap_envelope_reads_the_same(magda_dir: Path) -> None:
    bare = _sample(magda_dir, "GeefPersoon", "01651899805")
    element = etree.fromstring(bare)
    envelope = etree.Element(f"{{{messages.SOAP_ENV}}}Envelope")
    etree.SubElement(envelope, f"{{{messages.SOAP_ENV}}}Body").append(element)
    assert messages.parse_facts(etree.tostring(envelope)) == messages.parse_facts(bare)


@pytest.mark.parametrize(
    "data",
    [b"", b"<not-closed>", b"<Something/>", b"<GeefPersoonResponse/>"],
    ids=["empty", "malformed", "foreign", "no-repliek"],
)
def test_unreadable_answers_raise_answer_error(data: bytes) -> None:
    with pytest.raises(RegistryAnswerError):
        messages.read_answer(data)


def _addressee(service: str) -> answers.Addressee:
    return answers.Addressee(
        service=service,
        as_of=date(2025, 3, 1),
        consumer="gent.be/proactief",
        purpose="1300",
        reference="ref",
        question_reference="question",
    )


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("30003", RegistryError),
        ("40003", RegistryRefused),
        ("99996", RegistryUnavailable),
        ("12345", RegistryError),
    ],
)
def test_exception_codes_become_domain_errors(code: str, error: type) -> None:
    answer = messages.read_answer(answers.answer_error(_addressee("GeefPersoon"), code))
    with pytest.raises(error) as raised:
        messages.parse_person(answer)
    assert raised.value.code == code


def test_names_with_markup_characters_survive_a_round_trip() -> None:
    person = Person(
        insz="85673000192",
        first_name="Zoë <Anne> & Co",
        last_name='D\'Hondt "Çelik"',
        birth_date="1985-00-00",
        address=Address("Rue <X>", "1&2", None, "9000", "Gent"),
    )
    answer = answers.person_answer(_addressee("GeefPersoon"), person)
    assert messages.parse_facts(answer) == person


# -- requests ------------------------------------------------------------------

REQUEST_SCHEMAS = {
    "GeefPersoon": "GeefPersoonDienst-02.02/WebService/GeefPersoon.xsd",
    "GeefHistoriekGezinssamenstelling": "GeefHistoriekGezinssamenstellingDienst-02.02/WebService/GeefHistoriekGezinssamenstelling.xsd",
    "GeefSociaalStatuut": "GeefSociaalStatuutDienst-03.00/WebService/GeefSociaalStatuut.xsd",
    "GeefAanslagbiljetPersonenbelasting": "GeefAanslagbiljetPersonenbelastingDienst-02.00/WebService/GeefAanslagbiljetPersonenbelasting.xsd",
    "GeefDossierHandicap": "GeefDossierHandicapDienst-03.00/WebService/GeefDossierHandicap.xsd",
}
SENDER = {
    "as_of": date(2025, 3, 1),
    "consumer": "gent.be/proactief",
    "purpose": "1300",
    "reference": "2b1f8a8e-7c1d-4a44-9d0e-0d6f1b1b2c3d",
}
REQUESTS = {
    "GeefPersoon": lambda: messages.person_request("85673000192", **SENDER),
    "GeefHistoriekGezinssamenstelling": lambda: messages.household_history_request(
        "85673000192", on=date(2025, 1, 1), **SENDER
    ),
    "GeefSociaalStatuut": lambda: messages.social_status_request(
        "85673000192",
        ["BIM_BVT", "LIVING_WAGES_PCSA_HELP"],
        on=date(2025, 1, 1),
        **SENDER,
    ),
    "GeefAanslagbiljetPersonenbelasting": lambda: messages.income_request(
        "85673000192", 2023, **SENDER
    ),
    "GeefDossierHandicap": lambda: messages.disability_file_request(
        "85673000192", on=date(2025, 1, 1), **SENDER
    ),
}


@pytest.mark.parametrize("service", sorted(REQUEST_SCHEMAS))
def test_requests_validate_against_magda_request_schemas(
    magda_dir: Path, service: str
) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(
        str(magda_dir / "xsd" / "requests" / REQUEST_SCHEMAS[service])
    )
    envelope = etree.fromstring(REQUESTS[service]())
    body = envelope.find(f"{{{messages.SOAP_ENV}}}Body")[0]
    schema.validate(etree.tostring(body).decode())


def test_household_request_carries_only_the_number() -> None:
    request = messages.read_request(messages.household_request("85673000192", **SENDER))
    assert request.service == "GeefGezinssamenstelling"
    assert request.as_of == date(2025, 3, 1)
    assert request.criteria_date is None
    assert [child.tag for child in request.criteria] == ["INSZ"]


def test_magda_request_templates_are_read(magda_dir: Path) -> None:
    for service in (
        "GeefPersoon",
        "GeefSociaalStatuut",
        "GeefAanslagbiljetPersonenbelasting",
    ):
        template = next((magda_dir / "requests" / service).glob("*/template.xml"))
        request = messages.read_request(template.read_bytes())
        assert request.service == service
        assert request.insz == "90010100123"


def test_magda_disability_file_template_is_read(magda_dir: Path) -> None:
    """A KSZ question without Inhoud: the number is the criteria's ssin."""
    template = next(
        (magda_dir / "requests" / "GeefDossierHandicap").glob("*/template.xml")
    )
    request = messages.read_request(template.read_bytes())
    assert request.service == "GeefDossierHandicap"
    assert request.insz == "90010100123"
    assert request.reference_date == date(2025, 1, 1)


def test_disability_file_request_asks_the_dgph_social_cards_only() -> None:
    request = messages.read_request(
        messages.disability_file_request("85673000192", on=date(2025, 1, 1), **SENDER)
    )
    assert (request.service, request.insz, request.as_of) == (
        "GeefDossierHandicap",
        "85673000192",
        date(2025, 3, 1),
    )
    assert request.reference_date == date(2025, 1, 1)
    criteria = request.criteria.find("ConsultFilesByDateCriteria")
    assert [e.tag for e in criteria.find("handicapAuthenticSources")] == ["DGPH"]
    assert [e.tag for e in criteria.find("parts")] == ["socialCards"]


def test_status_request_names_at_most_eight_statuses() -> None:
    with pytest.raises(ValueError, match="1 to 8"):
        messages.social_status_request(
            "85673000192", [f"S{i}" for i in range(9)], on=date(2025, 1, 1), **SENDER
        )
