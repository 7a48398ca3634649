//! The command line. Every subcommand reads the same configuration as `serve`.

use std::{
    io::{BufRead as _, Write as _},
    process::ExitCode,
};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait as _};
use tokio_util::sync::CancellationToken;

mod job_commands;

use crate::{AppState, config::Config, db, http, jobs};
use job_commands::{JobsAction, jobs_command};

#[derive(Parser)]
#[command(name = "kabaadwala", version, about = "Kabaadwala marketplace backend")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default), with the job worker and the schedules unless
    /// `--no-worker` (or `RUN_WORKER=false`). Applies pending migrations first, and on a fresh
    /// database installs the default categories and settings.
    Serve {
        /// Do not run the job worker (nor the schedules) in this process.
        #[arg(long)]
        no_worker: bool,
        /// First fill an empty database with the demo data set and print the demo sign-ins
        /// (refused if the database has accounts other than demo ones).
        #[arg(long)]
        demo: bool,
    },
    /// The same as `serve --demo`: fill an empty database with the demo data set, print the
    /// demo sign-ins, and serve.
    Demo {
        /// How many demo products (customers, vendors and orders scale with it).
        #[arg(long, default_value_t = DEMO_PRODUCTS)]
        products: usize,
    },
    /// Run only the job worker and the schedules.
    Worker,
    /// Inspect and steer the job queue.
    Jobs {
        #[command(subcommand)]
        action: JobsAction,
    },
    /// Manage database migrations.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Create the default categories and settings (safe to run again).
    SetupDefaults,
    /// Create an admin account, or make an existing account an admin.
    CreateSuperuser {
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Fill the database with a realistic demo data set (users, vendors around Delhi NCR,
    /// products, funded wallets, orders in every state, chats). Refuses a database that already
    /// has demo data unless `--force`.
    SeedDemo {
        /// How many products (customers, vendors and orders scale with it).
        #[arg(long, default_value_t = DEMO_PRODUCTS)]
        products: usize,
        /// Add another batch even if demo data exists.
        #[arg(long)]
        force: bool,
    },
    /// Print the GraphQL schema (SDL), or write it to a file.
    ExportSchema {
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

/// The size of the demo data set unless `--products` says otherwise.
const DEMO_PRODUCTS: usize = 2000;

#[derive(Subcommand, Clone, Copy)]
enum MigrateAction {
    /// Apply all pending migrations (the default).
    Up,
    /// Roll back the last migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table and migrate from scratch.
    Fresh,
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve {
        no_worker: false,
        demo: false,
    });
    if let Command::ExportSchema { out } = &command {
        return report(export_schema(out.as_deref()));
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    init_tracing(config.log_json);
    report(run(command, config).await)
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = ?err, "command failed");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        // One JSON object per line; the fields of the current span (request_id, user_id,
        // method, path of an HTTP request) are under "span".
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { no_worker, demo } => {
            serve(config, !no_worker, demo.then_some(DEMO_PRODUCTS)).await
        }
        Command::Demo { products } => serve(config, true, Some(products)).await,
        Command::Worker => worker(config).await,
        Command::Jobs { action } => jobs_command(config, action).await,
        Command::Migrate { action } => migrate(config, action.unwrap_or(MigrateAction::Up)).await,
        Command::SetupDefaults => {
            let state = AppState::build(config).await?;
            let report = crate::catalog::defaults::setup(&state.db).await?;
            println!(
                "setup-defaults: {} categories created, {} settings stored (the rest existed)",
                report.categories, report.settings
            );
            Ok(())
        }
        Command::CreateSuperuser {
            email,
            password,
            name,
        } => {
            let email = prompt_if_missing(email, "Email")?;
            let name = prompt_if_missing(name, "Full name")?;
            let password = prompt_if_missing(password, "Password")?;
            let state = AppState::build(config).await?;
            let (user, created) =
                crate::accounts::admin::create_superuser(&state.db, &email, &password, &name)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            let verb = if created {
                "created"
            } else {
                "promoted to admin"
            };
            println!("superuser {} {verb}", user.email);
            Ok(())
        }
        Command::SeedDemo { products, force } => seed_demo(config, products, force).await,
        Command::ExportSchema { .. } => Ok(()),
    }
}

/// Serves until SIGTERM or Ctrl-C. With `demo`, an empty database is first filled with a demo
/// data set of that many products.
async fn serve(config: Config, with_worker: bool, demo: Option<usize>) -> anyhow::Result<()> {
    if config.uses_dev_secret() {
        tracing::warn!(
            "JWT_SECRET is not set: using the built-in development secret. Anyone can forge tokens; set JWT_SECRET before exposing this server."
        );
    }
    let bind = config.bind_addr;
    let metrics_bind = config.metrics_bind_addr;
    let run_worker = with_worker && config.run_worker;
    let state = AppState::build(config).await?;
    tracing::info!(
        database = state.db.get_database_backend().as_str(),
        pubsub = state.pubsub.backend_name(),
        mail = state.mailer.transport_name(),
        "connected and migrated"
    );
    if let Some(products) = demo {
        start_demo(&state, products).await?;
    }
    if let Some(report) = crate::catalog::defaults::setup_on_first_start(&state.db)
        .await
        .context("install the default categories and settings on a fresh database")?
    {
        tracing::info!(
            categories = report.categories,
            settings = report.settings,
            "fresh database: installed the default categories and settings"
        );
    }
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    if run_worker {
        jobs::schedule::start(state.clone(), shutdown.clone()).await?;
    }
    let worker =
        run_worker.then(|| tokio::spawn(jobs::worker::run(state.clone(), shutdown.clone())));
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("bind {bind} (BIND_ADDR)"))?;
    let metrics = match metrics_bind {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("bind {addr} (METRICS_BIND_ADDR)"))?;
            tracing::info!("metrics on http://{addr}/metrics");
            Some(tokio::spawn(http::serve_metrics(
                listener,
                state.clone(),
                shutdown.clone(),
            )))
        }
        None => None,
    };
    tracing::info!("listening on http://{bind} (GraphiQL at /)");
    http::serve(listener, http::router(state), shutdown.clone()).await?;
    shutdown.cancel();
    if let Some(metrics) = metrics {
        metrics.await.context("join the metrics listener")??;
    }
    if let Some(worker) = worker {
        worker.await.context("join the job worker")?;
    }
    tracing::info!("stopped");
    Ok(())
}

/// `serve --demo`: fills an empty database with the demo data set (a database that already holds
/// only demo data is kept) and prints the sign-ins; refuses a database with other accounts.
async fn start_demo(state: &AppState, products: usize) -> anyhow::Result<()> {
    let mut options = crate::demo::Options::for_products(products);
    options.progress = true;
    match crate::demo::seed_if_empty(state, &options).await? {
        crate::demo::DemoStart::Seeded(report) => println!(
            "demo data: {} customers, {} vendors (+{} awaiting KYC review), {} products, {} orders, {} chat messages ({:.1} s)",
            report.customers,
            report.vendors,
            report.pending_vendors,
            report.products,
            report.orders,
            report.messages,
            report.elapsed.as_secs_f64()
        ),
        crate::demo::DemoStart::AlreadySeeded => {
            println!("demo data: already in this database, left as it is");
        }
    }
    println!("demo sign-ins (password {}):", crate::demo::DEMO_PASSWORD);
    for (who, email) in crate::demo::SIGN_INS {
        println!("  {who:<9} {email}");
    }
    Ok(())
}

async fn seed_demo(config: Config, products: usize, force: bool) -> anyhow::Result<()> {
    let state = AppState::build(config).await?;
    let mut options = crate::demo::Options::for_products(products);
    options.force = force;
    options.progress = true;
    let report = crate::demo::seed(&state, &options).await?;
    println!(
        "seed-demo: {} customers, {} approved vendors (+{} awaiting KYC review), {} products, {} orders, {} chat messages, {} notifications in {:.1} s",
        report.customers,
        report.vendors,
        report.pending_vendors,
        report.products,
        report.orders,
        report.messages,
        report.notifications,
        report.elapsed.as_secs_f64()
    );
    println!(
        "admin: {}  password: {}",
        report.admin_email, report.admin_password
    );
    if report.first_batch {
        println!(
            "customer: {}  vendor: {}  (they share an order with a chat)",
            crate::demo::CUSTOMER_EMAIL,
            crate::demo::VENDOR_EMAIL
        );
    }
    println!(
        "every demo account (…@{}) has the password {}",
        crate::demo::DEMO_DOMAIN,
        crate::demo::DEMO_PASSWORD
    );
    Ok(())
}

async fn worker(config: Config) -> anyhow::Result<()> {
    let state = AppState::build(config).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    jobs::schedule::start(state.clone(), shutdown.clone()).await?;
    jobs::worker::run(state, shutdown).await;
    Ok(())
}

async fn migrate(config: Config, action: MigrateAction) -> anyhow::Result<()> {
    let db = db::connect(&config).await?;
    match action {
        MigrateAction::Up => Migrator::up(&db, None).await?,
        MigrateAction::Down => Migrator::down(&db, Some(1)).await?,
        MigrateAction::Fresh => Migrator::fresh(&db).await?,
        MigrateAction::Status => {
            for migration in Migrator::get_migration_with_status(&db).await? {
                println!("{:?}\t{}", migration.status(), migration.name());
            }
        }
    }
    Ok(())
}

fn export_schema(out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let sdl = crate::http::schema_sdl();
    match out {
        Some(path) => {
            std::fs::write(path, sdl).with_context(|| format!("write {}", path.display()))
        }
        None => {
            print!("{sdl}");
            Ok(())
        }
    }
}

fn prompt_if_missing(value: Option<String>, label: &str) -> anyhow::Result<String> {
    if let Some(value) = value {
        return Ok(value);
    }
    print!("{label}: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim().to_owned();
    anyhow::ensure!(!line.is_empty(), "{label} is required");
    Ok(line)
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests and jobs");
    shutdown.cancel();
}
