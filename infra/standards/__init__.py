"""The standards the program assesses against: the ones shipped in `domain/standards/` and an
operator's own files in DATA_DIR/standards, each judged on its own."""
