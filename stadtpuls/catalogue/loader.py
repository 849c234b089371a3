"""Load a catalogue file and turn every problem into one line a person can act on.

A problem line reads `FILE:LINE: KEY.PATH: what is wrong; what would be valid`, the form
compilers and linters use, so editors can jump to it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from stadtpuls.catalogue.bulk import BulkProblem, Expander
from stadtpuls.catalogue.models import Catalogue

Loc = tuple[str | int, ...]

# libyaml parses the catalogue about ten times faster than PyYAML's pure-Python parser (the
# same safe constructor runs on top); the ingest pays this at every start, before it reads
# the backlog the broker kept for it. Both loaders are safe (bandit cannot see that).
_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader

# The Rathaus im Stühlinger catalogue shipped inside the package (a link to
# config/stuehlinger.yaml in the checkout; the wheel holds a copy), so the demo also runs
# from an installed package outside a checkout.
BUNDLED_CATALOGUE = Path(__file__).with_name("stuehlinger.yaml")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class CatalogueError(Exception):
    """The catalogue cannot be used; `problems` has one entry per mistake."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_catalogue(path: str | Path) -> Catalogue:
    """Parse and validate a catalogue file; raise CatalogueError listing every problem."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        problem = Problem(file, None, "", f"cannot read the file: {exc.strerror}")
        raise CatalogueError([problem]) from None
    except UnicodeDecodeError:
        problem = Problem(file, None, "", "not UTF-8 text; save it as UTF-8")
        raise CatalogueError([problem]) from None
    try:
        data = yaml.load(text, Loader=_LOADER)  # nosec B506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CatalogueError([Problem(file, line, "", f"not valid YAML: {reason}")]) from None
    if not isinstance(data, dict):
        raise CatalogueError([Problem(file, None, "", "expected a mapping with 'version' and "
                                                      "'sites' at the top level")])
    # Line numbers are only needed to report problems: the document is composed again
    # only then.
    index: list[dict[Loc, int]] = []

    def lines() -> dict[Loc, int]:
        if not index:
            index.append(_line_index(yaml.compose(text, Loader=_LOADER)))
        return index[0]

    expander = Expander(file, Path(path).parent, lines, _bulk_problems)
    data = expander.expand(data)
    if expander.problems:
        found = [Problem(p.file, p.line, p.path, p.message) for p in expander.problems]
        raise CatalogueError(_dedupe(sorted(found, key=lambda p: (p.file != file, p.file,
                                                                    p.line or 0))))
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        errors = _drop_missing_explained_by_typo(exc.errors())
        problems = [_problem(file, lines(), err) for err in errors]
        problems.sort(key=lambda p: p.line or 0)
        raise CatalogueError(_dedupe(problems)) from None


def _bulk_problems(file: str, line: int | None, prefix: Loc, exc: ValidationError
                   ) -> list[BulkProblem]:
    """A template's or a CSV row's validation errors, worded as the loader words them.

    Template problems (prefix `templates.<name>`) find their line in the YAML; CSV rows
    bring theirs (the row's)."""
    out = []
    for err in _drop_missing_explained_by_typo(exc.errors()):
        loc: Loc = tuple(p for p in err["loc"] if isinstance(p, int | str))
        # The message helpers know keys by their place in a catalogue: a sensor's.
        message = _message(err["type"], err, ("sites", "_", "sensors", 0, *loc))
        where = line
        if where is None and prefix:
            index = _lines_of(file)
            for n in range(len(loc), -1, -1):
                if (*prefix, *loc[:n]) in index:
                    where = index[(*prefix, *loc[:n])]
                    break
        out.append(BulkProblem(file, where, format_loc((*prefix, *loc)), message))
    return out


def _lines_of(file: str) -> dict[Loc, int]:
    try:
        return _line_index(yaml.compose(Path(file).read_text(encoding="utf-8"), Loader=_LOADER))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}


def format_loc(loc: Loc) -> str:
    """('sites', 'a', 'sensors', 3, 'unit') -> 'sites.a.sensors[3].unit'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _drop_missing_explained_by_typo(errors: list[Any]) -> list[Any]:
    """A misspelt key shows up twice (unknown key, required key missing): say it once."""
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing"}
    explained: set[tuple[Any, ...]] = set()
    for e in errors:
        if e["type"] != "extra_forbidden":
            continue
        parent = tuple(e["loc"][:-1])
        siblings = [str(loc[-1]) for loc in missing if loc[:-1] == parent]
        for match in difflib.get_close_matches(str(e["loc"][-1]), siblings, n=1, cutoff=0.6):
            explained.add((*parent, match))
    return [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in explained)]


def _problem(file: str, lines: dict[Loc, int], err: Any) -> Problem:
    # pydantic adds the name of a validator's tagged-union branch or function to loc;
    # keep only keys and indexes that exist in the document.
    loc: Loc = tuple(p for p in err["loc"] if isinstance(p, int | str))
    kind = err["type"]
    message = _message(kind, err, loc)
    line = None
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            line = lines[loc[:n]]
            break
    return Problem(file, line, format_loc(loc), message)


def _message(kind: str, err: Any, loc: Loc) -> str:
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        valid = sorted(parent.model_fields) if parent else []
        hint = _close(str(loc[-1]), valid)
        return f"unknown key{hint}; valid keys here: {', '.join(valid)}"
    if kind == "missing":
        return "required key is missing"
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        hint = _close(str(err.get("input")), [e.strip(" '") for e in expected.split(",")])
        return f"{err.get('input')!r} is not allowed{hint}; valid: {expected.replace(' or', ',')}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{err.get('input')!r} is not allowed; valid: {expected}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        return f"{err.get('input')!r} is not a valid id: use lower-case a-z, 0-9, '_', '.', '-'"
    return f"{err['msg']} (got {err.get('input')!r})" if "input" in err else str(err["msg"])


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at `loc`."""
    from stadtpuls.catalogue.models import Site

    model: type[BaseModel] = Catalogue
    i = 0
    while i < len(loc):
        key = loc[i]
        if model is Catalogue and key == "sites":
            model, i = Site, i + 2  # skip the site id
            continue
        field = model.model_fields.get(str(key))
        if field is None:
            return None
        inner = _model_of(field.annotation)
        if inner is None:
            return None
        model = inner
        i += 1
        if i < len(loc) and isinstance(loc[i], int):
            i += 1
        elif getattr(field.annotation, "__origin__", None) is dict:
            i += 1  # skip the mapping's key (a screen name)
    return model


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _close(word: str, options: list[str]) -> str:
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for p in problems:
        if str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    return out


def _line_index(node: yaml.Node | None) -> dict[Loc, int]:
    """Map each key path in the YAML document to its 1-based line number."""
    index: dict[Loc, int] = {}

    def walk(n: yaml.Node, loc: Loc) -> None:
        index.setdefault(loc, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for key_node, value_node in n.value:
                key = key_node.value
                index[(*loc, key)] = key_node.start_mark.line + 1
                walk(value_node, (*loc, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*loc, i))

    if node is not None:
        walk(node, ())
    return index
