"""``GET /metrics`` for Prometheus: an API key with the STATUS permission (header, query or
session, as for the REST API), or, with ``api.metricsLocalNetworks``, none from a client in
``accessControl.localNetworks``. The body comes from :mod:`octohost.machine.metrics`."""

import tornado.web

from .handlers import ProtectedMixin


class MetricsHandler(ProtectedMixin, tornado.web.RequestHandler):
    def initialize(self, context):
        self.context = context

    def get(self):
        c = self.context
        open_to_local = c.settings.get("api.metricsLocalNetworks") and c.authenticator.is_local(self.request.remote_ip)
        if not open_to_local and self.guard("STATUS") is None:
            return
        if c.machine is None:
            self.write_json_error(404, "No machine status: a plugin replaced the printer")
            return
        from octohost.machine.metrics import render

        push = c.push
        body, content_type = render(c.machine, c.printer, len(push.clients()) if push is not None else None)
        self.set_header("Content-Type", content_type)
        self.set_header("Cache-Control", "no-store")
        self.finish(body)
