//! Wallets and the ledger: accounts (a user's or vendor's, or all), an account's transfers,
//! the ledger check with its findings, and the support adjustment of a wallet with a reason.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
};
use entity::ledger_accounts::{self, AccountKind};
use maud::html;
use sea_orm::EntityTrait as _;
use serde::Deserialize;

use super::{
    session::Admin,
    view::FlashFields,
    view::{self, Flash, PageResult},
};
use crate::{
    error::AppError,
    http::HttpState,
    paging::{Page, SeqCursor},
    wallet::{self, ledger},
};

const KINDS: [(AccountKind, &str); 8] = [
    (AccountKind::UserAvailable, "USER_AVAILABLE"),
    (AccountKind::UserHeld, "USER_HELD"),
    (AccountKind::UserPayoutHeld, "USER_PAYOUT_HELD"),
    (AccountKind::VendorEarnings, "VENDOR_EARNINGS"),
    (AccountKind::VendorPayoutHeld, "VENDOR_PAYOUT_HELD"),
    (AccountKind::PlatformRevenue, "PLATFORM_REVENUE"),
    (AccountKind::PlatformAdjustments, "PLATFORM_ADJUSTMENTS"),
    (AccountKind::ProviderClearing, "PROVIDER_CLEARING"),
];

fn kind_name(kind: AccountKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, name)| *name)
        .unwrap_or("?")
}

/// Where an account's owner is shown.
fn owner_link(account: &ledger_accounts::Model) -> String {
    match account.kind {
        AccountKind::UserAvailable | AccountKind::UserHeld | AccountKind::UserPayoutHeld => {
            format!("/admin/users/{}", account.owner_id)
        }
        AccountKind::VendorEarnings | AccountKind::VendorPayoutHeld => {
            format!("/admin/vendors/{}", account.owner_id)
        }
        _ => "/admin/ledger".into(),
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    owner: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    check: String,
    after: Option<String>,
    #[serde(flatten)]
    flash: FlashFields,
}

/// `GET /admin/ledger` (`?check=1` runs the ledger check).
pub async fn page(
    admin: Admin,
    State(http): State<HttpState>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let db = &http.app.db;
    let page = view::list_page(query.after.as_deref())?;
    let owner = match query.owner.trim() {
        "" => None,
        text => Some(view::id(text)?),
    };
    let kind = KINDS
        .iter()
        .find(|(_, n)| *n == query.kind)
        .map(|(k, _)| *k);
    let (rows, total) = wallet::admin::accounts(db, owner, kind, &page).await?;
    let (rows, next) = view::split_page(rows, page.limit, |a| view::at_id(a.created_at, a.id));
    let check = if query.check.is_empty() {
        None
    } else {
        Some(ledger::check(db).await?)
    };
    let kinds: Vec<(&str, &str)> = KINDS.iter().map(|(_, n)| (*n, *n)).collect();
    let body = html! {
        h2 { "Ledger check" }
        @match &check {
            None => form.action method="get" action="/admin/ledger" {
                input type="hidden" name="check" value="1";
                span { "Checks every invariant: transfers net to zero, balances equal their entries, no wallet below zero." }
                button type="submit" { "Run the ledger check" }
            },
            Some(report) => div.card {
                @if report.ok() {
                    p { (view::badge("APPROVED")) " The ledger is sound." }
                } @else {
                    p { (view::badge("REJECTED")) " " (report.violations.len()) " finding(s):" }
                    ul { @for v in &report.violations { li { (v) } } }
                }
                small { (report.accounts_checked) " accounts, " (report.transfers_checked) " transfers checked; total balance " (view::money(report.total_balance)) }
            },
        }
        h2 { "Accounts" }
        form.filters method="get" action="/admin/ledger" {
            label { "Owner id (user or vendor)" input type="text" name="owner" value=(query.owner); }
            label { "Kind" (view::select("kind", "Any kind", &kinds, Some(&query.kind))) }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table {
            thead { tr { th { "Kind" } th { "Owner" } th.num { "Balance" } th.hide-sm { "Opened" } } }
            tbody {
                @for a in &rows {
                    tr {
                        td { a href={"/admin/ledger/" (a.id)} { (kind_name(a.kind)) } }
                        td { a href=(owner_link(a)) { code { (a.owner_id) } } }
                        td.num { (view::money(a.balance)) }
                        td.hide-sm { (view::when(a.created_at)) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="4" .muted { "No accounts match." } } }
            }
        } }
        (view::pager("/admin/ledger", &[("owner", query.owner.clone()), ("kind", query.kind.clone())], next, total))
    };
    Ok(admin.page(
        "/admin/ledger",
        "Wallets and ledger",
        &query.flash.flash(),
        body,
    ))
}

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    after: Option<String>,
}

/// `GET /admin/ledger/{id}`: one account and its transfers.
pub async fn account(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    Query(query): Query<AccountQuery>,
) -> PageResult {
    let db = &http.app.db;
    let id = view::id(&id)?;
    let account = ledger_accounts::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("account"))?;
    let page = Page::<SeqCursor>::new(Some(50), query.after.filter(|a| !a.is_empty()))?;
    let (rows, total) = wallet::admin::account_transfers(db, id, &page).await?;
    let (rows, next) = view::split_page(rows, page.limit, |t| SeqCursor(t.id));
    let body = html! {
        dl.facts {
            dt { "Kind" } dd { (kind_name(account.kind)) }
            dt { "Owner" } dd { a href=(owner_link(&account)) { code { (account.owner_id) } } }
            dt { "Balance" } dd { (view::money(account.balance)) " " (account.currency) }
        }
        h2 { "Transfers" }
        div.table-wrap { table {
            thead { tr { th { "#" } th { "When" } th { "Kind" } th.num { "Amount" } th.num { "Balance after" } th.hide-sm { "Reference" } } }
            tbody {
                @for t in &rows {
                    @let incoming = t.credit_account_id == id;
                    tr {
                        td { (t.id) }
                        td { (view::when(t.created_at)) }
                        td { (format!("{:?}", t.kind).to_uppercase()) }
                        td.num { (if incoming { "+" } else { "−" }) (view::money(t.amount)) }
                        td.num { (view::money(if incoming { t.credit_balance_after } else { t.debit_balance_after })) }
                        td.hide-sm { (t.reference) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" .muted { "No transfers." } } }
            }
        } }
        (view::pager(&format!("/admin/ledger/{id}"), &[], next, total))
    };
    Ok(admin.page("/admin/ledger", "Ledger account", &Flash::default(), body))
}

#[derive(Deserialize)]
pub struct AdjustForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    key: String,
}

/// `POST /admin/users/{id}/adjust`: the same function as `adjustWallet`.
pub async fn adjust(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: AdjustForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let key = if form.key.trim().is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        form.key.clone()
    };
    let result = match view::parse_rupees("amount", &form.amount) {
        Ok(amount) => {
            wallet::admin::adjust_wallet(&http.app, admin.viewer(), id, amount, &form.reason, &key)
                .await
        }
        Err(err) => Err(err),
    };
    Ok(view::after_action(
        result,
        &format!("/admin/users/{id}"),
        "Wallet adjusted.",
    ))
}
