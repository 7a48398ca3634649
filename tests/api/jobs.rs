//! The durable job queue: retries, dead jobs, the outbox guarantee, exclusive claims.

use chrono::{Duration, Utc};
use entity::jobs::{self, JobStatus};
use kabaadwala::{
    auth::jobs::{SendOtpEmail, SendVerificationEmail},
    jobs::{queue, worker},
};
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, TransactionTrait as _, sea_query::Expr,
};
use uuid::Uuid;

use crate::support::TestApp;

/// A job that fails for a real reason: it mails a user who does not exist.
fn doomed_task() -> SendVerificationEmail {
    SendVerificationEmail {
        user_id: Uuid::new_v4(),
        token: "t".into(),
    }
}

#[tokio::test]
async fn a_failing_job_is_retried_with_backoff_then_parked_as_dead() {
    let app = TestApp::new().await;
    let id = queue::enqueue(&app.state.db, &doomed_task()).await.unwrap();
    let start = Utc::now();

    let first = worker::run_once(&app.state, start).await.unwrap().unwrap();
    assert_eq!(first.status, JobStatus::Pending);
    let job = jobs::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.attempts, 1);
    assert!(job.run_at >= start + Duration::seconds(9), "backed off");
    assert!(job.last_error.unwrap().contains("no longer exists"));
    assert!(
        worker::run_once(&app.state, start).await.unwrap().is_none(),
        "not due yet"
    );

    let mut at = start;
    let mut last = first.status;
    for _ in 0..4 {
        at += Duration::hours(2);
        last = worker::run_once(&app.state, at)
            .await
            .unwrap()
            .unwrap()
            .status;
    }

    assert_eq!(last, JobStatus::Dead);
    let job = jobs::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.attempts, 5);
    assert!(job.finished_at.is_some());
    assert!(
        worker::run_once(&app.state, at + Duration::days(1))
            .await
            .unwrap()
            .is_none(),
        "dead jobs stay parked"
    );
}

#[tokio::test]
async fn a_dead_job_can_be_retried() {
    let app = TestApp::new().await;
    let id = queue::enqueue(&app.state.db, &doomed_task()).await.unwrap();
    let mut at = Utc::now();
    for _ in 0..5 {
        worker::run_once(&app.state, at).await.unwrap();
        at += Duration::hours(2);
    }

    assert!(queue::retry(&app.state.db, id).await.unwrap());

    let job = jobs::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.status, job.attempts), (JobStatus::Pending, 0));
    assert!(
        worker::run_once(&app.state, Utc::now())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_job_enqueued_in_a_rolled_back_transaction_never_runs() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    app.drain_jobs().await;

    let txn = app.state.db.begin().await.unwrap();
    queue::enqueue(
        &txn,
        &SendOtpEmail {
            user_id: asha.user_id.parse().unwrap(),
            code: "123456".into(),
        },
    )
    .await
    .unwrap();
    txn.rollback().await.unwrap();

    assert!(app.drain_jobs().await.is_empty());
    assert!(app.mail_to(&asha.email, "sign-in code").is_none());
}

#[tokio::test]
async fn a_succeeded_job_keeps_no_secrets() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let ran = app.drain_jobs().await;

    let job = jobs::Entity::find_by_id(ran[0].job_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(job.payload, serde_json::json!({}));
    assert!(app.mail_to(&asha.email, "Verify").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_workers_never_claim_the_same_job() {
    let app = TestApp::new().await;
    for _ in 0..40 {
        queue::enqueue(&app.state.db, &doomed_task()).await.unwrap();
    }
    let now = Utc::now();

    let claimers = (0..8).map(|_| {
        let db = app.state.db.clone();
        tokio::spawn(async move {
            let mut claimed = Vec::new();
            while let Some(job) = queue::claim_next(&db, now).await.unwrap() {
                claimed.push(job.id);
            }
            claimed
        })
    });
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }

    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 40);
    assert_eq!(distinct.len(), 40);
}

async fn job(app: &TestApp, id: Uuid) -> jobs::Model {
    jobs::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_worker_whose_lease_ran_out_and_was_reclaimed_cannot_mark_the_job_done_or_failed() {
    let app = TestApp::new().await;
    let id = queue::enqueue(&app.state.db, &doomed_task()).await.unwrap();
    let now = Utc::now();
    let slow = queue::claim_next(&app.state.db, now)
        .await
        .unwrap()
        .unwrap();
    // The slow worker's lease runs out; another worker takes the job over.
    let later = now + queue::LEASE + Duration::seconds(1);
    let fresh = queue::claim_next(&app.state.db, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((slow.id, fresh.id), (id, id));

    let done = queue::mark_succeeded(&app.state.db, &slow).await;
    let failed = queue::mark_failed(&app.state.db, &slow, "late", later).await;

    assert_eq!(done.unwrap_err().code(), "CONFLICT");
    assert_eq!(failed.unwrap_err().code(), "CONFLICT");
    let still = job(&app, id).await;
    assert_eq!((still.status, still.attempts), (JobStatus::Running, 2));
    assert_eq!(still.lease_token, fresh.lease_token);
    queue::mark_succeeded(&app.state.db, &fresh).await.unwrap();
    assert_eq!(job(&app, id).await.status, JobStatus::Succeeded);
}

#[tokio::test]
async fn retrying_a_job_whose_lease_is_live_is_a_conflict_and_leaves_its_worker_in_charge() {
    let app = TestApp::new().await;
    let id = queue::enqueue(&app.state.db, &doomed_task()).await.unwrap();
    let running = queue::claim_next(&app.state.db, Utc::now())
        .await
        .unwrap()
        .unwrap();

    let refused = kabaadwala::jobs::control::retry(&app.state.db, id).await;

    assert_eq!(refused.unwrap_err().code(), "CONFLICT");
    assert!(!queue::retry(&app.state.db, id).await.unwrap());
    let unchanged = job(&app, id).await;
    assert_eq!(
        (unchanged.status, unchanged.attempts),
        (JobStatus::Running, 1)
    );
    queue::mark_succeeded(&app.state.db, &running)
        .await
        .unwrap();
    assert_eq!(job(&app, id).await.status, JobStatus::Succeeded);
}

#[tokio::test]
async fn retrying_a_job_whose_lease_expired_takes_the_lease_from_its_old_worker() {
    let app = TestApp::new().await;
    let id = queue::enqueue(&app.state.db, &doomed_task()).await.unwrap();
    let stuck = queue::claim_next(&app.state.db, Utc::now())
        .await
        .unwrap()
        .unwrap();
    // Its worker died: the lease ran out.
    jobs::Entity::update_many()
        .col_expr(
            jobs::Column::LockedUntil,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(jobs::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .unwrap();

    let retried = kabaadwala::jobs::control::retry(&app.state.db, id)
        .await
        .unwrap();
    let late = queue::mark_succeeded(&app.state.db, &stuck).await;

    assert_eq!((retried.status, retried.attempts), (JobStatus::Pending, 0));
    assert_eq!(late.unwrap_err().code(), "CONFLICT");
    assert_eq!(job(&app, id).await.status, JobStatus::Pending);
}
