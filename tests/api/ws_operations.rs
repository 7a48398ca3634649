//! Queries and mutations over one socket run concurrently: a mutation waiting on a lock holds
//! back neither a later query nor the answers; `complete` drops an in-flight result without
//! undoing the mutation; an id in flight cannot be reused.

use entity::users;
use sea_orm::{
    ColumnTrait as _, DatabaseTransaction, EntityTrait as _, QueryFilter as _,
    TransactionTrait as _, sea_query::Expr,
};
use serde_json::{Value, json};

use crate::support::{
    Session, TestApp,
    ws::{Ws, serve},
};

const RENAME: &str =
    "mutation { updateProfile(input: { fullName: \"Asha Kulkarni\" }) { fullName } }";

/// A transaction that has written the user's row: their profile update waits until it ends.
async fn hold_row(app: &TestApp, who: &Session) -> DatabaseTransaction {
    let txn = app.state.db.begin().await.unwrap();
    users::Entity::update_many()
        .col_expr(users::Column::FullName, Expr::col(users::Column::FullName))
        .filter(users::Column::Id.eq(who.user_id.parse::<uuid::Uuid>().unwrap()))
        .exec(&txn)
        .await
        .unwrap();
    txn
}

/// A signed-in socket whose `connection_init` is fully handled (it also touches the user's row,
/// which must not race with [`hold_row`]): the server answers a socket's messages in order.
async fn connected(server: &crate::support::ws::Server, who: &Session) -> Ws {
    let mut ws = Ws::connect(server, &who.access_token).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.recv().await, json!({ "type": "pong" }));
    ws
}

/// A signed-in customer's socket, and a transaction holding a write on their row. The app and
/// the server are returned to be kept alive.
async fn held() -> (TestApp, crate::support::ws::Server, Ws, DatabaseTransaction) {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let server = serve(&app.state).await;
    let ws = connected(&server, &asha).await;
    let lock = hold_row(&app, &asha).await;
    (app, server, ws, lock)
}

fn operation(id: &str, query: &str) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": query } })
}

#[tokio::test]
async fn a_waiting_mutation_does_not_hold_back_a_later_query_on_the_same_socket() {
    let (_app, _server, mut ws, lock) = held().await;

    ws.send(operation("m", RENAME)).await;
    ws.send(operation("q", "{ __typename }")).await;

    // The query is answered while the mutation still waits for the row.
    let first = ws.recv().await;
    assert_eq!(first["id"], "q", "{first}");
    assert_eq!(first["payload"]["data"]["__typename"], "QueryRoot");
    assert_eq!(ws.recv().await, json!({ "type": "complete", "id": "q" }));

    lock.commit().await.unwrap();
    let renamed = ws.recv().await;
    assert_eq!(renamed["id"], "m", "{renamed}");
    assert_eq!(
        renamed["payload"]["data"]["updateProfile"]["fullName"],
        "Asha Kulkarni"
    );
    assert_eq!(ws.recv().await, json!({ "type": "complete", "id": "m" }));
}

#[tokio::test]
async fn complete_drops_an_operations_result_but_does_not_undo_it() {
    let (_app, _server, mut ws, lock) = held().await;

    ws.send(operation("m", RENAME)).await;
    ws.send(json!({ "id": "m", "type": "complete" })).await;
    // The server handles a socket's messages in order: its pong means the complete was seen.
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.recv().await, json!({ "type": "pong" }));
    lock.commit().await.unwrap();
    // Asked after the rename was let through: once the rename is done, the name is the new one.
    let mut renamed = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut attempt = 0;
    while !renamed && std::time::Instant::now() < deadline {
        attempt += 1;
        let id = format!("q{attempt}");
        ws.send(operation(&id, "{ me { fullName } }")).await;
        let answer = ws.recv().await;
        assert_eq!(
            answer["id"],
            id.as_str(),
            "no frame for the completed mutation: {answer}"
        );
        assert_eq!(ws.recv().await, json!({ "type": "complete", "id": id }));
        renamed = answer["payload"]["data"]["me"]["fullName"] == "Asha Kulkarni";
    }
    assert!(renamed, "the completed mutation still ran");
}

#[tokio::test]
async fn an_id_still_in_flight_cannot_be_reused() {
    let (_app, _server, mut ws, lock) = held().await;

    ws.send(operation("m", RENAME)).await;
    ws.send(operation("m", "{ __typename }")).await;

    assert_eq!(ws.close_code().await, 4409);
    lock.commit().await.unwrap();
}
