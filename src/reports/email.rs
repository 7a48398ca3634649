//! The daily report's email (plain text, like every email the platform sends).

use super::figures::DailyFigures;
use crate::{mail::Email, money::format_inr};

/// The report of `day` for one admin.
pub fn daily_report(to: &str, name: &str, day: chrono::NaiveDate, figures: &DailyFigures) -> Email {
    let money = format_inr;
    let recharged = money(figures.recharged_paise);
    let orders: i64 = figures.orders_by_status.values().sum();
    let by_status: Vec<String> = figures
        .orders_by_status
        .iter()
        .map(|(status, count)| format!("{status} {count}"))
        .collect();
    Email {
        to: to.to_owned(),
        subject: format!("Kabaadwala daily report for {day}"),
        body: format!(
            "Namaste {name},\n\nThe figures for {day} (UTC):\n\n\
             New users: {}\nNew vendors: {}\nWallet recharges: {} ({recharged})\n\
             Orders placed: {orders} ({})\nGMV: {}\nCommission earned: {}\n\n\
             The report is also in the admin API (dailyReport).\n\n— Kabaadwala\n",
            figures.new_users,
            figures.new_vendors,
            figures.recharges,
            by_status.join(", "),
            money(figures.gmv_paise),
            money(figures.commission_paise),
        ),
    }
}
