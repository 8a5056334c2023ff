//! When reminders are due and when a missing purchase is reported, from
//! the `[reminders]` section of the config.

use chrono_tz::Tz;

use crate::config::Config;

/// When reminders are due and when a missing purchase is reported.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub timezone: Tz,
    pub hour: u8,
    /// Days after the reminder day without an exchange before the
    /// missed-standing-order alert.
    pub missed_after_days: u32,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            timezone: config.reminders.timezone,
            hour: config.reminders.hour,
            missed_after_days: config.reminders.missed_after_days,
        }
    }
}
