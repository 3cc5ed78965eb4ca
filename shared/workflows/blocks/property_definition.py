"""Roboflow's ``roboflow_core/property_definition@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("property_definition", (1,), "PropertyDefinition", "PropertyExtraction"),
        params={"data": "data", "operations": "value"},
        required=("data", "operations"),
        outputs=("output",),
    ),
)
