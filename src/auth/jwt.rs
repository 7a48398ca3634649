//! Access tokens: HS256 JWTs. The algorithm is pinned (a token claiming another algorithm is
//! refused) and `exp`, `iss`, `aud` and `sub` are required and checked.

use std::time::Duration;

use entity::users::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Viewer;
use crate::config::Config;
use crate::error::{AppError, AppResult};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    role: String,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Issues and checks access tokens with one configuration.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl JwtKeys {
    pub fn new(config: &Config) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(config.jwt_secret.expose_secret().as_bytes()),
            decoding: DecodingKey::from_secret(config.jwt_secret.expose_secret().as_bytes()),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl: config.access_token_ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user_id: Uuid, role: Role) -> AppResult<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role: role_name(role).to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    /// The viewer a token names, or UNAUTHENTICATED saying why it was refused.
    pub fn verify(&self, token: &str) -> AppResult<Viewer> {
        self.verify_with_expiry(token).map(|(viewer, _)| viewer)
    }

    /// The viewer a token names and when the token expires (a WebSocket stops delivering then).
    pub fn verify_with_expiry(
        &self,
        token: &str,
    ) -> AppResult<(Viewer, chrono::DateTime<chrono::Utc>)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| {
                let reason = match err.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                        "access token expired; refresh it"
                    }
                    _ => "invalid access token",
                };
                AppError::Unauthenticated(reason.into())
            })?;
        let role = parse_role(&data.claims.role)
            .ok_or_else(|| AppError::Unauthenticated("invalid access token".into()))?;
        let expires = chrono::DateTime::from_timestamp(data.claims.exp, 0)
            .ok_or_else(|| AppError::Unauthenticated("invalid access token".into()))?;
        Ok((
            Viewer {
                user_id: data.claims.sub,
                role,
            },
            expires,
        ))
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Customer => "CUSTOMER",
        Role::Vendor => "VENDOR",
        Role::Admin => "ADMIN",
    }
}

fn parse_role(name: &str) -> Option<Role> {
    match name {
        "CUSTOMER" => Some(Role::Customer),
        "VENDOR" => Some(Role::Vendor),
        "ADMIN" => Some(Role::Admin),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(vars: &[(&str, &str)]) -> JwtKeys {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let config =
            Config::from_lookup(|key| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
                .unwrap_or_else(|e| panic!("{e}"));
        JwtKeys::new(&config)
    }

    #[test]
    fn a_token_round_trips_to_its_viewer() {
        let keys = keys(&[]);
        let id = Uuid::new_v4();
        let token = keys.issue(id, Role::Vendor).unwrap_or_default();
        let viewer = keys.verify(&token).ok();
        assert_eq!(
            viewer,
            Some(Viewer {
                user_id: id,
                role: Role::Vendor
            })
        );
    }

    #[test]
    fn tokens_for_another_audience_or_secret_are_refused() {
        let token = keys(&[("JWT_AUDIENCE", "someone-else")])
            .issue(Uuid::new_v4(), Role::Admin)
            .unwrap_or_default();
        assert!(keys(&[]).verify(&token).is_err());
        let token = keys(&[("JWT_SECRET", "another-secret-that-is-long-enough-123")])
            .issue(Uuid::new_v4(), Role::Admin)
            .unwrap_or_default();
        assert!(keys(&[]).verify(&token).is_err());
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        // header {"alg":"none"} with valid-looking claims
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJyb2xlIjoiQURNSU4iLCJpc3MiOiJrYWJhYWR3YWxhIiwiYXVkIjoia2FiYWFkd2FsYS1hcGkiLCJpYXQiOjAsImV4cCI6OTk5OTk5OTk5OX0.";
        assert!(keys(&[]).verify(token).is_err());
    }
}
