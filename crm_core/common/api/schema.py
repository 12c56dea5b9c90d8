"""OpenAPI additions: the one error shape, documented on every operation it can answer."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable, e.g. `invalid`, `not_found`."},
                "message": {"type": "string", "description": "For people, in the language of the request."},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Field name → list of messages (400), or the field whose id was not found (404).",
                },
                "current_version": {"type": "integer", "description": "412 only: the record's version now."},
                "retry_after": {"type": "integer", "description": "429 only: seconds to wait."},
            },
        }
    },
}

_RESPONSES = {
    "400": ("BadRequest", "The request is not valid; `fields` says why."),
    "401": ("Unauthorized", "No valid credentials (missing, expired, revoked token, or an inactive user)."),
    "403": ("Forbidden", "The user's role may not do this."),
    "404": ("NotFound", "No such record that the user may see, also for an id sent in the body."),
    "405": ("MethodNotAllowed", "The method is not allowed here."),
    "406": ("NotAcceptable", "The requested representation cannot be produced."),
    "409": ("Conflict", "The request conflicts with the record's current state."),
    "412": ("PreconditionFailed", "`If-Match` names a stale version; reload and retry."),
    "415": ("UnsupportedMediaType", "The request body's media type is not accepted."),
    "422": ("Unprocessable", "The `Idempotency-Key` was used for a different request."),
    "429": ("TooManyRequests", "Throttled or locked out; see `Retry-After`."),
}
_ALWAYS = ("400", "401", "403", "404", "405", "406", "415", "429")


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the Error schema and its responses on every operation."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    responses = components.setdefault("responses", {})
    for name, description in _RESPONSES.values():
        responses[name] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            header_names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "header"}
            wanted = list(_ALWAYS)
            if "If-Match" in header_names:
                wanted.append("412")
            if "Idempotency-Key" in header_names:
                wanted += ["409", "422"]
            if method in ("post", "put", "patch", "delete"):
                wanted.append("409")
            for status in wanted:
                operation["responses"].setdefault(status, {"$ref": f"#/components/responses/{_RESPONSES[status][0]}"})
    return result
