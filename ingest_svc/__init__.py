"""Data staging: batches, uploads, references and cloud ingest, indexing, listings, expiry."""

from shared.images import limit_decoder_pixels

# before any module of this service imports cv2: OpenCV reads its pixel limit once, when it is loaded
limit_decoder_pixels()
