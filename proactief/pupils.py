"""What schools send for the school social tariff: pupil lists and billing lines.

A school sends a pupil list (`school_id;school_name;pupil_insz;last_name;first_name;
class;since`) and, for each period, its billing lines (`pupil_insz;item;quantity;
unit_price`): `;`-separated CSV, UTF-8 with or without a byte-order mark.

Two kinds of problem, two outcomes, so that one school's mistake never stops another
school, and a batch never crashes on what a school sent:

- A file that cannot be read at all is refused with a `PupilFileError`. Its message is
  for the school's secretary, in Dutch: what is wrong, where (file, line, column) and
  what to do; `reason` holds the English code. `read_school_files` turns each refusal
  into a `RefusedFile` and reads the other files.
- A line that can be read but is wrong becomes a `RejectedRow` (line, reason code,
  Dutch message): the checks are computed here and run as the Great Expectations
  suites `expectations/pupil_list.json` and `expectations/billing_lines.json`, one
  validation per file. The good lines of the same file are kept.

File refusals (`PupilFileError.reason`):

| code | when |
|---|---|
| `file_unreadable` | the file does not exist or cannot be opened |
| `file_too_large` | larger than `MAX_FILE_BYTES`: not a school's list |
| `excel_workbook` | an .xlsx or .xls workbook instead of CSV |
| `not_utf8` | not UTF-8 (Windows-1252/Latin-1, UTF-16): line and column of the first bad character |
| `empty_file` | nothing in it |
| `no_rows` | the column names and no line under them |
| `wrong_separator` | commas, tabs or bars instead of `;` |
| `missing_columns` | a required column is missing (named), or no header line |
| `duplicate_columns` | a required column appears twice |
| `ragged_line` | a line with more or fewer fields than the header (line numbers) |
| `malformed_csv` | quotes that are not closed, a field far too long |
| `no_known_school` | no line of a pupil list names a school of the city |

Rejected lines (`RejectedRow.reason`), one entry per problem, so that a line can
appear more than once: `insz_missing`, `insz_invalid`, `insz_test_number`,
`duplicate_pupil`, `school_missing`, `school_unknown`, `school_mismatch`,
`since_missing`, `since_invalid` (pupil lists); `insz_missing`, `insz_invalid`,
`insz_test_number`, `item_missing`, `item_unknown`, `quantity_missing`,
`quantity_invalid`, `quantity_negative`, `unit_price_missing`, `unit_price_invalid`,
`unit_price_negative` (billing lines).

Decisions a school may need explained:

- Columns are found by name (case and surrounding spaces ignored), in any order;
  extra columns are ignored, and so are blank lines and lines of empty fields (Excel
  leaves those behind). A first line `sep=;` (Excel's hint) is skipped. Values are
  stripped of surrounding spaces; school ids are matched without regard to case.
- The file's school is the known `school_id` most lines name (the first of equals);
  its name comes from the city's schools.csv, not from the file. A line naming
  another known school is rejected (`school_mismatch`), a line naming an unknown one
  `school_unknown`; a list in which no line names a known school is refused.
- A pupil on two lines of one list: the first line without any other problem
  counts, each later good one is rejected with `duplicate_pupil` and points to it.
  The tariff depends on the pupil, not on the line, so the pupil is still checked;
  a wrong line is rejected for what is wrong with it, not as a repeat.
- National numbers: dots, dashes and spaces are allowed; check digits by both rules
  (before 2000 and from 2000); BIS numbers are accepted; MAGDA test numbers only with
  `allow_test_numbers`. Allowing test numbers widens, never narrows: a valid ordinary
  number is always accepted. A number Excel shortened (leading zero dropped, or
  written as 5,06E+10) is rejected with that explanation, never repaired: a repaired
  number could name someone else.
- Items are read without regard to case (`Meals` is `meals`); other words, Dutch
  ones included, are rejected with the three codes to use.
- `since`: `YYYY-MM-DD` or the Belgian `DD/MM/YYYY` (also with `-` or `.`), with a
  four-digit year.
- Quantities and unit prices: a decimal point or a decimal comma (`7,5` is read as
  7.5), an optional sign, no thousands separator, no currency sign; the result is a
  `Decimal`, never a float. Negative values are rejected.

No message, log line or `repr` carries a national number, a name, a date of the file
or an amount: a message names the line and the column instead. School ids quoted in
messages are the city's own.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from proactief import insz
from proactief.errors import PupilFileError
from proactief.quality import check_rows

logger = logging.getLogger(__name__)

PUPIL_COLUMNS = (
    "school_id",
    "school_name",
    "pupil_insz",
    "last_name",
    "first_name",
    "class",
    "since",
)
BILLING_COLUMNS = ("pupil_insz", "item", "quantity", "unit_price")
ITEMS = ("care_hours", "meals", "activity")
# A school's list is some thousands of lines at most; anything far larger is a
# wrong file, and reading it whole would cost the batch its memory.
MAX_FILE_BYTES = 20 * 1024 * 1024
# The quality guard stops a cohort when too many rows fail; a school's file is
# handled line by line however bad it is, so the guard never fires here.
_NO_FAILURE_GUARD = 1.0

_SAVE_AS = (
    "Kies in Excel 'Opslaan als' > 'CSV UTF-8 (door komma's gescheiden) (*.csv)'"
    " en stuur het bestand opnieuw."
)
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_OTHER_SEPARATORS = {",": "komma's", "\t": "tabs", "|": "verticale strepen (|)"}
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_BELGIAN_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_EXCEL_SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?E\+?\d+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A line that was read but is wrong: its line number, a reason code, a message."""

    line: int
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Pupil:
    """One accepted line of a pupil list. Its `repr` shows only the line."""

    line: int
    insz: str = field(repr=False)
    last_name: str = field(repr=False)
    first_name: str = field(repr=False)
    pupil_class: str = field(repr=False)
    since: date = field(repr=False)


@dataclass(frozen=True)
class PupilList:
    """A school's pupil list: the pupils read and the lines sent back."""

    path: Path
    school_id: str
    school_name: str
    pupils: list[Pupil] = field(repr=False)
    rejected: list[RejectedRow]


@dataclass(frozen=True, slots=True)
class BillingLine:
    """One accepted billing line; quantity and unit price stay out of its `repr`."""

    item: str
    quantity: Decimal = field(repr=False)
    unit_price: Decimal = field(repr=False)
    line: int


@dataclass(frozen=True)
class BillingFile:
    """A school's billing lines by pupil (compact INSZ), and the lines sent back."""

    path: Path
    lines: dict[str, list[BillingLine]] = field(repr=False)
    rejected: list[RejectedRow]


@dataclass(frozen=True, slots=True)
class RefusedFile:
    """A file that could not be read at all, with the message for its school."""

    path: Path
    message: str
    reason: str


@dataclass
class SchoolFiles:
    """Everything read from one batch of school files, and what was refused."""

    pupil_lists: list[PupilList] = field(default_factory=list)
    billing_files: list[BillingFile] = field(default_factory=list)
    refused: list[RefusedFile] = field(default_factory=list)


@dataclass(frozen=True)
class _Kind:
    """What differs between the two kinds of file, for reading and for messages."""

    columns: tuple[str, ...]
    noun: str
    line_noun: str


_PUPIL_LIST = _Kind(PUPIL_COLUMNS, "leerlingenlijst", "leerling")
_BILLING = _Kind(BILLING_COLUMNS, "facturatiebestand", "factuurlijn")


@dataclass(frozen=True, slots=True)
class _Record:
    """A data line of a file: its line number and its required fields by name."""

    line: int
    values: dict[str, str]


def read_pupil_list(
    path: str | Path, *, schools: dict[str, str], allow_test_numbers: bool
) -> PupilList:
    """Read one school's pupil list; raise PupilFileError if it cannot be read.

    `schools` maps the city's school ids to their names (its schools.csv).
    """
    path = Path(path)
    records = _read_records(path, _PUPIL_LIST)
    known = {school_id.casefold(): school_id for school_id in schools}
    school_id = _file_school(path, records, known)
    rows = []
    for record in records:
        _, checks = _insz_checks(record.values["pupil_insz"], allow_test_numbers)
        raw_school = record.values["school_id"]
        line_school = known.get(raw_school.casefold()) if raw_school else None
        same_school = line_school == school_id if line_school else None
        since = record.values["since"]
        rows.append(
            {
                "row": record.line,
                **checks,
                "repeats_earlier_line": None,
                "school_given": bool(raw_school),
                "school_known": line_school is not None if raw_school else None,
                "same_school_as_file": same_school,
                "since_given": bool(since),
                "since_valid": _parse_date(since) is not None if since else None,
            }
        )
    first_line = _mark_repeats(records, rows)
    report = check_rows(
        "pupil_list", rows, what="pupil lines", max_failure_share=_NO_FAILURE_GUARD
    )

    def message(record: _Record, reason: str) -> str:
        return _pupil_message(record, reason, school_id, first_line)

    rejected = _rejections(records, report.failures, message)
    refused_lines = {row.line for row in rejected}
    pupils = [
        Pupil(
            line=record.line,
            insz=insz.compact(record.values["pupil_insz"]),
            last_name=record.values["last_name"],
            first_name=record.values["first_name"],
            pupil_class=record.values["class"],
            since=_parse_date(record.values["since"]),
        )
        for record in records
        if record.line not in refused_lines
    ]
    logger.info(
        "pupil list %s of school %s: %d pupils read, %d lines rejected %s",
        path.name,
        school_id,
        len(pupils),
        len(refused_lines),
        report.reason_counts() or "",
    )
    return PupilList(path, school_id, schools[school_id], pupils, rejected)


def read_billing_lines(path: str | Path, *, allow_test_numbers: bool) -> BillingFile:
    """Read one school's billing lines; raise PupilFileError if it cannot be read."""
    path = Path(path)
    records = _read_records(path, _BILLING)
    rows = []
    for record in records:
        _, checks = _insz_checks(record.values["pupil_insz"], allow_test_numbers)
        item = record.values["item"].lower()
        rows.append(
            {
                "row": record.line,
                **checks,
                "item": item or None,
                **_amount_checks("quantity", record.values["quantity"]),
                **_amount_checks("unit_price", record.values["unit_price"]),
            }
        )
    report = check_rows(
        "billing_lines", rows, what="billing lines", max_failure_share=_NO_FAILURE_GUARD
    )
    rejected = _rejections(records, report.failures, _billing_message)
    refused_lines = {row.line for row in rejected}
    lines: dict[str, list[BillingLine]] = {}
    for record in records:
        if record.line in refused_lines:
            continue
        lines.setdefault(insz.compact(record.values["pupil_insz"]), []).append(
            BillingLine(
                item=record.values["item"].lower(),
                quantity=_parse_amount(record.values["quantity"]),
                unit_price=_parse_amount(record.values["unit_price"]),
                line=record.line,
            )
        )
    logger.info(
        "billing file %s: %d lines for %d pupils read, %d lines rejected %s",
        path.name,
        len(records) - len(refused_lines),
        len(lines),
        len(refused_lines),
        report.reason_counts() or "",
    )
    return BillingFile(path, lines, rejected)


def read_school_files(
    pupil_paths: Iterable[str | Path],
    billing_paths: Iterable[str | Path],
    *,
    schools: dict[str, str],
    allow_test_numbers: bool,
) -> SchoolFiles:
    """Read every pupil list and billing file; a file that cannot be read is refused
    and the others are read all the same."""
    result = SchoolFiles()
    for path in map(Path, pupil_paths):
        try:
            result.pupil_lists.append(
                read_pupil_list(
                    path, schools=schools, allow_test_numbers=allow_test_numbers
                )
            )
        except PupilFileError as exc:
            result.refused.append(_refusal(path, exc))
    for path in map(Path, billing_paths):
        try:
            result.billing_files.append(
                read_billing_lines(path, allow_test_numbers=allow_test_numbers)
            )
        except PupilFileError as exc:
            result.refused.append(_refusal(path, exc))
    logger.info(
        "school files: %d pupil lists and %d billing files read, %d files refused",
        len(result.pupil_lists),
        len(result.billing_files),
        len(result.refused),
    )
    return result


def _refusal(path: Path, exc: PupilFileError) -> RefusedFile:
    # The file's message goes back to the school; the batch goes on without it.
    logger.warning(
        "refused %s (%s, line %s): the other files are read",
        path.name,
        exc.reason,
        exc.line if exc.line is not None else "-",
    )
    return RefusedFile(path, str(exc), exc.reason)


# --- reading a file -------------------------------------------------------------


def _refuse(
    path: Path,
    reason: str,
    problem: str,
    remedy: str,
    *,
    line: int | None = None,
    column: int | str | None = None,
) -> PupilFileError:
    where = f"Bestand {path.name}"
    if line is not None:
        where += f", regel {line}"
    if column is not None:
        where += f", kolom {column}"
    return PupilFileError(
        f"{where}: {problem}. {remedy} (code {reason})",
        reason=reason,
        path=str(path),
        line=line,
        column=column,
    )


def _read_records(path: Path, kind: _Kind) -> list[_Record]:
    """The data lines of a file, or PupilFileError for a file that cannot be read."""
    text = _decode(path, _read_bytes(path, kind))
    records = _split(path, text)
    # Excel reads, and sometimes writes, a first line "sep=;" naming the separator.
    if (
        records
        and records[0][1][0].lower().startswith("sep=")
        and not any(records[0][1][1:])
    ):
        records = records[1:]
    if not records:
        raise _refuse(
            path,
            "empty_file",
            f"het bestand is leeg, er staat geen {kind.noun} in",
            "Zet op de eerste regel de kolomnamen "
            f"{';'.join(kind.columns)} en daaronder één regel per {kind.line_noun},"
            " en stuur het bestand opnieuw.",
        )
    header_line, header = records[0]
    index = _columns(path, kind, header_line, header)
    data = records[1:]
    if not data:
        raise _refuse(
            path,
            "no_rows",
            f"het bestand bevat alleen de kolomnamen, geen enkele {kind.line_noun}",
            f"Zet onder de kolomnamen één regel per {kind.line_noun}"
            " en stuur het bestand opnieuw.",
        )
    _check_widths(path, kind, header, data, index)
    return [
        _Record(line, {name: fields[index[name]] for name in kind.columns})
        for line, fields in data
    ]


def _read_bytes(path: Path, kind: _Kind) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _refuse(
                path,
                "file_too_large",
                f"het bestand is {size // (1024 * 1024)} MB groot, veel groter dan een"
                f" {kind.noun}",
                "Controleer of u het juiste bestand stuurde.",
            )
        return path.read_bytes()
    except FileNotFoundError as exc:
        problem = "het bestand bestaat niet"
        raise _refuse(
            path, "file_unreadable", problem, "Stuur het bestand opnieuw."
        ) from exc
    except IsADirectoryError as exc:
        problem = "dit is een map, geen bestand"
        raise _refuse(
            path, "file_unreadable", problem, "Stuur het bestand zelf."
        ) from exc
    except OSError as exc:
        problem = "het bestand kan niet geopend worden (geen toegang of beschadigd)"
        raise _refuse(
            path, "file_unreadable", problem, "Stuur het bestand opnieuw."
        ) from exc


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith(_WORKBOOK_SIGNATURES):
        raise _refuse(
            path,
            "excel_workbook",
            "dit is een Excel-werkmap (.xlsx of .xls), geen CSV-bestand",
            _SAVE_AS,
        )
    # UTF-16 is what Excel writes as 'Unicode-tekst'; its ASCII letters carry zero
    # bytes, which UTF-8 would accept, so it is caught before decoding.
    if raw.startswith(_UTF16_BOMS) or b"\x00" in raw[:4096]:
        raise _refuse(
            path,
            "not_utf8",
            "het bestand is opgeslagen als 'Unicode-tekst' (UTF-16) of is geen"
            " tekstbestand, niet als UTF-8",
            _SAVE_AS,
        )
    body = raw.removeprefix(_UTF8_BOM)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Everything before the first bad byte is valid UTF-8, so the position can
        # be given as the line and character a spreadsheet or editor shows.
        before = body[: exc.start].decode("utf-8")
        breaks = list(_LINE_BREAK.finditer(before))
        line = len(breaks) + 1
        column = len(before) - (breaks[-1].end() if breaks else 0) + 1
        try:
            body.decode("cp1252")
            saved_as = "lijkt opgeslagen als Windows-1252 of Latin-1 (ANSI), niet als"
        except UnicodeDecodeError:
            saved_as = "is niet opgeslagen als"
        raise _refuse(
            path,
            "not_utf8",
            f"het bestand {saved_as} UTF-8: het teken op deze plaats"
            " (vaak een letter met een accent, zoals ë of ç) kan zo niet gelezen"
            " worden",
            _SAVE_AS,
            line=line,
            column=column,
        ) from exc


def _split(path: Path, text: str) -> list[tuple[int, list[str]]]:
    """Every non-blank CSV record with the line it starts on, fields stripped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", strict=True)
    records = []
    start = 1
    try:
        for fields in reader:
            fields = [value.strip() for value in fields]
            if any(fields):
                records.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            problem = "een veld op deze regel is veel te lang"
            remedy = "Kijk de regel na en stuur het bestand opnieuw."
        else:
            problem = (
                'er staat een aanhalingsteken (") dat niet goed geopend of gesloten'
                " wordt"
            )
            remedy = (
                "Zet een veld waarin een puntkomma of aanhalingsteken staat helemaal"
                ' tussen aanhalingstekens (zo: "deel een; deel twee"), of haal het'
                " teken weg, en stuur het bestand opnieuw."
            )
        raise _refuse(path, "malformed_csv", problem, remedy, line=start) from exc
    return records


def _columns(path: Path, kind: _Kind, line: int, header: list[str]) -> dict[str, int]:
    """Where each required column is, or PupilFileError for a header without them."""
    names = [name.lower() for name in header]
    missing = [column for column in kind.columns if column not in names]
    if missing:
        raw = ";".join(header)
        for separator, called in _OTHER_SEPARATORS.items():
            found = {name.strip().strip('"').lower() for name in raw.split(separator)}
            if (len(header) == 1 and len(found) > 1) or not set(kind.columns) - found:
                raise _refuse(
                    path,
                    "wrong_separator",
                    f"de kolommen zijn gescheiden door {called} in plaats van door"
                    " puntkomma's (;)",
                    "Sla het bestand op als CSV met puntkomma's als scheidingsteken"
                    " (in Excel met Belgische of Nederlandse instellingen: 'Opslaan"
                    " als' > 'CSV UTF-8') en stuur het opnieuw.",
                    line=line,
                )
        expected = ";".join(kind.columns)
        if len(missing) == len(kind.columns):
            # No known name at all: most often the header line was left out, and the
            # first line is a pupil's. Its content is not repeated here.
            raise _refuse(
                path,
                "missing_columns",
                "de eerste regel bevat niet de kolomnamen",
                f"Zet op de eerste regel de kolomnamen {expected} en stuur het"
                " bestand opnieuw.",
                line=line,
            )
        listed = ", ".join(missing)
        raise _refuse(
            path,
            "missing_columns",
            f"de kolom{'men' if len(missing) > 1 else ''} {listed}"
            f" ontbre{'ken' if len(missing) > 1 else 'ekt'}",
            f"De eerste regel moet deze kolomnamen bevatten: {expected}. Vul de"
            " kolom aan en stuur het bestand opnieuw.",
            line=line,
        )
    doubled = [column for column in kind.columns if names.count(column) > 1]
    if doubled:
        raise _refuse(
            path,
            "duplicate_columns",
            f"de kolom {', '.join(doubled)} staat meer dan één keer in de kolomnamen",
            "Laat elke kolom maar één keer staan en stuur het bestand opnieuw.",
            line=line,
        )
    return {column: names.index(column) for column in kind.columns}


def _check_widths(
    path: Path,
    kind: _Kind,
    header: list[str],
    data: list[tuple[int, list[str]]],
    index: dict[str, int],
) -> None:
    # Extra empty fields are what Excel leaves after a cleared column; a missing
    # field or an extra filled one shifts the values into the wrong columns, so no
    # line of such a file can be trusted.
    needed = max(index.values()) + 1
    ragged = [
        line
        for line, fields in data
        if len(fields) < needed or any(fields[len(header) :])
    ]
    if not ragged:
        return
    first = ragged[0]
    fields = len(dict(data)[first])
    others = ""
    if len(ragged) > 1:
        shown = ", ".join(str(line) for line in ragged[1:11])
        more = f" en nog {len(ragged) - 11}" if len(ragged) > 11 else ""
        others = f" (ook regel {shown}{more})"
    raise _refuse(
        path,
        "ragged_line",
        f"deze regel heeft {fields} velden, terwijl er {len(header)} kolomnamen"
        f" zijn{others}",
        "Waarschijnlijk ontbreekt er een veld, of staat er een puntkomma in een naam."
        ' Zet zo\'n naam tussen aanhalingstekens (zo: "deel een; deel twee"), vul'
        " het ontbrekende veld aan en stuur het bestand opnieuw.",
        line=first,
    )


def _file_school(path: Path, records: list[_Record], known: dict[str, str]) -> str:
    named = Counter(
        known[record.values["school_id"].casefold()]
        for record in records
        if record.values["school_id"].casefold() in known
    )
    if not named:
        raise _refuse(
            path,
            "no_known_school",
            "geen enkele regel noemt in kolom school_id een school die de stad kent",
            "Vul in kolom school_id het schoolnummer in dat de stad u gaf, en stuur"
            " het bestand opnieuw.",
            column="school_id",
        )
    # most_common keeps the first-seen order among equals: the earliest school wins.
    return named.most_common(1)[0][0]


# --- checking a line --------------------------------------------------------------


def _insz_checks(raw: str, allow_test_numbers: bool) -> tuple[str, dict]:
    """The compact number and the three national-number checks of a line.

    A check that an earlier one already failed is None, which the suite skips, so
    that a line gets one reason for one problem.
    """
    number = insz.compact(raw)
    valid = insz.is_valid(number, allow_test_numbers=True) if number else None
    allowed = (allow_test_numbers or not insz.is_test_number(number)) if valid else None
    return number, {
        "insz_given": bool(number),
        "insz_valid": valid,
        "insz_allowed": allowed,
    }


def _mark_repeats(records: list[_Record], rows: list[dict]) -> dict[int, int]:
    """Flag each line that repeats a pupil of an earlier line; return line → first.

    Only lines without any other problem take part: the first good line of a pupil
    counts, so that a wrong first line does not cost the pupil the check.
    """
    seen: dict[str, int] = {}
    first_line: dict[int, int] = {}
    for record, row in zip(records, rows, strict=True):
        if not (
            row["insz_allowed"] and row["same_school_as_file"] and row["since_valid"]
        ):
            continue
        number = insz.compact(record.values["pupil_insz"])
        if number in seen:
            first_line[record.line] = seen[number]
        else:
            seen[number] = record.line
        row["repeats_earlier_line"] = record.line in first_line
    return first_line


def _parse_date(value: str) -> date | None:
    if match := _ISO_DATE.fullmatch(value):
        year, month, day = match.groups()
    elif match := _BELGIAN_DATE.fullmatch(value):
        day, month, year = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _parse_amount(value: str) -> Decimal | None:
    # A regular expression and not Decimal() alone: Decimal reads "NaN", "1e3"
    # and "Infinity", none of which belongs on an invoice.
    if not _NUMBER.fullmatch(value):
        return None
    return Decimal(value.replace(",", "."))


def _amount_checks(column: str, value: str) -> dict:
    amount = _parse_amount(value) if value else None
    return {
        f"{column}_given": bool(value),
        f"{column}_number": amount is not None if value else None,
        f"{column}_not_negative": amount >= 0 if amount is not None else None,
    }


def _rejections(
    records: list[_Record],
    failures: dict[str, list[str]],
    message: Callable[[_Record, str], str],
) -> list[RejectedRow]:
    rejected = []
    for record in records:
        for reason in failures.get(str(record.line), []):
            rejected.append(RejectedRow(record.line, reason, message(record, reason)))
    return rejected


def _insz_problem(raw: str) -> str:
    """Why a national number is not valid, without repeating it."""
    number = insz.compact(raw)
    if _EXCEL_SCIENTIFIC.fullmatch(raw.strip()):
        return (
            "Excel heeft het nummer als getal opgeslagen (zoals 5,06E+10) en de"
            " cijfers zijn verloren. Zet de kolom in Excel op 'Tekst' en typ het"
            " nummer opnieuw"
        )
    if not number.isdigit():
        return (
            "er staan andere tekens dan cijfers in (punten, streepjes en spaties"
            " mogen wel). Kijk het nummer na op de identiteitskaart of kids-ID"
        )
    if len(number) == 10:
        return (
            "het heeft 10 cijfers in plaats van 11: wellicht heeft Excel de nul"
            " vooraan weggelaten (nummers van kinderen geboren in 2000-2009 beginnen"
            " met 0). Zet de kolom in Excel op 'Tekst' en typ het nummer opnieuw"
        )
    if len(number) != 11:
        return (
            f"het heeft {len(number)} cijfers in plaats van 11. Kijk het nummer na op"
            " de identiteitskaart of kids-ID"
        )
    first_nine = number[:9]
    if number[9:] not in {
        insz.check_digits(first_nine, born_2000_or_later=False),
        insz.check_digits(first_nine, born_2000_or_later=True),
    }:
        return (
            "de laatste twee cijfers (de controlecijfers) passen niet bij de eerste"
            " negen: wellicht is een cijfer verkeerd overgetypt. Kijk het nummer na op"
            " de identiteitskaart of kids-ID"
        )
    return (
        "de geboortedatum in het nummer bestaat niet. Kijk het nummer na op de"
        " identiteitskaart of kids-ID"
    )


def _insz_message(reason: str, record: _Record) -> str | None:
    where = f"Regel {record.line}, kolom pupil_insz"
    if reason == "insz_missing":
        return (
            f"{where}: het rijksregisternummer ontbreekt. Vul het in (11 cijfers, op"
            " de identiteitskaart of kids-ID)."
        )
    if reason == "insz_invalid":
        problem = _insz_problem(record.values["pupil_insz"])
        return f"{where}: dit is geen geldig rijksregister- of BIS-nummer: {problem}."
    if reason == "insz_test_number":
        return (
            f"{where}: dit is een testnummer, geen echt rijksregisternummer; hier"
            " worden alleen echte nummers aanvaard. Vul het rijksregisternummer van"
            " de identiteitskaart of kids-ID in."
        )
    return None


def _pupil_message(
    record: _Record, reason: str, school_id: str, first_line: dict[int, int]
) -> str:
    if message := _insz_message(reason, record):
        return message
    line = record.line
    if reason == "duplicate_pupil":
        first = first_line[line]
        return (
            f"Regel {line}, kolom pupil_insz: deze leerling staat al op regel {first};"
            f" alleen regel {first} telt. Laat de leerling maar één keer op de lijst"
            " staan."
        )
    if reason == "school_missing":
        return (
            f"Regel {line}, kolom school_id: het schoolnummer ontbreekt. Vul"
            f" {school_id} in."
        )
    if reason == "school_unknown":
        return (
            f"Regel {line}, kolom school_id: de stad kent dit schoolnummer niet. Vul"
            f" het schoolnummer in dat de stad u gaf ({school_id} voor de rest van"
            " deze lijst)."
        )
    if reason == "school_mismatch":
        return (
            f"Regel {line}, kolom school_id: deze regel hoort bij een andere school"
            f" dan de rest van de lijst ({school_id}). Elke school stuurt haar eigen"
            " lijst: zet deze leerling op de lijst van de andere school."
        )
    if reason == "since_missing":
        return (
            f"Regel {line}, kolom since: de datum ontbreekt. Vul de datum in waarop de"
            " leerling bij de school begon, als JJJJ-MM-DD (bv. 2025-09-01) of"
            " DD/MM/JJJJ (bv. 01/09/2025)."
        )
    if reason == "since_invalid":
        return (
            f"Regel {line}, kolom since: dit is geen geldige datum. Schrijf de datum"
            " als JJJJ-MM-DD (bv. 2025-09-01) of DD/MM/JJJJ (bv. 01/09/2025), met"
            " het jaar in vier cijfers."
        )
    return _unknown_reason(line, reason)


def _billing_message(record: _Record, reason: str) -> str:
    if message := _insz_message(reason, record):
        return message
    line = record.line
    items = "care_hours (opvanguren), meals (maaltijden) of activity (activiteiten)"
    if reason == "item_missing":
        return (
            f"Regel {line}, kolom item: er staat niet in wat u aanrekent. Vul {items}"
            " in."
        )
    if reason == "item_unknown":
        return (
            f"Regel {line}, kolom item: dit is geen soort die de stad kent. Gebruik"
            f" {items}, precies zo geschreven."
        )
    column, what = reason.rsplit("_", 1)
    label = {"quantity": "het aantal", "unit_price": "de eenheidsprijs"}.get(column)
    if label is None:
        return _unknown_reason(line, reason)
    where = f"Regel {line}, kolom {column}"
    if what == "missing":
        return f"{where}: {label} ontbreekt. Vul een getal in, bv. 7,5."
    if what == "invalid":
        return (
            f"{where}: {label} is geen getal. Schrijf alleen cijfers, met een komma of"
            " punt voor de decimalen (bv. 7,5), zonder eenheid, euroteken of"
            " duizendtallen."
        )
    if what == "negative":
        return (
            f"{where}: {label} is negatief. Schrijf een getal van nul of meer; een"
            " correctie meldt u apart aan de stad."
        )
    return _unknown_reason(line, reason)


def _unknown_reason(line: int, reason: str) -> str:
    # A suite may gain a check before this module gains its message: say at least
    # where, rather than fail the whole file.
    return f"Regel {line}: deze regel voldoet niet aan controle {reason}."
