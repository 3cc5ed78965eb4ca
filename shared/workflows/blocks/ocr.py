"""Roboflow's ``roboflow_core/ocr_model@v1``, ``roboflow_core/pp_ocr@v1``. Roboflow's runs DocTR (ocr_model) or
PaddleOCR (pp_ocr); Conveyor reads with PP-OCRv4 for both."""

from shared.workflows.block_params import IMAGE_ALIAS
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("ocr_model", (1,), "OCRModel"),
        params={"images": "image"},
        required=("images",),
        outputs=("result", "predictions", "parent_id", "root_parent_id", "prediction_type"),
        aliases=IMAGE_ALIAS,
    ),
    BlockSpec(
        types=types_of("pp_ocr", (1,)),
        params={"images": "image", "text_detection": "value", "text_recognition": "value"},
        required=("images",),
        outputs=("result", "predictions", "parent_id", "root_parent_id", "prediction_type"),
        defaults={"text_detection": "small", "text_recognition": "small"},
        aliases=IMAGE_ALIAS,
    ),
)
