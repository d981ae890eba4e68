"""Talking G-code to the printer: protocol, transports, send/receive loops, virtual printer."""
