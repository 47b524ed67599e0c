"""Serves the dashboard's build: hashed assets cached for good, `index.html` for its routes."""

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

from shared.errors import Problem

# The build's file names carry a content hash: a new build is a new name.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The dashboard loads nothing from elsewhere; charts draw on canvases, styles may be set inline.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# Paths the dashboard never answers: they belong to the API.
NOT_DASHBOARD = ("api", "auth", "metrics")


class DashboardNotBuilt(Problem):
    status, slug, title = 503, "dashboard-not-built", "Dashboard not built"


class DashboardFiles(StaticFiles):
    def __init__(self, directory: str) -> None:
        super().__init__(directory=directory, check_dir=False)
        self.root = Path(directory)

    async def check_config(self) -> None:
        # A gateway without the build still serves the API.
        if self.root.is_dir():
            await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path.split("/", 1)[0] in NOT_DASHBOARD:
            raise HTTPException(404, "Nothing is served at this path.")
        try:
            response = await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or path.startswith("assets/"):
                raise
            # A route of the single-page app: the app finds its page itself.
            response = self.page("index.html")
        if path.startswith("assets/") and response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers.setdefault("Cache-Control", REVALIDATE)
            response.headers.update(SECURITY_HEADERS)
        return response

    def page(self, name: str) -> Response:
        file = self.root / name
        if not file.is_file():
            raise DashboardNotBuilt(f"The dashboard is not built in {self.root}: run `make web`.")
        return FileResponse(file, headers={"Cache-Control": REVALIDATE, **SECURITY_HEADERS})


def compressed(files: DashboardFiles) -> ASGIApp:
    """The build's files, compressed for browsers that accept it."""
    return GZipMiddleware(files, minimum_size=1024)
