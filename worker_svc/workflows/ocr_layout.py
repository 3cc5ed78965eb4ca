"""The two layout-aware ways Roboflow's stitch OCR detections v2 reads characters into text, besides grouping
lines by a fixed tolerance (``classical.stitch_ocr_detections``):

* ``otsu``: lines gathered by the centres across the reading direction (within half the median character
  height); within a line, the gaps between neighbours, each divided by the two characters' mean width, split
  into letter gaps and word gaps by Otsu's threshold over every gap of the text — when the gaps really fall into
  two groups (word gaps wider than 0.3 of a character apart from the letter gaps); else lines are not split.
* ``collimate``: characters taken in reading order; each line grows by the next characters that follow its last
  one and stay aligned with it (centres apart by less than half the taller one plus ``collimate_tolerance``).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

BACKWARDS = ("right_to_left", "vertical_bottom_to_top")  # directions read against the axis


def _vertical(direction: str) -> bool:
    return direction.startswith("vertical")


def line_separator(direction: str) -> str:
    return " " if _vertical(direction) else "\n"


def _axes(boxes: np.ndarray, direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Centres along and across the reading direction, and sizes along and across it."""
    if _vertical(direction):
        boxes = boxes[:, [1, 0, 3, 2]]
    return ((boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2, boxes[:, 2] - boxes[:, 0],
            boxes[:, 3] - boxes[:, 1])


def otsu_split(gaps: np.ndarray) -> tuple[float, bool]:
    """Otsu's threshold over the normalised gaps, and whether they fall into two groups apart enough to be
    letter gaps and word gaps."""
    if len(gaps) < 2:
        return 0.0, False
    _, edges = np.histogram(gaps, bins=min(50, len(gaps)))
    best = (0.0, 0.0, 0.0, 0.0)  # between-class variance, threshold, mean below, mean above
    for t in (edges[:-1] + edges[1:]) / 2:
        below, above = gaps[gaps <= t], gaps[gaps > t]
        if len(below) and len(above):
            variance = len(below) * len(above) * (below.mean() - above.mean()) ** 2
            if variance > best[0]:
                best = (variance, float(t), float(below.mean()), float(above.mean()))
    _, threshold, low, high = best
    apart = abs(high - low)
    spread = float(gaps.std())
    clearly = spread > 0 and apart / spread > 1.5 and apart > 0.3
    return threshold, high > 0.3 and (apart > 0.3 or clearly)


def by_gaps(boxes: np.ndarray, names: list[str], direction: str, delimiter: str, multiplier: float) -> str:
    if not len(boxes):
        return ""
    along, across, size, height = _axes(boxes, direction)
    tolerance = float(np.median(height)) * 0.5
    lines: list[list[int]] = []
    level = 0.0
    for i in np.argsort(across, kind="stable"):
        if lines and abs(across[i] - level) <= tolerance:
            lines[-1].append(int(i))
            level = float(np.mean(across[lines[-1]]))
        else:
            lines.append([int(i)])
            level = float(across[i])
    order = np.argsort([np.mean(across[line]) for line in lines], kind="stable")
    if direction == "vertical_bottom_to_top":
        order = order[::-1]
    backwards = direction in BACKWARDS
    ordered, gaps = [], []
    for n in order:
        line = sorted(lines[n], key=lambda i: -along[i] if backwards else along[i])
        line_gaps = []
        for a, b in pairwise(line):
            scale = (size[a] + size[b]) / 2
            raw = (along[a] - along[b] if backwards else along[b] - along[a]) - scale
            line_gaps.append(raw / scale if scale > 0 else 0.0)
        ordered.append((line, line_gaps))
        gaps += line_gaps
    threshold, two_kinds = otsu_split(np.array(gaps))
    threshold *= multiplier
    texts = []
    for line, line_gaps in ordered:
        words = [[line[0]]]
        for i, gap in zip(line[1:], line_gaps, strict=True):
            if two_kinds and gap > threshold:
                words.append([i])
            else:
                words[-1].append(i)
        texts.append((delimiter or " ").join(delimiter.join(names[i] for i in word) for word in words))
    return line_separator(direction).join(texts)


def by_alignment(boxes: np.ndarray, names: list[str], direction: str, delimiter: str, tolerance: int) -> str:
    if not len(boxes):
        return ""
    along, across, _, height = _axes(boxes, direction)
    backwards = direction in BACKWARDS
    remaining = sorted(range(len(boxes)), key=lambda i: along[i], reverse=backwards)

    def follows(parent: int, child: int) -> bool:
        aligned = abs(across[parent] - across[child]) < max(height[parent], height[child]) / 2 + tolerance
        return aligned and (along[parent] >= along[child] if backwards else along[parent] <= along[child])

    lines = [[remaining.pop(0)]]
    while remaining:
        grew = False
        for line in lines:
            for i in list(remaining):
                if follows(line[-1], i):
                    line.append(i)
                    remaining.remove(i)
                    grew = True
        if not grew and remaining:
            lines.append([remaining.pop(0)])
    lines.sort(key=lambda line: float(np.mean(across[line])), reverse=direction == "vertical_bottom_to_top")
    return line_separator(direction).join(delimiter.join(names[i] for i in line) for line in lines)
