"""(c)'s floor: the least a web service can do to take a report onto the log.

One FastAPI route under uvicorn, the same framework and server as intake: it validates a
body with the fields of ``POST /reports``, and appends one message as large as a stored
filing, with as many headers, guarded by the broker exactly as an append is
(``Nats-Expected-Last-Subject-Sequence: 0`` on a fresh subject, ``Nats-Msg-Id``), awaiting
the ack. No authentication, no sealing, no catalogue or duplicate look-up, no projection:
whatever intake spends beyond this is its own.

``python -m bench.baseline_app --nats URL --port N`` runs it (the bench starts it as a
child process, as it starts intake).
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Literal

import nats
import uvicorn
from fastapi import FastAPI, Request, status
from pydantic import BaseModel, Field

STREAM = "BENCH_C_BASELINE"
PREFIX = "benchcbaseline"


class Filing(BaseModel):
    """The fields a reporter sends to ``POST /reports``, with the same limits' kind."""

    tenant: str = Field(min_length=1, max_length=64)
    category: Literal["unsafe_equipment", "unsafe_behaviour", "unsafe_environment", "management_defect"]
    description: str = Field(min_length=1, max_length=4000)
    place_id: str = Field(min_length=1, max_length=64)
    observed_at: datetime


class Stored(BaseModel):
    """The message body: the filing in an envelope as large as a stored ReportFiled's."""

    type: str = "ReportFiled"
    schema_version: int = 1
    event_id: uuid.UUID
    correlation_id: uuid.UUID
    occurred_at: datetime
    tenant: str
    aggregate_id: str
    actor: str
    prev_hash: str
    hash: str
    filing: Filing
    reporter: str


class Taken(BaseModel):
    report_id: str


def headers(event: Stored, subject: str) -> dict[str, str]:
    """Fourteen headers, the guard's four and the CloudEvents envelope's ten, as an append sends."""
    return {
        "Nats-Msg-Id": str(event.event_id),
        "Nats-Expected-Stream": STREAM,
        "Nats-Expected-Last-Subject-Sequence": "0",
        "Nats-Expected-Last-Subject-Sequence-Subject": subject,
        "ce-specversion": "1.0",
        "ce-id": str(event.event_id),
        "ce-source": "hazardloop/bench-baseline",
        "ce-type": "hazardloop.ReportFiled.v1",
        "ce-time": event.occurred_at.isoformat(),
        "ce-subject": event.aggregate_id,
        "ce-datacontenttype": "application/json",
        "ce-tenant": event.tenant,
        "ce-aggregatetype": "report",
        "ce-correlationid": str(event.correlation_id),
    }


def build(nats_url: str) -> FastAPI:
    @asynccontextmanager
    async def connected(app: FastAPI) -> AsyncIterator[None]:
        connection = await nats.connect(nats_url)
        app.state.js = connection.jetstream()
        await app.state.js.add_stream(name=STREAM, subjects=[f"{PREFIX}.>"])
        try:
            yield
        finally:
            await connection.close()

    app = FastAPI(lifespan=connected)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/reports", status_code=status.HTTP_201_CREATED, response_model=Taken)
    async def take(filing: Filing, request: Request) -> Taken:
        event_id = uuid.uuid4()
        report_id = str(uuid.uuid4())
        event = Stored(
            event_id=event_id, correlation_id=event_id, occurred_at=datetime.now(UTC), tenant=filing.tenant,
            aggregate_id=report_id, actor="reporter:p-" + "0" * 32, prev_hash="0" * 64, hash=uuid.uuid4().hex * 2,
            filing=filing, reporter="p-" + uuid.uuid4().hex,
        )
        subject = f"{PREFIX}.{filing.tenant}.report.{report_id}"
        await request.app.state.js.publish(subject, event.model_dump_json().encode(), headers=headers(event, subject), timeout=10)
        return Taken(report_id=report_id)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nats", required=True)
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args()
    uvicorn.run(build(options.nats), host="127.0.0.1", port=options.port, log_level="warning")


if __name__ == "__main__":
    main()
