"""MAGDA answers written from facts: what the simulator sends back.

Answers are assembled from pre-built string fragments with every value escaped,
not through an XML tree: the simulator answers about a thousand requests a second
on two cores, and string joins are several times cheaper than building and
serialising a tree. The tests validate every kind of answer written here against
MAGDA's response schemas.

The answers carry only what the client reads (and what the schemas require):
no nationality, civil status or identity documents, which the real gateway would
send but nobody here needs.

Exception codes the simulator adds to MAGDA's own (its choice, documented in
`proactief.magda.simulator`): 40001 for an unknown consumer, 40002 for a capacity
(Hoedanigheid) the consumer may not use.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from proactief.facts import Address, HouseholdMember, ParkingCard, Person
from proactief.magda.messages import (
    FILE_FOUND,
    FILE_NOT_FOUND,
    GEEF_HISTORIEK_GEZINSSAMENSTELLING,
    PARKING_CARD_CATEGORY,
    SERVICES,
    SOAP_ENV,
    TAXABLE_INCOME_IPCAL_CODE,
    Request,
    escape,
    message_time,
)

GATEWAY_ID = "simulator.proactief.local"
GATEWAY_NAME = "ProactiefSimulator"

UNKNOWN_CONSUMER = "40001"
PURPOSE_NOT_ALLOWED = "40002"
# KSZ's warning on an answer that carries a status other than "found", such as a
# disability file that does not exist.
KSZ_WARNING = "70001"

# Our own wording of each exception's diagnosis.
DIAGNOSES = {
    "30001": "Geen gegevens bij de bron voor deze vraag",
    "30003": "Het INSZ is niet gekend bij de bron",
    "30004": "Deze persoon kreeg een nieuw INSZ",
    "45008": "Dit inkomensjaar is nog niet beschikbaar",
    "99996": "De bron is tijdelijk niet beschikbaar",
    KSZ_WARNING: "Antwoord met waarschuwing",
    UNKNOWN_CONSUMER: "De afzender is niet gekend voor deze dienst",
    PURPOSE_NOT_ALLOWED: "Deze hoedanigheid is niet toegelaten voor de afzender",
}

_SEX = {"M": ("1", "Mannelijk"), "F": ("2", "Vrouwelijk")}


@dataclass(frozen=True, slots=True)
class Addressee:
    """Who an answer goes to, and to which question: copied from the request."""

    service: str
    as_of: date
    consumer: str
    purpose: str
    reference: str
    question_reference: str

    @classmethod
    def of(cls, request: Request) -> Addressee:
        """The addressee of the answer to `request`."""
        return cls(
            service=request.service,
            as_of=request.as_of,
            consumer=request.consumer,
            purpose=request.purpose,
            reference=request.reference,
            question_reference=request.question_reference,
        )


def _open(to: Addressee) -> str:
    service = SERVICES[to.service]
    moment = f"<Tijdstip><Datum>{to.as_of.isoformat()}</Datum><Tijd>{message_time()}</Tijd></Tijdstip>"
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>'
        f'<web:{service.response_tag} xmlns:web="{service.namespace}"><Repliek>'
        f"<Context><Naam>{service.name}</Naam><Versie>{service.version}</Versie>"
        f"<Bericht><Type>ANTWOORD</Type>{moment}"
        f"<Afzender><Identificatie>{GATEWAY_ID}</Identificatie>"
        f"<Naam>{GATEWAY_NAME}</Naam><Referte>{uuid.uuid4()}</Referte></Afzender>"
        f"<Ontvanger><Identificatie>{escape(to.consumer)}</Identificatie>"
        f"<Referte>{escape(to.reference)}</Referte>"
        f"<Hoedanigheid>{escape(to.purpose)}</Hoedanigheid></Ontvanger>"
        "</Bericht></Context>"
    )


def _close(to: Addressee) -> str:
    return (
        f"</Repliek></web:{SERVICES[to.service].response_tag}>"
        "</soapenv:Body></soapenv:Envelope>"
    )


def _answer(to: Addressee, inner: str) -> bytes:
    return (
        _open(to)
        + "<Antwoorden><Antwoord>"
        + f"<Referte>{escape(to.question_reference)}</Referte>"
        + inner
        + "</Antwoord></Antwoorden>"
        + _close(to)
    ).encode()


def _exceptions(
    code: str,
    *,
    kind: str = "FOUT",
    origin: str = "MAGDA",
    annotations: Iterable[tuple[str, str]] = (),
) -> str:
    notes = "".join(
        f"<Annotatie><Naam>{escape(name)}</Naam><Waarde>{escape(value)}</Waarde>"
        "</Annotatie>"
        for name, value in annotations
    )
    return (
        "<Uitzonderingen><Uitzondering>"
        f"<Identificatie>{code}</Identificatie><Oorsprong>{origin}</Oorsprong>"
        f"<Type>{kind}</Type>"
        f"<Diagnose>{escape(DIAGNOSES.get(code, 'Fout bij de bron'))}</Diagnose>"
        + (f"<Annotaties>{notes}</Annotaties>" if notes else "")
        + "</Uitzondering></Uitzonderingen>"
    )


def reply_error(to: Addressee, code: str) -> bytes:
    """An error about the message as a whole (its context), before any question."""
    return (_open(to) + _exceptions(code) + _close(to)).encode()


def answer_error(to: Addressee, code: str, *, kind: str = "FOUT") -> bytes:
    """An error about the question: no data, unknown INSZ, year not available."""
    return _answer(to, _exceptions(code, kind=kind))


def soap_fault(code: str, message: str) -> bytes:
    """A SOAP 1.1 fault; `code` is `Client` or `Server`."""
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>'
        f"<soapenv:Fault><faultcode>soapenv:{code}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring></soapenv:Fault>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def _taalstring(tag: str, value: str) -> str:
    return f"<{tag}><String>{escape(value)}</String><Taal>nl</Taal></{tag}>"


def _main_residence(address: Address, *, as_of: date) -> str:
    since = f' DatumBegin="{address.since.isoformat()}"' if address.since else ""
    parts = [f"<Hoofdverblijfplaats{since}>"]
    if address.street:
        parts.append(_taalstring("Straatnaam", address.street))
    if address.number:
        parts.append(f"<Huisnummer>{escape(address.number)}</Huisnummer>")
    if address.box:
        parts.append(f"<Busnummer>{escape(address.box)}</Busnummer>")
    if address.municipality:
        parts.append(_taalstring("Gemeentenaam", address.municipality))
    parts.append(_taalstring("Land", "BELGIE"))
    if address.postcode:
        parts.append(f"<Postcode>{escape(address.postcode)}</Postcode>")
    parts.append("<NISCodeLand>150</NISCodeLand><ISOCodeLand>BEL</ISOCodeLand>")
    if address.reference_address:
        begin = (address.since or as_of).isoformat()
        parts.append(
            f"<ReferentieAdres><Begindatum>{begin}</Begindatum></ReferentieAdres>"
        )
    parts.append("</Hoofdverblijfplaats>")
    return "".join(parts)


def person_answer(
    to: Addressee,
    person: Person,
    *,
    sex: str | None = None,
    reference_person: str | None = None,
) -> bytes:
    """GeefPersoon with name, sex, birth, death, main residence, parents, position.

    `reference_person` is the INSZ of the household's reference person, given when
    it is not the person asked. A `replaced_by` adds MAGDA's 30004 warning.
    """
    parts = [f"<Inhoud><Persoon><INSZ>{escape(person.insz)}</INSZ><Naam>"]
    # The schema requires a last name; the register writes "-" for none.
    last_name = escape(person.last_name or "-")
    parts.append(f"<Achternamen><Achternaam>{last_name}</Achternaam></Achternamen>")
    if person.first_name:
        parts.append(
            f"<Voornamen><Voornaam>{escape(person.first_name)}</Voornaam></Voornamen>"
        )
    parts.append("</Naam>")
    if sex in _SEX:
        code, label = _SEX[sex]
        parts.append(
            f"<Geslacht><Code>{code}</Code><Omschrijving>{label}</Omschrijving></Geslacht>"
        )
    if person.birth_date:
        parts.append(f"<Geboorte><Datum>{escape(person.birth_date)}</Datum></Geboorte>")
    if person.death_date:
        parts.append(
            f"<Overlijden><Datum>{person.death_date.isoformat()}</Datum></Overlijden>"
        )
    if person.address is not None:
        parts.append(
            f"<Adressen>{_main_residence(person.address, as_of=to.as_of)}</Adressen>"
        )
    if person.parents:
        parents = "".join(
            f"<Ouder><INSZ>{escape(p)}</INSZ></Ouder>" for p in person.parents
        )
        parts.append(
            "<Afstammingen><Afstamming><Type><Code>00</Code>"
            "<Omschrijving>Kind</Omschrijving></Type>"
            f"<Ouders>{parents}</Ouders></Afstamming></Afstammingen>"
        )
    if person.household_position:
        head = f"<INSZ>{escape(reference_person)}</INSZ>" if reference_person else ""
        parts.append(
            f"<Referentiepersoon>{head}<Positie><Code>"
            f"{escape(person.household_position)}</Code></Positie></Referentiepersoon>"
        )
    parts.append("</Persoon></Inhoud>")
    if person.replaced_by:
        parts.append(
            _exceptions(
                "30004",
                kind="WAARSCHUWING",
                annotations=(
                    ("Oud INSZ", person.insz),
                    ("Nieuw INSZ", person.replaced_by),
                ),
            )
        )
    return _answer(to, "".join(parts))


def household_answer(to: Addressee, members: Sequence[HouseholdMember]) -> bytes:
    """GeefGezinssamenstelling, or GeefHistoriekGezinssamenstelling for one date."""
    lines = "".join(
        f"<Gezinslid><INSZ>{escape(m.insz)}</INSZ>"
        + (
            f"<Geboortedatum>{escape(m.birth_date)}</Geboortedatum>"
            if m.birth_date
            else ""
        )
        + f"<Positie><Code>{escape(m.position or '00')}</Code></Positie></Gezinslid>"
        for m in members
    )
    inner = f"<Gezinsleden>{lines}</Gezinsleden>"
    if to.service == GEEF_HISTORIEK_GEZINSSAMENSTELLING:
        inner = (
            "<HistoriekGezinssamenstelling><Gezinssamenstelling>"
            f"{inner}</Gezinssamenstelling></HistoriekGezinssamenstelling>"
        )
    return _answer(to, f"<Inhoud>{inner}</Inhoud>")


_RESULTS = {
    True: "<Resultaat><Code>1</Code><Omschrijving>Van toepassing</Omschrijving></Resultaat>",
    False: "<Resultaat><Code>0</Code><Omschrijving>Niet van toepassing</Omschrijving></Resultaat>",
}


Period = tuple[date, date | None]


def statuses_answer(
    to: Addressee,
    insz: str,
    results: Sequence[tuple[str, bool]],
    periods: Mapping[str, Sequence[Period]] | None = None,
) -> bytes:
    """GeefSociaalStatuut: 1 or 0 for each status asked.

    `periods` gives, by status name, the periods (first day, last day or None) to
    list under a status that applies, as the gateway does in its `Periodes`.
    """
    periods = periods or {}
    statuses = "".join(
        f"<SociaalStatuut><Naam>{escape(name)}</Naam>{_RESULTS[applies]}"
        + (_periods(periods.get(name, ())) if applies else "")
        + "</SociaalStatuut>"
        for name, applies in results
    )
    return _answer(
        to,
        f"<Inhoud><Persoon><INSZ>{escape(insz)}</INSZ>"
        f"<SocialeStatuten>{statuses}</SocialeStatuten></Persoon></Inhoud>",
    )


def _periods(periods: Sequence[Period]) -> str:
    if not periods:
        return ""
    return (
        "<Periodes>"
        + "".join(
            f"<Periode><Begindatum>{first.isoformat()}</Begindatum>"
            + (f"<Einddatum>{last.isoformat()}</Einddatum>" if last else "")
            + "</Periode>"
            for first, last in periods
        )
        + "</Periodes>"
    )


# At most this many social cards in one file (SocialCardsType).
MAX_SOCIAL_CARDS = 2


def _ksz_status(value: str, code: str, description: str) -> str:
    return (
        f"<status><value>{value}</value><code>{code}</code>"
        f"<description>{description}</description></status>"
    )


def disability_file_answer(
    to: Addressee, insz: str, parking_cards: Sequence[ParkingCard], card_number: str
) -> bytes:
    """GeefDossierHandicap with the parking cards of the DGPH file, found.

    At most two cards (the schema's limit): the last ones given. `card_number` is
    the ten-digit number printed on the card(s).
    """
    cards = "".join(
        f"<socialCard><deliveryDate>{card.delivered_on.isoformat()}</deliveryDate>"
        + (f"<endDate>{card.ends_on.isoformat()}</endDate>" if card.ends_on else "")
        + f"<cardNumber>{escape(card_number)}</cardNumber>"
        f"<cardCategory>{PARKING_CARD_CATEGORY}</cardCategory></socialCard>"
        for card in parking_cards[-MAX_SOCIAL_CARDS:]
    )
    found = _ksz_status(FILE_FOUND, "MSG00000", "Behandeling geslaagd")
    file = f"<file><socialCards>{cards}</socialCards></file>" if cards else ""
    return _answer(
        to,
        f"<Inhoud><ConsultFilesByDateResponse>{found}"
        f"<ssin>{escape(insz)}</ssin>"
        f"<results><dgphResult>{found}{file}</dgphResult></results>"
        "</ConsultFilesByDateResponse></Inhoud>",
    )


def disability_file_not_found(to: Addressee) -> bytes:
    """GeefDossierHandicap for a person the DGPH has no file of: the content says
    NO_DATA_FOUND, with KSZ's warning 70001, as the gateway answers."""
    description = "Behandeling geslaagd, geen gegevens bij de bron"
    overall = _ksz_status(FILE_NOT_FOUND, "MSG00100", description)
    source = _ksz_status(FILE_NOT_FOUND, "MSG00021", description)
    return _answer(
        to,
        f"<Inhoud><ConsultFilesByDateResponse>{overall}"
        f"<results><dgphResult>{source}</dgphResult></results>"
        "</ConsultFilesByDateResponse></Inhoud>"
        + _exceptions(
            KSZ_WARNING,
            kind="WAARSCHUWING",
            origin="KSZ",
            annotations=(("status code", "MSG00100"),),
        ),
    )


def income_answer(
    to: Addressee, insz: str, income_year: int, taxable_income: Decimal
) -> bytes:
    """GeefAanslagbiljetPersonenbelasting with the taxable income in euro cents."""
    cents = int((taxable_income * 100).to_integral_value())
    # A stable nine-digit article number, so that two look-ups of one assessment
    # agree; it identifies nothing outside the simulator.
    article = f"{(int(insz) * 31 + income_year) % 1_000_000_000:09d}"
    return _answer(
        to,
        "<Inhoud><AanslagbiljetPersonenbelasting>"
        f"<GevraagdePersoon><INSZ>{escape(insz)}</INSZ>"
        "<FiscaleStatus><Code>A</Code><Omschrijving>Titularis</Omschrijving>"
        "</FiscaleStatus></GevraagdePersoon>"
        f"<Inkomensjaar>{income_year:04d}</Inkomensjaar>"
        f"<Artikelnummer>{article}</Artikelnummer>"
        f"<Items><Item><Code>A{TAXABLE_INCOME_IPCAL_CODE}</Code>"
        f"<Waarde>{cents}</Waarde></Item></Items>"
        "</AanslagbiljetPersonenbelasting></Inhoud>",
    )
