"""The baseline for bench/api.py: a bare FastAPI route, served by uvicorn like ours,
answering JSON of a given size (no database, no access rules, no middleware).

    python -m bench.bare_api --port 8765 --size 4200
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response


def bare_app(size: int) -> FastAPI:
    filler = max(size - len(json.dumps({"items": [], "pad": ""})), 0)
    body = json.dumps({"items": [], "pad": "x" * filler}).encode()
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> Response:
        return Response(body, media_type="application/json")

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, required=True)
    args = parser.parse_args()
    # The same event loop and HTTP parser as the service (asyncio's loop, httptools), so
    # the ratio compares the work each does per request, not two servers' setups.
    uvicorn.run(bare_app(args.size), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False, loop="asyncio", http="httptools")
