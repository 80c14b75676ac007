"""The web app in a real headless Chromium: desk, review queue, audit, roles.

Driven with the keyboard where a user would type, and found by the labels a
screen reader reads out. Screenshots of the desk answer and the review page are
written to var/screenshots/ for anyone to look at.
"""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect

from proactief.insz import check_digits

from .browser import screenshot
from .serving import PASSWORD, City


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/")
    expect(page).to_have_title(re.compile("Aanmelden"))
    page.get_by_label("Gebruikersnaam").fill(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")  # the form is sent with the keyboard alone
    expect(page.get_by_role("button", name="Afmelden")).to_be_visible()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Afmelden").click()
    expect(page.get_by_role("heading", name="Aanmelden")).to_be_visible()


def _check(page: Page, number: str) -> None:
    field = page.get_by_label("Rijksregisternummer")
    field.fill(number)
    field.press("Enter")


def _unknown_number() -> str:
    """A valid test number that the city does not hold: 'check by hand'."""
    first_nine = "716101999"
    return first_nine + check_digits(first_nine, born_2000_or_later=False)


def test_desk_review_and_audit_in_a_browser(page: Page, web, web_city):
    today = date.today()
    city = City(web_city, today)
    granted, refused = city.granted_on_own_status(), city.not_granted()

    # desk: one citizen of each outcome
    _sign_in(page, web.url, "balie")
    expect(
        page.get_by_role("heading", name="UiTPAS kansentarief controleren")
    ).to_be_visible()
    dotted = f"{granted['insz'][:2]}.{granted['insz'][2:4]}.{granted['insz'][4:6]}-{granted['insz'][6:9]}.{granted['insz'][9:]}"
    _check(page, dotted)
    answer = page.locator("#antwoord")
    expect(answer).to_have_text(f"Ja: kansentarief tot en met 31 december {today.year}")
    expect(page.get_by_role("group", name="Gezinsleden")).to_be_visible()
    shot = screenshot(page, "balie-antwoord-ja")
    assert shot.stat().st_size > 5_000
    assert granted["address"]["street"] not in page.content()

    _check(page, refused["insz"])
    expect(answer).to_have_text("Nee: geen kansentarief")

    _check(page, _unknown_number())
    expect(answer).to_have_text("Controleer met de hand")
    expect(
        page.get_by_text("Het register kent dit rijksregisternummer niet")
    ).to_be_visible()
    screenshot(page, "balie-antwoord-controleer")

    wrong = refused["insz"][:9] + f"{(int(refused['insz'][9:]) + 1) % 100:02d}"
    _check(page, wrong)
    expect(page.get_by_role("alert")).to_contain_text("de controlecijfers passen niet")
    expect(page.get_by_label("Rijksregisternummer")).to_have_attribute(
        "aria-invalid", "true"
    )

    # the desk may not open the review queue or the audit log
    page.goto(f"{web.url}/audit")
    expect(page.get_by_role("heading", name="Geen toegang")).to_be_visible()
    page.goto(f"{web.url}/beoordeling")
    expect(page.get_by_role("heading", name="Geen toegang")).to_be_visible()
    page.goto(f"{web.url}/balie")
    _sign_out(page)

    # review: the desk's "check by hand" is waiting in the queue
    _sign_in(page, web.url, "beoordelaar")
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    menu.get_by_role("link", name="Beoordelingen").click()
    page.get_by_label("Voordeel").select_option("uitpas")
    page.get_by_role("button", name="Filteren").click()
    cases = page.get_by_role("link", name=re.compile(r"^Dossier \d+$"))
    expect(cases).to_have_count(1)
    cases.first.click()
    expect(
        page.get_by_text("persoon niet gevonden in het rijksregister")
    ).to_be_visible()
    screenshot(page, "beoordeling-dossier")
    page.get_by_role("radio", name="Toekennen", exact=True).check()
    page.get_by_label("Motivering (verplicht)").fill(
        "Verblijfskaart en attest van het OCMW gezien aan de balie."
    )
    page.get_by_role("button", name="Beslissing bewaren").click()
    expect(page.get_by_role("status")).to_contain_text("Beslissing bewaard")
    expect(cases).to_have_count(0)
    page.goto(f"{web.url}/audit")
    expect(page.get_by_role("heading", name="Geen toegang")).to_be_visible()
    _sign_out(page)

    # audit: the supervisor sees the checks and the decision
    _sign_in(page, web.url, "supervisor")
    menu.get_by_role("link", name="Auditlog").click()
    page.get_by_label("Medewerker").select_option("beoordelaar")
    page.get_by_role("button", name="Filteren").click()
    rows = page.locator("tbody tr")
    expect(rows.filter(has_text="beoordeling beslist")).to_have_count(1)
    page.get_by_label("Medewerker").select_option("balie")
    page.get_by_role("button", name="Filteren").click()
    expect(rows.filter(has_text="UiTPAS-controle")).to_have_count(4)
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporteer als CSV").click()
    exported = download.value.path().read_text("utf-8-sig")
    assert exported.count("desk_check") == 4
    assert granted["insz"] not in exported
    page.goto(f"{web.url}/balie")
    expect(page.get_by_role("heading", name="Geen toegang")).to_be_visible()


def test_a_page_asked_for_before_signing_in_opens_after(page: Page, web):
    page.goto(f"{web.url}/audit?medewerker=balie")
    expect(page.get_by_role("heading", name="Aanmelden")).to_be_visible()
    page.get_by_label("Gebruikersnaam").fill("supervisor")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", name="Auditlog")).to_be_visible()
    assert page.url.endswith("/audit?medewerker=balie")
