//! Sign-up, sign-in and session mutations.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Union};

use super::service::{self, LoginOutcome, Tokens};
use crate::{
    accounts::graphql::User,
    error::AppResult,
    graphql::{context::ContextExt as _, ids::parse_id},
    ratelimit::{self, Action},
};

/// A new account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Used to sign in; a verification link is sent to it.
    pub email: String,
    /// At least 8 characters, with a letter and a digit.
    pub password: String,
    pub full_name: String,
    /// 10 to 15 digits, optionally with a leading `+`.
    pub phone: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

/// A signed-in session.
pub struct AuthPayload(pub Tokens);

#[Object]
impl AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`.
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }

    /// Exchange for a new pair with `refreshToken` before the access token expires. Single use.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }

    /// Seconds until the access token expires.
    async fn expires_in(&self) -> i64 {
        self.0.expires_in
    }

    async fn user(&self) -> User {
        User(self.0.user.clone())
    }
}

/// Two-factor sign-in is on: a 6-digit code was emailed. Finish with `verifyOtp`.
#[derive(SimpleObject)]
pub struct OtpChallenge {
    /// Always true.
    pub otp_required: bool,
    /// Pass to `verifyOtp` with the emailed code.
    pub challenge_id: ID,
}

/// Either a session, or a request for the emailed one-time code.
#[derive(Union)]
pub enum LoginResult {
    AuthPayload(AuthPayload),
    OtpChallenge(OtpChallenge),
}

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Creates a customer account, signs it in, and emails a verification link.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> AppResult<AuthPayload> {
        ratelimit::check(ctx, Action::Register, Some(&input.email)).await?;
        let tokens = service::register(
            ctx.state(),
            service::RegisterInput {
                email: input.email,
                password: input.password,
                full_name: input.full_name,
                phone: input.phone,
            },
        )
        .await?;
        Ok(AuthPayload(tokens))
    }

    /// Signs in. With two-factor on, returns an `OtpChallenge` and emails the code.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> AppResult<LoginResult> {
        ratelimit::check(ctx, Action::Login, Some(&input.email)).await?;
        Ok(
            match service::login(ctx.state(), &input.email, &input.password).await? {
                LoginOutcome::Tokens(tokens) => LoginResult::AuthPayload(AuthPayload(*tokens)),
                LoginOutcome::OtpRequired { challenge_id } => {
                    LoginResult::OtpChallenge(OtpChallenge {
                        otp_required: true,
                        challenge_id: ID(challenge_id.to_string()),
                    })
                }
            },
        )
    }

    /// Finishes a two-factor sign-in. A code is valid for 10 minutes and 5 attempts.
    async fn verify_otp(
        &self,
        ctx: &Context<'_>,
        challenge_id: ID,
        code: String,
    ) -> AppResult<AuthPayload> {
        let challenge_id = parse_id("challengeId", &challenge_id)?;
        ratelimit::check(ctx, Action::VerifyOtp, Some(&challenge_id.to_string())).await?;
        Ok(AuthPayload(
            service::verify_otp(ctx.state(), challenge_id, &code).await?,
        ))
    }

    /// Exchanges a refresh token for a new session. Each refresh token works once; presenting
    /// one again signs out every session that grew from it.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> AppResult<AuthPayload> {
        Ok(AuthPayload(
            service::refresh(ctx.state(), &refresh_token).await?,
        ))
    }

    /// Ends the session of this refresh token. False if it had already ended.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> AppResult<bool> {
        service::logout(ctx.state(), &refresh_token).await
    }

    /// Confirms an email address with the token from the verification email.
    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> AppResult<bool> {
        service::verify_email(ctx.state(), &token).await
    }

    /// Sends a new verification email to the signed-in user.
    async fn resend_verification_email(&self, ctx: &Context<'_>) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        service::resend_verification_email(ctx.state(), viewer.user_id).await
    }

    /// Emails a password-reset link if the account exists. Always true, so it reveals nothing.
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> AppResult<bool> {
        ratelimit::check(ctx, Action::PasswordReset, Some(&email)).await?;
        service::request_password_reset(ctx.state(), &email).await
    }

    /// Sets a new password with the emailed token, and signs out every session.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        new_password: String,
    ) -> AppResult<bool> {
        service::reset_password(ctx.state(), &token, new_password).await
    }

    /// Turns two-factor sign-in (a code by email) on or off. Needs a verified email to turn on,
    /// and the account's password to turn off (a missing one is `BAD_USER_INPUT` on
    /// `password`, a wrong one `UNAUTHENTICATED`, as at login); password attempts count
    /// against the login rate limit.
    async fn set_two_factor(
        &self,
        ctx: &Context<'_>,
        enabled: bool,
        password: Option<String>,
    ) -> AppResult<User> {
        let viewer = ctx.viewer()?;
        if !enabled {
            // A stolen access token must not become unlimited password guesses.
            ratelimit::check(ctx, Action::Login, Some(&viewer.user_id.to_string())).await?;
        }
        Ok(User(
            service::set_two_factor(ctx.state(), viewer.user_id, enabled, password).await?,
        ))
    }
}
