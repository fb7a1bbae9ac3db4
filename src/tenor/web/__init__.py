"""The staff console and borrower self-service, in the browser (``/web``).

Server-rendered pages (Jinja2, htmx) over the same documents and role rules as the REST API;
see :mod:`tenor.web.app` for how it is mounted and :mod:`tenor.web.pages` for how a page is
added.
"""

from tenor.web.app import create_web_app

__all__ = ["create_web_app"]
