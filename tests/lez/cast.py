"""People of a generated city picked by what the LEZ policy says of them on a day.

`lez_cast(people, today)` reads `population.jsonl` records (the city contract of
DESIGN.md) as the registry shows them on `today` (a status only from its
`registered_on`, someone only once born and while alive) and picks, by national
number, the first person of each case:

| role | who |
|---|---|
| `card_and_vt` | alive, at home in the city, a parking card and VT on `today` that run on (no end, or not before the end of the year), in a household with another living member |
| `relative_same_address` | another living member of that household |
| `relative_elsewhere` | a living person outside that household |
| `vt_only` | alive, at home, VT on `today` (running on to the end of the year), no parking card |
| `card_only` | alive, at home, a parking card on `today`, no VT |
| `neither` | alive, at home, neither a parking card nor VT |
| `second_card_and_vt` | as `card_and_vt`, in another household (any household size) |

Each role is a different person; `vt_only`, `card_only`, `neither` and
`second_card_and_vt` live outside the household of `card_and_vt`. A city that
holds nobody for a role raises `LookupError` naming the role. Written apart from
the rule and the registry layer, so that a mistake in either shows up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

VT = "BIM_BVT"
PARKING = ("GENT_PARKING_ADULT", "GENT_PARKING_CHILD")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _born(person: dict) -> date:
    year, month, day = (int(part) for part in person["birth_date"].split("-"))
    return date(year, month or 1, day or 1)


def alive(person: dict, today: date) -> bool:
    """Known to the registry on `today` and not deceased by then."""
    died = _day(person["death_date"])
    return _born(person) <= today and (died is None or died > today)


def at_home(person: dict) -> bool:
    address = person["address"]
    return address is not None and not address["reference_address"]


def spells(person: dict, names, today: date) -> list[dict]:
    """The visible status periods among `names` that hold on `today`."""
    found = []
    for status in person["statuses"]:
        registered = _day(status.get("registered_on"))
        if status["name"] not in names or (registered and registered > today):
            continue
        start, end = _day(status["from"]), _day(status.get("to"))
        if (start is None or start <= today) and (end is None or today <= end):
            found.append(status)
    return found


def runs_on(found: list[dict], until: date) -> bool:
    """Some period holds until `until` at least (or has no end)."""
    return any(s.get("to") is None or _day(s["to"]) >= until for s in found)


def lez_cast(people: list[dict], today: date) -> dict[str, dict]:
    """One person per role (see the module docstring), as of `today`."""
    by_insz = {p["insz"]: p for p in people}
    households: dict[str, list[dict]] = {}
    for person in people:
        if person.get("household"):
            households.setdefault(person["household"], []).append(person)
    end_of_year = date(today.year, 12, 31)

    def living_mates(person: dict) -> list[dict]:
        return [
            p
            for p in households.get(person.get("household") or "", [person])
            if p["insz"] != person["insz"] and alive(p, today)
        ]

    def card(person: dict) -> list[dict]:
        return spells(person, PARKING, today)

    def vt(person: dict) -> list[dict]:
        return spells(person, (VT,), today)

    def holder(person: dict) -> bool:
        return (
            alive(person, today)
            and at_home(person)
            and not person.get("replaced_by")
            and runs_on(card(person), end_of_year)
            and runs_on(vt(person), end_of_year)
        )

    used: set[str] = set()

    def pick(role: str, want: Callable[[dict], bool]) -> dict:
        for insz in sorted(by_insz):
            person = by_insz[insz]
            if insz not in used and want(person):
                used.add(insz)
                return person
        raise LookupError(f"the city holds nobody for the LEZ role {role!r}")

    main = pick("card_and_vt", lambda p: holder(p) and bool(living_mates(p)))
    household = {p["insz"] for p in households.get(main["household"], [main])}

    def outside(person: dict) -> bool:
        return person["insz"] not in household and alive(person, today)

    return {
        "card_and_vt": main,
        "relative_same_address": pick(
            "relative_same_address",
            lambda p: p["insz"] in household and alive(p, today),
        ),
        "relative_elsewhere": pick("relative_elsewhere", outside),
        "vt_only": pick(
            "vt_only",
            lambda p: (
                outside(p)
                and at_home(p)
                and runs_on(vt(p), end_of_year)
                and not card(p)
                and not p.get("replaced_by")
            ),
        ),
        "card_only": pick(
            "card_only",
            lambda p: outside(p) and at_home(p) and bool(card(p)) and not vt(p),
        ),
        "neither": pick(
            "neither",
            lambda p: outside(p) and at_home(p) and not card(p) and not vt(p),
        ),
        "second_card_and_vt": pick(
            "second_card_and_vt", lambda p: outside(p) and holder(p)
        ),
    }
