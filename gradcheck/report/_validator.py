"""A small JSON Schema validator for the keyword subset the report schema uses.

Keywords: ``type``, ``enum``, ``const``, ``required``, ``properties``,
``additionalProperties``, ``items``, ``anyOf``, ``allOf``, ``if``/``then`` and local
``$ref`` (``#/$defs/<name>``). Each keyword is one small function in ``_KEYWORDS``; every
problem is one readable line naming where it is (``checks[0].passed``).
"""

from __future__ import annotations

from typing import Any


def check(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    """Return the problems of `value` against `schema` (`root` holds the ``$defs``)."""
    return _check(value, schema, where, root)


_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def _check(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = {**root["$defs"][name], **{k: v for k, v in schema.items() if k != "$ref"}}
    problems = _kw_type(value, schema, where, root)
    if problems:
        return problems
    for keyword, rule in _KEYWORDS.items():
        if keyword in schema:
            problems += rule(value, schema, where, root)
    return problems


def _at(where: str) -> str:
    return f"`{where or '(top level)'}`"


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _kw_type(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    types = schema.get("type")
    if types is None:
        return []
    types = [types] if isinstance(types, str) else types
    if any(_is_type(value, t) for t in types):
        return []
    return [f"{_at(where)}: expected {' or '.join(types)}, got {_show(value)}"]


def _kw_enum(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    if any(value == ok and type(value) is type(ok) for ok in schema["enum"]):
        return []
    allowed = ", ".join(repr(v) for v in schema["enum"])
    return [f"{_at(where)}: expected one of {allowed}, got {_show(value)}"]


def _kw_const(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    return _kw_enum(value, {"enum": [schema["const"]]}, where, root)


def _kw_required(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    if not isinstance(value, dict):
        return []
    return [
        f"{_at(where)}: missing required field `{k}`" for k in schema["required"] if k not in value
    ]


def _join(where: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def _kw_properties(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    if not isinstance(value, dict):
        return []
    return [
        p
        for key, sub in schema["properties"].items()
        if key in value
        for p in _check(value[key], sub, _join(where, key), root)
    ]


def _kw_additional(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    extra = schema["additionalProperties"]
    if not isinstance(value, dict) or extra is True:
        return []
    known = schema.get("properties", {})
    if extra is False:
        return [f"{_at(where)}: unexpected field `{k}`" for k in value if k not in known]
    return [
        p
        for key, item in value.items()
        if key not in known
        for p in _check(item, extra, _join(where, key), root)
    ]


def _kw_items(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    if not isinstance(value, list):
        return []
    items = schema["items"]
    accepts = _leaf_predicate(items, root)
    candidates = (
        range(len(value))
        if accepts is None
        else (i for i, item in enumerate(value) if not accepts(item))
    )
    return [p for i in candidates for p in _check(value[i], items, _join(where, i), root)]


_LEAF_KEYS = {"type", "enum", "const", "anyOf", "$ref", "description"}


def _leaf_predicate(schema: dict, root: dict) -> Any:
    """Return a fast ``value -> bool`` for a scalar-only schema (long series), else None."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    if not set(schema) <= _LEAF_KEYS:
        return None
    if "anyOf" in schema:
        options = [_leaf_predicate(option, root) for option in schema["anyOf"]]
        if None in options or set(schema) - {"anyOf", "description"}:
            return None
        first, *others = options
        return lambda v: first(v) or any(option(v) for option in others)
    types = schema.get("type") or []
    names = [types] if isinstance(types, str) else list(types)
    enum = schema.get("enum", [schema["const"]] if "const" in schema else None)

    pytypes = tuple(_TYPES[name] for name in names if name != "number") + (
        (int, float) if "number" in names else ()
    )
    bool_ok = "boolean" in names

    def accepts(v: Any) -> bool:
        if names and (not isinstance(v, pytypes) or isinstance(v, bool) and not bool_ok):
            return False
        return enum is None or any(v == ok and type(v) is type(ok) for ok in enum)

    return accepts


def _kw_any_of(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    options = schema["anyOf"]
    results = [_check(value, option, where, root) for option in options]
    if any(not problems for problems in results):
        return []
    same_type = [r for o, r in zip(options, results, strict=True) if _type_fits(value, o, root)]
    if len(same_type) == 1:
        return same_type[0]  # one alternative of the right type: say what is wrong inside it
    wanted = " / ".join(_describe(option, root) for option in options)
    return [f"{_at(where)}: expected {wanted}, got {_show(value)}"]


def _type_fits(value: Any, schema: dict, root: dict) -> bool:
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return "type" in schema and not _kw_type(value, schema, "", root)


def _kw_all_of(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    return [p for option in schema["allOf"] for p in _check(value, option, where, root)]


def _kw_if(value: Any, schema: dict, where: str, root: dict) -> list[str]:
    if _check(value, schema["if"], where, root) or "then" not in schema:
        return []
    return _check(value, schema["then"], where, root)


_KEYWORDS = {
    "enum": _kw_enum,
    "const": _kw_const,
    "required": _kw_required,
    "properties": _kw_properties,
    "additionalProperties": _kw_additional,
    "items": _kw_items,
    "anyOf": _kw_any_of,
    "allOf": _kw_all_of,
    "if": _kw_if,
}


def _describe(schema: dict, root: dict) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return "a number" if name == "number" else f"a {name.replace('_', ' ')}"
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    types = schema.get("type", "anything")
    return " or ".join([types] if isinstance(types, str) else types)
