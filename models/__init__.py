"""The model registry: which weights egomem uses, where they come from, how they are assembled."""

from models.registry import REGISTRY, ModelSpec, assemble, resolve

__all__ = ["REGISTRY", "ModelSpec", "assemble", "resolve"]
