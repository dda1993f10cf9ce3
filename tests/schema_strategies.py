"""Hypothesis strategies for the JSON bodies a pydantic model's JSON schema describes: every
field a value of its declared kind (strings within their lengths and patterns, enums, times,
nested objects), optional fields sometimes left out. Enough of JSON Schema for our request
bodies; anything it does not know becomes arbitrary JSON, which is a fine thing to send too."""

from typing import Any

from hypothesis import strategies as st

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=5,
)


def from_model_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    definitions = schema.get("$defs", {})
    return _strategy(schema, definitions)


def _strategy(schema: dict[str, Any], definitions: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        return st.deferred(
            lambda: _strategy(definitions[schema["$ref"].split("/")[-1]], definitions)
        )
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    if "anyOf" in schema:
        return st.one_of(*(_strategy(option, definitions) for option in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "object":
        return _object(schema, definitions)
    if kind == "array":
        items = _strategy(schema.get("items", {}), definitions)
        return st.lists(
            items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 5), 5)
        )
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JSON


def _object(schema: dict[str, Any], definitions: dict[str, Any]) -> st.SearchStrategy[Any]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = {
        name: _strategy(properties[name], definitions) for name in properties if name in required
    }
    optional = {
        name: _strategy(properties[name], definitions)
        for name in properties
        if name not in required
    }
    return st.fixed_dictionaries(fixed, optional=optional)


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if schema.get("format") == "date-time":
        return st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()) | (
            st.datetimes().map(lambda moment: moment.isoformat())  # naive: must be refused
        )
    if schema.get("format") == "date":
        return st.dates().map(lambda day: day.isoformat())
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    low, high = schema.get("minLength", 0), schema.get("maxLength", 60)
    return st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),
        min_size=low,
        max_size=min(high, 60),
    )
