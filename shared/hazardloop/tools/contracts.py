"""Published contracts for subscribers: JSON Schema per event, AsyncAPI per service.

Each service's AsyncAPI document is read off the service as built, so this lives with
the command line, the one shared code that may build services.
"""

from __future__ import annotations

import json
import tempfile

from hazardloop.events import event_json_schemas
from hazardloop.runtime.settings import DEFAULT_NATS_PORT
from hazardloop.tools.registry import SERVICES, app_module


def render_contracts() -> dict[str, str]:
    """Relative path -> file content, deterministic so CI can check it is current."""
    files = {
        f"events/{kind}.json": _dump({"$id": f"https://hazardloop.dev/schemas/events/{kind}.json", **schema})
        for kind, schema in event_json_schemas().items()
    }
    with tempfile.TemporaryDirectory() as scratch:  # building an app must not touch real state
        for service in SERVICES:
            module = app_module(service)
            settings = module.Settings(
                state_dir=scratch,
                nats_url=f"nats://127.0.0.1:{DEFAULT_NATS_PORT}",
                jwt_secret="contracts-only",
                pseudonym_key="contracts-only",
            )
            event_docs = module.build(settings).state.runtime.event_docs
            files[f"asyncapi/{service}.json"] = _dump(event_docs.to_specification().to_jsonable())
    return files


def _dump(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
