"""Routes whose request body is a file streamed to its handler (a document upload): the
body-size limit and the request deadline, which every other request has whole, leave the
body to the route, which streams it to the blob store under its own limit (the operator's
rule) and is answered within the deadline of its last byte's arrival."""

from __future__ import annotations

import re

from starlette.types import Scope

# POST /api/cities/{key}/documents
STREAMED = re.compile(r"^/api/cities/[^/]+/documents$")
# A form's body is parsed whole (the CSRF check reads a form's token): never streamed.
_FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")


def streamed_upload(scope: Scope) -> bool:
    """Whether this request's body is a file its route streams (never a form)."""
    if scope.get("method") != "POST" or not STREAMED.match(scope.get("path", "")):
        return False
    for name, value in scope.get("headers", []):
        if name == b"content-type" and value.split(b";")[0].strip().lower() in _FORMS:
            return False
    return True
