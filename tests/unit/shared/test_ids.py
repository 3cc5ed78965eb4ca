import pytest

from shared.errors import InvalidInput
from shared.ids import validate_batch_id, validate_job_id


@pytest.mark.parametrize("value", ["a", "my-batch_01", "x" * 64, "0-9_"])
def test_valid_batch_ids_pass_unchanged(value: str) -> None:
    assert validate_batch_id(value) == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("", "empty"), ("x" * 65, "longer than 64"), ("My-Batch", "lower-case"), ("a/b", "lower-case"),
     ("a b", "lower-case"), ("../etc", "lower-case"), ("ünï", "lower-case")],
)
def test_invalid_batch_ids_are_refused_with_a_reason(value: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment) as info:
        validate_batch_id(value)
    assert info.value.status_code == 400


def test_job_ids_are_limited_to_20_characters() -> None:
    assert validate_job_id("job-" + "a" * 16) == "job-" + "a" * 16
    with pytest.raises(InvalidInput, match="longer than 20"):
        validate_job_id("job-" + "a" * 17)
