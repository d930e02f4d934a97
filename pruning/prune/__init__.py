"""Serving a trained pruner: pruning text with it (`Pruner`), and exporting it to ONNX for fast CPU inference.

Usage::

    from pruning import Pruner
    pruner = Pruner.from_pretrained("output/run/final_model")
    result = pruner.prune("日本の首都は？", "東京は日本の首都です。大阪は西にあります。")
    result.pruned_context
"""

from __future__ import annotations
