"""Requests built from the API's own OpenAPI document: a minimal valid body for an
operation, and every place in it (or in its parameters) that holds a string or a
number, so a test can put a bad value in each one in turn."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# A value for a string with a pattern: the first candidate the pattern accepts.
_CANDIDATES = ("A1", "EUR", "manual", "x", "DE", "+49 30 1234567", "ada@example.org")
_FORMATS = {
    "date": "2030-01-01",
    "date-time": "2030-01-01T00:00:00Z",
    "uri": "https://labels.example/1.pdf",
}


@dataclass(frozen=True, kw_only=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]
    document: dict[str, Any] = field(repr=False)

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return list(self.spec.get("parameters", []))

    def body_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return None if schema is None else self.resolve(schema)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.document["components"]["schemas"][name]
        return schema

    def url(self, overrides: dict[str, str] | None = None) -> str:
        """The path with every path parameter filled (a valid sample unless given)."""
        values = {
            p["name"]: str(self.sample(p["schema"])) for p in self.parameters if p["in"] == "path"
        }
        values.update(overrides or {})
        return self.path.format(**values)

    def sample(self, schema: dict[str, Any]) -> Any:
        """A small value the schema accepts."""
        schema = self.resolve(schema)
        if "default" in schema and schema["default"] is not None:
            return copy.deepcopy(schema["default"])
        if "enum" in schema:
            return schema["enum"][0]
        if "anyOf" in schema:
            options = [s for s in schema["anyOf"] if self.resolve(s).get("type") != "null"]
            return self.sample(options[0])
        kind = schema.get("type")
        if kind == "object":
            return {
                name: self.sample(schema["properties"][name]) for name in schema.get("required", [])
            }
        if kind == "array":
            return [self.sample(schema["items"])] * max(1, schema.get("minItems", 0))
        if kind == "integer":
            return max(1, schema.get("minimum", 1))
        if kind == "number":
            return 1
        if kind == "boolean":
            return False
        if "format" in schema:
            return _FORMATS[schema["format"]]
        pattern = schema.get("pattern")
        return next(c for c in _CANDIDATES if pattern is None or re.search(pattern, c))

    def places(self, kinds: set[str]) -> Iterator[tuple[str, ...]]:
        """Every path into the body where a value of one of `kinds` ("string",
        "number", "key") may go; map keys end with ("<key>",)."""
        schema = self.body_schema()
        if schema is not None:
            yield from self._places(schema, (), kinds)

    def _places(
        self, schema: dict[str, Any], at: tuple[str, ...], kinds: set[str]
    ) -> Iterator[tuple[str, ...]]:
        schema = self.resolve(schema)
        options = [self.resolve(s) for s in schema.get("anyOf", [schema])]
        types = {s.get("type") for s in options}
        if "string" in kinds and "string" in types and not any("enum" in s for s in options):
            yield at
        if "number" in kinds and types & {"number", "integer"}:
            yield at
        for option in options:
            for name, child in option.get("properties", {}).items():
                yield from self._places(child, (*at, name), kinds)
            if option.get("type") == "array":
                yield from self._places(option["items"], (*at, "0"), kinds)
            extra = option.get("additionalProperties")
            if isinstance(extra, dict):
                yield from self._places(extra, (*at, "name"), kinds)
                if "key" in kinds:
                    yield (*at, "<key>")

    def body_with(self, at: tuple[str, ...], value: Any) -> Any:
        """The minimal body with `value` put at `at` (optional parts on the way made)."""
        schema = self.body_schema()
        assert schema is not None
        return self._put(schema, self.sample(schema), at, value)

    def _put(self, schema: dict[str, Any], node: Any, at: tuple[str, ...], value: Any) -> Any:
        if not at:
            return value
        step, rest = at[0], at[1:]
        if step == "<key>":
            return {value: "v"}
        child = self._child(schema, step)
        if isinstance(node, list):
            items = node or [self.sample(child)]
            return [self._put(child, items[0], rest, value), *items[1:]]
        node = dict(node) if isinstance(node, dict) else {}
        current = node.get(step)
        node[step] = self._put(
            child, self.sample(child) if current is None else current, rest, value
        )
        return node

    def _child(self, schema: dict[str, Any], step: str) -> dict[str, Any]:
        schema = self.resolve(schema)
        for option in (self.resolve(s) for s in schema.get("anyOf", [schema])):
            if step in option.get("properties", {}):
                return self.resolve(option["properties"][step])
            if option.get("type") == "array":
                return self.resolve(option["items"])
            if isinstance(option.get("additionalProperties"), dict):
                return self.resolve(option["additionalProperties"])
        return {}


def operations(document: dict[str, Any]) -> list[Operation]:
    return [
        Operation(method=method.upper(), path=path, spec=spec, document=document)
        for path, item in document["paths"].items()
        for method, spec in item.items()
    ]


EXACT = "__exact_number__"


def raw_json(body: Any, number: str) -> bytes:
    """`body` as JSON text with the string EXACT replaced by the literal `number`
    (json.dumps would write a float)."""
    return json.dumps(body).replace(json.dumps(EXACT), number).encode()


def field_name(at: tuple[str, ...]) -> str:
    return ".".join(("body", *at))
