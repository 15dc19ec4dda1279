"""Misspelt settings: an unknown key is an error naming the closest valid one; an unknown KABAR_* variable is
warned about. Apart from core/settings.py so the settings model stays a list of fields."""
from __future__ import annotations

import difflib
import os
import warnings
from typing import Iterable, Optional

from core.errors import ConfigError

ENV_PREFIX = "KABAR_"
SETTINGS_FILE_ENV = "KABAR_SETTINGS_FILE"
# KABAR_* variables that are not settings: the settings file's path, and the test harness's own (KABAR_TEST_*).
OTHER_ENV = (SETTINGS_FILE_ENV,)
OTHER_ENV_PREFIXES = ("KABAR_TEST_",)


class UnknownSetting(ConfigError, ValueError):
    """A settings key (file, argument) that no setting has: most often a misspelling."""


class UnknownSettingWarning(UserWarning):
    """A KABAR_* environment variable that matches no setting."""


def closest_setting(name: str, fields: Iterable[str]) -> Optional[str]:
    """The valid setting name nearest to ``name`` (difflib), or None when none is close."""
    matches = difflib.get_close_matches(name.lower(), list(fields), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_setting_message(name: str, where: str, fields: Iterable[str], env: bool = False) -> str:
    """'Unknown setting 'top_kk' in the arguments; did you mean 'top_k'? ...' (for a variable: KABAR_ names)."""
    closest = closest_setting(name[len(ENV_PREFIX):] if env else name, fields)
    if env:
        shown, hint = name, f"; did you mean {ENV_PREFIX}{closest.upper()}?" if closest else ""
    else:
        shown, hint = repr(name), f"; did you mean {closest!r}?" if closest else ""
    return f"Unknown setting {shown} in {where}{hint} (every setting: docs/settings.md)"


def check_keys(keys, where: str, fields: Iterable[str]) -> None:
    """Raise UnknownSetting for the first key no setting has."""
    fields = set(fields)
    for key in keys:
        if key not in fields:
            raise UnknownSetting(unknown_setting_message(str(key), where, fields))


def warn_unknown_env(fields: Iterable[str], environ=None) -> list[str]:
    """Warn about each KABAR_* environment variable that matches no setting; returns their names."""
    environ = os.environ if environ is None else environ
    fields = list(fields)
    known = {ENV_PREFIX + name.upper() for name in fields}
    unknown = sorted(
        name for name in environ
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known and name.upper() not in OTHER_ENV
        and not name.upper().startswith(OTHER_ENV_PREFIXES)
    )
    for name in unknown:
        message = unknown_setting_message(name, "the environment (ignored)", fields, env=True)
        warnings.warn(message, UnknownSettingWarning, stacklevel=2)
    return unknown
