"""The web application: the FastAPI app, thin routers over the feature packages, dependencies, error handlers,
the body limit, the site's pages, templates and static files.

May import every package below it; nothing imports it but the uvicorn factory string.
"""
