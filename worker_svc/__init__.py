"""Workers: consume the task topic of one machine type and run the workflow on each file."""

from shared.images import limit_decoder_pixels

# before any module of this service imports cv2: OpenCV reads its pixel limit once, when it is loaded
limit_decoder_pixels()
