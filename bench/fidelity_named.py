"""The differences from Roboflow's engine that the built-in executor keeps on purpose: each is a bug of Roboflow's
(an answer that contradicts itself or the input), named in the README ("Where the built-in executor answers
otherwise than Roboflow's engine") and shown, both answers, by ``tests/e2e/test_fidelity.py``.

A ``bench.fidelity`` difference that one of these explains is reported under its name, not as "different".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.fidelity_compare import Difference


@dataclass(frozen=True)
class Named:
    name: str
    roboflow: str  # what Roboflow's engine answers
    ours: str  # what the built-in executor answers instead
    explains: Callable[[Difference, list[str]], bool]  # (difference, the definition's block types)


def _size_of_nothing(d: Difference, _: list[str]) -> bool:
    return bool(re.search(r"/image/(width|height)$", d.path)) and d.theirs is None and isinstance(d.ours, int)


def _crop_sized(d: Difference, blocks: list[str]) -> bool:
    return (d.ours == "unmatched" and bool(re.search(r"/\d+/predictions$", d.path))
            and any("dynamic_crop" in b or b in ("Crop", "DynamicCrop") for b in blocks))


def _still_seconds(d: Difference, _: list[str]) -> bool:
    return d.ours == 0.0 and isinstance(d.theirs, float) and abs(d.theirs + 1 / 30) < 1e-9


def _rollup_offset(d: Difference, blocks: list[str]) -> bool:
    return d.ours == "unmatched" and any("detections_list_rollup" in b for b in blocks)


def _wall_clock(d: Difference, blocks: list[str]) -> bool:
    return any("rate_limiter" in b for b in blocks) and "an image on one side only" in d.why


def _csv_order(d: Difference, blocks: list[str]) -> bool:
    if not (any("csv_formatter" in b for b in blocks) and isinstance(d.ours, str) and isinstance(d.theirs, str)):
        return False
    import csv
    import io

    def rows(text: str) -> list[dict[str, str]]:
        return [{k: v for k, v in r.items() if k != "timestamp"} for r in csv.DictReader(io.StringIO(text))]

    return rows(d.ours) == rows(d.theirs)


def _random_colour(d: Difference, blocks: list[str]) -> bool:
    return any("dominant_color" in b for b in blocks) and isinstance(d.ours, int) and isinstance(d.theirs, int)


def _empty_crops(d: Difference, blocks: list[str]) -> bool:
    collapses = any("detections_stitch" in b or "dimension_collapse" in b for b in blocks)
    return collapses and (d.theirs is None or ("an image on one side only" in d.why and "NoneType" in d.why))


def _tied_matches(d: Difference, blocks: list[str]) -> bool:
    return any("template_matching" in b for b in blocks) and (
        d.ours == "unmatched" or (isinstance(d.ours, int) and isinstance(d.theirs, int)))


NAMED = (
    Named("empty-detections-size", "an empty set of detections made by a model with a class filter, or by a block "
          "(merge, overlap, nearest neighbour), and any set of an OCR block's, has image width and height null: the "
          "size is read from the detections themselves, and OCR's carry none",
          "the image's width and height, as for any other set", _size_of_nothing),
    Named("crop-detections-size", "dynamic crop's own predictions, output in the input image's coordinates (the "
          "default), keep the crop's coordinates while naming the input image's size and id",
          "moved onto the input image, as every other detection found on a crop", _crop_sized),
    Named("still-image-seconds", "seconds_since_start of a still image is -1/30 (frame 0 counted as frame 1 of "
          "a 30 fps video)", "0.0", _still_seconds),
    Named("rollup-offset-twice", "detections_list_rollup adds the crop's offset to child detections that are "
          "already in the input's coordinates, moving them by the crop's origin a second time",
          "the children where they are in the input image", _rollup_offset),
    Named("rate-limit-clock", "rate_limiter counts wall-clock seconds since it last let a run through, so "
          "whether an image passes depends on how fast the images before it ran",
          "video time: every still image (a video of its own) passes, a video's frames pass by their time",
          _wall_clock),
    Named("csv-column-order", "csv_formatter orders the columns of step outputs as a Python set iterates them, "
          "which changes with each process's hash seed", "the order the definition gives them (then the "
          "timestamp, the time of the run, on either side)", _csv_order),
    Named("random-dominant-colour", "dominant_color starts k-means from random pixels (unseeded), so one image "
          "gives different colours from run to run, and so do the pixel counts that use it",
          "k-means++ from a fixed seed: one image always gives one colour", _random_colour),
    Named("empty-crops-collapse", "a step that gathers the crops of an image back into one value (detections "
          "stitch, dimension collapse) gives null for an image without crops, and every step after it is skipped: "
          "an image with nothing found has no visualisation and no predictions", "an empty set of detections (or "
          "list), and the steps after it run", _empty_crops),
    Named("template-match-ties", "template_matching gives every place above the threshold confidence 1, so its "
          "suppression of overlapping places keeps whichever its sort of equal numbers puts first: a template cut "
          "from the image is found a few pixels off where it was cut, and how many matches are left changes with "
          "numpy's sort (its version and the CPU)", "of overlapping places the best correlation is kept: a template "
          "cut from the image is found where it was cut (confidence 1 on either side)", _tied_matches),
)


def explained(difference: Difference, blocks: list[str]) -> str | None:
    """The name of the difference the built-in executor keeps on purpose that explains this one, if any."""
    return next((n.name for n in NAMED if n.explains(difference, blocks)), None)


def by_name(name: str) -> Named:
    return next(n for n in NAMED if n.name == name)


def names(differences: list[Difference], blocks: list[str]) -> tuple[set[str], list[Difference]]:
    """The named differences found, and those no name explains."""
    found: set[str] = set()
    rest = []
    for d in differences:
        name = explained(d, blocks)
        if name is None:
            rest.append(d)
        else:
            found.add(name)
    return found, rest


def as_row(named: Named) -> dict[str, Any]:
    return {"name": named.name, "roboflow": named.roboflow, "built_in": named.ours}
