"""A labelled set of individuals, in the columns of the benchmark's customer set.

    python bench/people.py OUT [--persons 4000] [--seed 7]

Writes `crm.csv`, `erp.csv`, `support.csv`, `billing.csv` and `truth.csv` (`system,source_id,
entity_id`) to OUT, for `python bench/quality.py --data OUT`. The labelled customer set holds only
organisations; quality is also judged on sets of individuals, whose hard cases differ: names that
many people share, nicknames (Bill for William), household members at one address and one landline,
a father and son of one name at one address (Jr. and Sr. written by some systems, some of the time),
dates of birth and national IDs written many ways, personal e-mail addresses at free-mail providers,
and people who moved. Names, addresses, phones and national IDs come from Faker in five countries.
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from faker import Faker

COLUMNS = [
    *("source_id", "party_type", "name", "legal_name", "given_name", "family_name", "birth_date"),
    *("national_id", "tax_id", "website", "email", "phone", "address_line1", "address_line2", "city"),
    *("region", "postal_code", "country", "parent_source_id", "updated_at"),
]
LOCALES = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR", "nl_NL": "NL"}
COUNTRY_SPELLINGS = {
    "US": ["US", "USA", "United States", "United States of America"],
    "GB": ["GB", "GBR", "United Kingdom", "UK"],
    "DE": ["DE", "DEU", "Germany", "Deutschland"],
    "FR": ["FR", "FRA", "France"],
    "NL": ["NL", "NLD", "Netherlands", "Nederland"],
}
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "gmx.de", "orange.fr", "ziggo.nl"]
NICKNAMES = {
    "William": ["Bill", "Will", "Billy"],
    "Robert": ["Bob", "Rob", "Bobby"],
    "James": ["Jim", "Jimmy"],
    "Michael": ["Mike", "Mick"],
    "Richard": ["Rick", "Dick"],
    "Thomas": ["Tom", "Tommy"],
    "Elizabeth": ["Liz", "Beth", "Betty"],
    "Katherine": ["Kate", "Katie"],
    "Margaret": ["Maggie", "Peggy"],
    "Jennifer": ["Jen", "Jenny"],
    "Christopher": ["Chris"],
    "Joseph": ["Joe"],
    "Daniel": ["Dan", "Danny"],
    "Matthew": ["Matt"],
    "Anthony": ["Tony"],
    "Patricia": ["Pat", "Patty"],
    "Susan": ["Sue"],
    "Johannes": ["Hans"],
    "Alexander": ["Alex"],
    "Nicholas": ["Nick"],
    "Andrew": ["Andy", "Drew"],
}
SYSTEMS = ("crm", "erp", "support", "billing")


@dataclass
class Person:
    entity: str
    country: str
    given: str
    family: str
    birth: date
    national_id: str
    email: str
    phone: str
    street: str
    city: str
    postal: str
    old_address: tuple[str, str, str] | None = None
    generation: str = ""  # "Jr." for a son of his father's name, "Sr." for the father
    records: list[dict[str, str]] = field(default_factory=list)


class People:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        # a draw of its own, so that the rest of the set is the same with or without generations
        self.generation_rng = random.Random(seed + 1)
        self.fakers = {loc: Faker(loc) for loc in LOCALES}
        for n, fake in enumerate(self.fakers.values()):
            fake.seed_instance(seed + n)
        self.people: list[Person] = []

    def _fake(self, country: str) -> Faker:
        return self.fakers[next(loc for loc, c in LOCALES.items() if c == country)]

    def _email(self, given: str, family: str, birth: date) -> str:
        local = self.rng.choice(
            [
                f"{given}.{family}",
                f"{given[0]}{family}",
                f"{given}{family}{birth.year % 100:02d}",
                f"{family}.{given}{self.rng.randint(1, 99)}",
                f"{given}_{family}",
            ]
        )
        return f"{local.lower().replace(' ', '')}@{self.rng.choice(FREE_MAIL)}"

    def person(self, *, like: Person | None = None, kin: str = "") -> Person:
        """A new person; `kin` ("household" or "junior") shares `like`'s family, address and phone."""
        country = like.country if like else self.rng.choice(list(LOCALES.values()))
        fake = self._fake(country)
        male = self.rng.random() < 0.5
        if kin == "junior":
            given, male = like.given, True
            like.generation = "Sr."
        elif self.rng.random() < 0.2 and self.people:  # a common name: namesakes of an earlier person
            given = self.rng.choice([p.given for p in self.people[-400:] if p.country == country] or ["Anna"])
        else:
            given = fake.first_name_male() if male else fake.first_name_female()
        family = like.family if like else fake.last_name()
        if kin == "junior":
            birth = like.birth + timedelta(days=self.rng.randint(25 * 365, 35 * 365))
        else:
            birth = fake.date_of_birth(minimum_age=18, maximum_age=85)
        street, city, postal = (
            (like.street, like.city, like.postal)
            if like
            else (fake.street_address(), fake.city(), fake.postcode())
        )
        person = Person(
            entity=f"P{len(self.people):06d}",
            country=country,
            given=given,
            family=family,
            birth=birth,
            national_id=fake.ssn(),
            email=self._email(given, family, birth),
            phone=like.phone if like and self.rng.random() < 0.7 else fake.phone_number(),
            street=street,
            city=city,
            postal=postal,
        )
        if self.rng.random() < 0.1:
            person.old_address = (fake.street_address(), fake.city(), fake.postcode())
        if kin == "junior":
            person.generation = "Jr."
        self.people.append(person)
        return person

    def _typo(self, text: str) -> str:
        if len(text) < 4 or self.rng.random() > 0.12:
            return text
        i = self.rng.randrange(1, len(text) - 1)
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]

    def _given(self, person: Person, informal: bool) -> str:
        names = NICKNAMES.get(person.given)
        return self.rng.choice(names) if informal and names and self.rng.random() < 0.5 else person.given

    def _birth(self, person: Person) -> str:
        day = person.birth
        us = person.country == "US"
        return self.rng.choice(
            [
                day.isoformat(),
                day.strftime("%m/%d/%Y" if us else "%d/%m/%Y"),
                day.strftime("%d.%m.%Y"),
                day.strftime("%d %b %Y"),
            ]
        )

    def _address(self, person: Person) -> tuple[str, str, str]:
        if person.old_address and self.rng.random() < 0.5:
            return person.old_address
        return person.street, person.city, person.postal

    def record(self, person: Person, system: str) -> dict[str, str]:
        rng, row = self.rng, dict.fromkeys(COLUMNS, "")
        informal = system in ("crm", "support")
        given = self._typo(self._given(person, informal))
        family = self._typo(person.family)
        # the systems that hold legal names write the generation most often, a support desk never
        written = family
        if person.generation and self.generation_rng.random() < {"erp": 0.6, "billing": 0.4, "crm": 0.2}.get(
            system, 0.0
        ):
            written = f"{family} {person.generation}"
        row.update(party_type="individual", country=rng.choice(COUNTRY_SPELLINGS[person.country]))
        row["name"] = rng.choice([f"{given} {written}", f"{written}, {given}", f"{given} {written}".upper()])
        if system != "support":
            row.update(given_name=given, family_name=written)
        if system in ("crm", "billing", "support") and rng.random() < {"support": 0.95}.get(system, 0.75):
            row["email"] = person.email if rng.random() < 0.85 else self._email(given, family, person.birth)
        if (system in ("crm", "erp") or rng.random() < 0.3) and rng.random() < 0.7:
            row["phone"] = person.phone
        if system in ("erp", "billing") or (system == "crm" and rng.random() < 0.5):
            row["address_line1"], row["city"], row["postal_code"] = self._address(person)
        if system == "erp":
            if rng.random() < 0.8:
                row["birth_date"] = self._birth(person)
            if rng.random() < 0.6:
                nid = person.national_id
                row["national_id"] = nid.replace("-", "").replace(" ", "") if rng.random() < 0.3 else nid
        elif system == "billing" and rng.random() < 0.3:
            row["birth_date"] = self._birth(person)
        if system == "support":
            row["country"] = "" if rng.random() < 0.6 else row["country"]
        row["updated_at"] = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T10:00:00Z"
        return row


def generate(persons: int, seed: int) -> People:
    people = People(seed)
    while len(people.people) < persons:
        person = people.person()
        roll = people.rng.random()
        if roll < 0.15 or (roll < 0.19 and person.birth.year > 1975):
            people.person(like=person, kin="household")
        elif roll < 0.19:  # a son of his father's name, born 25 to 35 years after him
            people.person(like=person, kin="junior")
    for person in people.people:
        systems = [s for s, p in zip(SYSTEMS, (0.8, 0.5, 0.5, 0.6), strict=True) if people.rng.random() < p]
        for system in systems or [people.rng.choice(SYSTEMS)]:
            person.records.append({"system": system, **people.record(person, system)})
            if system == "crm" and people.rng.random() < 0.1:  # a sales rep's duplicate
                person.records.append({"system": system, **people.record(person, system)})
    return people


def write(people: People, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    files = {s: (out / f"{s}.csv").open("w", newline="") for s in SYSTEMS}
    writers = {s: csv.DictWriter(f, COLUMNS, extrasaction="ignore") for s, f in files.items()}
    for writer in writers.values():
        writer.writeheader()
    count = 0
    with (out / "truth.csv").open("w", newline="") as truth_file:
        truth = csv.writer(truth_file)
        truth.writerow(["system", "source_id", "entity_id"])
        for person in people.people:
            for record in person.records:
                count += 1
                record["source_id"] = f"{record['system'][:2].upper()}{count:07d}"
                writers[record["system"]].writerow(record)
                truth.writerow([record["system"], record["source_id"], person.entity])
    for f in files.values():
        f.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--persons", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    people = generate(args.persons, args.seed)
    records = write(people, args.out)
    print(f"{records} records of {len(people.people)} individuals in {args.out}")


if __name__ == "__main__":
    main()
