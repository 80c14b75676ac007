"""The synthetic city: a made-up Ghent that the simulator serves and the tests read.

`generate_city` makes one (see `generator` for its households, positions and rare
cases), `write_city` writes its folder, and the readers give other parts of Proactief
what they need from a city folder:

- `load_population(city_dir)`: the people of `population.jsonl`, one dict each;
- `read_residents(city_dir)`: the register extract, a list of `Resident`;
- `read_social_service(city_dir)`: the social service's file, `SocialServiceRecord`s
  keyed by national number.

A malformed or missing file raises `proactief.errors.CityDataError`, naming the file
and the line.
"""

from proactief.city.folder import (
    CITY_FILES,
    POPULATION_FILE,
    RESIDENTS_FILE,
    SOCIAL_SERVICE_FILE,
    Resident,
    SocialServiceRecord,
    load_population,
    read_residents,
    read_social_service,
    write_city,
)
from proactief.city.generator import DEFAULT_YEAR, City, generate_city

__all__ = [
    "CITY_FILES",
    "DEFAULT_YEAR",
    "POPULATION_FILE",
    "RESIDENTS_FILE",
    "SOCIAL_SERVICE_FILE",
    "City",
    "Resident",
    "SocialServiceRecord",
    "generate_city",
    "load_population",
    "read_residents",
    "read_social_service",
    "write_city",
]
