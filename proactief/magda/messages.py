"""MAGDA messages: the SOAP requests we send and the answers we read into facts.

Every MAGDA service speaks the same envelope: a `Verzoek` with a `Context` (service,
version, time stamp, sender and capacity) and one `Vraag`; the answer is a `Repliek`
with the same `Context` and an `Antwoord` that holds either `Inhoud` or
`Uitzonderingen` (or both, when a warning comes with the data). Answers are read
with lxml into the typed facts of `proactief.facts`; requests are written from
string templates, because the client sends thousands of them a minute.

Services read here:

| service | version | facts |
|---|---|---|
| GeefPersoon | 02.02.0000 | `Person` |
| GeefGezinssamenstelling | 02.02.0000 | `Household` (composition on the message date) |
| GeefHistoriekGezinssamenstelling | 02.02.0000 | `Household` (composition on a given date) |
| GeefSociaalStatuut | 03.00.0000 | `SocialStatuses` |
| GeefAanslagbiljetPersonenbelasting | 02.00.0000 | `Income` |
| GeefDossierHandicap | 03.00.0000 | `DisabilityFile` (parking cards only) |

GeefGezinssamenstelling has only the INSZ as criterion: the gateway answers the
household of the day the question is asked. A household on another date (the
reference date of a run that is consulted later) is asked with
GeefHistoriekGezinssamenstelling, whose criteria carry that date.

GeefDossierHandicap is a KSZ service behind MAGDA: its question has no `Inhoud`
(the `Criteria` hold `ConsultFilesByDateCriteria` with an `ssin`), and its answer
reports on the file with a status per source (`DATA_FOUND`, `NO_DATA_FOUND`,
`TECHNICAL_ERROR`, ...) next to MAGDA's own exceptions. It is asked for the social
cards of the federal DG Persons with Disabilities only: the parking card's
delivery and end date are what the Low Emission Zone rule needs, and nothing
else of the file is asked.

How MAGDA's exception codes are read (`Uitzondering/Identificatie`):

| code | meaning | becomes |
|---|---|---|
| 30001 | no data for the question | status: `not_found`; income: unknown; household: no members; person: `RegistryError` |
| 30003 | the INSZ is unknown to the source | `RegistryError` with code "30003" |
| 30004 (warning) | the person received a new INSZ | `Person.replaced_by` |
| 70001 (warning) | KSZ answered with a warning (e.g. no file found) | read from the content |
| 45008 | the income year is not (yet) available | income unknown |
| 40000-44999 | request refused (consumer, capacity, INSZ not in the consumer's register) | `RegistryRefused` |
| 60006, 99994-99997 | source unavailable, too many concurrent requests | `RegistryUnavailable` (retryable) |
| any other error | | `RegistryError` with its code |

Error messages never quote the `Diagnose` text: KSZ diagnoses may carry personal
data, and these messages may reach a log line.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

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
    HouseholdMember,
    Income,
    ParkingCard,
    Person,
    SocialStatuses,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_SOAP_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_SOAP_BODY = f"{{{SOAP_ENV}}}Body"
_SOAP_FAULT = f"{{{SOAP_ENV}}}Fault"
SOAP_MEDIA_TYPE = "text/xml; charset=utf-8"  # SOAP 1.1

GEEF_PERSOON = "GeefPersoon"
GEEF_GEZINSSAMENSTELLING = "GeefGezinssamenstelling"
GEEF_HISTORIEK_GEZINSSAMENSTELLING = "GeefHistoriekGezinssamenstelling"
GEEF_SOCIAAL_STATUUT = "GeefSociaalStatuut"
GEEF_AANSLAGBILJET = "GeefAanslagbiljetPersonenbelasting"
GEEF_DOSSIER_HANDICAP = "GeefDossierHandicap"

NO_DATA = "30001"
UNKNOWN_INSZ = "30003"
NEW_INSZ = "30004"
INCOME_YEAR_NOT_AVAILABLE = "45008"
SOURCE_UNAVAILABLE = "99996"
# Codes that say "not now" rather than "no": the source is down, overloaded or slow.
RETRYABLE_CODES = frozenset({"60006", "99994", "99995", SOURCE_UNAVAILABLE, "99997"})
# Codes that decide the outcome even when MAGDA marks them INFORMATIE (45008 is).
_DECISIVE_CODES = frozenset({NO_DATA, UNKNOWN_INSZ, INCOME_YEAR_NOT_AVAILABLE})

# A status request names at most this many statuses (CriteriaSocialeStatutenType).
MAX_STATUSES_PER_REQUEST = 8

# GeefDossierHandicap: the social card category read, and the statuses KSZ gives a
# source's result (`SourceStatusType`) or the whole answer (`GlobalStatusMagdaType`).
PARKING_CARD_CATEGORY = "PARKINGCARD"
FILE_FOUND = "DATA_FOUND"
FILE_NOT_FOUND = "NO_DATA_FOUND"

# The IPCAL code read as taxable income: 7555, the joint taxable income
# ("gezamenlijk belastbaar inkomen") of the assessment. It is the code MAGDA's own
# request template asks for, and the figure Flemish means tests compare with their
# limits. An item code is the column letter of the assessment (A for the taxpayer,
# B for the partner of a joint assessment) followed by the IPCAL code.
TAXABLE_INCOME_IPCAL_CODE = "7555"


@dataclass(frozen=True, slots=True)
class Service:
    """One MAGDA service: its name, version, XML namespace and simulator path."""

    name: str
    version: str
    namespace: str

    @property
    def path(self) -> str:
        """The simulator's endpoint, e.g. `/GeefPersoon-02.02`."""
        return f"/{self.name}-{self.version[:5]}"

    @property
    def response_tag(self) -> str:
        return f"{self.name}Response"


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service(
            GEEF_PERSOON,
            "02.02.0000",
            "http://magda.vlaanderen.be/persoon/soap/geefpersoon/v02_02",
        ),
        Service(
            GEEF_GEZINSSAMENSTELLING,
            "02.02.0000",
            "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02",
        ),
        Service(
            GEEF_HISTORIEK_GEZINSSAMENSTELLING,
            "02.02.0000",
            "http://magda.vlaanderen.be/persoon/soap/geefhistoriekgezinssamenstelling/v02_02",
        ),
        Service(
            GEEF_SOCIAAL_STATUUT,
            "03.00.0000",
            "http://magda.vlaanderen.be/soczek/soap/geefsociaalstatuut/v03_00",
        ),
        Service(
            GEEF_AANSLAGBILJET,
            "02.00.0000",
            "http://webservice.geefaanslagbiljetpersonenbelastingdienst-02_00.inkomen-02_00.vip.vlaanderen.be",
        ),
        Service(
            GEEF_DOSSIER_HANDICAP,
            "03.00.0000",
            "http://magda.vlaanderen.be/soczek/soap/geefdossierhandicap/v03_00",
        ),
    )
}

# ---------------------------------------------------------------------------
# Writing XML text

# Characters XML 1.0 cannot carry at all are dropped rather than escaped.
_ESCAPES = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"}
_ESCAPES.update({c: None for c in range(32) if c not in (9, 10, 13)})


def escape(value: object) -> str:
    """Text safe inside an XML element or a double-quoted attribute."""
    return str(value).translate(_ESCAPES)


def message_time(moment: datetime | None = None) -> str:
    """A `Tijd` value: HH:MM:SS.mmm in Brussels time."""
    moment = moment or datetime.now(BRUSSELS)
    return moment.strftime("%H:%M:%S.%f")[:12]


def _request(
    service: Service,
    insz: str,
    tail: str,
    *,
    as_of: date,
    consumer: str,
    purpose: str,
    reference: str,
    at: str | None,
) -> bytes:
    """A MAGDA question whose `Inhoud/Criteria` start with the INSZ."""
    return _envelope(
        service,
        f"<Inhoud><Criteria><INSZ>{escape(insz)}</INSZ>{tail}</Inhoud>",
        as_of=as_of,
        consumer=consumer,
        purpose=purpose,
        reference=reference,
        at=at,
    )


def _envelope(
    service: Service,
    question: str,
    *,
    as_of: date,
    consumer: str,
    purpose: str,
    reference: str,
    at: str | None,
) -> bytes:
    opening, sender, question_opening, closing = _frame(service, consumer, purpose)
    reference = escape(reference)
    return (
        f"{opening}{as_of.isoformat()}</Datum><Tijd>{at or message_time()}</Tijd>"
        f"</Tijdstip>{sender}{reference}{question_opening}{reference}</Referte>"
        f"{question}{closing}"
    ).encode()


@functools.lru_cache(maxsize=64)
def _frame(service: Service, consumer: str, purpose: str) -> tuple[str, str, str, str]:
    """The fixed parts of a request to `service` from this consumer and purpose,
    written once: the client sends thousands a minute.

    Same shape as MAGDA's request templates: the service element in its own
    namespace, everything below it unqualified. `_envelope` puts the date and
    time after the first part, the reference after the second and the third,
    and the question after that.
    """
    opening = (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Header/>'
        f'<soapenv:Body><web:{service.name} xmlns:web="{service.namespace}">'
        "<Verzoek><Context>"
        f"<Naam>{service.name}</Naam><Versie>{service.version}</Versie>"
        "<Bericht><Type>VRAAG</Type><Tijdstip><Datum>"
    )
    sender = f"<Afzender><Identificatie>{escape(consumer)}</Identificatie><Referte>"
    question_opening = (
        f"</Referte><Hoedanigheid>{escape(purpose)}</Hoedanigheid></Afzender>"
        "</Bericht></Context><Vragen><Vraag><Referte>"
    )
    closing = (
        f"</Vraag></Vragen></Verzoek></web:{service.name}>"
        "</soapenv:Body></soapenv:Envelope>"
    )
    return opening, sender, question_opening, closing


def person_request(
    insz: str,
    *,
    as_of: date,
    consumer: str,
    purpose: str,
    reference: str,
    at: str | None = None,
) -> bytes:
    """GeefPersoon: basic person data and parentage, from the national register."""
    tail = (
        "<OpvragingenKSZ><BasisPersoonsgegevens>1</BasisPersoonsgegevens>"
        "<Afstamming>1</Afstamming></OpvragingenKSZ>"
        "</Criteria><Bron>RR</Bron><Taal>nl</Taal>"
    )
    return _request(
        SERVICES[GEEF_PERSOON],
        insz,
        tail,
        as_of=as_of,
        consumer=consumer,
        purpose=purpose,
        reference=reference,
        at=at,
    )


def household_request(
    insz: str,
    *,
    as_of: date,
    consumer: str,
    purpose: str,
    reference: str,
    at: str | None = None,
) -> bytes:
    """GeefGezinssamenstelling: the household on the message date `as_of`."""
    return _request(
        SERVICES[GEEF_GEZINSSAMENSTELLING],
        insz,
        "</Criteria><Taal>nl</Taal>",
        as_of=as_of,
        consumer=consumer,
        purpose=purpose,
        reference=reference,
        at=at,
    )


def household_history_request(
    insz: str,
    *,
    on: date,
    as_of: date,
    consumer: str,
    purpose: str,
    reference: str,
    at: str | None = None,
) -> bytes:
    """GeefHistoriekGezinssamenstelling: the household on date `on`, asked on `as_of`.

    `Op="1"` asks for the composition on that day only, not the history since.
    """
    tail = f'<Datum Op="1">{on.isoformat()}</Datum></Criteria><Taal>nl</Taal>'
    return _request(
        SERVICES[GEEF_HISTORIEK_GEZINSSAMENSTELLING],
        insz,
        tail,
        as_of=as_of,
        consumer=consumer,
        purpose=purpose,
        reference=reference,
        at=at,
    )


def social_status_request(
    insz: str,
    names: Iterable[str],
    *,
    on: date,
    as_of: date,
    consumer: str,
    purpose: str,
    reference: str,
    at: str | None = None,
) -> bytes:
    """GeefSociaalStatuut: whether each named status applies on date `on`."""
    names = list(names)
    if not 1 <= len(names) <= MAX_STATUSES_PER_REQUEST:
        raise ValueError(
            f"a status request names 1 to {MAX_STATUSES_PER_REQUEST} statuses;"
            f" got {len(names)}: split the names over several requests"
        )
    day = on.isoformat()
    statuses = "".join(
        f"<SociaalStatuut><Naam>{escape(name)}</Naam>"
        f"<Datum><Datum>{day}</Datum></Datum></SociaalStatuut>"
        for name in names
    )
    tail = f"<SocialeStatuten>{statuses}</SocialeStatuten></Criteria>"
    return _request(
        SERVICES[GEEF_SOCIAAL_STATUUT],
        insz,
        tail,
        as_of=as_of,
        consumer=consumer,
        purpose=purpose,
        reference=reference,
        at=at,
    )


def income_request(
    insz: str,
    income_year: int,
    *,
    as_of: date,
    consumer: str,
    purpose: str,
    reference: str,
    at: str | None = None,
) -> bytes:
    """GeefAanslagbiljetPersonenbelasting: the assessment of one income year.

    Asks for the taxable-income code only: what a rule does not need is not asked.
    """
    tail = (
        f"<Inkomensjaar>{int(income_year):04d}</Inkomensjaar>"
        f"<IPCALCodes><IPCALCode>{TAXABLE_INCOME_IPCAL_CODE}</IPCALCode></IPCALCodes>"
        "</Criteria><Bron>FODFIN</Bron><Taal>nl</Taal>"
    )
    return _request(
        SERVICES[GEEF_AANSLAGBILJET],
        insz,
        tail,
        as_of=as_of,
        consumer=consumer,
        purpose=purpose,
        reference=reference,
        at=at,
    )


def disability_file_request(
    insz: str,
    *,
    on: date,
    as_of: date,
    consumer: str,
    purpose: str,
    reference: str,
    at: str | None = None,
) -> bytes:
    """GeefDossierHandicap: the social cards of the federal disability file on `on`.

    Asks the DG Persons with Disabilities (DGPH, which issues parking cards) for
    the `socialCards` part only: what a rule does not need is not asked.
    """
    question = (
        "<Criteria><ConsultFilesByDateCriteria>"
        f"<ssin>{escape(insz)}</ssin>"
        "<handicapAuthenticSources><DGPH>true</DGPH></handicapAuthenticSources>"
        f"<referenceDate>{on.isoformat()}</referenceDate>"
        "<parts><socialCards>true</socialCards></parts>"
        "</ConsultFilesByDateCriteria></Criteria>"
    )
    return _envelope(
        SERVICES[GEEF_DOSSIER_HANDICAP],
        question,
        as_of=as_of,
        consumer=consumer,
        purpose=purpose,
        reference=reference,
        at=at,
    )


# ---------------------------------------------------------------------------
# Reading answers

_PARSERS = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's parser: an lxml parser must not serve two threads at once.

    No DTDs, no entities, no network: an answer is data, never instructions.
    """
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
    return parser


@dataclass(frozen=True, slots=True)
class Uitzondering:
    """One MAGDA exception: a code, where it came from, and how serious it is."""

    code: str
    origin: str
    kind: str
    diagnosis: str
    annotations: tuple[tuple[str, str], ...] = ()
    on_reply: bool = False

    @property
    def is_error(self) -> bool:
        return self.kind == "FOUT"

    def annotation(self, name: str) -> str | None:
        for key, value in self.annotations:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Answer:
    """A MAGDA answer, read but not yet turned into facts."""

    service: str
    version: str | None
    answered_on: date | None
    exceptions: tuple[Uitzondering, ...]
    content: etree._Element | None

    @property
    def result_code(self) -> str:
        """The result: "0" for an answer with data, else the code that decides it."""
        for exc in self.exceptions:
            if exc.is_error or exc.code in _DECISIVE_CODES:
                return exc.code
        return "0"

    def has(self, code: str) -> bool:
        return any(exc.code == code for exc in self.exceptions)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _first_child(element: etree._Element) -> etree._Element | None:
    for child in element:
        if isinstance(child.tag, str):
            return child
    return None


@functools.lru_cache(maxsize=512)
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def _find_all(element: etree._Element, path: str) -> list[etree._Element]:
    """The elements at `path` below `element`, in document order.

    `path` is unqualified tag names joined by "/" ("Antwoorden/Antwoord"), the
    only form MAGDA's unqualified content needs. Same result as lxml's
    `iterfind`, walked over the children directly: ElementPath's machinery cost
    more than the XML parse itself, and the client reads thousands of answers a
    minute.
    """
    level = [element]
    for step in _steps(path):
        level = [child for parent in level for child in parent if child.tag == step]
        if not level:
            break
    return level


def _child(element: etree._Element, tag: str) -> etree._Element | None:
    """The first child of `element` whose tag is `tag` ("{namespace}name" or an
    unqualified name), or None."""
    for child in element:
        if child.tag == tag:
            return child
    return None


def _find(element: etree._Element, path: str) -> etree._Element | None:
    """The first element at `path` below `element` (as `_find_all`), or None."""
    if "/" not in path:
        return _child(element, path)
    found = _find_all(element, path)
    return found[0] if found else None


def _text(element: etree._Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = _find(element, path)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _raise_fault(fault: etree._Element) -> None:
    code = (_text(fault, "faultcode") or "").rpartition(":")[2]
    if code.startswith("Client"):
        raise RegistryRefused(
            "the gateway rejected the request as malformed (SOAP fault"
            f" {code!r}); the request builder and the gateway's schema disagree",
            code="soap-client",
        )
    raise RegistryUnavailable(
        f"the gateway answered with a SOAP fault {code!r}; try again later",
        code="soap-server",
    )


def read_answer(data: bytes | str | etree._Element) -> Answer:
    """Read a MAGDA answer: a SOAP envelope, or the bare `...Response` element.

    A SOAP fault raises: `RegistryRefused` for a client fault, `RegistryUnavailable`
    otherwise. Anything that is not a MAGDA answer raises `RegistryAnswerError`.
    """
    if isinstance(data, etree._Element):
        root = data
    else:
        if isinstance(data, str):
            data = data.encode()
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as exc:
            raise RegistryAnswerError(
                f"the answer is not well-formed XML ({exc.msg}); expected a MAGDA"
                " SOAP answer"
            ) from exc
    if root.tag == _SOAP_ENVELOPE:
        body = _child(root, _SOAP_BODY)
        root = _first_child(body) if body is not None else None
        if root is None:
            raise RegistryAnswerError("the SOAP envelope has an empty body")
    if root.tag == _SOAP_FAULT or _local(root.tag) == "Fault":
        _raise_fault(root)
    name = _local(root.tag)
    if not name.endswith("Response") or name[: -len("Response")] not in SERVICES:
        raise RegistryAnswerError(
            f"the answer's root element is {name!r}; expected one of "
            + ", ".join(repr(s.response_tag) for s in SERVICES.values())
        )
    repliek = _find(root, "Repliek")
    if repliek is None:
        raise RegistryAnswerError(f"the {name} answer has no Repliek element")
    exceptions = _read_exceptions(_find(repliek, "Uitzonderingen"), on_reply=True)
    antwoord = _find(repliek, "Antwoorden/Antwoord")
    content = None
    if antwoord is not None:
        exceptions.extend(
            _read_exceptions(_find(antwoord, "Uitzonderingen"), on_reply=False)
        )
        content = _find(antwoord, "Inhoud")
    if content is None and not exceptions:
        raise RegistryAnswerError(
            f"the {name} answer has neither content nor exceptions"
        )
    return Answer(
        service=name[: -len("Response")],
        version=_text(repliek, "Context/Versie"),
        answered_on=_date_or_none(_text(repliek, "Context/Bericht/Tijdstip/Datum")),
        exceptions=tuple(exceptions),
        content=content,
    )


def _read_exceptions(
    container: etree._Element | None, *, on_reply: bool
) -> list[Uitzondering]:
    if container is None:
        return []
    return [
        Uitzondering(
            code=_text(u, "Identificatie") or "",
            origin=_text(u, "Oorsprong") or "",
            kind=_text(u, "Type") or "",
            diagnosis=_text(u, "Diagnose") or "",
            annotations=tuple(
                (_text(a, "Naam") or "", _text(a, "Waarde") or "")
                for a in _find_all(u, "Annotaties/Annotatie")
            ),
            on_reply=on_reply,
        )
        for u in _find_all(container, "Uitzondering")
    ]


def raise_for_exceptions(answer: Answer, *, tolerated: Iterable[str] = ()) -> None:
    """Raise the error an answer's exceptions stand for, except the tolerated codes.

    Warnings and information pass silently, unless their code decides the answer.
    """
    tolerated = frozenset(tolerated)
    for exc in answer.exceptions:
        code = exc.code
        if code in tolerated or not (exc.is_error or code in _DECISIVE_CODES):
            continue
        if code in RETRYABLE_CODES:
            raise RegistryUnavailable(
                f"the source behind {answer.service} is unavailable for now"
                f" (MAGDA {code}); try again later",
                code=code,
            )
        if code == UNKNOWN_INSZ:
            raise RegistryError(
                f"{answer.service}: the registry does not know this national number"
                f" (MAGDA {code}); check the number, or whether the person is"
                " registered yet",
                code=code,
            )
        if code.startswith("4") and code != INCOME_YEAR_NOT_AVAILABLE:
            raise RegistryRefused(
                f"{answer.service}: the gateway refused the request (MAGDA {code});"
                " check the consumer, its capacity (Hoedanigheid) and whether the"
                " person is in the consumer's register",
                code=code,
            )
        raise RegistryError(
            f"{answer.service}: the gateway answered MAGDA error {code} from"
            f" {exc.origin or 'an unnamed source'}",
            code=code,
        )


def _expect(answer: Answer, service: str | tuple[str, ...]) -> None:
    names = (service,) if isinstance(service, str) else service
    if answer.service not in names:
        raise RegistryAnswerError(
            f"expected an answer of {' or '.join(names)}; got one of {answer.service}"
        )


def _require_content(answer: Answer) -> etree._Element:
    if answer.content is None:
        raise RegistryAnswerError(
            f"the {answer.service} answer has no content and no error that explains why"
        )
    return answer.content


def _date_or_none(text: str | None) -> date | None:
    """A complete ISO date, or None for a missing or incomplete (`00`) one."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        if len(text) >= 10 and text[4] == "-" and text[7] == "-":
            return None  # an incomplete date such as 1960-00-00
        raise RegistryAnswerError(
            f"expected a date YYYY-MM-DD in the answer; got {text!r}"
        ) from None


def _earliest_date(text: str | None) -> date | None:
    """The first day an incomplete date (`2009-00-00`) can mean; None if absent."""
    if not text:
        return None
    year, month, day = text[:4], text[5:7], text[8:10]
    try:
        return date(int(year), int(month) or 1, int(day) or 1)
    except ValueError:
        raise RegistryAnswerError(
            f"expected a date YYYY-MM-DD in the answer; got {text!r}"
        ) from None


def _join_texts(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    return " ".join(
        e.text.strip() for e in _find_all(element, path) if e.text and e.text.strip()
    )


def _address(element: etree._Element, answered_on: date | None) -> Address:
    street = _text(element, "Straatnaam/String") or _text(
        element, "NietGestandaardiseerdeStraatnaam/String"
    )
    municipality = _text(element, "Gemeentenaam/String") or _text(
        element, "NietGestandaardiseerdeGemeentenaam/String"
    )
    reference = _find(element, "ReferentieAdres")
    is_reference = reference is not None
    if is_reference:
        # A reference address that has ended is history, not today's situation.
        ended = _date_or_none(_text(reference, "Einddatum"))
        if ended is not None and (answered_on is None or ended <= answered_on):
            is_reference = False
    return Address(
        street=street or "",
        number=_text(element, "Huisnummer") or "",
        box=_text(element, "Busnummer"),
        postcode=_text(element, "Postcode") or "",
        municipality=municipality or "",
        since=_date_or_none(element.get("DatumBegin")),
        reference_address=is_reference,
    )


def parse_person(answer: Answer) -> Person:
    """GeefPersoon → Person.

    30001 and 30003 raise `RegistryError` with that code: a person look-up that
    finds nobody has nothing to decide on. A 30004 warning ("new INSZ") fills
    `replaced_by` with the new number.
    """
    _expect(answer, GEEF_PERSOON)
    raise_for_exceptions(answer)
    persoon = _find(_require_content(answer), "Persoon")
    if persoon is None:
        if answer.has(NO_DATA):
            raise RegistryError(
                "GeefPersoon: the registry has no data for this person (MAGDA 30001)",
                code=NO_DATA,
            )
        raise RegistryAnswerError("the GeefPersoon answer has no Persoon element")
    insz = _text(persoon, "INSZ")
    if not insz:
        raise RegistryAnswerError("the GeefPersoon answer has no INSZ")
    main = _find(persoon, "Adressen/Hoofdverblijfplaats")
    parents: list[str] = []
    for parent in _find_all(persoon, "Afstammingen/Afstamming/Ouders/Ouder/INSZ"):
        if parent.text and parent.text.strip() not in parents:
            parents.append(parent.text.strip())
    replaced_by = None
    for exc in answer.exceptions:
        if exc.code == NEW_INSZ:
            replaced_by = exc.annotation("Nieuw INSZ")
    return Person(
        insz=insz,
        first_name=_join_texts(persoon, "Naam/Voornamen/Voornaam"),
        last_name=_join_texts(persoon, "Naam/Achternamen/Achternaam"),
        birth_date=_text(persoon, "Geboorte/Datum"),
        # An incomplete death date still means the person died: keep its first day.
        death_date=_earliest_date(_text(persoon, "Overlijden/Datum")),
        address=_address(main, answer.answered_on) if main is not None else None,
        household_position=_text(persoon, "Referentiepersoon/Positie/Code"),
        parents=tuple(parents),
        replaced_by=replaced_by if replaced_by and replaced_by != insz else None,
    )


def parse_household(
    answer: Answer, *, subject: str | None = None, on: date | None = None
) -> Household:
    """GeefGezinssamenstelling or GeefHistoriekGezinssamenstelling → Household.

    30001 gives a household without members (the rules send that to review).
    `subject` is the INSZ that was asked; answers do not repeat it, so when it is
    not given the reference person (position 01) stands in, or the first member.
    With `on`, members whose dated membership does not cover that day are left out.
    A history answer with several compositions is read at its last one.
    """
    _expect(answer, (GEEF_GEZINSSAMENSTELLING, GEEF_HISTORIEK_GEZINSSAMENSTELLING))
    raise_for_exceptions(answer, tolerated=(NO_DATA,))
    content = answer.content
    if content is None:
        return Household(subject=subject or "", members=())
    if answer.service == GEEF_HISTORIEK_GEZINSSAMENSTELLING:
        compositions = content.findall(
            "HistoriekGezinssamenstelling/Gezinssamenstelling"
        )
        lines = (
            compositions[-1].findall("Gezinsleden/Gezinslid") if compositions else []
        )
    else:
        lines = content.findall("Gezinsleden/Gezinslid")
    members = []
    for line in lines:
        insz = _text(line, "INSZ")
        if not insz:
            raise RegistryAnswerError("a household member in the answer has no INSZ")
        if on is not None:
            began = _date_or_none(line.get("DatumBegin"))
            ended = _date_or_none(line.get("DatumEinde"))
            if (began and began > on) or (ended and ended <= on):
                continue
        members.append(
            HouseholdMember(
                insz=insz,
                position=_text(line, "Positie/Code"),
                birth_date=_text(line, "Geboortedatum"),
            )
        )
    if subject is None:
        heads = [m.insz for m in members if m.position == "01"]
        subject = heads[0] if heads else (members[0].insz if members else "")
    return Household(subject=subject, members=tuple(members))


def parse_social_statuses(
    answer: Answer, *, insz: str | None = None, on: date | None = None
) -> SocialStatuses:
    """GeefSociaalStatuut → SocialStatuses: 1 applies, 0 does not.

    30001 ("no data") is `not_found=True` with no statuses: not an error. `on` is
    the criteria date asked; answers do not repeat it, so without it the answer's
    date stands in.
    """
    _expect(answer, GEEF_SOCIAAL_STATUUT)
    raise_for_exceptions(answer, tolerated=(NO_DATA,))
    on = on or answer.answered_on or date.min
    persoon = _find(answer.content, "Persoon") if answer.content is not None else None
    if persoon is None:
        if answer.has(NO_DATA):
            return SocialStatuses(insz=insz or "", on=on, not_found=True)
        raise RegistryAnswerError("the GeefSociaalStatuut answer has no Persoon")
    applies: dict[str, bool] = {}
    ends: dict[str, date] = {}
    for statuut in _find_all(persoon, "SocialeStatuten/SociaalStatuut"):
        name = _text(statuut, "Naam")
        result = _text(statuut, "Resultaat/Code")
        # Any result other than 1 or 0 is not an answer: leave the status unknown.
        if name and result in ("0", "1"):
            applies[name] = result == "1"
            end = _period_end(statuut, on) if result == "1" else None
            if end is not None:
                ends[name] = end
    return SocialStatuses(
        insz=insz or _text(persoon, "INSZ") or "", on=on, applies=applies, ends=ends
    )


def _period_end(statuut: etree._Element, on: date) -> date | None:
    """The end of the status's period that holds `on`; None for no period that
    holds it, or one without an end (both: no known end)."""
    for periode in _find_all(statuut, "Periodes/Periode"):
        begin = _date_or_none(_text(periode, "Begindatum"))
        end = _date_or_none(_text(periode, "Einddatum"))
        if (begin is None or begin <= on) and (end is None or on <= end):
            return end
    return None


def parse_income(
    answer: Answer, *, insz: str | None = None, income_year: int | None = None
) -> Income:
    """GeefAanslagbiljetPersonenbelasting → Income.

    The taxable income is the item `<column>7555` of the asked person, where the
    column is their fiscal status (A for the taxpayer, B for the partner in a
    joint assessment): IPCAL code 7555 is the joint taxable income. `Waarde` is in
    euro cents and becomes `Decimal` euro. No such item, 30001 or 45008 make the
    income unknown (`taxable_income=None`), never zero. Without `insz` and
    `income_year`, the answer's own are used ("" and 0 when it has none).
    """
    _expect(answer, GEEF_AANSLAGBILJET)
    raise_for_exceptions(answer, tolerated=(NO_DATA, INCOME_YEAR_NOT_AVAILABLE))
    assessment = (
        _find(answer.content, "AanslagbiljetPersonenbelasting")
        if answer.content is not None
        else None
    )
    if assessment is None:
        if answer.has(NO_DATA) or answer.has(INCOME_YEAR_NOT_AVAILABLE):
            return Income(
                insz=insz or "", income_year=income_year or 0, taxable_income=None
            )
        raise RegistryAnswerError(
            "the GeefAanslagbiljetPersonenbelasting answer has no assessment"
        )
    year_text = _text(assessment, "Inkomensjaar")
    if income_year is None:
        income_year = int(year_text) if year_text and year_text.isdigit() else 0
    column = _text(assessment, "GevraagdePersoon/FiscaleStatus/Code") or "A"
    wanted = f"{column}{TAXABLE_INCOME_IPCAL_CODE}"
    taxable = None
    for item in _find_all(assessment, "Items/Item"):
        if _text(item, "Code") == wanted:
            taxable = _cents_to_euro(_text(item, "Waarde"))
    return Income(
        insz=insz or _text(assessment, "GevraagdePersoon/INSZ") or "",
        income_year=income_year,
        taxable_income=taxable,
    )


def parse_disability_file(
    answer: Answer, *, insz: str | None = None, on: date | None = None
) -> DisabilityFile:
    """GeefDossierHandicap → DisabilityFile: the parking cards of the DGPH file.

    "No data" (the answer's or the DGPH result's status NO_DATA_FOUND, or MAGDA
    30001) is `found=False`, not an error. A DGPH result that is neither found nor
    not found (TECHNICAL_ERROR, NO_RESULT) raises `RegistryUnavailable`: the
    source could not say, which is not the same as no card. `on` is the criteria
    date asked; without it the answer's date stands in.
    """
    _expect(answer, GEEF_DOSSIER_HANDICAP)
    raise_for_exceptions(answer, tolerated=(NO_DATA,))
    on = on or answer.answered_on or date.min
    content = answer.content
    found = (
        _find(content, "ConsultFilesByDateResponse") if content is not None else None
    )
    if found is None:
        if answer.has(NO_DATA):
            return DisabilityFile(insz=insz or "", on=on, found=False)
        raise RegistryAnswerError(
            "the GeefDossierHandicap answer has no ConsultFilesByDateResponse"
        )
    insz = insz or _text(found, "ssin") or ""
    overall = _text(found, "status/value")
    dgph = _find(found, "results/dgphResult")
    source = _text(dgph, "status/value") if dgph is not None else None
    if source == FILE_NOT_FOUND or (source is None and overall == FILE_NOT_FOUND):
        return DisabilityFile(insz=insz, on=on, found=False)
    if source != FILE_FOUND:
        raise RegistryUnavailable(
            "GeefDossierHandicap: the disability file's source gave no answer"
            f" (status {source or overall or 'missing'!r}); try again later",
            code=f"dgph-{(source or overall or 'missing').lower()}",
        )
    cards = []
    for card in _find_all(dgph, "file/socialCards/socialCard"):
        if _text(card, "cardCategory") != PARKING_CARD_CATEGORY:
            continue
        delivered = _date_or_none(_text(card, "deliveryDate"))
        if delivered is None:
            raise RegistryAnswerError("a social card in the answer has no deliveryDate")
        cards.append(
            ParkingCard(
                delivered_on=delivered, ends_on=_date_or_none(_text(card, "endDate"))
            )
        )
    return DisabilityFile(insz=insz, on=on, found=True, parking_cards=tuple(cards))


def _cents_to_euro(text: str | None) -> Decimal:
    try:
        cents = Decimal(text or "")
    except InvalidOperation:
        raise RegistryAnswerError(
            "an income item's Waarde is not a number of cents"
        ) from None
    if cents != cents.to_integral_value():
        raise RegistryAnswerError("an income item's Waarde is not whole cents")
    return (cents / 100).quantize(Decimal("0.01"))


Facts = Person | Household | SocialStatuses | Income | DisabilityFile


def parse_facts(data: bytes | str | etree._Element | Answer) -> Facts:
    """Read any answer of the services above into its facts, by its root element."""
    answer = data if isinstance(data, Answer) else read_answer(data)
    if answer.service == GEEF_PERSOON:
        return parse_person(answer)
    if answer.service in (GEEF_GEZINSSAMENSTELLING, GEEF_HISTORIEK_GEZINSSAMENSTELLING):
        return parse_household(answer)
    if answer.service == GEEF_SOCIAAL_STATUUT:
        return parse_social_statuses(answer)
    if answer.service == GEEF_DOSSIER_HANDICAP:
        return parse_disability_file(answer)
    return parse_income(answer)


# ---------------------------------------------------------------------------
# Reading requests (what the simulator receives)


@dataclass(frozen=True, slots=True)
class Request:
    """A MAGDA request as the gateway sees it."""

    service: str
    as_of: date
    consumer: str
    purpose: str
    reference: str
    question_reference: str
    insz: str
    criteria: etree._Element

    @property
    def status_names_and_dates(self) -> list[tuple[str, date]]:
        """GeefSociaalStatuut: each named status with the date asked for it."""
        asked = []
        for statuut in _find_all(self.criteria, "SocialeStatuten/SociaalStatuut"):
            day = _text(statuut, "Datum/Datum") or _text(
                statuut, "Datum/Periode/Begindatum"
            )
            asked.append((_text(statuut, "Naam") or "", _request_date(day)))
        return asked

    @property
    def criteria_date(self) -> date | None:
        """GeefHistoriekGezinssamenstelling: the date the household is asked for."""
        day = _text(self.criteria, "Datum")
        return _request_date(day) if day else None

    @property
    def reference_date(self) -> date:
        """GeefDossierHandicap: the date the file is asked for."""
        return _request_date(
            _text(self.criteria, "ConsultFilesByDateCriteria/referenceDate")
        )

    @property
    def income_year(self) -> int:
        year = _text(self.criteria, "Inkomensjaar") or ""
        if not year.isdigit():
            raise RegistryRefused(
                f"the request's Inkomensjaar {year!r} is not a year", code="soap-client"
            )
        return int(year)


def _request_date(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise RegistryRefused(
            f"the request carries {text!r} where a date YYYY-MM-DD belongs",
            code="soap-client",
        ) from None


# Lengths the generic schema allows (ApplicatieIdentificatieType, NaamKortType,
# ReferteType): a request that exceeds them would not pass MAGDA's validation.
_MAX_CONSUMER, _MAX_PURPOSE, _MAX_REFERENCE = 120, 24, 36


def read_request(data: bytes) -> Request:
    """Read a MAGDA SOAP request; `RegistryRefused` (code soap-client) if malformed."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise RegistryRefused(
            f"the request is not well-formed XML ({exc.msg})", code="soap-client"
        ) from exc
    body = root.find(f"{{{SOAP_ENV}}}Body") if root.tag.endswith("Envelope") else None
    element = _first_child(body) if body is not None else None
    if element is None:
        raise RegistryRefused(
            "the request is not a SOAP 1.1 envelope with a body", code="soap-client"
        )
    service = _local(element.tag)
    verzoek = _find(element, "Verzoek")
    criteria = None
    if verzoek is not None:
        # KSZ services behind MAGDA (GeefDossierHandicap) have no Inhoud
        criteria = _find(verzoek, "Vragen/Vraag/Inhoud/Criteria")
        if criteria is None:
            criteria = _find(verzoek, "Vragen/Vraag/Criteria")
    if service not in SERVICES or criteria is None:
        raise RegistryRefused(
            f"the request body holds {service!r} without Verzoek criteria",
            code="soap-client",
        )
    bericht = _find(verzoek, "Context/Bericht")
    consumer = _text(bericht, "Afzender/Identificatie") or ""
    purpose = _text(bericht, "Afzender/Hoedanigheid") or ""
    reference = _text(bericht, "Afzender/Referte") or ""
    question = _text(verzoek, "Vragen/Vraag/Referte") or reference
    if (
        len(consumer) > _MAX_CONSUMER
        or len(purpose) > _MAX_PURPOSE
        or not 1 <= len(reference) <= _MAX_REFERENCE
        or not 1 <= len(question) <= _MAX_REFERENCE
    ):
        raise RegistryRefused(
            "the request's sender, capacity or reference is empty or too long",
            code="soap-client",
        )
    return Request(
        service=service,
        as_of=_request_date(_text(bericht, "Tijdstip/Datum")),
        consumer=consumer,
        purpose=purpose,
        reference=reference,
        question_reference=question,
        insz=_text(criteria, "INSZ")
        or _text(criteria, "ConsultFilesByDateCriteria/ssin")
        or "",
        criteria=criteria,
    )
