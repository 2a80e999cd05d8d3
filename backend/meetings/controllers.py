from __future__ import annotations

import uuid

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from backend.lib.auth import requires_roles
from backend.lib.deps import SignedIn
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit
from backend.live.publish import Events
from backend.meetings import schemas, services

# Invited supervisors and liaisons have no part in these records.
READERS = requires_roles("admin", "supervisor", "command", "officer", "legal_reviewer")
KEEPERS = requires_roles("admin", "supervisor")


class LeadingGroupController(Controller):
    path = "/leading-groups"
    tags = ["meetings"]
    guards = [READERS]

    @post("/", guards=[KEEPERS], summary="Set up a unit's leading group (行政执法协调监督领导小组)")
    async def create(self, user: SignedIn, data: JSONBody[schemas.GroupCreate]) -> Response[schemas.Group]:
        return Response(await services.create_group(user, data), status_code=HTTP_201_CREATED)

    @get("/", summary="Leading groups in scope (a unit's people: their unit's)")
    async def list_groups(
        self, user: SignedIn, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[schemas.Group]:
        return await services.list_groups(user, cursor, limit)

    @get("/{group_id:uuid}", summary="One leading group, its members and how many are legal professionals")
    async def get_group(self, user: SignedIn, group_id: FromPath[uuid.UUID]) -> schemas.Group:
        return await services.get_group(user, group_id)

    @patch(
        "/{group_id:uuid}",
        guards=[KEEPERS],
        summary="Change the group (the full member list), version-checked",
    )
    async def update(
        self, user: SignedIn, group_id: FromPath[uuid.UUID], data: JSONBody[schemas.GroupPatch]
    ) -> schemas.Group:
        return await services.update_group(user, group_id, data)


class MeetingController(Controller):
    path = "/meetings"
    tags = ["meetings"]
    guards = [READERS]

    @post("/", guards=[KEEPERS], summary="Record a meeting; each resolution opens a corrective action")
    async def create(
        self, user: SignedIn, events: Events, data: JSONBody[schemas.MeetingCreate]
    ) -> Response[schemas.MeetingView]:
        return Response(await services.record_meeting(user, data, events), status_code=HTTP_201_CREATED)

    @get(
        "/", summary="Meetings in scope (a unit's people: those their unit attended or owes a resolution of)"
    )
    async def list_meetings(
        self, user: SignedIn, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[schemas.MeetingView]:
        return await services.list_meetings(user, cursor, limit)

    @get("/{meeting_id:uuid}", summary="One meeting with each resolution's task status")
    async def get_meeting(self, user: SignedIn, meeting_id: FromPath[uuid.UUID]) -> schemas.MeetingView:
        return await services.get_meeting(user, meeting_id)
