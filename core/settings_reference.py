"""Write docs/settings.md from the settings model, so the reference never drifts from the code.

    python -m core.settings_reference            # print it
    python -m core.settings_reference --write    # rewrite docs/settings.md
    python -m core.settings_reference --check    # exit 1 if docs/settings.md is stale
"""
from __future__ import annotations

import argparse
import sys
import types
import typing
from enum import Enum
from pathlib import Path

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from core.settings import ENV_PREFIX, SETTINGS_FILE_ENV, Settings

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
COMMAND = "python -m core.settings_reference --write"

HEADER = f"""# Settings reference

<!-- Generated from core/settings.py by `{COMMAND}`; do not edit by hand
     (tests/unit/test_unit_settings_reference.py fails when this file is stale). -->

One typed object (`core/settings.py`), read once at start-up and passed down. Precedence:
arguments in code (`Assistant(top_k=6)`), then `{ENV_PREFIX}*` environment variables, then a TOML
file named by `{SETTINGS_FILE_ENV}` (keys are the setting names below: `top_k = 6`), then defaults.

A key that names no setting is an error, in the settings file and in arguments, and the message names
the closest valid setting (`Unknown setting 'top_kk' in the arguments; did you mean 'top_k'?`). A
`{ENV_PREFIX}*` environment variable that matches no setting is warned about (`UnknownSettingWarning`), with
the closest one, and ignored (`{SETTINGS_FILE_ENV}` and the test harness's `KABAR_TEST_*` are not settings).

Running on one machine or several (a Chroma server, an OpenAI-compatible LLM server, several front
ends): [operations.md](operations.md#one-machine-or-several).
"""

SECTIONS = [  # (title, first field of the section), in the order core/settings.py declares them
    ("Where state lives", "data_dir"),
    ("Embeddings", "embedding_backend"),
    ("Chat model", "llm_backend"),
    ("Vector store", "chroma_host"),
    ("Ingest", "chunk_size"),
    ("Retrieval and answering", "retrieval_mode"),
    ("Web chat and HTTP API", "web_host"),
]


def _type_name(annotation) -> str:
    """How a field's type reads in the reference: allowed values for a Literal, '(optional)' for Optional."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{value}`" for value in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = " or ".join(_type_name(a) for a in args)
        return f"{inner} (optional)" if len(args) < len(typing.get_args(annotation)) else inner
    if annotation is SecretStr:
        return "secret string"
    if annotation is Path:
        return "path"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of " + ", ".join(f"`{m.value}`" for m in annotation)
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(annotation, str(annotation))


def _bounds(field: FieldInfo) -> str:
    parts = []
    for item in field.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{sign} {value}")
    return ", ".join(parts)


def _default(field: FieldInfo) -> str:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if "default_label" in extra:
        return str(extra["default_label"])
    if field.default_factory is not None:
        return "computed"
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Enum):
        value = value.value
    return f"`{value}`" if str(value).strip() == str(value) else f"`\"{value}\"`"


def _cell(text: str) -> str:
    """One table cell: one line, pipes escaped, and <name> kept as text rather than read as an HTML tag."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render() -> str:
    """The whole of docs/settings.md."""
    starts = {first: title for title, first in SECTIONS}
    lines = [HEADER.rstrip("\n")]
    for name, field in Settings.model_fields.items():
        if name in starts:
            lines += ["", f"## {starts[name]}", "",
                      "| setting | environment variable | type | default | meaning |", "|---|---|---|---|---|"]
        kind = _type_name(field.annotation)
        bounds = _bounds(field)
        if bounds:
            kind += f", {bounds}"
        lines.append(f"| `{name}` | `{ENV_PREFIX}{name.upper()}` | {_cell(kind)} | {_cell(_default(field))} | "
                     f"{_cell(field.description or '')} |")
    return "\n".join(lines) + "\n"


def undocumented() -> list[str]:
    """Settings without a description (the reference test refuses them)."""
    return [name for name, field in Settings.model_fields.items() if not field.description]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"rewrite {REFERENCE.relative_to(REFERENCE.parents[1])}")
    mode.add_argument("--check", action="store_true", help="exit 1 when the file differs from the settings model")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        REFERENCE.parent.mkdir(exist_ok=True)
        REFERENCE.write_text(text, encoding="utf-8")
        print(f"wrote {REFERENCE}")
    elif args.check:
        current = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
        if current != text:
            print(f"{REFERENCE} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
