//! Chat rooms and who may use them. A room is about one order or one pickup (exactly one of
//! `chat_rooms.order_id` and `chat_rooms.pickup_id` is set, a CHECK in the database). An
//! order's room is opened on demand by its buyer, its vendor or an admin; a pickup's room is
//! created by the pickups service in the transaction that gives the pickup its collector. The
//! participants are the two parties (buyer or household, and the vendor's user); admins may
//! read and write every room. Anyone else gets NOT_FOUND: the room does not exist for them.

use chrono::{DateTime, SubsecRound as _, Utc};
use entity::{chat_rooms, orders, pickups};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _,
    QueryFilter as _, sea_query::Query,
};
use uuid::Uuid;

use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    orders::service as orders_service,
    paging::{Cursor, Page},
    pickups::service::access::{self as pickup_access, Access as PickupAccess},
    vendors::service as vendors,
};

/// What a room is about.
#[derive(Debug, Clone)]
pub enum Subject {
    Order(orders::Model),
    Pickup(pickups::Model),
}

impl Subject {
    /// "order KW-…" or "pickup PK-…", for notifications.
    pub fn label(&self) -> String {
        match self {
            Self::Order(order) => format!("order {}", order.number),
            Self::Pickup(pickup) => format!("pickup {}", pickup.number),
        }
    }

    /// The order a notification about this room links to (pickups have none).
    pub fn order_id(&self) -> Option<Uuid> {
        match self {
            Self::Order(order) => Some(order.id),
            Self::Pickup(_) => None,
        }
    }
}

/// A room the viewer may use, and what it is about.
#[derive(Debug, Clone)]
pub struct RoomAccess {
    pub room: chat_rooms::Model,
    pub subject: Subject,
}

fn now() -> DateTime<Utc> {
    // Microseconds, as PostgreSQL keeps them.
    Utc::now().trunc_subsecs(6)
}

fn hidden(err: AppError) -> AppError {
    match err {
        AppError::NotFound(_) => AppError::not_found("chat room"),
        other => other,
    }
}

pub async fn find_room(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<chat_rooms::Model> {
    chat_rooms::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("chat room"))
}

/// `room_id` if `viewer` is one of its parties or an admin; NOT_FOUND otherwise (a room of
/// someone else's order or pickup does not exist for them). A collector a pickup is only
/// offered to is not a party.
pub async fn access(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    room_id: Uuid,
) -> AppResult<RoomAccess> {
    let room = find_room(conn, room_id).await?;
    let subject = match (room.order_id, room.pickup_id) {
        (Some(order_id), _) => {
            let (order, _) = orders_service::visible(conn, viewer, order_id)
                .await
                .map_err(hidden)?;
            Subject::Order(order)
        }
        (None, Some(pickup_id)) => {
            let (pickup, access) = pickup_access::visible(conn, viewer, pickup_id)
                .await
                .map_err(hidden)?;
            if access == PickupAccess::Offered {
                return Err(AppError::not_found("chat room"));
            }
            Subject::Pickup(pickup)
        }
        (None, None) => {
            return Err(AppError::internal(anyhow::anyhow!(
                "chat room {room_id} is about nothing"
            )));
        }
    };
    Ok(RoomAccess { room, subject })
}

/// The room of `order_id`, if one was opened.
pub async fn room_of_order(
    conn: &impl ConnectionTrait,
    order_id: Uuid,
) -> AppResult<Option<chat_rooms::Model>> {
    Ok(chat_rooms::Entity::find()
        .filter(chat_rooms::Column::OrderId.eq(order_id))
        .one(conn)
        .await?)
}

/// The room of `pickup_id`, once it has a collector.
pub async fn room_of_pickup(
    conn: &impl ConnectionTrait,
    pickup_id: Uuid,
) -> AppResult<Option<chat_rooms::Model>> {
    Ok(chat_rooms::Entity::find()
        .filter(chat_rooms::Column::PickupId.eq(pickup_id))
        .one(conn)
        .await?)
}

/// The room of an order `viewer` may see (NOT_FOUND otherwise), created if there is none yet.
/// Two racing calls end with the same room (the order id is unique).
pub async fn open_room(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    order_id: Uuid,
) -> AppResult<chat_rooms::Model> {
    orders_service::visible(conn, viewer, order_id).await?;
    if let Some(room) = room_of_order(conn, order_id).await? {
        return Ok(room);
    }
    chat_rooms::Entity::insert(chat_rooms::ActiveModel {
        id: Set(crate::db::new_id()),
        order_id: Set(Some(order_id)),
        pickup_id: Set(None),
        last_message_at: Set(None),
        created_at: Set(now()),
    })
    .on_conflict_do_nothing_on([chat_rooms::Column::OrderId])
    .exec_without_returning(conn)
    .await?;
    room_of_order(conn, order_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("chat room vanished after insert")))
}

/// The room's two parties: the buyer (or household) and the vendor's user.
pub async fn parties(conn: &impl ConnectionTrait, subject: &Subject) -> AppResult<[Uuid; 2]> {
    let (party, vendor_id) = match subject {
        Subject::Order(order) => (order.buyer_id, order.vendor_id),
        Subject::Pickup(pickup) => (
            pickup.household_id,
            pickup.vendor_id.ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "pickup {} has a chat room but no collector",
                    pickup.id
                ))
            })?,
        ),
    };
    let vendor = vendors::find(conn, vendor_id).await?;
    Ok([party, vendor.user_id])
}

/// A page of the rooms `viewer` takes part in (admins: every room), newest first, and how
/// many there are.
pub async fn rooms(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    page: &Page<Cursor>,
) -> AppResult<(Vec<chat_rooms::Model>, i64)> {
    use chat_rooms::Column as C;
    let mut filter = Condition::all();
    if !viewer.is_admin() {
        let mut my_orders = Condition::any().add(orders::Column::BuyerId.eq(viewer.user_id));
        let mut my_pickups = Condition::any().add(pickups::Column::HouseholdId.eq(viewer.user_id));
        if let Some(vendor) = vendors::of_user(conn, viewer.user_id).await? {
            my_orders = my_orders.add(orders::Column::VendorId.eq(vendor.id));
            my_pickups = my_pickups.add(pickups::Column::VendorId.eq(vendor.id));
        }
        let orders = Query::select()
            .column(orders::Column::Id)
            .from(orders::Entity)
            .cond_where(my_orders)
            .to_owned();
        let pickups = Query::select()
            .column(pickups::Column::Id)
            .from(pickups::Entity)
            .cond_where(my_pickups)
            .to_owned();
        filter = filter.add(
            Condition::any()
                .add(C::OrderId.in_subquery(orders))
                .add(C::PickupId.in_subquery(pickups)),
        );
    }
    crate::paging::newest_first::<chat_rooms::Entity>(conn, filter, C::CreatedAt, C::Id, page).await
}

/// Whether `viewer` may read the stored file `key` (`chat/{roomId}/…`): participants of the
/// room and admins. For `http::media`.
pub async fn may_read_attachment(conn: &impl ConnectionTrait, viewer: &Viewer, key: &str) -> bool {
    let Some(room_id) = key
        .strip_prefix("chat/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| id.parse::<Uuid>().ok())
    else {
        return false;
    };
    access(conn, viewer, room_id).await.is_ok()
}
