"""The offline web as ASGI apps: `search` (the search engine), `pages` (archived pages at their URLs),
`routes` (hostname -> app for the sandbox gateway), `serve` (one loopback app for `airgap corpus serve`).

Every handler does its SQLite, zstd and index work in a worker thread, never on the event
loop: the sandbox gateway runs these apps for every sandbox on one loop. Nothing here ever
makes a network request.
"""
