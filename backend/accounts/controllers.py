from __future__ import annotations

import html
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.accounts import schemas, services
from backend.lib.auth import requires_roles
from backend.lib.clock import BEIJING
from backend.lib.deps import AppSettings, Integrity, Notify, SignedIn, Tokens
from backend.lib.errors import AppError, Errors
from backend.lib.pagination import Page
from backend.lib.params import DEFAULT_LIMIT, Cursor, Limit


def auth_rate_limit(per_minute: int) -> RateLimitConfig:
    """Per-client cap on sign-in attempts, on top of the per-account lockout."""
    return RateLimitConfig(rate_limit=("minute", per_minute), exclude=["/schema"])


def public_check_rate_limit(per_minute: int) -> RateLimitConfig:
    """Per-client cap on public certificate checks: a person scans a card now and then; a script
    trying tokens is stopped (its own window, apart from the sign-in one)."""
    return RateLimitConfig(rate_limit=("minute", per_minute), store="public_check_rate_limit")


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login", exclude_from_auth=True, status_code=HTTP_200_OK, summary="Sign in")
    async def login(
        self, settings: AppSettings, tokens: Tokens, data: JSONBody[schemas.LoginRequest]
    ) -> schemas.TokenPair:
        return await services.login(data.username, data.password, settings, tokens)

    @post("/refresh", exclude_from_auth=True, status_code=HTTP_200_OK, summary="Rotate the refresh token")
    async def refresh(
        self, settings: AppSettings, tokens: Tokens, events: Notify, data: JSONBody[schemas.RefreshRequest]
    ) -> schemas.TokenPair:
        return await services.refresh(data.refresh_token, settings, tokens, events)

    @post(
        "/password-reset",
        exclude_from_auth=True,
        status_code=HTTP_204_NO_CONTENT,
        summary="Set a new password with the one-time link an admin made (ends every session)",
    )
    async def password_reset(self, events: Notify, data: JSONBody[schemas.PasswordResetFinish]) -> None:
        await services.finish_password_reset(data.token, data.password, events)

    @post("/logout", status_code=HTTP_204_NO_CONTENT, summary="End this session")
    async def logout(
        self, user: SignedIn, events: Notify, data: JSONBody[schemas.LogoutRequest | None] = None
    ) -> None:
        await services.logout(user, events)


class MeController(Controller):
    path = "/me"
    tags = ["auth"]

    @get("/", summary="The signed-in user, roles, units and certificate status")
    async def me(self, user: SignedIn) -> schemas.User:
        return await services.user_view(user.id, full_phone=True)


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/", summary="Users visible to you")
    async def list_users(
        self,
        user: SignedIn,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
        role: FromQuery[schemas.Role | None] = None,
        unit_id: FromQuery[uuid.UUID | None] = None,
        q: Annotated[
            str | None, QueryParameter(max_length=64, description="part of the username or name")
        ] = None,
    ) -> Page[schemas.User]:
        return await services.list_users(user, cursor, limit, role, unit_id, q)

    @post("/", guards=[requires_roles("admin")], summary="Create a user")
    async def create_user(self, user: SignedIn, data: JSONBody[schemas.UserCreate]) -> schemas.User:
        return await services.create_user(user, data)

    @get("/{user_id:uuid}", summary="One user")
    async def get_user(self, user: SignedIn, user_id: FromPath[uuid.UUID]) -> schemas.User:
        return await services.get_user(user, user_id)

    @patch("/{user_id:uuid}", guards=[requires_roles("admin")], summary="Change a user")
    async def update_user(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        events: Notify,
        data: JSONBody[schemas.UserUpdate],
    ) -> schemas.User:
        return await services.update_user(user, user_id, data, events)

    @post(
        "/{user_id:uuid}/password-reset",
        guards=[requires_roles("admin")],
        status_code=HTTP_201_CREATED,
        summary="A one-time link for the user to set a new password (shown once)",
    )
    async def password_link(self, user: SignedIn, user_id: FromPath[uuid.UUID]) -> schemas.PasswordResetLink:
        return await services.start_password_reset(user, user_id)

    @post(
        "/{user_id:uuid}/unlock",
        guards=[requires_roles("admin")],
        status_code=HTTP_200_OK,
        summary="Lift a sign-in lockout of the user's name",
    )
    async def unlock(self, user: SignedIn, user_id: FromPath[uuid.UUID]) -> schemas.Unlocked:
        return await services.unlock(user, user_id)

    @put(
        "/{user_id:uuid}/certificate",
        guards=[requires_roles("admin", "supervisor")],
        summary="Issue or renew an enforcement certificate (执法证)",
    )
    async def set_certificate(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.CertificatePut],
    ) -> schemas.Certificate:
        return await services.set_certificate(user, user_id, data)

    @post(
        "/{user_id:uuid}/certificate/revoke",
        guards=[requires_roles("admin", "supervisor")],
        status_code=HTTP_200_OK,
        summary="Revoke and recall a certificate (注销并收回)",
    )
    async def revoke_certificate(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        events: Notify,
        data: JSONBody[schemas.CertificateRevoke],
    ) -> schemas.Certificate:
        return await services.revoke_certificate(user, user_id, data.reason, events, data.effective_on)

    @post(
        "/{user_id:uuid}/certificate/suspend",
        guards=[requires_roles("admin", "supervisor")],
        status_code=HTTP_200_OK,
        summary="Suspend a certificate (暂扣): no enforcement act until it is reinstated",
    )
    async def suspend_certificate(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        events: Notify,
        data: JSONBody[schemas.CertificateChangeRequest],
    ) -> schemas.Certificate:
        return await services.change_certificate(
            user, user_id, "suspend", data.reason, data.effective_on, events
        )

    @post(
        "/{user_id:uuid}/certificate/reinstate",
        guards=[requires_roles("admin", "supervisor")],
        status_code=HTTP_200_OK,
        summary="Reinstate a suspended certificate",
    )
    async def reinstate_certificate(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        events: Notify,
        data: JSONBody[schemas.CertificateChangeRequest],
    ) -> schemas.Certificate:
        return await services.change_certificate(
            user, user_id, "reinstate", data.reason, data.effective_on, events
        )

    @post(
        "/{user_id:uuid}/certificate/lost",
        guards=[requires_roles("admin", "supervisor")],
        status_code=HTTP_200_OK,
        summary="Report a card lost (挂失): it stops authorising enforcement until re-issued",
    )
    async def lose_certificate(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        events: Notify,
        data: JSONBody[schemas.CertificateChangeRequest],
    ) -> schemas.Certificate:
        return await services.change_certificate(
            user, user_id, "lose", data.reason, data.effective_on, events
        )

    @post(
        "/{user_id:uuid}/certificate/reissue",
        guards=[requires_roles("admin", "supervisor")],
        status_code=HTTP_200_OK,
        summary="Re-issue a lost card under a new number (补发)",
    )
    async def reissue_certificate(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        events: Notify,
        data: JSONBody[schemas.CertificateReissue],
    ) -> schemas.Certificate:
        return await services.reissue_certificate(user, user_id, data, events)

    @post(
        "/{user_id:uuid}/certificate/recall",
        guards=[requires_roles("admin", "supervisor")],
        status_code=HTTP_200_OK,
        summary="Record that a revoked card was handed back (收回): date and who received it",
    )
    async def recall_certificate(
        self,
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.CertificateRecall],
    ) -> schemas.Certificate:
        return await services.recall_certificate(user, user_id, data)

    @get("/{user_id:uuid}/certificate/history", summary="Every change of the certificate, newest first")
    async def certificate_history(
        self, user: SignedIn, user_id: FromPath[uuid.UUID]
    ) -> list[schemas.CertificateChange]:
        return await services.certificate_history(user, user_id)

    @get(
        "/{user_id:uuid}/certificate/qr",
        summary="The card's QR: a server-signed token and the public check URL",
    )
    async def certificate_qr(
        self,
        request: Request[Any, Any, Any],
        user: SignedIn,
        user_id: FromPath[uuid.UUID],
        integrity: Integrity,
    ) -> schemas.CardQr:
        origin = f"{request.url.scheme}://{request.url.netloc}"
        return await services.card_qr(user, user_id, integrity, origin)


class CertificateController(Controller):
    path = "/certificates"
    tags = ["users"]

    @get(
        "/unrecalled",
        guards=[requires_roles("admin", "supervisor")],
        summary="Revoked cards not yet handed back (注销未收回)",
    )
    async def unrecalled(self, user: SignedIn) -> list[schemas.UnrecalledCard]:
        return await services.unrecalled_certificates(user)


class PublicCertificateApi(Controller):
    path = "/public/certificates"
    tags = ["public"]

    @get(
        "/{token:str}", exclude_from_auth=True, summary="Check a certificate from its card's QR (no sign-in)"
    )
    async def check(self, token: FromPath[str], integrity: Integrity) -> schemas.PublicCertificate:
        found = await services.public_certificate(integrity, token)
        if found is None:
            raise AppError(
                Errors.CERTIFICATE_TOKEN_INVALID, "This code was not issued by the certificate office."
            )
        return found


# The page a citizen's phone opens from the card's QR: server-rendered, no script, a few KB.
_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>{title}</title><style>
body{{font:16px/1.5 sans-serif;margin:0;padding:16px;color:#222;max-width:480px}}
h1{{font-size:20px;margin:0 0 12px}}.s{{font-size:28px;font-weight:bold;padding:12px;border-radius:6px;
text-align:center;margin:12px 0}}.ok{{background:#e3f4e6;color:#146c2e}}.no{{background:#fde7e7;color:#a11}}
dl{{margin:0}}dt{{color:#666;font-size:14px;margin-top:8px}}dd{{margin:0;font-size:18px}}
p{{color:#666;font-size:13px}}</style></head><body>{body}</body></html>"""


def _page(title: str, body: str, status: int) -> Response[str]:
    return Response(
        _PAGE.format(title=html.escape(title), body=body),
        status_code=status,
        media_type="text/html; charset=utf-8",
        # No script at all; the one inline style sheet is the page's only resource.
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        },
    )


def certificate_page(found: schemas.PublicCertificate | None) -> Response[str]:
    if found is None:
        body = (
            '<h1>执法证件核验</h1><div class="s no">无法核验</div>'
            "<p>此二维码不是执法证件核验码，或已被篡改。请以证件上的信息向发证机关（区司法局）核实，"
            "必要时拨打 12345 反映。</p>"
        )
        return _page("无法核验", body, 404)
    e = html.escape
    rows = [("姓名", found.name), ("执法单位", "、".join(found.units) or "—"), ("证件编号", found.number)]
    if found.field:
        rows.append(("执法领域", found.field))
    if found.status != "replaced":
        rows.append(("有效期", f"{found.issued_on.isoformat()} 至 {found.expires_on.isoformat()}"))
    cls = "ok" if found.status == "valid" else "no"
    checked = found.checked_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    note = (
        "持证人可以依法从事行政执法活动。"
        if found.status == "valid"
        else "此证件当前不能用于行政执法。如持证人正在执法，您有权拒绝并向区司法局反映。"
    )
    body = (
        f'<h1>执法证件核验</h1><div class="s {cls}">{e(found.status_label)}</div><dl>'
        + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
        + f"</dl><p>{e(note)}</p><p>核验时间 {e(checked)} · 状态为实时查询结果</p>"
    )
    return _page(f"执法证件核验：{found.status_label}", body, 200)


class PublicCertificatePage(Controller):
    path = "/c"
    tags = ["public"]
    include_in_schema = False

    @get("/{token:str}", summary="The public certificate check page")
    async def page(self, token: FromPath[str], integrity: Integrity) -> Response[str]:
        return certificate_page(await services.public_certificate(integrity, token))
