//! Monthly payment reminders and alert e-mails.
//!
//! A reminder for (order, month) is due at `[reminders] hour` on the order's
//! day in `[reminders] timezone`. Once due, it is sent (and recorded) once:
//! after the mail server accepted it, it is not sent again; a failure is
//! retried with backoff and stays visible as failing; a reminder missed while
//! the service was down goes out as soon as it runs again, if its month is
//! still the current one. Paused orders get none, nor an order whose purchase
//! for the month already arrived, nor an order for a month whose reminder
//! time had passed when it was created. Time is an input: nothing here reads the
//! clock.

pub mod compose;
mod due;
mod error;
mod list;
mod notify;
pub mod schedule;
mod settings;

pub use due::{Outcome, backoff, next_due, recipients, run_due, send};
pub use error::Error;
pub use list::{Listed, list};
pub use notify::{detect_missed_orders, mail_alerts};
pub use schedule::{Period, due_at, first_period};
pub use settings::Settings;
