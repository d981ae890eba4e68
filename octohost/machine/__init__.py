"""The machine layer: connection drivers, status codes, reconnection, health, snapshots, metrics.

It sits above the comm layer (which knows nothing of it) and below the server; the printer uses
it to open its port. One concept per module:

- :mod:`.drivers`: what a driver is (slug, name, description, typed settings) and the built-in ones
- :mod:`.registry`: every driver (built-in, plugins' ``machine.drivers`` hook, entry points,
  OctoPrint's ``serial.factory`` hook) and the one that opens the port
- :mod:`.status`: the status codes (1xx fine ... 5xx unknown) and how errors map to them
- :mod:`.errors`: the bounded list of timestamped errors
- :mod:`.breaker`: exponential backoff with jitter behind a circuit breaker (pure)
- :mod:`.reconnect`: when reconnecting is allowed and due
- :mod:`.health`: when the printer was last heard
- :mod:`.snapshot`: the normalized status subscribers get
- :mod:`.monitor`: :class:`Machine`, which ties them to the printer and the event bus
- :mod:`.metrics`: the Prometheus text of ``GET /metrics``
- :mod:`.wiring`: ``attach(components)``, the one place it is wired in
"""
