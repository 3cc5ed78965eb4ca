"""Roboflow's visualisation blocks in the built-in executor draw what Roboflow's engine draws (supervision's
annotators, Roboflow's palettes), checked on known pixels: where a drawing may change the image and where it
may not, and in which colour."""

from typing import Any

import cv2
import numpy as np
import pytest

from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowRunFailed
from shared.workflows.kinds import taken
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import Detections, Image
from worker_svc.workflows.visualizations import model_comparison_visualization

# Roboflow's DEFAULT palette, by class id (RGB)
DEFAULT = [(163, 81, 251), (255, 64, 64), (255, 161, 160)]


class TwoObjects:
    """A box of class 2 at (40..80, 20..60) with a triangular polygon, and one of class 0 at (120..160, 30..70)."""

    def detect(self, images: list[np.ndarray], **kwargs: Any) -> list[list[dict[str, Any]]]:
        return [[{"x": 60.0, "y": 40.0, "width": 40.0, "height": 40.0, "confidence": 0.9, "class": "car",
                  "class_id": 2, "detection_id": "a",
                  "points": [{"x": 40.0, "y": 60.0}, {"x": 80.0, "y": 60.0}, {"x": 60.0, "y": 20.0}]},
                 {"x": 140.0, "y": 50.0, "width": 40.0, "height": 40.0, "confidence": 0.5, "class": "person",
                  "class_id": 0, "detection_id": "b"}] for _ in images]


class TwoMasks(TwoObjects):
    """The same, from an instance segmentation model (the triangle is its mask)."""

    layout = "yolov8-seg"


class Models(LoadedModels):
    def detector(self, model_id: str) -> TwoObjects:
        return TwoMasks() if model_id == "masks" else TwoObjects()

    def classifier(self, model_id: str) -> Any:
        raise KeyError(model_id)


def noise() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (100, 200, 3), dtype=np.uint8)


def draw(block: str, image: np.ndarray | None = None, version: int = 1, **params: Any) -> np.ndarray:
    """``block`` drawing TwoObjects' detections, from a segmentation model where Roboflow's block takes masks only."""
    kind = f"roboflow_core/{block}@v{version}"
    masks_only = "object_detection_prediction" not in (taken(kind, ["predictions"]) or {"object_detection_prediction"})
    model = ("roboflow_instance_segmentation_model@v2", "masks") if masks_only else (
        "roboflow_object_detection_model@v2", "m")
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
                  "steps": [{"type": f"roboflow_core/{model[0]}", "name": "model",
                             "images": "$inputs.image", "model_id": model[1]},
                            {"type": f"roboflow_core/{block}@v{version}", "name": "vis", "images": "$inputs.image",
                             "predictions": "$steps.model.predictions", **params}],
                  "outputs": [{"type": "JsonField", "name": "vis", "selector": "$steps.vis.image"}]}
    source = noise() if image is None else image
    out = WorkflowRunner(compile_workflow(definition), Models({}), {}).run(source.copy())["vis"]
    assert isinstance(out, Image)
    return out.array


def bgr(rgb: tuple[int, int, int]) -> list[int]:
    return list(rgb[::-1])


def outside_boxes(a: np.ndarray) -> np.ndarray:
    keep = np.ones(a.shape[:2], bool)
    keep[20:60, 40:80] = keep[30:70, 120:160] = False
    return a[keep]


def test_blur_and_pixelate_change_the_boxes_only() -> None:
    image = noise()
    blurred = draw("blur_visualization", image, kernel_size=5)
    assert (blurred[20:60, 40:80] == cv2.blur(image[20:60, 40:80], (5, 5))).all()
    assert (outside_boxes(blurred) == outside_boxes(image)).all()
    pixelated = draw("pixelate_visualization", image, pixel_size=10)
    block = pixelated[20:30, 40:50].reshape(-1, 3)
    assert (block == block[0]).all() and (outside_boxes(pixelated) == outside_boxes(image)).all()


def test_shapes_are_drawn_in_the_palette_colour_of_their_class() -> None:
    black = np.zeros((100, 200, 3), np.uint8)
    dots = draw("dot_visualization", black, radius=3)
    assert dots[40, 60].tolist() == bgr(DEFAULT[2]) and dots[50, 140].tolist() == bgr(DEFAULT[0])
    assert not dots[0:30, 0:30].any()
    boxes = draw("bounding_box_visualization", black, thickness=2)
    assert boxes[20, 60].tolist() == bgr(DEFAULT[2]) and not boxes[40, 60].any()  # the edge, not the inside
    corners = draw("corner_visualization", black)
    assert corners[21, 41].tolist() == bgr(DEFAULT[2]) and not corners[20, 60].any()  # corners, not mid-edges
    for block in ("circle_visualization", "ellipse_visualization", "triangle_visualization"):
        drawn = draw(block, black)
        assert {tuple(p) for p in drawn.reshape(-1, 3)} - {(0, 0, 0)} <= {tuple(bgr(DEFAULT[2])),
                                                                          tuple(bgr(DEFAULT[0]))}, block
        assert drawn.any(), block


def test_palettes_axes_and_custom_colours() -> None:
    black = np.zeros((100, 200, 3), np.uint8)
    by_index = draw("dot_visualization", black, color_axis="INDEX")
    assert by_index[40, 60].tolist() == bgr(DEFAULT[0]) and by_index[50, 140].tolist() == bgr(DEFAULT[1])
    custom = draw("dot_visualization", black, color_palette="CUSTOM", custom_colors=["#00FF00", "rgb(0, 0, 255)"])
    assert custom[40, 60].tolist() == [0, 255, 0] and custom[50, 140].tolist() == [0, 255, 0]  # 2 % 2, 0 % 2
    tab10 = draw("dot_visualization", black, color_palette="Matplotlib Tab10")
    assert tab10[40, 60].tolist() == [44, 160, 44]  # tab10's third colour, (44, 160, 44) RGB
    with pytest.raises(WorkflowRunFailed, match="unknown color_palette"):
        draw("dot_visualization", black, color_palette="Rainbow")
    with pytest.raises(WorkflowRunFailed, match="color_axis must be one of"):
        draw("dot_visualization", black, color_axis="SIZE")


def test_masks_are_the_polygons_or_else_the_boxes() -> None:
    white = np.full((100, 200, 3), 255, np.uint8)
    masked = draw("mask_visualization", white, opacity=0.5)
    # inside the triangle, half the class colour; in its box's corner (outside the triangle), untouched
    expected = [round((255 + c) / 2) for c in bgr(DEFAULT[2])]
    assert np.abs(masked[55, 60].astype(int) - expected).max() <= 1
    assert masked[22, 42].tolist() == [255, 255, 255]
    assert masked[50, 140].tolist() != [255, 255, 255]  # no polygon: the whole box
    background = draw("background_color_visualization", white, color="BLACK", opacity=0.5)
    assert background[5, 5].tolist() == [128, 128, 128] and background[55, 60].tolist() == [255, 255, 255]
    assert background[22, 42].tolist() == [128, 128, 128]  # outside the triangle: background


def test_labels_name_each_detection_on_its_colour() -> None:
    black = np.zeros((100, 200, 3), np.uint8)
    labelled = draw("label_visualization", black, text="Class and Confidence", text_scale=0.4, text_padding=2)
    above_a = labelled[:20, 40:120].reshape(-1, 3).tolist()
    assert bgr(DEFAULT[2]) in above_a and [255, 255, 255] in above_a  # the label box and its white text
    with pytest.raises(WorkflowRunFailed, match="text must be one of"):
        draw("label_visualization", black, text="Colour")


def test_outlines_halos_and_crops() -> None:
    black = np.zeros((100, 200, 3), np.uint8)
    polygon = draw("polygon_visualization", black, thickness=1)
    assert polygon[60, 60].tolist() == bgr(DEFAULT[2]) and not polygon[50, 60].any()  # the base, not inside
    halo = draw("halo_visualization", black, kernel_size=9)
    assert halo[61, 60].any() and not halo[5, 5].any()  # a glow just outside the triangle, nothing far off
    image = noise()
    cropped = draw("crop_visualization", image, scale_factor=0.5, border_thickness=1)
    # the half-size copy of each box sits above it (TOP_CENTER), where the image was noise before
    assert (outside_boxes(cropped) != outside_boxes(image)).any()


def test_copy_image_false_draws_on_the_input_itself() -> None:
    definition: dict[str, Any] = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
                  "steps": [{"type": "ObjectDetectionModel", "name": "model", "image": "$inputs.image",
                             "model_id": "m"},
                            {"type": "ColorVisualization", "name": "vis", "image": "$inputs.image",
                             "predictions": "$steps.model.predictions", "copy_image": True}],
                  "outputs": [{"type": "JsonField", "name": "vis", "selector": "$steps.vis.image"}]}
    for copy in (True, False):
        definition["steps"][1]["copy_image"] = copy
        image = np.zeros((100, 200, 3), np.uint8)
        WorkflowRunner(compile_workflow(definition), Models({}), {}).run(image)
        assert bool(image[40, 60].any()) is not copy


class Classifiers(LoadedModels):
    """A single-label and a multi-label classifier with known answers."""

    multi_label = False

    def classify(self, images: list[np.ndarray], **kwargs: Any) -> list[dict[str, Any]]:
        if self.multi_label:
            return [{"predictions": {"cat": {"confidence": 0.9, "class_id": 0}, "dog": {"confidence": 0.6,
                                                                                         "class_id": 1}},
                     "predicted_classes": ["cat", "dog"]} for _ in images]
        return [{"predictions": [{"class": "dog", "class_id": 1, "confidence": 0.3},
                                 {"class": "cat", "class_id": 0, "confidence": 0.7}],
                 "top": "cat", "confidence": 0.7} for _ in images]

    def classifier(self, model_id: str) -> "Classifiers":
        self.multi_label = model_id == "multi"
        return self


def test_classification_labels_are_stacked_from_the_chosen_side() -> None:
    def label(model: str, block: str, **params: Any) -> np.ndarray:
        definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
                      "steps": [{"type": block, "name": "cls", "images": "$inputs.image", "model_id": model},
                                {"type": "roboflow_core/classification_label_visualization@v1", "name": "vis",
                                 "image": "$inputs.image", "predictions": "$steps.cls.predictions", **params}],
                      "outputs": [{"type": "JsonField", "name": "vis", "selector": "$steps.vis.image"}]}
        return WorkflowRunner(compile_workflow(definition), Classifiers({}), {}).run(
            np.zeros((200, 300, 3), np.uint8))["vis"].array

    single = label("single", "roboflow_core/roboflow_classification_model@v2", text_scale=0.5, text_padding=4)
    rows = np.nonzero(single.any(axis=(1, 2)))[0]
    # one label (the top class, cat: class 0's colour) at the top left
    assert rows.max() < 40 and single[rows.min() + 1, 1].tolist() == bgr(DEFAULT[0])
    multi = label("multi", "roboflow_core/roboflow_multi_label_classification_model@v2", text_scale=0.5,
                  text_padding=4, text_position="BOTTOM_LEFT")
    rows = np.nonzero(multi.any(axis=(1, 2)))[0]
    # two labels stacked at the bottom: rows drawn near the bottom edge, and a gap between two bands
    assert rows.min() > 100 and len(np.nonzero(np.diff(rows) > 1)[0]) >= 1


def test_label_v2_sizes_its_text_to_the_image_in_automatic_mode() -> None:
    """The text scale is given for a shorter side of 1,080 px: on a 100 px high image 2.7 becomes 0.25, held at
    the least scale 0.3; manual mode draws as v1."""
    automatic = draw("label_visualization", version=2, text_size_mode="Automatic", text_scale=2.7)
    assert (automatic == draw("label_visualization", text_scale=0.3)).all()
    assert (draw("label_visualization", version=2, text_scale=2.7) == draw("label_visualization", text_scale=2.7)).all()
    with pytest.raises(WorkflowRunFailed, match="text_size_mode"):
        draw("label_visualization", version=2, text_size_mode="Huge")


def test_model_comparison_colours_what_only_one_model_found() -> None:
    """Model A: a box at (10..30, 10..30); model B: one at (20..40, 10..30) and a triangle's mask. Where only A
    found something: green, only B: red, neither: black, both: the image unchanged (opacity 0.5)."""
    source = np.full((50, 60, 3), 100, np.uint8)
    a = Detections(60, 50, [{"x": 20.0, "y": 20.0, "width": 20.0, "height": 20.0, "class": "a", "class_id": 0}])
    b = Detections(60, 50, [{"x": 30.0, "y": 20.0, "width": 20.0, "height": 20.0, "class": "b", "class_id": 0},
                            {"x": 50.0, "y": 40.0, "width": 10.0, "height": 10.0, "class": "b", "class_id": 0,
                             "points": [{"x": 45.0, "y": 35.0}, {"x": 55.0, "y": 35.0}, {"x": 45.0, "y": 45.0}]}])
    out = model_comparison_visualization(None, {"image": Image(source, "photo"), "predictions_a": a,
                                                "predictions_b": b, "color_a": "GREEN", "color_b": "RED",
                                                "background_color": "BLACK", "opacity": 0.5, "copy_image": True})
    pixels = out["image"].array
    assert pixels[15, 12].tolist() == [50, 178, 50]  # only A: half green (0, 255, 0 in BGR)
    assert pixels[15, 35].tolist() == [50, 50, 178]  # only B: half red
    assert pixels[15, 25].tolist() == [100, 100, 100]  # both: unchanged
    assert pixels[5, 5].tolist() == [50, 50, 50]  # neither: half black
    assert pixels[36, 46].tolist() == [50, 50, 178] and pixels[44, 54].tolist() == [50, 50, 50]  # B's triangle
    assert (source == 100).all()
