"""The run's data-quality rules as JUnit XML, so a CI system shows rejected rows as failed tests.

One `<testsuite>` per stream (`<pipeline>.<stream>`); in it one `<testcase>` per rule (each
rule the spec declares, and each other rule that rejected rows), failed when the rule
rejected rows: the message gives the count and the first sample, the text the top reasons
with their sample rows. A last test case, `load`, is an error when the stream failed and
skipped when its run id had been committed already.
"""

from __future__ import annotations

import io
import re

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from connectors.reasons import Sample
from connectors.report.facts import Rule, StreamFacts

# XML 1.0 cannot hold these characters at all, escaped or not.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(pipeline: str, facts: list[StreamFacts]) -> str:
    """The JUnit XML document of a run."""
    xml = JUnitXml(pipeline)
    for stream in facts:
        xml.add_testsuite(_suite(stream))
    xml.update_statistics()  # type: ignore[no-untyped-call]  # junitparser leaves it untyped
    written = io.BytesIO()
    xml.write(written, pretty=True)
    return written.getvalue().decode("utf-8")


def _suite(facts: StreamFacts) -> TestSuite:
    result, stats = facts.result, facts.result.stats
    name = f"{facts.pipeline}.{result.stream}"
    suite = TestSuite(name)
    properties = {
        "run_id": facts.run_id,
        "table": result.table,
        "rejects_table": facts.rejects_table,
        "rows_read": stats.rows_read,
        "rows_filtered": stats.rows_filtered,
        "rows_rejected": stats.rows_rejected,
        "rows_loaded": result.load.rows_loaded if result.load else 0,
    }
    for key, value in properties.items():
        suite.add_property(key, _text(str(value)))
    for rule in facts.rules:
        suite.add_testcase(_rule_case(name, rule, facts))
    suite.add_testcase(_load_case(name, facts))
    return suite


def _rule_case(classname: str, rule: Rule, facts: StreamFacts) -> TestCase:
    case = TestCase(rule.name, classname=classname, time=0.0)
    if not rule.rows:
        if not facts.judged:
            case.result = [Skipped("not run: the stream stopped before a row reached it")]
        return case
    message = f"{rule.rows} row(s) rejected by {rule.name}, {facts.where_rejected}"
    if rule.reasons and rule.reasons[0].samples:
        first = rule.reasons[0].samples[0]
        message += f"; first, {_where(first)}: {first.reason}: {first.raw}"
    failure = Failure(_text(message), type_="rejected_rows")
    failure.text = _text(
        "\n".join(
            f"{reason.count} × {reason.text}\n"
            + "".join(f"  {_where(s)}: {s.raw}\n" for s in reason.samples)
            for reason in rule.reasons
        )
    )
    case.result = [failure]
    return case


def _load_case(classname: str, facts: StreamFacts) -> TestCase:
    case = TestCase("load", classname=classname, time=round(facts.result.seconds, 3))
    if facts.error is not None:
        case.result = [Error(_text(facts.error), type_=type(facts.result.error).__name__)]
    elif facts.result.status == "skipped":
        case.result = [Skipped("this run id was committed already: nothing loaded twice")]
    return case


def _where(sample: Sample) -> str:
    return f"row {sample.row_number}" if sample.row_number is not None else "at load"


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)
