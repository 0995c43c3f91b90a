"""Serving: the warm server (server.py, its protocol; warm.py, the shared open index; updates.py, index runs in
the background, and watch.py, the watcher that starts them), its client (client.py: standard library only, so a
served search loads nothing heavy), and the MCP server (mcp_server.py) with the shapes of its answers
(mcp_schema.py).
"""
