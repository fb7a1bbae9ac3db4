"""The staff console and borrower self-service, in the browser (``/web``).

Server-rendered pages (Jinja2, htmx) over the same documents and role rules as the REST API;
:func:`tenor.web.app.create_web_app` builds it and the API mounts it; :mod:`tenor.web.pages`
says how a page is added.
"""
