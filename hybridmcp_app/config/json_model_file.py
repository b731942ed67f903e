"""A small JSON file the app owns, read as a pydantic model: a missing file is the empty model,
and a damaged one is moved aside (``<name>.bad``) so that the app starts afresh and says so."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from hybridmcp_app.config.atomic_files import write_text_atomically
from hybridmcp_app.core.errors import ConfigError, describe_validation_error

log = logging.getLogger("hybridmcp.config")
M = TypeVar("M", bound=BaseModel)


def read_model_file(path: Path, model: type[M], afresh: str) -> tuple[M, str | None]:
    """``path`` as ``model`` (the empty model when it does not exist), and a one-line problem
    when it could not be read: then it is moved aside and ``afresh`` says what that means for
    the user. ``ConfigError`` when it can neither be read nor moved."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return model(), None
    except OSError as error:
        raise ConfigError(f"cannot read {path.name}: {error.strerror or error}") from None
    try:
        return model.model_validate(json.loads(text)), None
    except (ValueError, ValidationError) as error:
        reason = (
            describe_validation_error(error)[0]
            if isinstance(error, ValidationError)
            else f"not JSON ({error})"
        )
    aside = path.with_name(path.name + ".bad")
    try:
        path.replace(aside)
    except OSError as move_error:
        raise ConfigError(
            f"{path.name} could not be read ({reason}) nor moved aside: "
            f"{move_error.strerror or move_error}"
        ) from None
    problem = (
        f"{path.name} could not be read ({reason}): {afresh}; the old file was kept as {aside.name}"
    )
    log.warning("%s", problem)
    return model(), problem


def write_model_file(path: Path, data: BaseModel) -> None:
    """``data`` as indented JSON, replacing ``path`` atomically."""
    write_text_atomically(path, data.model_dump_json(indent=2) + "\n")
