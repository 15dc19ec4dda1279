"""docs/settings.md is generated from core/settings.py; this fails when someone changes one without the other."""
from __future__ import annotations

from core.settings_reference import COMMAND, REFERENCE, render, undocumented


def test_every_setting_has_a_description():
    assert not undocumented(), f"add Field(description=...) in core/settings.py for: {', '.join(undocumented())}"


def test_settings_reference_is_current():
    current = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert current == render(), f"docs/settings.md is stale: regenerate it with `{COMMAND}` (from the repository root)"


def test_reference_lists_every_setting_with_its_env_var():
    text = render()
    from core.settings import Settings

    for name in Settings.model_fields:
        assert f"`KABAR_{name.upper()}`" in text
    assert "the number of CPU cores" in text  # machine-dependent defaults are named, not printed

