"""Stage 1, data: evaluation files, training rows and what builds them (sentences, spans, QA corpora, teachers)."""
