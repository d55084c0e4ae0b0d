"""The explorer page: a JSON API over convlab (api.py), the server (server.py), and a static page (static/)."""
