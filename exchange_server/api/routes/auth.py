"""Sign-up, sign-in and credentials: ``/api/v1/auth``.

Changing credentials (password, two-factor, API keys, signing out everywhere) needs a
signed-in person (a bearer access token); an API key may only read its owner's profile and
keys, so a leaked program key cannot take over the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from exchange_server.api.deps import Context, Principal, Reader, bearer_token, get_context
from exchange_server.api.errors import ApiError
from exchange_server.protocol import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    EmbeddedLoginRequest,
    ErrorResponse,
    LoginRequest,
    PasswordChangeRequest,
    PasswordResetConfirm,
    PasswordResetRequest,
    RecoveryCodes,
    RefreshRequest,
    RegisterRequest,
    ResendVerificationRequest,
    TokenPair,
    TotpConfirmRequest,
    TotpDisableRequest,
    TotpEnrolment,
    UserOut,
    VerifyEmailRequest,
)

router = APIRouter(
    prefix="/api/v1/auth",
    tags=["auth"],
    responses={
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
    },
)

KeyId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_]+$")]


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A person signed in with an access token, and the session (refresh token family)
    that token belongs to."""

    principal: Principal
    session: str


async def signed_in(request: Request) -> SignedIn:
    context = get_context(request)
    token = bearer_token(request)
    if token is None:
        if request.headers.get("x-api-key", "").strip():
            # Authenticate the key first, so a bad key is reported as such.
            await context.auth.principal_from_api_key(request.headers["x-api-key"])
            raise ApiError(
                403,
                "session_required",
                "API keys cannot change credentials: sign in with a password",
            )
        raise ApiError(
            401,
            "unauthorized",
            "sign in: send a bearer access token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    claims = context.auth.verify_access_token(token)
    principal = Principal(claims.user_id, claims.account_id, claims.role)
    request.state.principal = principal
    return SignedIn(principal, claims.session)


Session = Annotated[SignedIn, Depends(signed_in)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def client_name(request: Request) -> str:
    return request.headers.get("user-agent", "")[:200]


# -- registration --------------------------------------------------------------------------
@router.post("/register", status_code=201, responses={409: {"model": ErrorResponse}})
async def register(body: RegisterRequest, context: Context) -> UserOut:
    """Create a trader account and mail a code that confirms the e-mail address."""
    return await context.auth.register(body.email, body.password, body.display_name.strip())


@router.post("/verify-email", responses={400: {"model": ErrorResponse}})
async def verify_email(body: VerifyEmailRequest, context: Context) -> UserOut:
    return await context.auth.verify_email(body.token)


@router.post("/resend-verification", status_code=202, response_class=Response)
async def resend_verification(body: ResendVerificationRequest, context: Context) -> Response:
    """Accepted whether or not the address has an account (no probing for accounts)."""
    await context.auth.resend_verification(body.email)
    return Response(status_code=202)


# -- sessions ------------------------------------------------------------------------------
@router.post(
    "/login",
    responses={423: {"model": ErrorResponse, "description": "locked; see Retry-After"}},
)
async def login(body: LoginRequest, request: Request, context: Context) -> TokenPair:
    return await context.auth.login(
        body.email,
        body.password,
        otp=body.otp,
        recovery_code=body.recovery_code,
        ip=client_ip(request),
        client=client_name(request),
    )


@router.post("/refresh")
async def refresh(body: RefreshRequest, request: Request, context: Context) -> TokenPair:
    """A new token pair; the refresh token sent is used up (send it again and the session
    ends for safety)."""
    return await context.auth.refresh(body.refresh_token, client_name(request))


@router.post("/logout", status_code=204)
async def logout(body: RefreshRequest, context: Context) -> Response:
    await context.auth.logout(body.refresh_token)
    return Response(status_code=204)


@router.post("/logout-all", status_code=204)
async def logout_all(session: Session, context: Context) -> Response:
    await context.auth.logout_all(session.principal.user_id)
    return Response(status_code=204)


@router.post("/embedded", responses={404: {"model": ErrorResponse}})
async def embedded_login(
    body: EmbeddedLoginRequest, request: Request, context: Context
) -> TokenPair:
    """The workstation signs in to the server it started, once, with the secret it gave."""
    return await context.auth.embedded_login(body.secret, client_name(request))


@router.get("/me")
async def me(principal: Reader, context: Context) -> UserOut:
    return await context.auth.me(principal.user_id)


# -- passwords -----------------------------------------------------------------------------
@router.post("/password/change", status_code=204)
async def change_password(
    body: PasswordChangeRequest, session: Session, context: Context
) -> Response:
    """Set a new password; every other session is signed out, this one stays."""
    await context.auth.change_password(
        session.principal.user_id, body.current_password, body.new_password, session.session
    )
    return Response(status_code=204)


@router.post("/password/reset-request", status_code=202, response_class=Response)
async def request_password_reset(body: PasswordResetRequest, context: Context) -> Response:
    """Mail a reset code. Accepted whether or not the address has an account."""
    await context.auth.request_password_reset(body.email)
    return Response(status_code=202)


@router.post("/password/reset", status_code=204, responses={400: {"model": ErrorResponse}})
async def reset_password(body: PasswordResetConfirm, context: Context) -> Response:
    """Set a new password with a mailed code: signs out everywhere and lifts a lockout."""
    await context.auth.reset_password(body.token, body.new_password)
    return Response(status_code=204)


# -- two-factor ----------------------------------------------------------------------------
@router.post("/2fa/enrol", responses={409: {"model": ErrorResponse}})
async def enrol_totp(session: Session, context: Context) -> TotpEnrolment:
    """A secret (and otpauth:// URI for a QR code); confirm it with a code to turn 2FA on."""
    return await context.auth.two_factor.begin(session.principal.user_id)


@router.post("/2fa/confirm", responses={409: {"model": ErrorResponse}})
async def confirm_totp(
    body: TotpConfirmRequest, session: Session, context: Context
) -> RecoveryCodes:
    """Turn two-factor sign-in on; returns recovery codes, shown this once."""
    return await context.auth.two_factor.confirm(session.principal.user_id, body.code)


@router.post("/2fa/disable", status_code=204, responses={409: {"model": ErrorResponse}})
async def disable_totp(body: TotpDisableRequest, session: Session, context: Context) -> Response:
    await context.auth.two_factor.disable(session.principal.user_id, body.password, body.code)
    return Response(status_code=204)


@router.post("/2fa/recovery-codes", responses={409: {"model": ErrorResponse}})
async def regenerate_recovery_codes(
    body: TotpConfirmRequest, session: Session, context: Context
) -> RecoveryCodes:
    """New recovery codes (shown once); the previous ones stop working."""
    return await context.auth.two_factor.regenerate_recovery_codes(
        session.principal.user_id, body.code
    )


# -- API keys ------------------------------------------------------------------------------
@router.get("/api-keys")
async def list_api_keys(principal: Reader, context: Context) -> list[ApiKeyOut]:
    return await context.auth.keys.of_user(principal.user_id)


@router.post("/api-keys", status_code=201, responses={409: {"model": ErrorResponse}})
async def create_api_key(body: ApiKeyCreate, session: Session, context: Context) -> ApiKeyCreated:
    """A key for a program; ``api_key`` is shown only in this response."""
    return await context.auth.keys.create(session.principal.user_id, body.name, list(body.scopes))


@router.delete("/api-keys/{key_id}", status_code=204, responses={404: {"model": ErrorResponse}})
async def revoke_api_key(key_id: KeyId, session: Session, context: Context) -> Response:
    await context.auth.keys.revoke(session.principal.user_id, key_id)
    return Response(status_code=204)
