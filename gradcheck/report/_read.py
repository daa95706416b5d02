"""Read a saved run's JSON document safely (missing, not JSON, too deep: a named error)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gradcheck.errors import DataFileError


def read_json(path: str | Path) -> Any:
    """Return the decoded JSON document at `path` (not validated).

    Raises
    ------
    DataFileError
        When the file is missing or is not JSON.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(f"`{path}` does not exist; pass a run saved as .json.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(f"`{path}` is not a JSON file: {exc}.") from None
    except RecursionError:
        raise DataFileError(
            f"`{path}` nests its JSON too deeply to read (thousands of levels); a saved run "
            "nests a few levels: pass a file written by save_report(..., 'run.json')."
        ) from None
    except OSError as exc:  # a directory, no permission...
        raise DataFileError(
            f"`{path}` cannot be read ({exc.strerror or exc}); pass a run saved as .json."
        ) from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise DataFileError(
            f"`{path}` nests its JSON deeper than {MAX_JSON_DEPTH} levels; a saved run nests "
            "a few: pass a file written by save_report(..., 'run.json')."
        )
    return data


MAX_JSON_DEPTH = 64  # a saved run nests < 10 levels; renderers recurse into what they show


def json_depth(data: Any) -> int:
    """Return how deeply `data` nests lists and dicts, without recursing (any depth is safe).

    Examples
    --------
    >>> json_depth({"a": [1, [2]]})
    3
    """
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return deepest
