"""Every error a domain raises on purpose is a ClearframeError with its own stable code, so
that the API answers it as problem+json with that code instead of a 500."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

from core import errors as core_errors
from core.errors import ClearframeError
from core.media import MediaLimitExceeded
from core.ports import WiringError

DOMAIN_PACKAGES = ("contracts", "feed", "generator", "provenance", "reverse_search", "trust_safety")
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def domain_errors() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for package in DOMAIN_PACKAGES:
        root = importlib.import_module(package)
        names = [package] + [
            m.name for m in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")
        ]
        for name in names:
            module = importlib.import_module(name)
            found += [
                cls
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if issubclass(cls, BaseException) and cls.__module__ == name
            ]
    return found


def _code_owner(cls: type[ClearframeError]) -> type:
    return next(c for c in cls.__mro__ if "code" in vars(c))


def test_every_domain_error_is_a_clearframe_error_with_its_own_code() -> None:
    errors = domain_errors()
    assert len(errors) > 20  # the walk found the domains' errors
    outside = sorted(
        f"{c.__module__}.{c.__qualname__}" for c in errors if not issubclass(c, ClearframeError)
    )
    assert outside == [], "domain errors outside ClearframeError become 500s"
    # A domain error may answer with the core's code on purpose (every route that refuses a
    # decompression bomb says media_limit_exceeded); it never inherits another domain
    # error's code by accident.
    core_codes = {
        c.code for c in vars(core_errors).values()
        if isinstance(c, type) and issubclass(c, ClearframeError)
    } | {MediaLimitExceeded.code, WiringError.code}
    inherited = sorted(
        f"{c.__module__}.{c.__qualname__}"
        for c in errors
        if issubclass(c, ClearframeError)
        and not _code_owner(c).__module__.startswith("core.")
        and _code_owner(c) is not c
    )
    assert inherited == [], "each error declares its own code"
    by_code: dict[str, list[str]] = {}
    for cls in errors:
        assert issubclass(cls, ClearframeError)
        assert CODE.match(cls.code), (cls, cls.code)
        assert 400 <= cls.status < 600, (cls, cls.status)
        if cls.code not in core_codes:
            by_code.setdefault(cls.code, []).append(f"{cls.__module__}.{cls.__qualname__}")
    shared = {code: names for code, names in by_code.items() if len(names) > 1}
    assert shared == {}, "two errors share a code"
