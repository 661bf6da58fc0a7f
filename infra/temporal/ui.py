"""How the embedded dev server's web UI is served: under `/temporal` on the API's own
origin, to operators (`infra/web/api/temporal_ui.py`), calling the API's codec
endpoint at `/codec`, a path, so the browser calls it at whichever origin served the UI:
the API's (with the operator's session: decoded payloads) or the UI's own port (no
session, no codec there: ciphertext)."""

from __future__ import annotations

UI_PATH = "/temporal"
CODEC_PATH = "/codec"


def dev_server_ui_flags() -> list[str]:
    """`temporal server start-dev` flags for it (and no news feed fetched from the
    internet by an operator's browser)."""
    return ["--ui-public-path", UI_PATH, "--ui-codec-endpoint", CODEC_PATH,
            "--ui-disable-news-fetch"]
