"""The synthetic city: a made-up Ghent that the simulator serves and the tests read.

`generate_city` makes one (see `generator` for its households, positions and rare
cases), `write_city` writes its folder, and the readers give other parts of Proactief
what they need from a city folder:

- `load_population(city_dir)`: the people of `population.jsonl`, one dict each;
- `read_residents(city_dir)`: the register extract, a list of `Resident`;
- `read_social_service(city_dir)`: the social service's file, `SocialServiceRecord`s
  keyed by national number;
- `read_schools(city_dir)`: the city's schools, daycare and after-school care.

For the school tariff (`schools`): `write_school_files(city_dir, school_year, check,
out_dir)` writes each school's pupil list and billing lines for a check, and
`tariff_cases(city_dir)` finds the pupils of the tariff's special cases.

A malformed or missing file raises `proactief.errors.CityDataError`, naming the file
and the line.
"""

from proactief.city.enrolment import School, SchoolYear
from proactief.city.folder import (
    CITY_FILES,
    POPULATION_FILE,
    RESIDENTS_FILE,
    SCHOOLS_FILE,
    SOCIAL_SERVICE_FILE,
    Resident,
    SocialServiceRecord,
    load_population,
    read_residents,
    read_schools,
    read_social_service,
    write_city,
)
from proactief.city.generator import DEFAULT_YEAR, City, generate_city
from proactief.city.schools import TARIFF_CASES, tariff_cases, write_school_files

__all__ = [
    "CITY_FILES",
    "DEFAULT_YEAR",
    "POPULATION_FILE",
    "RESIDENTS_FILE",
    "SCHOOLS_FILE",
    "SOCIAL_SERVICE_FILE",
    "TARIFF_CASES",
    "City",
    "Resident",
    "School",
    "SchoolYear",
    "SocialServiceRecord",
    "generate_city",
    "load_population",
    "read_residents",
    "read_schools",
    "read_social_service",
    "tariff_cases",
    "write_city",
    "write_school_files",
]
