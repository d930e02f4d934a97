"""Serving a trained pruner: pruning text with it, and exporting it to ONNX for fast CPU inference."""
