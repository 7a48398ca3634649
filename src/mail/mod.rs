//! Sending email: over SMTP when `SMTP_URL` is set, otherwise as `.eml` files under `MAIL_DIR`
//! (the embedded default, handy for reading what would have been sent). Mail is only ever sent
//! from jobs, never inside a request, so a slow mail server cannot slow the API.

pub mod templates;

use anyhow::Context as _;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use secrecy::ExposeSecret as _;

use crate::config::Config;

/// One plain-text email.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .context("MAIL_FROM is not a mailbox")?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("SMTP_URL")?
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&config.mail_dir)
                    .with_context(|| format!("create MAIL_DIR {}", config.mail_dir.display()))?;
                Transport::File(AsyncFileTransport::new(&config.mail_dir))
            }
        };
        Ok(Self { from, transport })
    }

    pub fn transport_name(&self) -> &'static str {
        match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::File(_) => "file",
        }
    }

    pub async fn send(&self, email: &Email) -> anyhow::Result<()> {
        let to: Mailbox = email
            .to
            .parse()
            .with_context(|| format!("recipient {:?} is not a mailbox", email.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
            .context("build the message")?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await.context("send over SMTP")?;
            }
            Transport::File(file) => {
                file.send(message).await.context("write the .eml file")?;
            }
        }
        Ok(())
    }
}

/// The user an email goes to, read when the job sending it runs.
pub async fn recipient(
    db: &sea_orm::DatabaseConnection,
    user_id: uuid::Uuid,
) -> anyhow::Result<entity::users::Model> {
    use sea_orm::EntityTrait as _;
    entity::users::Entity::find_by_id(user_id)
        .one(db)
        .await
        .context("load the recipient")?
        .with_context(|| format!("user {user_id} no longer exists"))
}
