//! The account emails, sent by jobs: verification, OTP, password reset.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    AppState,
    jobs::job::{Job, Registry},
    mail::{recipient, templates},
};

/// Emails the link and token that verify a new account's address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendVerificationEmail {
    pub user_id: Uuid,
    pub token: String,
}

impl Job for SendVerificationEmail {
    const KIND: &'static str = "send_verification_email";
}

/// Emails a sign-in code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendOtpEmail {
    pub user_id: Uuid,
    pub code: String,
}

impl Job for SendOtpEmail {
    const KIND: &'static str = "send_otp_email";
}

/// Emails the link and token that reset a password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendPasswordResetEmail {
    pub user_id: Uuid,
    pub token: String,
}

impl Job for SendPasswordResetEmail {
    const KIND: &'static str = "send_password_reset_email";
}

pub fn register(registry: &mut Registry<AppState>) {
    registry
        .handle(|state, job: SendVerificationEmail| async move {
            send_verification(&state, job.user_id, &job.token).await
        })
        .handle(|state, job: SendOtpEmail| async move {
            send_otp(&state, job.user_id, &job.code).await
        })
        .handle(|state, job: SendPasswordResetEmail| async move {
            send_password_reset(&state, job.user_id, &job.token).await
        });
}

pub async fn send_verification(state: &AppState, user_id: Uuid, token: &str) -> anyhow::Result<()> {
    let user = recipient(&state.db, user_id).await?;
    let link = format!("{}/verify-email?token={token}", state.config.public_url);
    let email = templates::verification(&user.email, &user.full_name, &link, token);
    state.mailer.send(&email).await
}

pub async fn send_otp(state: &AppState, user_id: Uuid, code: &str) -> anyhow::Result<()> {
    let user = recipient(&state.db, user_id).await?;
    state
        .mailer
        .send(&templates::otp(&user.email, &user.full_name, code))
        .await
}

pub async fn send_password_reset(
    state: &AppState,
    user_id: Uuid,
    token: &str,
) -> anyhow::Result<()> {
    let user = recipient(&state.db, user_id).await?;
    let link = format!("{}/reset-password?token={token}", state.config.public_url);
    let email = templates::password_reset(&user.email, &user.full_name, &link, token);
    state.mailer.send(&email).await
}
