//! Job control for admins: listing, stats, retry and purge, and who may use them.

use chrono::{Duration, Utc};
use kabaadwala::{
    auth::jobs::SendOtpEmail,
    jobs::{queue, worker},
    vendors::jobs::SendKycDecisionEmail,
};
use serde_json::json;
use uuid::Uuid;

use crate::support::TestApp;

/// A job that fails for a real reason (its user does not exist) until it is DEAD.
async fn dead_job(app: &TestApp) -> Uuid {
    let id = queue::enqueue(
        &app.state.db,
        &SendOtpEmail {
            user_id: Uuid::new_v4(),
            code: "123456".into(),
        },
    )
    .await
    .unwrap();
    let mut at = Utc::now();
    for _ in 0..5 {
        worker::run_once(&app.state, at).await.unwrap();
        at += Duration::hours(2);
    }
    id
}

const JOBS: &str = "query($status: JobStatus, $kind: String, $first: Int, $after: String) { jobs(status: $status, kind: $kind, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id kind status attempts maxAttempts lastError finishedAt } } } }";
const STATS: &str =
    "{ jobStats { byStatus { status count } byKind { kind count } oldestPendingAgeSeconds } }";

#[tokio::test]
async fn admins_list_jobs_by_status_and_kind_page_by_page() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for _ in 0..3 {
        app.customer("Asha").await;
    }
    app.drain_jobs().await;
    let dead = dead_job(&app).await;
    let token = Some(admin.access_token.as_str());

    let all = app
        .gql(JOBS, json!({ "first": 2 }), token)
        .await
        .data("jobs");
    assert_eq!(all["totalCount"], 4);
    assert_eq!(all["pageInfo"]["hasNextPage"], true);
    let rest = app
        .gql(
            JOBS,
            json!({ "first": 10, "after": all["pageInfo"]["endCursor"] }),
            token,
        )
        .await
        .data("jobs");
    let mut ids: Vec<_> = all["edges"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["edges"].as_array().unwrap())
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "pages do not overlap or skip");

    let dead_jobs = app
        .gql(JOBS, json!({ "status": "DEAD" }), token)
        .await
        .data("jobs");
    assert_eq!(dead_jobs["totalCount"], 1);
    let node = &dead_jobs["edges"][0]["node"];
    assert_eq!(node["id"], dead.to_string());
    assert_eq!(
        (node["kind"].as_str(), node["attempts"].as_i64()),
        (Some("send_otp_email"), Some(5))
    );
    assert!(
        node["lastError"]
            .as_str()
            .unwrap()
            .contains("no longer exists")
    );
    let by_kind = app
        .gql(JOBS, json!({ "kind": "send_verification_email" }), token)
        .await
        .data("jobs");
    assert_eq!(by_kind["totalCount"], 3);
}

#[tokio::test]
async fn job_stats_count_by_status_and_kind_and_tell_how_late_the_queue_is() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.drain_jobs().await;
    dead_job(&app).await;
    queue::enqueue_at(
        &app.state.db,
        &SendKycDecisionEmail {
            vendor_id: Uuid::new_v4(),
        },
        Utc::now() - Duration::minutes(10),
    )
    .await
    .unwrap();
    // Not due yet: not late.
    queue::enqueue_at(
        &app.state.db,
        &SendKycDecisionEmail {
            vendor_id: Uuid::new_v4(),
        },
        Utc::now() + Duration::hours(1),
    )
    .await
    .unwrap();

    let stats = app
        .gql(STATS, json!({}), Some(&admin.access_token))
        .await
        .data("jobStats");

    assert_eq!(
        stats["byStatus"],
        json!([
            { "status": "PENDING", "count": 2 },
            { "status": "RUNNING", "count": 0 },
            { "status": "SUCCEEDED", "count": 0 },
            { "status": "DEAD", "count": 1 },
        ])
    );
    assert_eq!(
        stats["byKind"],
        json!([
            { "kind": "send_kyc_decision_email", "count": 2 },
            { "kind": "send_otp_email", "count": 1 },
        ])
    );
    let age = stats["oldestPendingAgeSeconds"].as_i64().unwrap();
    assert!((600..660).contains(&age), "{age}");
}

#[tokio::test]
async fn an_admin_retries_a_dead_job_and_it_runs_again() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.drain_jobs().await;
    let dead = dead_job(&app).await;

    let retried = app
        .gql(
            "mutation($id: ID!) { retryJob(id: $id) { id status attempts finishedAt } }",
            json!({ "id": dead.to_string() }),
            Some(&admin.access_token),
        )
        .await
        .data("retryJob");

    assert_eq!(retried["status"], "PENDING");
    assert_eq!(retried["attempts"], 0);
    assert_eq!(retried["finishedAt"], serde_json::Value::Null);
    let ran = app.drain_jobs().await;
    assert_eq!(ran.iter().map(|o| o.job_id).collect::<Vec<_>>(), [dead]);
}

#[tokio::test]
async fn retrying_a_succeeded_running_or_unknown_job_is_refused() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.drain_jobs().await;
    app.customer("Asha").await;
    let done = app.drain_jobs().await[0].job_id;
    let retry = "mutation($id: ID!) { retryJob(id: $id) { id } }";
    let token = Some(admin.access_token.as_str());

    let again = app
        .gql(retry, json!({ "id": done.to_string() }), token)
        .await;
    assert_eq!(again.code(), "INVALID_TRANSITION");
    let unknown = app
        .gql(retry, json!({ "id": Uuid::new_v4().to_string() }), token)
        .await;
    assert_eq!(unknown.code(), "NOT_FOUND");
    let running = queue::enqueue(
        &app.state.db,
        &SendKycDecisionEmail {
            vendor_id: Uuid::new_v4(),
        },
    )
    .await
    .unwrap();
    queue::claim_next(&app.state.db, Utc::now())
        .await
        .unwrap()
        .unwrap();
    let busy = app
        .gql(retry, json!({ "id": running.to_string() }), token)
        .await;
    assert_eq!(busy.code(), "CONFLICT");
}

#[tokio::test]
async fn purging_deletes_only_finished_jobs_of_the_given_status() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.customer("Asha").await;
    app.customer("Ravi").await;
    app.drain_jobs().await;
    dead_job(&app).await;
    queue::enqueue_at(
        &app.state.db,
        &SendKycDecisionEmail {
            vendor_id: Uuid::new_v4(),
        },
        Utc::now() + Duration::hours(1),
    )
    .await
    .unwrap();
    let purge = "mutation($s: JobStatus!) { purgeJobs(status: $s) }";
    let token = Some(admin.access_token.as_str());

    let pending = app.gql(purge, json!({ "s": "PENDING" }), token).await;
    assert_eq!(
        (pending.code(), pending.field()),
        ("BAD_USER_INPUT".into(), Some("status".into()))
    );
    assert_eq!(
        app.gql(purge, json!({ "s": "DEAD" }), token)
            .await
            .data("purgeJobs"),
        1
    );
    assert_eq!(
        app.gql(purge, json!({ "s": "SUCCEEDED" }), token)
            .await
            .data("purgeJobs"),
        2
    );

    let stats = app.gql(STATS, json!({}), token).await.data("jobStats");
    assert_eq!(
        stats["byStatus"][0],
        json!({ "status": "PENDING", "count": 1 })
    );
    assert_eq!(
        stats["byKind"],
        json!([{ "kind": "send_kyc_decision_email", "count": 1 }])
    );
}

#[tokio::test]
async fn job_control_is_for_admins_only() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let admin = app.admin().await;
    let id = Uuid::new_v4().to_string();
    let operations = [
        ("{ jobs { totalCount } }", json!({})),
        ("{ jobStats { oldestPendingAgeSeconds } }", json!({})),
        (
            "mutation($id: ID!) { retryJob(id: $id) { id } }",
            json!({ "id": id }),
        ),
        ("mutation { purgeJobs(status: DEAD) }", json!({})),
    ];

    for (query, vars) in operations {
        assert_eq!(
            app.gql(query, vars.clone(), None).await.code(),
            "UNAUTHENTICATED",
            "{query}"
        );
        assert_eq!(
            app.gql(query, vars.clone(), Some(&asha.access_token))
                .await
                .code(),
            "FORBIDDEN",
            "{query}"
        );
        let as_admin = app.gql(query, vars, Some(&admin.access_token)).await;
        assert!(
            as_admin.errors.is_empty() || as_admin.code() == "NOT_FOUND",
            "{query}: {:?}",
            as_admin.errors
        );
    }
}
