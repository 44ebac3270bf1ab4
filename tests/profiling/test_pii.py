"""PII flags: digits that are not phone numbers stay unflagged; real phone numbers are.

The values are written as people write them, in columns with neutral names, so only the
values can raise a flag. Phone numbers are from several countries, in their national and
international formats (public numbers and the ranges set aside for fiction).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from agent.gitflow.pr_sections import profile_section
from connectors.profiling import Profile
from connectors.spec.models import Pipeline
from tests.profiling.conftest import profile_path

NOT_PERSONAL = {
    "dates": ["2024-01-02", "2023-12-31", "1999-07-14", "2026-02-28"],
    "day_first": ["02.01.2024", "31/12/2023", "14.07.1999", "28-02-2026"],
    "timestamps": ["2024-01-02T10:15:00Z", "2024-01-02 10:15:00+01:00", "2023-12-31T23:59:59"],
    "decimals": ["1234.56", "99.5", "-17.25", "1000000.01", "0.5"],
    "ids": ["2024-000123", "ORD-000123", "100-200", "12-34-56-78", "123-456-7890", "4711"],
    "versions": ["1.2.3", "10.4.12", "v2.0.1", "3.11", "0.17.4-rc1"],
}
PHONES = {
    "uk": ["+44 20 7946 0958", "020 7946 0958", "+44 7911 123456", "07911 123456"],
    "us": ["(415) 555-2671", "+1 415 555 2671", "+14155552671", "(212) 555-0123"],
    "de": ["+49 30 901820", "030 901820", "+49 89 12345678", "0049 30 901820"],
    "fr": ["+33 1 42 68 53 00", "01 42 68 53 00", "01.42.68.53.00", "06 12 34 56 78"],
    "jp": ["+81 3-3224-9999", "03-3224-9999", "+81 90-1234-5678"],
    "in": ["+91 98765 43210", "098765 43210", "+91 22 2345 6789"],
    "br": ["+55 11 91234-5678", "(11) 91234-5678", "+55 21 2345-6789"],
    "au": ["+61 2 9876 5432", "0412 345 678", "(02) 9876 5432"],
}


def _csv(path: Path, columns: dict[str, list[str]], rows: int = 40) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["row", *columns])
        for i in range(rows):
            writer.writerow([i, *(values[i % len(values)] for values in columns.values())])
    return path


def test_dates_timestamps_ips_decimals_ids_and_versions_are_not_personal(tmp_path: Path) -> None:
    found = profile_path(_csv(tmp_path / "plain.csv", NOT_PERSONAL))
    for name in NOT_PERSONAL:
        column = found.column(name)
        assert not column.pii, f"{name}: {column.pii_reason}"
        assert not {"phone", "email", "ipv4"} & set(column.hints), f"{name}: {column.hints}"


def test_ip_addresses_are_ipv4_never_phones(tmp_path: Path) -> None:
    ips = ["192.168.1.10", "10.0.0.1", "172.16.254.3", "8.8.8.8"]
    column = profile_path(_csv(tmp_path / "ips.csv", {"client": ips})).column("client")
    assert column.hints == ["ipv4"] and column.pii_reason == "ipv4 on 100% of values"


@pytest.mark.parametrize("country", sorted(PHONES))
def test_phone_numbers_of_each_country_are_flagged(tmp_path: Path, country: str) -> None:
    found = profile_path(_csv(tmp_path / "people.csv", {"contact": PHONES[country]}))
    column = found.column("contact")
    assert "phone" in column.hints and column.pii
    assert column.pii_reason == "phone on 100% of values"


def test_international_numbers_with_spaces_are_flagged_fiction_ranges_too(tmp_path: Path) -> None:
    """A `+` and the length of its country's numbers make a phone number, though
    libphonenumber lists no number of the UK's drama range (07700 900xxx) as assigned."""
    numbers = ["+420 601 123 456", "+44 7700 900123", "+48 512 345 678", "+55 11 91234 5678",
               "+46 70 123 45 67", "+81 90 8765 4321", "+47 412 34 567"]  # fmt: skip
    column = profile_path(_csv(tmp_path / "m.csv", {"contact": numbers})).column("contact")
    assert column.pii_reason == "phone on 100% of values"
    short = ["+44 7700", "+1 555", "+47 412", "+33 1 23"]  # too short for their countries
    assert not profile_path(_csv(tmp_path / "s.csv", {"contact": short})).column("contact").pii


def test_the_flag_says_which_share_of_values_fired(tmp_path: Path) -> None:
    mixed = [*PHONES["uk"] * 5, *PHONES["fr"] * 4, "unknown", "n/a"]  # 36 phones of 38 values
    column = profile_path(_csv(tmp_path / "m.csv", {"contact": mixed}, rows=38)).column("contact")
    assert column.pii_reason == "phone on 95% of values"
    rare = [*PHONES["uk"], "call me", "later", "no"]  # 4 of 7: not a phone column
    assert (
        not profile_path(_csv(tmp_path / "r.csv", {"contact": rare}, rows=7)).column("contact").pii
    )


def test_a_name_alone_flags_and_says_so(tmp_path: Path) -> None:
    column = profile_path(_csv(tmp_path / "n.csv", {"last_name": ["Curie", "Noether"]}))
    assert column.column("last_name").pii_reason == "name (last_name)"


def test_pull_request_text_names_the_pattern_and_its_share(tmp_path: Path) -> None:
    path = _csv(tmp_path / "people.csv", {"contact": PHONES["de"], "dates": ["2024-01-02"]})
    found: Profile = profile_path(path)
    spec = Pipeline.model_validate(
        {
            "pipeline": "people",
            "streams": [{"name": "people", "source": found.source, "load": {"table": "people"}}],
        }
    )
    text = profile_section(spec, {"people": found})
    assert "likely personal data: `contact` (phone on 100% of values)" in text
    assert "`dates` (" not in text
