//! The account flows: register, login (with optional OTP), token refresh and logout, email
//! verification, password reset, two-factor settings. Each flow owns its transaction; writes
//! that must survive a refusal (a failed OTP attempt, a detected token reuse) commit on their own.

use chrono::{Duration, Utc};
use entity::{email_tokens, otp_challenges, refresh_tokens, users};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait,
    ExprTrait as _, IntoActiveModel as _, QueryFilter, TransactionTrait as _, sea_query::Expr,
};
use secrecy::ExposeSecret as _;
use uuid::Uuid;

use super::{password, secrets};
pub use crate::validate::{check_name, normalize_email, normalize_phone};
use crate::{
    AppState,
    error::{AppError, AppResult},
    jobs::queue,
};

pub const OTP_TTL: Duration = Duration::minutes(10);
pub const OTP_MAX_ATTEMPTS: i32 = 5;
pub const VERIFY_EMAIL_TTL: Duration = Duration::hours(48);
pub const RESET_PASSWORD_TTL: Duration = Duration::hours(1);

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub user: users::Model,
}

#[derive(Debug, Clone)]
pub enum LoginOutcome {
    Tokens(Box<Tokens>),
    /// Two-factor is on: a code was emailed; finish with `verify_otp`.
    OtpRequired {
        challenge_id: Uuid,
    },
}

#[derive(Debug, Clone)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub full_name: String,
    pub phone: Option<String>,
}

pub async fn register(state: &AppState, input: RegisterInput) -> AppResult<Tokens> {
    let email = normalize_email("email", &input.email)?;
    password::check_strength("password", &input.password)?;
    let full_name = check_name("fullName", &input.full_name)?;
    let phone = input
        .phone
        .as_deref()
        .map(|p| normalize_phone("phone", p))
        .transpose()?;
    let password_hash = password::hash(input.password).await?;

    let now = Utc::now();
    let txn = state.db.begin().await?;
    let existing = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(AppError::Conflict(
            "an account with this email already exists".into(),
        ));
    }
    let user = users::ActiveModel {
        id: Set(crate::db::new_id()),
        email: Set(email),
        password_hash: Set(password_hash),
        full_name: Set(full_name),
        phone: Set(phone),
        role: Set(users::Role::Customer),
        email_verified_at: Set(None),
        two_factor_enabled: Set(false),
        is_active: Set(true),
        last_seen_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|err| match AppError::from(err) {
        // Two registrations raced past the check above.
        AppError::Conflict(_) => {
            AppError::Conflict("an account with this email already exists".into())
        }
        other => other,
    })?;
    send_email_token(&txn, &user, email_tokens::Purpose::VerifyEmail).await?;
    let tokens = issue_tokens(&txn, state, user, None).await?;
    txn.commit().await?;
    state.wake_worker();
    Ok(tokens)
}

pub async fn login(state: &AppState, email: &str, password: &str) -> AppResult<LoginOutcome> {
    let refused = || AppError::Unauthenticated("invalid email or password".into());
    let email = email.trim().to_lowercase();
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&state.db)
        .await?;
    let Some(user) = user else {
        // Spend the same time as a real check, so timing does not reveal which emails exist.
        password::verify(password.to_owned(), password::dummy_hash().await?).await?;
        return Err(refused());
    };
    if !password::verify(password.to_owned(), user.password_hash.clone()).await? || !user.is_active
    {
        return Err(refused());
    }
    if user.two_factor_enabled {
        let challenge_id = start_otp_challenge(state, &user).await?;
        return Ok(LoginOutcome::OtpRequired { challenge_id });
    }
    let txn = state.db.begin().await?;
    let tokens = issue_tokens(&txn, state, user, None).await?;
    txn.commit().await?;
    Ok(LoginOutcome::Tokens(Box::new(tokens)))
}

async fn start_otp_challenge(state: &AppState, user: &users::Model) -> AppResult<Uuid> {
    let id = crate::db::new_id();
    let code = secrets::new_otp();
    let now = Utc::now();
    let txn = state.db.begin().await?;
    otp_challenges::Entity::insert(otp_challenges::ActiveModel {
        id: Set(id),
        user_id: Set(user.id),
        code_hash: Set(secrets::hash_otp(
            state.config.jwt_secret.expose_secret(),
            id,
            &code,
        )),
        attempts: Set(0),
        expires_at: Set(now + OTP_TTL),
        consumed_at: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    queue::enqueue(
        &txn,
        &super::jobs::SendOtpEmail {
            user_id: user.id,
            code,
        },
    )
    .await?;
    txn.commit().await?;
    state.wake_worker();
    Ok(id)
}

pub async fn verify_otp(state: &AppState, challenge_id: Uuid, code: &str) -> AppResult<Tokens> {
    let now = Utc::now();
    let refused = |why: &str| AppError::Unauthenticated(why.to_owned());
    // Count the attempt first, on its own: it must stick even when the code is wrong.
    let counted = otp_challenges::Entity::update_many()
        .col_expr(
            otp_challenges::Column::Attempts,
            Expr::col(otp_challenges::Column::Attempts).add(1),
        )
        .filter(otp_challenges::Column::Id.eq(challenge_id))
        .filter(otp_challenges::Column::Attempts.lt(OTP_MAX_ATTEMPTS))
        .filter(otp_challenges::Column::ConsumedAt.is_null())
        .filter(otp_challenges::Column::ExpiresAt.gt(now))
        .exec(&state.db)
        .await?;
    if counted.rows_affected == 0 {
        return Err(refused(
            "this code has expired or was tried too often; sign in again",
        ));
    }
    let challenge = otp_challenges::Entity::find_by_id(challenge_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| refused("this code has expired; sign in again"))?;
    let expected = secrets::hash_otp(
        state.config.jwt_secret.expose_secret(),
        challenge_id,
        code.trim(),
    );
    if !secrets::constant_time_eq(&expected, &challenge.code_hash) {
        let left = OTP_MAX_ATTEMPTS - challenge.attempts;
        return Err(refused(&format!("wrong code; {left} attempts left")));
    }
    let txn = state.db.begin().await?;
    let consumed = otp_challenges::Entity::update_many()
        .col_expr(otp_challenges::Column::ConsumedAt, Expr::value(now))
        .filter(otp_challenges::Column::Id.eq(challenge_id))
        .filter(otp_challenges::Column::ConsumedAt.is_null())
        .exec(&txn)
        .await?;
    if consumed.rows_affected == 0 {
        return Err(refused("this code was already used; sign in again"));
    }
    let user = active_user(&txn, challenge.user_id).await?;
    let tokens = issue_tokens(&txn, state, user, None).await?;
    txn.commit().await?;
    Ok(tokens)
}

/// Rotates a refresh token: the presented one is revoked and a new one in the same family is
/// issued. A token presented after it was rotated means it leaked (or was replayed): the whole
/// family is revoked, signing out both the thief and the user.
pub async fn refresh(state: &AppState, refresh_token: &str) -> AppResult<Tokens> {
    let now = Utc::now();
    let refused = |why: &str| AppError::Unauthenticated(why.to_owned());
    let Some(stored) = find_refresh_token(&state.db, refresh_token).await? else {
        return Err(refused("invalid refresh token"));
    };
    if stored.revoked_at.is_some() {
        revoke_family(&state.db, stored.family_id).await?;
        tracing::warn!(user_id = %stored.user_id, family = %stored.family_id, "refresh token reuse detected; family revoked");
        return Err(refused("refresh token was already used; sign in again"));
    }
    if stored.expires_at <= now {
        return Err(refused("refresh token expired; sign in again"));
    }
    let txn = state.db.begin().await?;
    // Conditional: of two concurrent refreshes with one token, exactly one wins.
    let revoked = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(stored.id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if revoked.rows_affected == 0 {
        drop(txn);
        revoke_family(&state.db, stored.family_id).await?;
        return Err(refused("refresh token was already used; sign in again"));
    }
    let user = active_user(&txn, stored.user_id).await?;
    let tokens = issue_tokens(&txn, state, user, Some(stored.family_id)).await?;
    txn.commit().await?;
    Ok(tokens)
}

/// Ends the session the refresh token belongs to. False when the token was unknown or the
/// session had already ended.
pub async fn logout(state: &AppState, refresh_token: &str) -> AppResult<bool> {
    let Some(stored) = find_refresh_token(&state.db, refresh_token).await? else {
        return Ok(false);
    };
    Ok(revoke_family(&state.db, stored.family_id).await? > 0)
}

pub async fn verify_email(state: &AppState, token: &str) -> AppResult<bool> {
    let txn = state.db.begin().await?;
    let stored = use_email_token(&txn, token, email_tokens::Purpose::VerifyEmail).await?;
    let now = Utc::now();
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerifiedAt, Expr::value(now))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(stored.user_id))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(true)
}

pub async fn resend_verification_email(state: &AppState, user_id: Uuid) -> AppResult<bool> {
    let txn = state.db.begin().await?;
    let user = active_user(&txn, user_id).await?;
    if user.email_verified_at.is_some() {
        return Err(AppError::Conflict(
            "your email address is already verified".into(),
        ));
    }
    send_email_token(&txn, &user, email_tokens::Purpose::VerifyEmail).await?;
    txn.commit().await?;
    state.wake_worker();
    Ok(true)
}

/// Always succeeds, so the answer does not reveal whether an account exists.
pub async fn request_password_reset(state: &AppState, email: &str) -> AppResult<bool> {
    let email = email.trim().to_lowercase();
    let txn = state.db.begin().await?;
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .filter(users::Column::IsActive.eq(true))
        .one(&txn)
        .await?;
    if let Some(user) = user {
        send_email_token(&txn, &user, email_tokens::Purpose::ResetPassword).await?;
    }
    txn.commit().await?;
    state.wake_worker();
    Ok(true)
}

/// Sets a new password and signs the user out everywhere.
pub async fn reset_password(
    state: &AppState,
    token: &str,
    new_password: String,
) -> AppResult<bool> {
    password::check_strength("newPassword", &new_password)?;
    let password_hash = password::hash(new_password).await?;
    let txn = state.db.begin().await?;
    let stored = use_email_token(&txn, token, email_tokens::Purpose::ResetPassword).await?;
    let now = Utc::now();
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(stored.user_id))
        .exec(&txn)
        .await?;
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::UserId.eq(stored.user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(true)
}

/// Turns two-factor sign-in on or off. Turning it on needs a verified email, since that is
/// where the codes go; turning it off needs the password, so that a stolen access token alone
/// cannot remove the second factor.
pub async fn set_two_factor(
    state: &AppState,
    user_id: Uuid,
    enabled: bool,
    password: Option<String>,
) -> AppResult<users::Model> {
    let user = active_user(&state.db, user_id).await?;
    if enabled && user.email_verified_at.is_none() {
        return Err(AppError::bad_input(
            "enabled",
            "verify your email address before turning on two-factor sign-in",
        ));
    }
    if !enabled {
        let Some(password) = password.filter(|p| !p.is_empty()) else {
            return Err(AppError::bad_input(
                "password",
                "enter your password to turn off two-factor sign-in",
            ));
        };
        if !password::verify(password, user.password_hash.clone()).await? {
            return Err(AppError::Unauthenticated("wrong password".into()));
        }
    }
    let mut active = user.into_active_model();
    active.two_factor_enabled = Set(enabled);
    active.updated_at = Set(Utc::now());
    Ok(active.update(&state.db).await?)
}

pub async fn active_user(conn: &impl ConnectionTrait, user_id: Uuid) -> AppResult<users::Model> {
    users::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(|| AppError::Unauthenticated("this account no longer exists".into()))
}

async fn issue_tokens(
    conn: &impl ConnectionTrait,
    state: &AppState,
    user: users::Model,
    family_id: Option<Uuid>,
) -> AppResult<Tokens> {
    let refresh_token = secrets::new_token();
    let now = Utc::now();
    let ttl = Duration::from_std(state.config.refresh_token_ttl).map_err(AppError::internal)?;
    refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
        id: Set(crate::db::new_id()),
        user_id: Set(user.id),
        family_id: Set(family_id.unwrap_or_else(crate::db::new_id)),
        token_hash: Set(secrets::hash_token(&refresh_token)),
        expires_at: Set(now + ttl),
        revoked_at: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    users::Entity::update_many()
        .col_expr(users::Column::LastSeenAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.id))
        .exec(conn)
        .await?;
    Ok(Tokens {
        access_token: state.jwt.issue(user.id, user.role)?,
        refresh_token,
        expires_in: i64::try_from(state.jwt.ttl().as_secs()).unwrap_or(i64::MAX),
        user,
    })
}

async fn find_refresh_token(
    conn: &impl ConnectionTrait,
    token: &str,
) -> AppResult<Option<refresh_tokens::Model>> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(secrets::hash_token(token.trim())))
        .one(conn)
        .await?)
}

async fn revoke_family(conn: &impl ConnectionTrait, family_id: Uuid) -> AppResult<u64> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

async fn send_email_token(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    purpose: email_tokens::Purpose,
) -> AppResult<()> {
    let token = secrets::new_token();
    let now = Utc::now();
    let ttl = match purpose {
        email_tokens::Purpose::VerifyEmail => VERIFY_EMAIL_TTL,
        email_tokens::Purpose::ResetPassword => RESET_PASSWORD_TTL,
    };
    email_tokens::Entity::insert(email_tokens::ActiveModel {
        id: Set(crate::db::new_id()),
        user_id: Set(user.id),
        purpose: Set(purpose),
        token_hash: Set(secrets::hash_token(&token)),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    match purpose {
        email_tokens::Purpose::VerifyEmail => {
            let job = super::jobs::SendVerificationEmail {
                user_id: user.id,
                token,
            };
            queue::enqueue(conn, &job).await?
        }
        email_tokens::Purpose::ResetPassword => {
            let job = super::jobs::SendPasswordResetEmail {
                user_id: user.id,
                token,
            };
            queue::enqueue(conn, &job).await?
        }
    };
    Ok(())
}

/// Marks an emailed token used, once; anything else is a clear BAD_USER_INPUT on `token`.
async fn use_email_token(
    conn: &impl ConnectionTrait,
    token: &str,
    purpose: email_tokens::Purpose,
) -> AppResult<email_tokens::Model> {
    let invalid = || AppError::bad_input("token", "this link is invalid or has expired");
    let now = Utc::now();
    let stored = email_tokens::Entity::find()
        .filter(email_tokens::Column::TokenHash.eq(secrets::hash_token(token.trim())))
        .filter(email_tokens::Column::Purpose.eq(purpose))
        .one(conn)
        .await?
        .ok_or_else(invalid)?;
    let used = email_tokens::Entity::update_many()
        .col_expr(email_tokens::Column::UsedAt, Expr::value(now))
        .filter(email_tokens::Column::Id.eq(stored.id))
        .filter(email_tokens::Column::UsedAt.is_null())
        .filter(email_tokens::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?;
    if used.rows_affected == 0 {
        return Err(invalid());
    }
    Ok(stored)
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
