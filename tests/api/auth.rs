//! Registration, sign-in, sessions, email verification, password reset, two-factor.

use entity::{otp_challenges, refresh_tokens};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
use serde_json::json;

use crate::support::{PASSWORD, TestApp, token_in};

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken expiresIn user { id email fullName role emailVerified } } }";
const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename ... on AuthPayload { accessToken refreshToken } ... on OtpChallenge { otpRequired challengeId } } }";
const REFRESH: &str =
    "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }";
const ME: &str = "{ me { id email fullName phone role emailVerified twoFactorEnabled } }";

#[tokio::test]
async fn registering_signs_the_user_in_and_emails_a_verification_link() {
    let app = TestApp::new().await;

    let res = app
        .gql(REGISTER, json!({ "input": { "email": " Asha@Example.com ", "password": PASSWORD, "fullName": "Asha Rao", "phone": "+91 98765 43210" } }), None)
        .await;

    let payload = res.data("register");
    assert_eq!(payload["user"]["email"], "asha@example.com");
    assert_eq!(payload["user"]["role"], "CUSTOMER");
    assert_eq!(payload["user"]["emailVerified"], false);
    assert_eq!(payload["expiresIn"], 900);
    let token = payload["accessToken"].as_str().unwrap();
    let me = app.gql(ME, json!({}), Some(token)).await.data("me");
    assert_eq!(me["fullName"], "Asha Rao");
    assert_eq!(me["phone"], "+919876543210");
    assert!(
        app.sent_mail().is_empty(),
        "mail goes through the job queue, not the request"
    );
    let ran = app.drain_jobs().await;
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].kind, "send_verification_email");
    assert!(
        app.mail_to("asha@example.com", "verify-email?token=")
            .is_some()
    );
}

#[tokio::test]
async fn the_emailed_token_verifies_the_address_once() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    app.drain_jobs().await;
    let token = token_in(&app.mail_to(&asha.email, "Verify").unwrap());

    let res = app
        .gql(
            "mutation($t: String!) { verifyEmail(token: $t) }",
            json!({ "t": token }),
            None,
        )
        .await;

    assert_eq!(res.data("verifyEmail"), true);
    let me = app
        .gql(ME, json!({}), Some(&asha.access_token))
        .await
        .data("me");
    assert_eq!(me["emailVerified"], true);
    let again = app
        .gql(
            "mutation($t: String!) { verifyEmail(token: $t) }",
            json!({ "t": token }),
            None,
        )
        .await;
    assert_eq!(again.code(), "BAD_USER_INPUT");
    assert_eq!(again.field().as_deref(), Some("token"));
}

#[tokio::test]
async fn resending_the_verification_email_sends_a_new_link_until_verified() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let res = app
        .gql(
            "mutation { resendVerificationEmail }",
            json!({}),
            Some(&asha.access_token),
        )
        .await;

    assert_eq!(res.data("resendVerificationEmail"), true);
    assert_eq!(app.drain_jobs().await.len(), 2);
    let anonymous = app
        .gql("mutation { resendVerificationEmail }", json!({}), None)
        .await;
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn registering_an_email_twice_is_a_conflict_whatever_its_case() {
    let app = TestApp::new().await;
    app.register("ravi@example.com", "Ravi").await;

    let res = app
        .gql(REGISTER, json!({ "input": { "email": "RAVI@example.com", "password": PASSWORD, "fullName": "Ravi Again" } }), None)
        .await;

    assert_eq!(res.code(), "CONFLICT");
}

#[tokio::test]
async fn bad_registration_input_is_refused_naming_the_field() {
    let app = TestApp::new().await;
    let cases = [
        (
            json!({ "email": "not-an-email", "password": PASSWORD, "fullName": "A" }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short1", "fullName": "A" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "lettersonly", "fullName": "A" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "fullName": "   " }),
            "fullName",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "fullName": "A", "phone": "123" }),
            "phone",
        ),
    ];
    for (input, field) in cases {
        let res = app.gql(REGISTER, json!({ "input": input }), None).await;
        assert_eq!(res.code(), "BAD_USER_INPUT", "{input}");
        assert_eq!(res.field().as_deref(), Some(field), "{input}");
    }
    let missing = app
        .gql(
            REGISTER,
            json!({ "input": { "email": "a@example.com", "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(missing.code(), "BAD_USER_INPUT");
    assert!(
        missing.message().contains("fullName"),
        "{}",
        missing.message()
    );
    let me = app.gql("{ systemSettings { key } }", json!({}), None).await;
    assert!(me.errors.is_empty(), "nothing was half-written");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_are_refused_alike() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let wrong_password = app
        .gql(
            LOGIN,
            json!({ "input": { "email": asha.email, "password": "wrong-pass1" } }),
            None,
        )
        .await;
    let unknown_email = app
        .gql(
            LOGIN,
            json!({ "input": { "email": "nobody@example.com", "password": PASSWORD } }),
            None,
        )
        .await;

    assert_eq!(wrong_password.code(), "UNAUTHENTICATED");
    assert_eq!(unknown_email.code(), "UNAUTHENTICATED");
    assert_eq!(wrong_password.message(), unknown_email.message());
}

#[tokio::test]
async fn login_returns_a_working_session() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let res = app
        .gql(
            LOGIN,
            json!({ "input": { "email": asha.email.to_uppercase(), "password": PASSWORD } }),
            None,
        )
        .await;

    let login = res.data("login");
    assert_eq!(login["__typename"], "AuthPayload");
    let me = app
        .gql(ME, json!({}), login["accessToken"].as_str())
        .await
        .data("me");
    assert_eq!(me["id"], asha.user_id.as_str());
}

#[tokio::test]
async fn me_is_null_when_anonymous_and_an_error_with_a_bad_token() {
    let app = TestApp::new().await;

    let anonymous = app.gql(ME, json!({}), None).await;
    let forged = app.gql(ME, json!({}), Some("not.a.jwt")).await;

    assert_eq!(anonymous.data("me"), serde_json::Value::Null);
    assert_eq!(forged.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_expired_access_token_is_refused_with_a_hint_to_refresh() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": asha.user_id, "role": "CUSTOMER", "iss": "kabaadwala", "aud": "kabaadwala-api", "iat": now - 3600, "exp": now - 600 });
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(
            secrecy::ExposeSecret::expose_secret(&app.state.config.jwt_secret).as_bytes(),
        ),
    )
    .unwrap();

    let res = app.gql(ME, json!({}), Some(&expired)).await;

    assert_eq!(res.code(), "UNAUTHENTICATED");
    assert!(res.message().contains("expired"));
}

#[tokio::test]
async fn refreshing_rotates_the_token_and_reuse_revokes_the_whole_family() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let first = app
        .gql(REFRESH, json!({ "t": asha.refresh_token }), None)
        .await
        .data("refreshToken");
    let second_token = first["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(second_token, asha.refresh_token);
    let me = app
        .gql(ME, json!({}), first["accessToken"].as_str())
        .await
        .data("me");
    assert_eq!(me["id"], asha.user_id.as_str());

    // The old token shows up again: someone copied it.
    let reuse = app
        .gql(REFRESH, json!({ "t": asha.refresh_token }), None)
        .await;
    assert_eq!(reuse.code(), "UNAUTHENTICATED");
    let after_reuse = app.gql(REFRESH, json!({ "t": second_token }), None).await;
    assert_eq!(
        after_reuse.code(),
        "UNAUTHENTICATED",
        "the family is revoked"
    );
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.state.db)
        .await
        .unwrap();

    let res = app
        .gql(REFRESH, json!({ "t": asha.refresh_token }), None)
        .await;

    assert_eq!(res.code(), "UNAUTHENTICATED");
    assert!(res.message().contains("expired"));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let res = app
        .gql(
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": asha.refresh_token }),
            None,
        )
        .await;

    assert_eq!(res.data("logout"), true);
    assert_eq!(
        app.gql(REFRESH, json!({ "t": asha.refresh_token }), None)
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    let again = app
        .gql(
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": asha.refresh_token }),
            None,
        )
        .await;
    assert_eq!(again.data("logout"), false);
}

async fn verified_user_with_two_factor(app: &TestApp) -> crate::support::Session {
    let asha = app.customer("Asha").await;
    app.drain_jobs().await;
    let token = token_in(&app.mail_to(&asha.email, "Verify").unwrap());
    app.gql(
        "mutation($t: String!) { verifyEmail(token: $t) }",
        json!({ "t": token }),
        None,
    )
    .await
    .data("verifyEmail");
    let res = app
        .gql(
            "mutation { setTwoFactor(enabled: true) { twoFactorEnabled } }",
            json!({}),
            Some(&asha.access_token),
        )
        .await;
    assert_eq!(res.data("setTwoFactor")["twoFactorEnabled"], true);
    asha
}

#[tokio::test]
async fn two_factor_needs_a_verified_email_first() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let res = app
        .gql(
            "mutation { setTwoFactor(enabled: true) { twoFactorEnabled } }",
            json!({}),
            Some(&asha.access_token),
        )
        .await;

    assert_eq!(res.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn with_two_factor_on_login_asks_for_the_emailed_code() {
    let app = TestApp::new().await;
    let asha = verified_user_with_two_factor(&app).await;

    let login = app
        .gql(
            LOGIN,
            json!({ "input": { "email": asha.email, "password": PASSWORD } }),
            None,
        )
        .await
        .data("login");

    assert_eq!(login["__typename"], "OtpChallenge");
    assert_eq!(login["otpRequired"], true);
    app.drain_jobs().await;
    let mail = app.mail_to(&asha.email, "sign-in code").unwrap();
    let code: String = mail
        .lines()
        .find_map(|l| l.strip_prefix("Your sign-in code is: "))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(code.len(), 6);
    let res = app
        .gql("mutation($id: ID!, $code: String!) { verifyOtp(challengeId: $id, code: $code) { accessToken user { id } } }", json!({ "id": login["challengeId"], "code": code }), None)
        .await;
    assert_eq!(res.data("verifyOtp")["user"]["id"], asha.user_id.as_str());
    let reused = app
        .gql("mutation($id: ID!, $code: String!) { verifyOtp(challengeId: $id, code: $code) { accessToken } }", json!({ "id": login["challengeId"], "code": code }), None)
        .await;
    assert_eq!(reused.code(), "UNAUTHENTICATED", "a code works once");
}

#[tokio::test]
async fn five_wrong_codes_lock_the_challenge_even_for_the_right_code() {
    let app = TestApp::new().await;
    let asha = verified_user_with_two_factor(&app).await;
    let login = app
        .gql(
            LOGIN,
            json!({ "input": { "email": asha.email, "password": PASSWORD } }),
            None,
        )
        .await
        .data("login");
    app.drain_jobs().await;
    let mail = app.mail_to(&asha.email, "sign-in code").unwrap();
    let code: String = mail
        .lines()
        .find_map(|l| l.strip_prefix("Your sign-in code is: "))
        .unwrap()
        .trim()
        .to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    const VERIFY: &str = "mutation($id: ID!, $code: String!) { verifyOtp(challengeId: $id, code: $code) { accessToken } }";

    for _ in 0..5 {
        let res = app
            .gql(
                VERIFY,
                json!({ "id": login["challengeId"], "code": wrong }),
                None,
            )
            .await;
        assert_eq!(res.code(), "UNAUTHENTICATED");
    }
    let res = app
        .gql(
            VERIFY,
            json!({ "id": login["challengeId"], "code": code }),
            None,
        )
        .await;

    assert_eq!(res.code(), "UNAUTHENTICATED");
    assert!(res.message().contains("too often"), "{}", res.message());
    let challenge = otp_challenges::Entity::find()
        .filter(otp_challenges::Column::UserId.eq(uuid::Uuid::parse_str(&asha.user_id).unwrap()))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(challenge.attempts, 5);
    assert!(challenge.consumed_at.is_none());
}

#[tokio::test]
async fn a_password_reset_sets_the_new_password_and_signs_out_everywhere() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let res = app
        .gql(
            "mutation($e: String!) { requestPasswordReset(email: $e) }",
            json!({ "e": asha.email }),
            None,
        )
        .await;
    assert_eq!(res.data("requestPasswordReset"), true);
    app.drain_jobs().await;
    let token = token_in(&app.mail_to(&asha.email, "reset-password?token=").unwrap());
    let weak = app
        .gql(
            "mutation($t: String!) { resetPassword(token: $t, newPassword: \"weak\") }",
            json!({ "t": token }),
            None,
        )
        .await;
    assert_eq!(weak.field().as_deref(), Some("newPassword"));
    let reset = app
        .gql(
            "mutation($t: String!) { resetPassword(token: $t, newPassword: \"brand-new-2026\") }",
            json!({ "t": token }),
            None,
        )
        .await;

    assert_eq!(reset.data("resetPassword"), true);
    let old = app
        .gql(
            LOGIN,
            json!({ "input": { "email": asha.email, "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(old.code(), "UNAUTHENTICATED");
    let new = app
        .gql(
            LOGIN,
            json!({ "input": { "email": asha.email, "password": "brand-new-2026" } }),
            None,
        )
        .await;
    assert_eq!(new.data("login")["__typename"], "AuthPayload");
    assert_eq!(
        app.gql(REFRESH, json!({ "t": asha.refresh_token }), None)
            .await
            .code(),
        "UNAUTHENTICATED"
    );
    let reused = app
        .gql(
            "mutation($t: String!) { resetPassword(token: $t, newPassword: \"another-2026\") }",
            json!({ "t": token }),
            None,
        )
        .await;
    assert_eq!(reused.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_password_reset_for_an_unknown_email_reveals_nothing_and_sends_nothing() {
    let app = TestApp::new().await;

    let res = app
        .gql(
            "mutation { requestPasswordReset(email: \"nobody@example.com\") }",
            json!({}),
            None,
        )
        .await;

    assert_eq!(res.data("requestPasswordReset"), true);
    assert!(app.drain_jobs().await.is_empty());
}

#[tokio::test]
async fn the_profile_can_be_updated_and_checked() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    const UPDATE: &str =
        "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { fullName phone } }";

    let res = app
        .gql(
            UPDATE,
            json!({ "input": { "fullName": "Asha R.", "phone": "9876543210" } }),
            Some(&asha.access_token),
        )
        .await;

    assert_eq!(
        res.data("updateProfile"),
        json!({ "fullName": "Asha R.", "phone": "9876543210" })
    );
    let bad = app
        .gql(
            UPDATE,
            json!({ "input": { "phone": "12" } }),
            Some(&asha.access_token),
        )
        .await;
    assert_eq!(bad.field().as_deref(), Some("phone"));
    let anonymous = app
        .gql(UPDATE, json!({ "input": { "fullName": "X" } }), None)
        .await;
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
}

const SET_TWO_FACTOR_OFF: &str = "mutation($password: String) { setTwoFactor(enabled: false, password: $password) { twoFactorEnabled } }";

async fn two_factor_enabled(app: &TestApp, who: &crate::support::Session) -> bool {
    app.gql(
        "{ me { twoFactorEnabled } }",
        json!({}),
        Some(&who.access_token),
    )
    .await
    .data("me")["twoFactorEnabled"]
        .as_bool()
        .unwrap()
}

#[tokio::test]
async fn turning_two_factor_off_without_the_password_is_refused_naming_the_field() {
    let app = TestApp::new().await;
    let asha = verified_user_with_two_factor(&app).await;

    let res = app
        .gql(SET_TWO_FACTOR_OFF, json!({}), Some(&asha.access_token))
        .await;

    assert_eq!(res.code(), "BAD_USER_INPUT");
    assert_eq!(res.field().as_deref(), Some("password"));
    assert!(two_factor_enabled(&app, &asha).await);
}

#[tokio::test]
async fn turning_two_factor_off_with_a_wrong_password_is_refused_as_at_login() {
    let app = TestApp::new().await;
    let asha = verified_user_with_two_factor(&app).await;

    let res = app
        .gql(
            SET_TWO_FACTOR_OFF,
            json!({ "password": "not-my-password1" }),
            Some(&asha.access_token),
        )
        .await;

    assert_eq!(res.code(), "UNAUTHENTICATED");
    assert!(two_factor_enabled(&app, &asha).await);
}

#[tokio::test]
async fn turning_two_factor_off_with_the_password_lets_login_skip_the_code() {
    let app = TestApp::new().await;
    let asha = verified_user_with_two_factor(&app).await;

    let res = app
        .gql(
            SET_TWO_FACTOR_OFF,
            json!({ "password": PASSWORD }),
            Some(&asha.access_token),
        )
        .await;
    let login = app
        .gql(
            LOGIN,
            json!({ "input": { "email": asha.email, "password": PASSWORD } }),
            None,
        )
        .await;

    assert_eq!(res.data("setTwoFactor")["twoFactorEnabled"], false);
    assert_eq!(login.data("login")["__typename"], "AuthPayload");
}

#[tokio::test]
async fn with_a_limit_of_one_concurrent_password_hashes_run_one_at_a_time() {
    let limiter = kabaadwala::auth::password::HashLimiter::new(1);
    let stored = limiter.hash(PASSWORD.to_owned()).await.unwrap();

    let hashes = (0..4).map(|i| limiter.hash(format!("burst-{i}-pass")));
    let checks = (0..4).map(|_| limiter.verify(PASSWORD.to_owned(), stored.clone()));
    let (hashed, verified) = tokio::join!(
        futures_util::future::join_all(hashes),
        futures_util::future::join_all(checks)
    );

    assert!(
        hashed
            .iter()
            .all(|h| h.as_ref().is_ok_and(|h| h.starts_with("$argon2id$")))
    );
    assert!(verified.iter().all(|v| matches!(v, Ok(true))));
    assert_eq!(limiter.peak_in_flight(), 1, "never more than one at a time");
    assert_eq!(limiter.in_flight(), 0);
}
