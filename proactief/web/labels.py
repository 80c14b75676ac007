"""Dutch words for the codes the flows store: benefits, outcomes, reasons.

The pages show these labels, never the codes alone. A code without a label is
shown as it is (with spaces for underscores), so a new reason in a rule is visible
at once and can be given its words here.
"""

from __future__ import annotations

import json
import re

BENEFITS = {
    "garbage-bags": "Gratis huisvuilzakken",
    "school-tariffs": "Sociaal tarief school en opvang",
    "uitpas": "UiTPAS kansentarief",
    "lez": "Lage-emissiezone",
    "lez-free-registration": "LEZ: gratis registratie voertuig",
    "lez-day-pass": "LEZ: sociaal tarief dagpassen",
}

OUTCOMES = {
    "granted": "toegekend",
    "not_granted": "niet toegekend",
    "review": "te beoordelen",
    "handled": "afgehandeld zonder beslissing",
    "invalid_number": "ongeldig nummer",
}

CATEGORIES = {
    "social": "sociaal tarief (100 % korting opvang, 80 % maaltijden)",
    "low_income_a": "laag inkomen A (50 % korting opvang, 25 % maaltijden)",
    "low_income_b": "laag inkomen B (50 % korting opvang)",
    "standard": "standaardtarief",
}

REASONS = {
    # garbage bags
    "vt_member": "een gezinslid heeft verhoogde tegemoetkoming",
    "budget_guidance": "budgetbegeleiding bij de sociale dienst",
    "budget_management": "budgetbeheer bij de sociale dienst",
    "debt_mediation": "schuldbemiddeling bij de sociale dienst",
    "no_qualifying_situation": "geen situatie die recht geeft",
    "not_resident_in_city": "woont niet in de stad",
    "reference_address": "referentieadres",
    "member_deceased": "een gezinslid is overleden",
    "address_changed_after_reference_date": "verhuisd na de referentiedatum",
    "address_missing": "geen adres in het rijksregister",
    "no_reference_person": "geen referentiepersoon in het gezin",
    "multiple_reference_persons": "meer dan een referentiepersoon",
    "reference_person_count": "geen of meer dan een referentiepersoon",
    "member_missing_from_registry": "een gezinslid ontbreekt in het rijksregister",
    "registry_failed": "het rijksregister gaf geen antwoord",
    "status_unknown": "een sociaal statuut kon niet gelezen worden",
    "registry_failed_before_sending": "geen antwoord bij het nalezen van het adres",
    "recipient_not_in_registry": "ontvanger niet gevonden bij het verzenden",
    "recipient_deceased_before_sending": "ontvanger overleden voor verzending",
    "address_missing_before_sending": "geen adres bij verzending",
    "reference_address_before_sending": "referentieadres bij verzending",
    # school tariffs
    "integration_income_in_household": "leefloon bij een ouder in het gezin",
    "household_income_below_limit_a": "gezinsinkomen onder grens A",
    "household_income_below_limit_b": "gezinsinkomen onder grens B",
    "household_income_not_below_limits": "gezinsinkomen niet onder de grenzen",
    "no_legal_parent": "geen wettelijke ouder gekend",
    "parent_deceased": "een ouder is overleden",
    "integration_income_outside_household": (
        "een ouder met leefloon woont buiten het gezin (co-ouderschap)"
    ),
    "household_income_unknown": "gezinsinkomen onbekend (geen aanslagbiljet)",
    "integration_income_unknown": "leefloon kon niet gelezen worden",
    "kept_from_earlier_check": "behouden van een eerdere controle",
    "billing_file_without_pupil_list": "factuurbestand zonder leerlingenlijst",
    "billing_pupil_not_on_list": "gefactureerde leerling niet op de lijst",
    "insz_missing": "rijksregisternummer ontbreekt",
    "insz_invalid": "rijksregisternummer klopt niet",
    "insz_test_number": "testnummer niet toegelaten",
    "duplicate_pupil": "leerling staat dubbel op de lijst",
    "school_unknown": "onbekende school",
    # UiTPAS
    "vt": "verhoogde tegemoetkoming",
    "integration_income": "leefloon of gelijkwaardige steun",
    "person_not_in_registry": "persoon niet gevonden in het rijksregister",
    "person_deceased": "persoon overleden volgens het register",
    "renewal_not_qualifying": "bij verlenging geen recht meer",
    "renewal_status_ends": "het statuut loopt af voor de verlenging",
    "renewed": "verlengd",
    "granted_earlier_this_year": "eerder dit jaar toegekend",
    "household_member_granted": "gezinslid van iemand die het kansentarief kreeg",
}

ACTIONS = {
    "login_succeeded": "aangemeld",
    "login_failed": "fout wachtwoord",
    "account_locked": "account vergrendeld",
    "login_refused_locked": "aanmelding geweigerd (vergrendeld)",
    "logout": "afgemeld",
    "access_refused": "toegang geweigerd",
    "desk_check": "UiTPAS-controle",
    "desk_household_grant": "UiTPAS voor gezinslid",
    "desk_rate_exceeded": "te veel opzoekingen",
    "review_viewed": "dossier bekeken",
    "review_number_shown": "rijksregisternummer getoond",
    "review_decided": "beoordeling beslist",
    "review_reopened": "beoordeling heropend",
    "audit_exported": "auditlog geëxporteerd",
    "lez_check": "LEZ-vraag van het vergunningensysteem",
    "api_refused": "API-vraag zonder geldige sleutel",
}


def _fallback(code: str) -> str:
    return code.replace("_", " ").replace("-", " ")


def benefit(code: str | None) -> str:
    return BENEFITS.get(code or "", _fallback(code or ""))


def outcome(code: str | None) -> str:
    return OUTCOMES.get(code or "", _fallback(code or ""))


def category(code: str | None) -> str:
    return CATEGORIES.get(code or "", _fallback(code or ""))


HOUSEHOLD_MEMBER_SUFFIX = "_household_member"


def reason(code: str) -> str:
    if code.endswith(HOUSEHOLD_MEMBER_SUFFIX) and code not in REASONS:
        return reason(code.removesuffix(HOUSEHOLD_MEMBER_SUFFIX)) + " (gezinslid)"
    if code in REASONS:
        return REASONS[code]
    from rules.lez import REASON_TEXTS  # the LEZ rule keeps its own words

    return REASON_TEXTS.get(code, _fallback(code))


def reasons(codes: str | None) -> list[str]:
    return [reason(c) for c in (codes or "").split(",") if c]


def action(code: str) -> str:
    return ACTIONS.get(code, _fallback(code))


_BAND = re.compile(r"^(below|up_to|above)_(\d+)$|^(\d+)_or_more$")


def income_band(band: str) -> str:
    """'below_23000' -> 'onder 23.000 euro': a band, never an amount."""
    if band == "unknown":
        return "onbekend"
    match = _BAND.match(band)
    if not match:
        return _fallback(band)
    if match.group(3):
        return f"{int(match.group(3)):,} euro of meer".replace(",", ".")
    words = {"below": "onder", "up_to": "tot en met", "above": "boven"}
    amount = f"{int(match.group(2)):,}".replace(",", ".")
    return f"{words[match.group(1)]} {amount} euro"


def evidence(raw: str | None) -> list[str]:
    """The sources a decision used, in Dutch where the flow's words are known."""
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    shown = []
    for item in items:
        text = str(item)
        if text.startswith("household income band: "):
            text = "inkomensschijf van het gezin: " + income_band(
                text.removeprefix("household income band: ")
            )
        else:
            text = (
                text.replace(" as of ", ", opgevraagd op ")
                .replace(" on ", " op ")
                .replace("income year", "inkomensjaar")
            )
        shown.append(text)
    return shown
