"""How a user shows a format: by an example (`05.03.2024`, `Mar 5, 2024 1:07 PM`, `1.234,56`)
or by a picture (`dd/mm/yyyy`, `YYYY-MM-DD HH:mm`), turned into the spec's format options.

An example whose day and month could swap (`03/05/2024`) gives no order by itself: it is
read day first only with dots (the convention wherever dots are written) or when the user
said the order; otherwise the caller asks. A number example tells its separators only when
they cannot be read the other way (`1,234` could be a thousand or one and a bit).
"""

from __future__ import annotations

import re
from typing import Any

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?"
_TIME = r"(?:[ T](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\s*(?P<ampm>[ap]\.?m\.?))?)?"
NUMERIC = re.compile(
    rf"\b(?P<a>\d{{1,4}})(?P<sep>[./-])(?P<b>\d{{1,2}})(?P=sep)(?P<c>\d{{2,4}}){_TIME}(?!\d)",
    re.IGNORECASE,
)
NAMED = re.compile(
    rf"\b(?:(?P<mon>{_MONTH})\s+(?P<d>\d{{1,2}})(?P<comma>,?)\s+(?P<y>\d{{4}})|"
    rf"(?P<d2>\d{{1,2}})(?P<sep2>[\s-])(?P<mon2>{_MONTH})(?P=sep2)(?P<y2>\d{{4}}|\d{{2}})){_TIME}"
    r"(?!\d)",
    re.IGNORECASE,
)
"""`Mar 5, 2024`, `March 5 2024`, `5 March 2024`, `05-Mar-24`, each with an optional time."""
PICTURE = re.compile(
    r"\b(?P<p>(?:dd?|mm?|yy(?:yy)?|mmmm?)(?P<s>[./\- ])(?:dd?|mm?|mmmm?)(?P=s)(?:dd?|yy(?:yy)?)"
    r"(?:[ T]hh?:mm(?::ss)?(?:\s*(?:am/pm|tt|a))?)?)(?![\w/])",
    re.IGNORECASE,
)
"""`dd/mm/yyyy`, `MM-DD-YY`, `yyyy.mm.dd hh:mm`, `dd mmm yyyy`."""
NUMBER = re.compile(r"(?<![\w.,])[-+(]?\d{1,3}(?:[.,' \u00a0]\d{3})*(?:[.,]\d+)?\)?(?![\w.,]\d)")
_PICTURE_PARTS = {"dd": "%d", "d": "%d", "mm": "%m", "m": "%m", "mmm": "%b", "mmmm": "%B",
                  "yyyy": "%Y", "yy": "%y"}  # fmt: skip


def date_pattern(match: re.Match[str], order: str | None) -> str | None:
    """The strptime pattern of a date example; None when its day and month could swap and
    nothing tells the order (dots tell day first)."""
    if match.re is NAMED:
        return _named(match)
    a, b, c, sep = match.group("a"), match.group("b"), match.group("c"), match.group("sep")
    if len(a) == 4:
        day = f"%Y{sep}%m{sep}%d"
    elif len(c) in (2, 4):
        year = "%Y" if len(c) == 4 else "%y"
        first = int(a) > 12 or (int(b) <= 12 and (order == "day_first" or sep == "."))
        if int(a) <= 12 and int(b) <= 12 and order is None and sep != ".":
            return None
        if order == "month_first" and int(b) <= 12 and int(a) <= 12:
            first = False
        day = f"%d{sep}%m{sep}{year}" if first else f"%m{sep}%d{sep}{year}"
    else:
        return None
    return day + _time(match)


def _named(match: re.Match[str]) -> str:
    if match.group("mon"):
        month = "%B" if len(match.group("mon").rstrip(".")) > 3 else "%b"
        day = f"{month} %d{match.group('comma')} %Y"
    else:
        month = "%B" if len(match.group("mon2").rstrip(".")) > 3 else "%b"
        sep, year = match.group("sep2"), "%Y" if len(match.group("y2")) == 4 else "%y"
        day = f"%d{sep}{month}{sep}{year}"
    return day + _time(match)


def _time(match: re.Match[str]) -> str:
    if not match.group("h"):
        return ""
    seconds = ":%S" if match.group("s") else ""
    if match.group("ampm"):
        return f" %I:%M{seconds} %p"
    return f"{match.group(0)[match.start('h') - match.start() - 1]}%H:%M{seconds}"


def picture_pattern(picture: str) -> str | None:
    """The strptime pattern of a picture such as `dd/mm/yyyy hh:mm`; None if it has no year,
    month and day."""
    parts = re.fullmatch(r"(.+?)(?:[ t](h.*))?", picture.lower())
    if parts is None:
        return None
    date, time = parts.groups(default="")
    pattern = "".join(_PICTURE_PARTS.get(part, part) for part in re.split(r"([./\- ])", date))
    fields = (("%d",), ("%m", "%b", "%B"), ("%Y", "%y"))
    if any(sum(pattern.count(d) for d in field) != 1 for field in fields):
        return None
    if time:
        twelve = any(mark in time for mark in ("am", "tt", " a"))
        hours = "%I" if twelve else "%H"
        pattern += f" {hours}:%M" + (":%S" if ":ss" in time else "") + (" %p" if twelve else "")
    return pattern


def number_options(example: str) -> dict[str, Any] | None:
    """The separators a number example shows (`1.234,56`: decimal ',' and thousands '.');
    None when it shows none or reads two ways (`1,234`)."""
    digits = example.strip("()+-")
    marks = [(i, ch) for i, ch in enumerate(digits) if not ch.isdigit()]
    if not marks:
        return None
    last_at, last = marks[-1]
    after = len(digits) - last_at - 1
    others = {ch for _, ch in marks[:-1]}
    options: dict[str, Any] = {}
    if others and last not in others and last in ".,":
        options = {"decimal": last, "thousands": others.pop()}
    elif others:  # one mark throughout: thousands, if every group has three digits
        if after != 3 or others != {last}:
            return None
        options = {"thousands": last}
    elif after == 3 or last not in ".,":
        return None  # one mark before three digits: a thousand, or one and a bit
    else:
        options = {"decimal": last}
    if example.startswith("(") and example.endswith(")"):
        options["accounting"] = True
    return {k: v for k, v in options.items() if (k, v) != ("decimal", ".")} or None
