"""Scene types, one module each; a module's name is its type in the catalogue.

A scene module has `build(ctx: SceneContext) -> SceneView | None`; None means it has no
current data and the rotation skips it. A new type is a module here plus its name in the
catalogue's `SceneType` (so `config check` knows it); a test keeps the two in step.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cache

from dashboard.kiosk.model import SceneContext, SceneView

SceneBuilder = Callable[[SceneContext], SceneView | None]


@cache
def builders() -> dict[str, SceneBuilder]:
    """Every scene module's `build`, by type."""
    found: dict[str, SceneBuilder] = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            found[info.name] = module.build
    return found
