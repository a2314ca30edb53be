"""Benchmark: what a console page costs against the API read it shows. Not a test;
prints figures. Needs the stack of `make dev` running (its demo keys and data):

    .venv/bin/python -m bench.console_pages [--requests 50] [--url http://127.0.0.1:8000]

Signs in as the demo viewer, then for each page times `requests` sequential GETs of
the page and of the API route it reads (the fixed floor: the same data as JSON, no
template, no in-process hop), and prints the medians and their ratio.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

import httpx

PAGES = (  # (console page, the API read it renders)
    ("/console/inventory", "/v1/inventory/health"),
    ("/console/orders", "/v1/orders"),
    ("/console/queue", "/v1/fulfillment-requests?status=open&sort=priority"),
    ("/console/movements", "/v1/inventory/movements"),
    ("/console/", "/v1/overview"),
)


def _median_ms(client: httpx.Client, path: str, n: int, **kwargs: object) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, **kwargs)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keys", default=".oms/demo-keys.json")
    args = parser.parse_args()
    key = json.loads(Path(args.keys).read_text())["viewer"]
    with httpx.Client(base_url=args.url, timeout=30) as client:
        form = client.get("/console/sign-in").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        signed = client.post(
            "/console/sign-in", data={"csrf_token": token.group(1), "api_key": key}
        )
        assert signed.status_code == 303, signed.status_code
        bearer = {"Authorization": f"Bearer {key}"}
        print(f"{'page':<22} {'page ms':>8} {'API ms':>8} {'ratio':>6}")
        for page, read in PAGES:
            page_ms = _median_ms(client, page, args.requests)
            api_ms = _median_ms(client, read, args.requests, headers=bearer)
            print(f"{page:<22} {page_ms:8.1f} {api_ms:8.1f} {page_ms / api_ms:6.2f}")


if __name__ == "__main__":
    main()
