"""SQuAD-format QA corpora (JaQuAD, JSQuAD, XQuAD) -> context-relevance training rows: read the files (reader),
build the rows (rows), convert and write a dataset (convert)."""
