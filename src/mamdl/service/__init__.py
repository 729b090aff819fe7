"""The service layer: everything the fronts (CLI, MCP server) may ask for."""

from mamdl.service.core import SearchSpec, Service

__all__ = ["SearchSpec", "Service"]
