"""Load a YAML file into a strict pydantic model, with errors that name the file and key path."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import LogMapError

M = TypeVar("M", bound=BaseModel)
#: libyaml's safe loader when it is built in (about nine times faster), else PyYAML's own
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Strict(BaseModel):
    """Base of every config model: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def logmaps_dir() -> Path:
    """Where the shipped logmaps live: inside the wheel, or the checkout's top-level folder."""
    packaged = Path(str(resources.files("cscmining"))) / "logmaps"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "logmaps"


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def load_model(path: Path, model: type[M]) -> M:
    """Parse ``path`` as YAML and validate it as ``model``; raise `LogMapError` on any problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LogMapError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise LogMapError(f"{path}: not valid YAML{where}") from None
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        lines = [f"{path}: {_key_path(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise LogMapError("\n".join(lines)) from None
