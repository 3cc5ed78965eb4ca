"""Thresholds both executors use alike: the built-in executor's model blocks and the engine host's models provider
(imported by the engine's interpreter too, so nothing here may need the services' packages)."""

# Roboflow's v3 model blocks resolve "best"/"default" confidence from a model's training metrics, which a registered
# ONNX file does not carry: both executors use the model blocks' documented default instead
DEFAULT_CONFIDENCE = 0.4
