"""The README stays true: every setting documented, every command it names exists."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from core.cli import build_parser
from core.modules import import_all_models

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
PACKAGES = ("core", "trust_safety", "generator", "provenance", "reverse_search", "feed")


def _settings_classes() -> list[type[BaseSettings]]:
    import_all_models()
    seen: list[type[BaseSettings]] = []
    stack = list(BaseSettings.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in PACKAGES and cls not in seen:
            seen.append(cls)
    return seen


def _env_names(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = set()
    for name, field in cls.model_fields.items():
        alias = field.validation_alias or field.alias
        names.add(str(alias).upper() if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def _read_from_environ() -> set[str]:
    """Variables read straight from os.environ (CLI conveniences, caches, the test suite)."""
    root = Path(__file__).resolve().parent.parent
    names: set[str] = set()
    for package in (*PACKAGES, "tests"):
        for path in (root / package).rglob("*.py"):
            names |= set(
                re.findall(
                    r"environ(?:\.get)?[(\[]\s*\"(CLEARFRAME_[A-Z0-9_]+)\"", path.read_text()
                )
            )
    return names


def test_every_setting_is_in_the_readme_table() -> None:
    documented = set(re.findall(r"^\|\s*`(CLEARFRAME_[A-Z0-9_]+)`", README, flags=re.M))
    documented |= {
        m
        for row in re.findall(r"^\|\s*(`CLEARFRAME_[^|]+)\|", README, flags=re.M)
        for m in re.findall(r"`(CLEARFRAME_[A-Z0-9_]+)`", row)
    }
    wanted = set().union(*(_env_names(c) for c in _settings_classes())) | _read_from_environ()
    assert wanted, "no settings classes found"
    assert sorted(wanted - documented) == [], "settings missing from the README table"
    assert sorted(documented - wanted) == [], "README documents settings that do not exist"


def test_cli_commands_named_in_the_readme_exist() -> None:
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    named = set(re.findall(r"`clearframe ([a-z][a-z-]*)", README))
    assert named, "the README names no commands"
    assert sorted(named - commands) == []
