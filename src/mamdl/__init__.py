"""mamdl: search, download and seed MyAnonaMouse books from a CLI and an MCP server."""

__version__ = "0.1.0"
