"""HTTP routes of data staging (``/data-staging/v1/external/{workspace}/...``) and workspace discovery."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from shared.auth import Workspace, current_workspace

discovery = APIRouter()


@discovery.get("/")
async def whoami(ws: Workspace = Depends(current_workspace)) -> dict[str, str]:
    """Workspace discovery: Roboflow clients call ``GET {API_BASE_URL}?api_key=...`` first."""
    return {"workspace": ws.slug, "welcome": "Welcome to Conveyor", "instructions": "Use this workspace slug in API paths."}
