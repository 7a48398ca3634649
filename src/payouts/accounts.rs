//! Payout accounts: where a user is paid, a UPI VPA or a bank account (one per user; setting
//! another replaces it). The input is validated (VPA and IFSC formats, account number digits)
//! before the payout provider sees it; with RazorpayX the account becomes a contact and a fund
//! account there, and only then is it stored. Of a bank account number only the last four
//! digits are kept.

use chrono::{SubsecRound as _, Utc};
use entity::{
    payout_accounts::{self, PayoutAccountKind},
    users,
};
use sea_orm::{ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait as _};
use uuid::Uuid;

use crate::{
    AppState,
    error::{AppError, AppResult},
    wallet::providers::{AccountDetails, AccountHolder},
};

/// What a user asked for, before validation.
#[derive(Debug, Clone, Default)]
pub struct PayoutAccountRequest {
    pub vpa: Option<String>,
    pub account_number: Option<String>,
    pub ifsc: Option<String>,
    pub holder_name: Option<String>,
}

/// A UPI VPA: `handle@provider`, the handle of letters, digits, `.`, `-`, `_` (2 to 256), the
/// provider of letters and digits starting with a letter (2 to 64).
pub fn valid_vpa(vpa: &str) -> bool {
    let Some((handle, bank)) = vpa.split_once('@') else {
        return false;
    };
    (2..=256).contains(&handle.len())
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && (2..=64).contains(&bank.len())
        && bank.starts_with(|c: char| c.is_ascii_alphabetic())
        && bank.chars().all(|c| c.is_ascii_alphanumeric())
}

/// An IFSC: four letters (the bank), a zero, six letters or digits (the branch).
pub fn valid_ifsc(ifsc: &str) -> bool {
    let bytes = ifsc.as_bytes();
    bytes.len() == 11
        && bytes[..4].iter().all(u8::is_ascii_uppercase)
        && bytes[4] == b'0'
        && bytes[5..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Checks the request: a VPA alone, or a complete bank account.
pub fn validate(request: &PayoutAccountRequest) -> AppResult<AccountDetails> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (vpa, number, ifsc, holder) = (
        given(&request.vpa),
        given(&request.account_number),
        given(&request.ifsc),
        given(&request.holder_name),
    );
    match (vpa, number.is_some() || ifsc.is_some() || holder.is_some()) {
        (Some(_), true) => Err(AppError::bad_request(
            "give a VPA or a bank account, not both",
        )),
        (Some(vpa), false) => {
            let vpa = vpa.to_lowercase();
            if !valid_vpa(&vpa) {
                return Err(AppError::bad_input(
                    "vpa",
                    "not a UPI VPA (like name@okbank)",
                ));
            }
            Ok(AccountDetails::Vpa(vpa))
        }
        (None, false) => Err(AppError::bad_request(
            "give a VPA, or an account number, IFSC and holder name",
        )),
        (None, true) => {
            let number = number.ok_or_else(|| {
                AppError::bad_input("accountNumber", "the account number is required")
            })?;
            if !(9..=18).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_digit()) {
                return Err(AppError::bad_input(
                    "accountNumber",
                    "an account number is 9 to 18 digits",
                ));
            }
            let ifsc = ifsc
                .ok_or_else(|| AppError::bad_input("ifsc", "the IFSC is required"))?
                .to_uppercase();
            if !valid_ifsc(&ifsc) {
                return Err(AppError::bad_input(
                    "ifsc",
                    "not an IFSC (4 letters, 0, 6 letters or digits, like HDFC0001234)",
                ));
            }
            let holder_name = holder.ok_or_else(|| {
                AppError::bad_input("holderName", "the account holder's name is required")
            })?;
            if holder_name.chars().count() > 120 {
                return Err(AppError::bad_input("holderName", "at most 120 characters"));
            }
            Ok(AccountDetails::Bank {
                account_number: number,
                ifsc,
                holder_name,
            })
        }
    }
}

/// The user's payout account, if set.
pub async fn find(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
) -> AppResult<Option<payout_accounts::Model>> {
    Ok(payout_accounts::Entity::find()
        .filter(payout_accounts::Column::UserId.eq(user_id))
        .one(conn)
        .await?)
}

/// `setPayoutAccount`: validates, registers with the payout provider, stores (replacing the
/// user's previous account).
#[tracing::instrument(skip_all, fields(user = %user_id))]
pub async fn set(
    state: &AppState,
    user_id: Uuid,
    request: &PayoutAccountRequest,
) -> AppResult<payout_accounts::Model> {
    let details = validate(request)?;
    let user = users::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let provider = state.providers.payouts();
    let registered = provider
        .register_account(
            &AccountHolder {
                user_id,
                name: user.full_name.clone(),
                email: user.email.clone(),
            },
            &details,
        )
        .await?;
    // PostgreSQL keeps microseconds: the answer matches what a later read returns.
    let now = Utc::now().trunc_subsecs(6);
    let (kind, vpa, last4, ifsc, holder) = match details {
        AccountDetails::Vpa(vpa) => (PayoutAccountKind::Vpa, Some(vpa), None, None, None),
        AccountDetails::Bank {
            account_number,
            ifsc,
            holder_name,
        } => (
            PayoutAccountKind::Bank,
            None,
            Some(account_number[account_number.len().saturating_sub(4)..].to_owned()),
            Some(ifsc),
            Some(holder_name),
        ),
    };
    let account = payout_accounts::Model {
        id: crate::db::new_id(),
        user_id,
        kind,
        vpa,
        account_number_last4: last4,
        ifsc,
        holder_name: holder,
        verified_at: registered.fund_account_id.is_some().then_some(now),
        provider_contact_id: registered.contact_id,
        provider_fund_account_id: registered.fund_account_id,
        created_at: now,
        updated_at: now,
    };
    let txn = state.db.begin().await?;
    payout_accounts::Entity::delete_many()
        .filter(payout_accounts::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    payout_accounts::Entity::insert(payout_accounts::ActiveModel::from(account.clone()))
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    tracing::info!(kind = ?account.kind, provider = provider.name(), "payout account set");
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpas_and_ifscs_are_checked_by_format() {
        assert!(valid_vpa("ravi.kumar-1@okhdfcbank"));
        assert!(valid_vpa("98200@ybl"));
        for bad in [
            "ravi",
            "r@b",
            "ravi@@okaxis",
            "ravi kumar@okaxis",
            "ravi@1bank",
            "@upi",
        ] {
            assert!(!valid_vpa(bad), "{bad}");
        }
        assert!(valid_ifsc("HDFC0001234"));
        assert!(valid_ifsc("SBIN0ABC123"));
        for bad in [
            "HDFC1001234",
            "HDF00001234",
            "HDFC000123",
            "hdfc0001234",
            "HDFC0001234X",
        ] {
            assert!(!valid_ifsc(bad), "{bad}");
        }
    }

    #[test]
    fn a_request_is_a_vpa_or_a_whole_bank_account() {
        let vpa = PayoutAccountRequest {
            vpa: Some(" Ravi@OkAxis ".into()),
            ..Default::default()
        };
        assert_eq!(
            validate(&vpa).ok(),
            Some(AccountDetails::Vpa("ravi@okaxis".into()))
        );
        let both = PayoutAccountRequest {
            vpa: Some("ravi@okaxis".into()),
            ifsc: Some("HDFC0001234".into()),
            ..Default::default()
        };
        assert!(validate(&both).is_err());
        let no_ifsc = PayoutAccountRequest {
            account_number: Some("123456789012".into()),
            holder_name: Some("Ravi".into()),
            ..Default::default()
        };
        assert!(matches!(
            validate(&no_ifsc),
            Err(AppError::BadUserInput { field: Some(f), .. }) if f == "ifsc"
        ));
        assert!(validate(&PayoutAccountRequest::default()).is_err());
    }
}
