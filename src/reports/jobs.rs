//! Report jobs: the daily report, recurring.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    jobs::job::{Job, Queued, Recurring, Registry},
};

/// Computes, stores and emails the report of `day` (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateDailyReport {
    pub day: NaiveDate,
}

impl Job for GenerateDailyReport {
    const KIND: &'static str = "generate_daily_report";
}

pub fn register(registry: &mut Registry<AppState>) {
    registry
        .handle(|state, job: GenerateDailyReport| async move {
            super::service::generate_and_send(&state, job.day).await
        })
        .every(Recurring {
            name: GenerateDailyReport::KIND,
            expression: |config| &config.schedule_daily_report,
            // The report covers the UTC day before the slot.
            job: |slot| {
                Queued::of(&GenerateDailyReport {
                    day: (slot - Duration::days(1)).date_naive(),
                })
            },
        });
}
