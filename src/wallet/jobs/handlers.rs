//! What the wallet jobs do.

use super::{ProcessPaymentEvent, ProcessWalletRecharge, ReconcileRecharges};
use crate::{
    AppState,
    jobs::job::{Job as _, Queued, Recurring, Registry},
    wallet::{recharge, webhook},
};

pub fn register(registry: &mut Registry<AppState>) {
    registry
        .handle(|state, job: ProcessWalletRecharge| async move {
            recharge::process(&state, job.recharge_id).await
        })
        .handle(|state, job: ProcessPaymentEvent| async move {
            webhook::process_payment_event(&state, job.event_id).await
        })
        // The slot is the run's clock: what is overdue is judged against it.
        .handle(|state, job: ReconcileRecharges| async move {
            recharge::reconcile(&state, job.slot).await.map(|_| ())
        })
        .every(Recurring {
            name: ReconcileRecharges::KIND,
            expression: |config| &config.payments.schedule_reconcile,
            job: |slot| Queued::of(&ReconcileRecharges { slot }),
        });
}
