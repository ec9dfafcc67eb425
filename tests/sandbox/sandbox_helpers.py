"""Helpers for the emulator tests (frames to load, plain HTTP)."""

from __future__ import annotations

import json

import pandas as pd
import urllib3


def contacts_frame(n: int, start: int = 101) -> pd.DataFrame:
    ids = [str(start + i) for i in range(n)]
    return pd.DataFrame(
        {
            "id": ids,
            "email": [f"person{i}@example.com" for i in range(n)],
            "firstname": [f"First{i}" for i in range(n)],
            "lastname": ["Doe"] * n,
        }
    )


def companies_frame(n: int, start: int = 9001) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [str(start + i) for i in range(n)],
            "name": [f"Company {i}" for i in range(n)],
            "domain": [f"company{i}.com" for i in range(n)],
        }
    )


def links(rows: list[tuple[str, str, str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["from_object", "from_id", "to_object", "to_id", "label"])


class Raw:
    """Plain HTTP against the sandbox (for wire details the SDK hides)."""

    def __init__(self, url: str, token: str | None = "tok-a") -> None:
        self.url = url
        self.token = token
        self.pool = urllib3.PoolManager(retries=False)

    def __call__(
        self, method: str, path: str, body: object = None, token: str | None = ...
    ) -> urllib3.BaseHTTPResponse:  # type: ignore[assignment]
        tok = self.token if token is ... else token
        headers = {"Content-Type": "application/json"}
        if tok is not None:
            headers["Authorization"] = f"Bearer {tok}"
        data = None if body is None else json.dumps(body).encode()
        return self.pool.request(method, self.url + path, body=data, headers=headers)

    def json(self, method: str, path: str, body: object = None, **kw: object) -> tuple[int, dict]:
        resp = self(method, path, body, **kw)  # type: ignore[arg-type]
        return resp.status, (json.loads(resp.data) if resp.data else {})
