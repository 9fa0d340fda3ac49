"""A bare Litestar app: the yardstick the API's endpoints are measured beside (same server,
same process count, same JSON library), with no database, auth or middleware."""

from __future__ import annotations

import msgspec
from litestar import Litestar, get, post


class ItemStatus(msgspec.Struct):
    code: str
    status: str


class Status(msgspec.Struct):
    id: str
    status: str
    items: list[ItemStatus]


STATUS = Status(id="c" * 22, status="submitted", items=[ItemStatus(code=f"ITEM{i}", status="sent") for i in range(8)])


@get("/bare/status", sync_to_thread=False)
def status() -> Status:
    return STATUS


@post("/bare/submit", status_code=200, sync_to_thread=False)
def submit(data: dict) -> Status:
    return STATUS


app = Litestar([status, submit], openapi_config=None)
