//! The local plan of an order and the checks of what a user may ask for:
//! amount, day, recipients, the wallet's gap limit, Pocket's fee rate.

use rust_decimal::Decimal;

use super::error::Error;
use super::model::{Day, MAX_GAP_LIMIT};
use crate::pocket::{MAX_FEE_RATE, MIN_FEE_RATE};

/// The local plan of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub amount: Decimal,
    pub day: Day,
    pub emails: Vec<String>,
    pub label: Option<String>,
    pub wallet_gap_limit: u32,
}

/// Checks a plan's values.
pub fn validate_plan(plan: &Plan) -> Result<(), Error> {
    validate_amount(plan.amount)?;
    if plan.wallet_gap_limit == 0 || plan.wallet_gap_limit > MAX_GAP_LIMIT {
        return Err(Error::GapLimit(plan.wallet_gap_limit));
    }
    for email in &plan.emails {
        email
            .parse::<lettre::message::Mailbox>()
            .map_err(|_| Error::Email(email.clone()))?;
    }
    Ok(())
}

pub(super) fn validate_amount(amount: Decimal) -> Result<(), Error> {
    if amount <= Decimal::ZERO
        || amount.normalize().scale() > 2
        || amount > Decimal::new(99_999_999_999, 2)
    {
        return Err(Error::Amount(amount));
    }
    Ok(())
}

pub fn validate_fee_rate(rate: Decimal) -> Result<(), Error> {
    if rate < MIN_FEE_RATE || rate > MAX_FEE_RATE {
        return Err(Error::FeeRate(rate));
    }
    Ok(())
}
