"""Generated but realistic records for the demo, the examples and the benchmarks.

Deterministic for a given seed. Names are composed from Ukrainian and Russian name
parts, mostly in Cyrillic with some Latin transliterations; nothing here is real data.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from typing import Final, TextIO

__all__ = ["PRISONER_COLUMNS", "demo_terms", "prisoner_rows", "write_prisoner_csv"]

PRISONER_COLUMNS: Final = (
    "person_id",
    "family_name",
    "given_names",
    "date_of_birth",
    "sex",
    "service_number",
    "rank",
    "unit",
    "citizenship",
    "categories",
    "place_of_detention",
)

_ROOTS_UA: Final = (
    "Коваль",
    "Бондар",
    "Ткач",
    "Шевч",
    "Кравч",
    "Мельнич",
    "Гончар",
    "Лисен",
    "Марч",
    "Пилип",
    "Павл",
    "Руд",
    "Сав",
    "Тимош",
    "Федор",
    "Харч",
    "Юрч",
    "Яков",
    "Дорош",
    "Остап",
)
_SUFFIXES_UA: Final = ("енко", "ук", "ишин", "ак", "ецький", "ів")
_GIVEN_UA: Final = (
    "Олександр",
    "Андрій",
    "Дмитро",
    "Сергій",
    "Іван",
    "Микола",
    "Юрій",
    "Тарас",
    "Богдан",
    "Василь",
    "Віталій",
    "Олег",
    "Роман",
    "Петро",
    "Степан",
    "Ярослав",
    "Максим",
    "Назар",
)
_PATRONYMIC_UA: Final = (
    "Олександрович",
    "Андрійович",
    "Іванович",
    "Петрович",
    "Богданович",
    "Романович",
    "Степанович",
    "Юрійович",
)
_ROOTS_RU: Final = (
    "Иван",
    "Смирн",
    "Кузнец",
    "Поп",
    "Васил",
    "Петр",
    "Сокол",
    "Михайл",
    "Новик",
    "Фёдор",
    "Мороз",
    "Волк",
    "Алексе",
    "Лебед",
    "Семён",
    "Егор",
    "Павл",
    "Козл",
    "Степан",
    "Никол",
)
_SUFFIXES_RU: Final = ("ов", "ин", "ский", "ев", "енков", "ых")
_GIVEN_RU: Final = (
    "Алексей",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Максим",
    "Евгений",
    "Артём",
    "Илья",
    "Кирилл",
    "Михаил",
    "Никита",
    "Роман",
    "Владимир",
    "Павел",
    "Денис",
    "Антон",
    "Игорь",
    "Олег",
)
_PATRONYMIC_RU: Final = (
    "Александрович",
    "Андреевич",
    "Иванович",
    "Петрович",
    "Сергеевич",
    "Романович",
    "Владимирович",
    "Юрьевич",
)
_LATIN_LOWER: Final = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "є": "ie",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "y",
    "і": "i",
    "ї": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ы": "y",
    "э": "e",
    "ю": "iu",
    "я": "ia",
    "ь": "",
    "ъ": "",
}
_LATIN: Final = str.maketrans(
    {**_LATIN_LOWER, **{k.upper(): v.capitalize() for k, v in _LATIN_LOWER.items()}}
)
_RANKS: Final = (
    "private",
    "junior sergeant",
    "sergeant",
    "senior sergeant",
    "lieutenant",
    "captain",
)
_PLACES_UA: Final = ("Camp 1, Kharkiv oblast", "Camp 2, Lviv oblast", "Pre-trial centre, Kyiv")
_PLACES_RU: Final = ("IK-10, Mordovia", "SIZO-2, Taganrog", "IK-1, Bryansk oblast")


def _birth_date(rnd: random.Random, reference: dt.date, young: bool) -> dt.date:
    age_days = rnd.randint(18 * 365 + 5, 25 * 365 - 5) if young else rnd.randint(26 * 365, 58 * 365)
    return reference - dt.timedelta(days=age_days)


def prisoner_rows(
    n: int,
    *,
    side: str = "ua",
    seed: int = 1,
    reference: dt.date = dt.date(2025, 6, 2),
) -> Iterator[dict[str, str]]:
    """``n`` prisoner rows (CSV cells) of the party ``side`` ("ua" holds Russian soldiers,
    "ru" holds Ukrainian ones), every one eligible under the priority categories.

    About a fifth are seriously ill or wounded; the rest are 18 to 25 at ``reference``.
    """
    rnd = random.Random(f"{side}:{seed}")  # noqa: S311 (reproducible fake data, not secrets)
    held = "ru" if side == "ua" else "ua"
    if held == "ru":
        roots, suffixes, given, patronymics = _ROOTS_RU, _SUFFIXES_RU, _GIVEN_RU, _PATRONYMIC_RU
    else:
        roots, suffixes, given, patronymics = _ROOTS_UA, _SUFFIXES_UA, _GIVEN_UA, _PATRONYMIC_UA
    places = _PLACES_UA if side == "ua" else _PLACES_RU
    for i in range(n):
        roll = rnd.random()
        categories = []
        if roll < 0.1:
            categories.append("seriously_ill")
        elif roll < 0.2:
            categories.append("seriously_wounded")
        young = not categories or rnd.random() < 0.3
        if young:
            categories.append("age_18_25")
        family_name = rnd.choice(roots) + rnd.choice(suffixes)
        given_names = f"{rnd.choice(given)} {rnd.choice(patronymics)}"
        if rnd.random() < 0.15:  # some lists carry Latin transliterations
            family_name = family_name.translate(_LATIN)
            given_names = given_names.translate(_LATIN)
        yield {
            "person_id": f"{side.upper()}-{seed:02d}-{i:07d}",
            "family_name": family_name,
            "given_names": given_names,
            "date_of_birth": _birth_date(rnd, reference, young).isoformat(),
            "sex": "male",
            "service_number": f"{rnd.randint(100000, 999999)}",
            "rank": rnd.choice(_RANKS),
            "unit": f"{rnd.randint(1, 250)} brigade",
            "citizenship": held.upper(),
            "categories": ";".join(sorted(categories)),
            "place_of_detention": rnd.choice(places),
        }


def write_prisoner_csv(
    out: TextIO,
    n: int,
    *,
    side: str = "ua",
    seed: int = 1,
    reference: dt.date = dt.date(2025, 6, 2),
) -> None:
    """Write ``n`` generated prisoner rows as CSV with a header line.

    Ages (and the ``age_18_25`` claim) are computed at ``reference``: pass the
    terms' reference date so the claims check out.
    """
    writer = csv.DictWriter(out, fieldnames=PRISONER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(prisoner_rows(n, side=side, seed=seed, reference=reference))


TERMS_TEMPLATE = """\
[exchange]
label = "Demo exchange, stage 1"
reference_date = "{reference}"
commit_by = "{commit_by}"
reveal_by = "{reveal_by}"
sealed = true

[parties.a]
name = "Ukraine"
keys = ["keys/ua.pub"]
threshold = 1

[parties.b]
name = "Russian Federation"
keys = ["keys/ru.pub"]
threshold = 1

[[mediators]]
name = "Turkiye"
keys = ["keys/tr.pub"]

[[lists]]
name = "pows"
kind = "prisoner"
from = "both"
rule = "all-for-all"
min_count = {count}
eligible_any = ["seriously_ill", "seriously_wounded", "age_18_25"]
"""


def demo_terms(today: dt.date, count: int) -> str:
    """The demo's terms: the reference date is today, deadlines a week and ten days on."""
    return TERMS_TEMPLATE.format(
        reference=today.isoformat(),
        commit_by=f"{(today + dt.timedelta(days=7)).isoformat()}T00:00:00Z",
        reveal_by=f"{(today + dt.timedelta(days=10)).isoformat()}T00:00:00Z",
        count=count,
    )
