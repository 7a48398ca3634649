//! Test harness: `TestApp` (fresh database through the real migrations, file mailer in a temp
//! folder), a GraphQL request helper, and factories for signed-in users.

pub mod catalog;
pub mod console;
mod db;
mod gql;
pub mod market;
pub mod process;
pub mod providers;
pub mod server;
pub mod ws;

use std::{
    collections::HashMap,
    io::{Seek as _, Write as _},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use chrono::Utc;
use kabaadwala::{
    AppState,
    config::Config,
    graphql::schema::{AppSchema, build_schema, request_data},
    jobs::worker::{self, Outcome},
};
use serde_json::{Value, json};

pub use gql::Gql;

pub struct TestApp {
    pub state: AppState,
    pub schema: AppSchema,
    pub dirs: tempfile::TempDir,
    /// How many SQL statements the app has run (for N+1 checks).
    pub sql_statements: Arc<AtomicUsize>,
    // Dropped last: removes the PostgreSQL database.
    _db: db::TestDb,
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub const PASSWORD: &str = "kabaad2026";

impl TestApp {
    pub async fn new() -> Self {
        Self::with_env(&[]).await
    }

    /// A fresh app with extra configuration variables.
    pub async fn with_env(vars: &[(&str, &str)]) -> Self {
        let dirs = tempfile::tempdir().expect("temp dir");
        let test_db = db::TestDb::create(dirs.path()).await;
        let mut env: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), test_db.url.clone()),
            (
                "MAIL_DIR".into(),
                dirs.path().join("mail").display().to_string(),
            ),
            (
                "MEDIA_DIR".into(),
                dirs.path().join("media").display().to_string(),
            ),
            (
                "JWT_SECRET".into(),
                "test-secret-that-is-long-enough-0123456789".into(),
            ),
        ]);
        if let Ok(redis) = std::env::var("REDIS_URL") {
            env.insert("REDIS_URL".into(), redis);
        }
        // Tests sign in and register many times with no client IP; rate limits are generous
        // here (tests of the limits set their own), and each app counts in its own Redis keys.
        for action in ["LOGIN", "OTP", "PASSWORD_RESET", "REGISTER", "RECHARGE"] {
            for scope in ["IP", "ACCOUNT"] {
                env.insert(format!("RATE_LIMIT_{action}_{scope}"), "100000/60".into());
            }
        }
        env.insert(
            "RATE_LIMIT_KEY_PREFIX".into(),
            format!("kwtest-{}", uuid::Uuid::new_v4().simple()),
        );
        for (key, value) in vars {
            env.insert((*key).into(), (*value).into());
        }
        let config = Config::from_lookup(|key| env.get(key).cloned()).expect("config");
        let mut db = kabaadwala::db::connect(&config).await.expect("connect");
        kabaadwala::db::migrate(&db).await.expect("migrate");
        let sql_statements = Arc::new(AtomicUsize::new(0));
        let counter = sql_statements.clone();
        let trace_sql = std::env::var_os("KW_TRACE_SQL").is_some();
        db.set_metric_callback(move |info| {
            if trace_sql {
                eprintln!("SQL: {}", info.statement.sql);
            }
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let state = AppState::from_parts(config, db).expect("state");
        let schema = build_schema(state.clone());
        Self {
            state,
            schema,
            dirs,
            sql_statements,
            _db: test_db,
        }
    }

    /// Another instance of the server on the same database (its own connection pool, pub/sub
    /// and worker wake-up), as a second process of the fleet would be.
    pub async fn second_instance(&self) -> AppState {
        let config = (*self.state.config).clone();
        let db = kabaadwala::db::connect(&config).await.expect("connect");
        AppState::from_parts(config, db).expect("state")
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.dirs.path().join("mail")
    }

    /// Runs a GraphQL operation as `token`'s user (or anonymously).
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Gql {
        let auth = kabaadwala::http::auth_from_header(
            &self.state,
            token.map(|t| format!("Bearer {t}")).as_deref(),
        );
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        let response = self
            .schema
            .execute(request_data(request, &self.state, auth))
            .await;
        Gql::from_response(response)
    }

    /// Runs `query` and returns it with the number of SQL statements it ran.
    pub async fn gql_counting(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> (Gql, usize) {
        let before = self.sql_statements.load(Ordering::SeqCst);
        let res = self.gql(query, variables, token).await;
        (res, self.sql_statements.load(Ordering::SeqCst) - before)
    }

    /// Runs an operation with file uploads: `files` maps a variable path (`variables.file`) to
    /// (file name, bytes), as the GraphQL multipart request spec does.
    pub async fn gql_upload(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
        files: &[(&str, &str, &[u8])],
    ) -> Gql {
        let auth = kabaadwala::http::auth_from_header(
            &self.state,
            token.map(|t| format!("Bearer {t}")).as_deref(),
        );
        let mut request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        for (path, name, bytes) in files {
            let mut file = tempfile::tempfile().expect("temp file");
            file.write_all(bytes).expect("write upload");
            file.rewind().expect("rewind upload");
            request.set_upload(
                path,
                async_graphql::UploadValue {
                    filename: (*name).to_owned(),
                    content_type: None,
                    content: file,
                },
            );
        }
        let response = self
            .schema
            .execute(request_data(request, &self.state, auth))
            .await;
        Gql::from_response(response)
    }

    /// Runs every job that is due now.
    pub async fn drain_jobs(&self) -> Vec<Outcome> {
        worker::drain(&self.state, Utc::now())
            .await
            .expect("drain jobs")
    }

    /// The emails written so far, as raw `.eml` text with quoted-printable soft breaks undone.
    pub fn sent_mail(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.mail_dir()) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .map(|text| {
                text.replace("=\r\n", "")
                    .replace("=\n", "")
                    .replace("=3D", "=")
            })
            .collect()
    }

    /// The mail sent to `email` whose text contains `needle`.
    pub fn mail_to(&self, email: &str, needle: &str) -> Option<String> {
        self.sent_mail()
            .into_iter()
            .find(|m| m.contains(&format!("To: {email}")) && m.contains(needle))
    }

    /// Registers a new customer with a unique email.
    pub async fn customer(&self, name: &str) -> Session {
        let email = format!(
            "{}-{}@example.com",
            name.to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>(),
            uuid::Uuid::new_v4().simple()
        );
        self.register(&email, name).await
    }

    pub async fn register(&self, email: &str, name: &str) -> Session {
        let res = self
            .gql(
                "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id } } }",
                json!({ "input": { "email": email, "password": PASSWORD, "fullName": name } }),
                None,
            )
            .await;
        let payload = res.data("register");
        Session {
            user_id: payload["user"]["id"].as_str().expect("id").to_owned(),
            email: email.to_owned(),
            access_token: payload["accessToken"].as_str().expect("token").to_owned(),
            refresh_token: payload["refreshToken"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        }
    }

    /// A signed-in admin (made the way `create-superuser` makes one).
    pub async fn admin(&self) -> Session {
        let email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
        kabaadwala::accounts::admin::create_superuser(&self.state.db, &email, PASSWORD, "Admin")
            .await
            .expect("create superuser");
        self.login(&email).await
    }

    pub async fn login(&self, email: &str) -> Session {
        let res = self
            .gql(
                "mutation($input: LoginInput!) { login(input: $input) { __typename ... on AuthPayload { accessToken refreshToken user { id } } } }",
                json!({ "input": { "email": email, "password": PASSWORD } }),
                None,
            )
            .await;
        let payload = res.data("login");
        Session {
            user_id: payload["user"]["id"].as_str().expect("id").to_owned(),
            email: email.to_owned(),
            access_token: payload["accessToken"].as_str().expect("token").to_owned(),
            refresh_token: payload["refreshToken"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        }
    }
}

/// How many migrations, counted from the newest, roll the schema back to before `name`
/// (`Migrator::down(db, Some(n))`), whatever was added after it.
pub fn migrations_since(name: &str) -> u32 {
    use migration::{Migrator, MigratorTrait as _};
    let all = Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no migration {name}"));
    u32::try_from(all.len() - at).unwrap()
}

/// The token an email asks the user to enter ("… in the app: <token>").
pub fn token_in(mail: &str) -> String {
    mail.lines()
        .find_map(|line| line.split("in the app: ").nth(1))
        .map(|t| t.trim().to_owned())
        .expect("a token in the mail")
}
