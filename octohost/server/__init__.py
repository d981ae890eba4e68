"""The web server: REST API, push socket, uploads/downloads and the UI, on one Tornado server."""
