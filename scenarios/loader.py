"""Loading scenario files (and presets) into validated ``Scenario`` objects.

Errors are ``ScenarioError``: one message naming the file, the field path, the value and what
is allowed. TOML is parsed as data only; nothing in a file is executed.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .prices import PriceFileError, read_price_file
from .schema import EVENT_KINDS, Scenario

MAX_FILE_BYTES = 1 << 20


class ScenarioError(ValueError):
    """A scenario that cannot be used, with the file and field to fix."""

    def __init__(self, source: str, field: str, problem: str, value: Any = None):
        self.source, self.field, self.problem, self.value = source, field, problem, value
        shown = "" if value is None else f" (got {_short(value)})"
        where = f"field `{field}`: " if field else ""
        super().__init__(f"{source}: {where}{problem}{shown}")

    def __reduce__(self):  # rebuilt from its fields when it crosses a process boundary
        return type(self), (self.source, self.field, self.problem, self.value)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def preset_names() -> list[str]:
    folder = resources.files("scenarios") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_path(name: str) -> Path:
    return Path(str(resources.files("scenarios") / "presets" / f"{name}.toml"))


def describe_presets() -> list[tuple[str, str]]:
    """(name, one-line description) of every preset."""
    out = []
    for name in preset_names():
        raw = _read_toml(preset_path(name))
        out.append((name, str(raw.get("description", "")).strip().splitlines()[0]))
    return out


def load(source: str | Path, overrides: Mapping[str, Any] | Iterable[str] = ()) -> Scenario:
    """Load a scenario from a preset name or a TOML file.

    Parameters
    ----------
    source
        A preset name (``campaign-lab list``) or the path of a ``.toml`` file.
    overrides
        ``{"dotted.path": value}`` or ``["dotted.path=value", ...]`` (values parsed as TOML
        literals) applied before validation; list entries are addressed by their ``name``.
    """
    path = _resolve(source)
    raw = _read_toml(path)
    for dotted, value in _parse_overrides(overrides):
        set_path(raw, dotted, value, source=str(path))
    _resolve_edges(raw, path.parent)
    _read_prices(raw, path.parent)
    return validate(raw, source=str(path))


def _resolve_edges(raw: dict, folder: Path) -> None:
    """A relative ``network.edges`` path is relative to the scenario file, not the cwd."""
    network = raw.get("network")
    edges = network.get("edges") if isinstance(network, dict) else None
    if isinstance(edges, str) and not Path(edges).is_absolute():
        network["edges"] = str((folder / edges).resolve())


def _read_prices(raw: dict, folder: Path) -> None:
    """``[prices] file = ...`` (relative to the scenario file): its rows, read as data."""
    prices = raw.get("prices")
    file = prices.get("file") if isinstance(prices, dict) else None
    if not isinstance(file, str) or "rows" in prices:
        return
    path = Path(file) if Path(file).is_absolute() else (folder / file).resolve()
    try:
        prices["rows"] = read_price_file(path)
    except PriceFileError as exc:
        raise ScenarioError(str(exc.path), f"prices.file: column {exc.column!r}"
                            if exc.column else "prices.file",
                            str(exc).removeprefix(f"{exc.path}: ")) from None
    prices["file"] = str(path)


def validate(raw: dict, source: str = "<scenario>") -> Scenario:
    """Validate a parsed scenario table; raise ``ScenarioError`` on the first problem."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        # A misspelt field also makes the real one "missing": report the misspelling.
        err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        field = _field_path(raw, err["loc"])
        problem = err["msg"].removeprefix("Value error, ")
        located = re.match(r"at `([^`]+)`: (.*)", problem, flags=re.DOTALL)
        if located:
            field = f"{field}.{located[1]}" if field else located[1]
            problem = located[2]
        if err["type"] == "extra_forbidden":
            problem = "unknown field" + _suggestion(err["loc"])
        elif err["type"] == "missing":
            problem = "required field is missing"
        value = None if err["type"] in ("missing",) else err.get("input")
        if isinstance(value, dict | list) and err["type"] != "extra_forbidden":
            value = None
        raise ScenarioError(source, field, problem, value) from None


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` with dotted-path overrides applied and re-validated."""
    raw = scenario.model_dump(mode="json", exclude_none=True)
    for dotted, value in _parse_overrides(overrides):
        set_path(raw, dotted, value, source=f"scenario {scenario.name!r}")
    return validate(raw, source=f"scenario {scenario.name!r}")


def _resolve(source: str | Path) -> Path:
    path = Path(source)
    if path.suffix == "" and not path.exists():
        if str(source) in preset_names():
            return preset_path(str(source))
        hint = difflib.get_close_matches(str(source), preset_names(), n=1)
        raise ScenarioError(str(source), "", "no such preset or file; presets: "
                            + ", ".join(preset_names())
                            + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    if not path.is_file():
        raise ScenarioError(str(source), "", "no such file")
    return path


def _read_toml(path: Path) -> dict:
    size = path.stat().st_size
    if size == 0:
        raise ScenarioError(str(path), "", "the file is empty; a scenario needs at least "
                            "name, products, channels and calendar")
    if size > MAX_FILE_BYTES:
        raise ScenarioError(str(path), "", f"the file is {size:,} bytes; scenario files are "
                            f"limited to {MAX_FILE_BYTES:,} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), "", f"not UTF-8 text ({exc.reason})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    if not raw:
        raise ScenarioError(str(path), "", "the file holds no fields")
    return raw


def _parse_overrides(overrides: Mapping[str, Any] | Iterable[str]) -> list[tuple[str, Any]]:
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    pairs = []
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError("--set", item, "expected dotted.path=value")
        pairs.append((key.strip(), _parse_value(text.strip())))
    return pairs


def _parse_value(text: str) -> Any:
    """A TOML literal (number, bool, string, array, inline table); else the bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def set_path(raw: dict, dotted: str, value: Any, source: str = "--set") -> None:
    """Set ``raw[a][b]...`` for ``a.b...``; list items are addressed by ``name`` or index.

    Only fields that the schema defines may be set; others are refused with the allowed names.
    """
    parts = dotted.split(".")
    node: Any = raw
    model: type[BaseModel] | None = Scenario
    for i, key in enumerate(parts):
        here = ".".join(parts[: i + 1])
        last = i == len(parts) - 1
        if isinstance(node, list):
            node = _list_item(node, key, here, source)
            model = _item_model(model)
            if parts[i - 1] == "events":
                model = EVENT_KINDS.get(node.get("kind"), model)
            if last:
                raise ScenarioError(source, dotted, "cannot replace a whole list item")
            continue
        if not isinstance(node, dict):
            raise ScenarioError(source, dotted, f"`{'.'.join(parts[:i])}` is a value, not a "
                                "table")
        if isinstance(model, tuple) and model[0] == "mapping":
            allowed, next_model = None, model[1]  # free keys; validation checks them
        else:
            allowed, next_model = _fields(model, node), None
        if allowed is not None and key not in allowed:
            hint = difflib.get_close_matches(key, allowed, n=1)
            raise ScenarioError(source, dotted, f"no such field `{here}`; allowed here: "
                                + ", ".join(sorted(allowed))
                                + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        if last:
            node[key] = value
            return
        model = next_model if next_model is not None else _child_model(model, key)
        node = node.setdefault(key, [] if _is_list(model, key) else {})


def _fields(model: type[BaseModel] | None, node: dict) -> list[str] | None:
    if model is None or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return list(node) if node else None
    return list(model.model_fields)


def _child_model(model: Any, key: str) -> Any:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    ann = model.model_fields[key].annotation
    return _unwrap(ann)


def _unwrap(ann: Any) -> Any:
    args = getattr(ann, "__args__", ())
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    origin = getattr(ann, "__origin__", None)
    for a in args:
        found = _unwrap(a)
        if found is not None:
            if origin is tuple:
                return ("item", found)
            return ("mapping", found) if origin is dict else found
    return None


def _is_list(model: Any, key: str) -> bool:
    return isinstance(model, tuple) and model[0] == "item"


def _item_model(model: Any) -> Any:
    return model[1] if isinstance(model, tuple) else model


def _list_item(items: list, key: str, here: str, source: str) -> Any:
    for item in items:
        if isinstance(item, dict) and item.get("name") == key:
            return item
    if key.isdigit() and int(key) < len(items):
        return items[int(key)]
    names = [str(it.get("name")) for it in items if isinstance(it, dict)]
    raise ScenarioError(source, here, f"no list item named {key!r}; names: {names}")


def _field_path(raw: dict, loc: tuple) -> str:
    """Dotted path of a pydantic error location, list indices shown as item names."""
    out: list[str] = []
    node: Any = raw
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            name = node.get("name") if isinstance(node, dict) else None
            out.append(f"{out.pop() if out else ''}[{name or key}]")
            continue
        if isinstance(node, dict) and key in EVENT_KINDS and node.get("kind") == key:
            continue
        out.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return ".".join(out)


def _suggestion(loc: tuple) -> str:
    name = str(loc[-1])
    model: Any = Scenario
    for key in loc[:-1]:
        if isinstance(model, tuple):  # stepping into a list item or a mapping's value
            model = model[1]
            continue
        if isinstance(model, type) and issubclass(model, BaseModel) and key in model.model_fields:
            model = _child_model(model, key)
        elif key in EVENT_KINDS:
            model = EVENT_KINDS[key]
        else:
            model = None
    if isinstance(model, tuple):
        model = model[1]
    if isinstance(model, type) and issubclass(model, BaseModel):
        allowed = sorted(model.model_fields)
        hint = difflib.get_close_matches(name, allowed, n=1)
        return f"; allowed: {', '.join(allowed)}" + (f" (did you mean {hint[0]!r}?)"
                                                     if hint else "")
    return ""
