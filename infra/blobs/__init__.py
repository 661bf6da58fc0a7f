"""Where evidence documents' bytes are kept: a content-addressed blob store behind a port
(`port.py`), on the local disk by default and on an S3-compatible object store in
production."""
