"""Benchmarks: run from the repository root as ``python -m bench.<name>``; see bench/README.md."""

from shared.images import limit_decoder_pixels

# as in the services: OpenCV reads its pixel limit once, when it is loaded
limit_decoder_pixels()
