"""Roboflow's ``roboflow_core/first_non_empty_or_default@v1``. Merges branches: a value whose step did not run
(continue_if) counts as empty, it does not stop this step."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("first_non_empty_or_default", (1,), "FirstNonEmptyOrDefault"),
        params={"data": "predictions_list", "default": "value"},
        required=("data",),
        outputs=("output",),
        defaults={"default": None},
        takes_skipped=True,
    ),
)
