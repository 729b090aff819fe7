"""The local HTTP API of the background service (`mam serve`): a thin front over `Service`.

`app.build_app` makes the Starlette application (REST-ish JSON under `/api`, MCP streamable HTTP at
`/mcp`); `server.run_serve` is the long-lived process that owns the backend, runs the supervisor
and serves the application with uvicorn.
"""
