"""CSV results open safely in a spreadsheet: a text cell that starts like a formula is written inert."""

import csv
import io

from worker_svc.results import to_csv


def test_text_that_starts_like_a_formula_is_written_with_a_leading_quote() -> None:
    records = [{"image": "=evil.jpg", "metadata": "=cmd|' /C calc'!A0", "plus": "+1", "minus": "-2", "at": "@SUM(A1)",
                "tab": "\tx", "cr": "\rx", "number": -5, "ratio": -0.5, "plain": "a=b", "empty": None,
                "nested": {"k": "=1"}}]
    (row,) = csv.DictReader(io.StringIO(to_csv(records).decode()))
    assert row["image"] == "'=evil.jpg" and row["metadata"] == "'=cmd|' /C calc'!A0"
    assert (row["plus"], row["minus"], row["at"], row["tab"], row["cr"]) == ("'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx")
    assert (row["number"], row["ratio"], row["plain"], row["empty"]) == ("-5", "-0.5", "a=b", "")
    assert row["nested"] == '{"k": "=1"}'  # JSON starts with a brace: inert as it is
