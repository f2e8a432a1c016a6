"""The API's JSON parser: refuses what the rest of the stack cannot hold, as a 400 naming the
field, instead of failing later with a 500."""

from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

# Far deeper than any request body this API accepts; shallow enough for every recursive walk.
MAX_DEPTH = 32


def _problems(data: Any) -> tuple[int, str | None]:
    """The nesting depth and the path of the first string with a lone surrogate (iterative:
    the depth check must not itself recurse)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    deepest = 0
    while stack:
        value, path, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest, None
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return deepest, path or "non_field_errors"
        elif isinstance(value, dict):
            for key, item in value.items():
                key_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str):
                    try:
                        key.encode("utf-8")
                    except UnicodeEncodeError:
                        return deepest, path or "non_field_errors"
                stack.append((item, key_path, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((item, f"{path}.{index}" if path else str(index), depth + 1))
    return deepest, None


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.") from None
        except ParseError as exc:
            if "int_max_str_digits" in str(exc.detail):  # Python's own advice, not the caller's
                raise ParseError("JSON parse error - a number in the body is too long.") from None
            raise
        depth, bad_path = _problems(data)
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.")
        if bad_path is not None:
            # The path is made of the caller's own keys, never a value.
            field = bad_path.encode("utf-8", "replace").decode("utf-8")
            raise ValidationError({field: ["Text must be valid Unicode (no lone surrogates)."]})
        return data
