"""Tenor's REST API (FastAPI): ``create_app`` builds it; ``tenor serve`` runs it.

- :mod:`tenor.api.app`: the application factory, routers and OpenAPI document;
- :mod:`tenor.api.roles`: who may call what, and who sees which personal data;
- :mod:`tenor.api.auth`: API keys and the permission check;
- :mod:`tenor.api.problems`: errors as RFC 9457 problem documents with stable codes;
- :mod:`tenor.api.middleware` and :mod:`tenor.api.logs`: request ids, JSON logs without
  personal data, Prometheus metrics and security headers.
"""
