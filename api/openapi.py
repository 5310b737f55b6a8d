"""The OpenAPI 3.1 description, generated from the code with apispec.

apispec (maintained by the marshmallow team) was chosen over flask-smorest and pydantic: the
resources are marshmallow schemas that also shape every answer, so the document and the
answers come from one definition, and apispec adds no framework of its own around Flask's
routing (the blueprint stays a plain one, like every other package's).
"""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import url_for

from . import schemas
from .http import DEFAULT_LIMIT, ERROR_CODES, MAX_LIMIT

_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
# Text in a query never holds a NUL byte: the site refuses it (forum/errorpages.py).
NO_NUL = "^[^\\x00]*$"


def _openapi_path(rule: str) -> str:
    return _PARAM.sub(r"{\1}", rule)


def _error_responses(*codes: int) -> dict:
    return {
        str(code): {
            "description": f"{ERROR_CODES[code]}",
            "content": {"application/json": {"schema": "Error"}},
        }
        for code in codes
    }


def build_spec(server_url: str) -> dict:
    """The document as a dict (cheap: built on each request to the JSON route)."""
    from . import licence
    from .views import READS

    licence_name, licence_url = licence()

    spec = APISpec(
        title="Borgerdialog API",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": (
                "Public content of the municipality's debate: committees, local areas, topics "
                "with their outcomes, threaded posts, live Q&A sessions, citizen budgets, "
                "search and moderation figures. Only what an anonymous visitor may see. "
                'Errors are {"error": {"code", "message"}}. Lists take `limit` '
                f"(1-{MAX_LIMIT}, default {DEFAULT_LIMIT}) and the opaque `cursor` of the "
                "previous page's `next_cursor`."
            ),
            "license": {"name": licence_name, "url": licence_url},
        },
        servers=[{"url": server_url}],
    )
    spec.components.schema("Error", schema=schemas.Error)
    spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    for name, (rule, summary, params, schema) in sorted(READS.items()):
        path_params = _PARAM.findall(rule)
        parameters = [
            {
                "name": p,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            }
            for p in path_params
        ]
        for p, about in params.items():
            text, schema_of = about if isinstance(about, tuple) else (about, {"type": "string"})
            if schema_of["type"] == "string" and "enum" not in schema_of:
                schema_of = {"pattern": NO_NUL, **schema_of}
            parameters.append(
                {
                    "name": p,
                    "in": "query",
                    "required": False,
                    "schema": schema_of,
                    "description": text,
                }
            )
        if schema.__name__.endswith("Page"):
            parameters += [
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
                    "description": "The previous page's next_cursor, as it was given (signed: "
                    "any other value is refused with 400 invalid_cursor).",
                },
            ]
        spec.path(
            path=_openapi_path(rule),
            operations={
                "get": {
                    "operationId": name,
                    "summary": summary,
                    "parameters": parameters,
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"application/json": {"schema": schema}},
                        },
                        "304": {"description": "Not modified (If-None-Match)."},
                        **_error_responses(400, 401, 404, 429),
                    },
                }
            },
        )
    spec.path(
        path="/topics",
        operations={
            "post": {
                "operationId": "create_topic",
                "summary": "Open a topic in the key's local area (keys of scope write_area).",
                "security": [{"apiKey": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schemas.NewTopic}},
                },
                "responses": {
                    "201": {
                        "description": "Created",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id", "status", "url"],
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "status": {"type": "string"},
                                        "url": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    **_error_responses(400, 401, 403, 413, 415, 422, 429),
                },
            }
        },
    )
    return spec.to_dict()


def server_url() -> str:
    return url_for("api.topics", _external=True).rsplit("/topics", 1)[0]
