//! When a reminder is due: `[reminders] hour` on the order's day of the
//! month, in `[reminders] timezone`, computed per month with the zone's rules
//! so that daylight saving never shifts it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::orders::model::Day;

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub year: i32,
    pub month: u32,
}

impl Period {
    /// The month named `YYYY-MM`, else the month of `now` in `tz`.
    pub fn named_or_current(
        name: Option<&str>,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<Period, String> {
        match name {
            Some(text) => text.parse(),
            None => Ok(Period::of(now, tz)),
        }
    }

    /// The month that contains `now` in `tz`.
    pub fn of(now: DateTime<Utc>, tz: Tz) -> Period {
        let local = now.with_timezone(&tz);
        Period {
            year: local.year(),
            month: local.month(),
        }
    }

    pub fn previous(self) -> Period {
        if self.month == 1 {
            Period {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Period {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    pub fn next(self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    fn first(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }

    /// The number of days in the month.
    pub fn days(self) -> u32 {
        match (self.first(), self.next().first()) {
            (Some(a), Some(b)) => (b - a).num_days() as u32,
            _ => 28,
        }
    }

    /// The month's name in English and the year: `December 2026`.
    pub fn name(self) -> String {
        const NAMES: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        format!(
            "{} {}",
            NAMES[(self.month as usize).saturating_sub(1).min(11)],
            self.year
        )
    }

    /// The start of the month in `tz`, as an instant.
    pub fn start(self, tz: Tz) -> DateTime<Utc> {
        local_instant(tz, self.year, self.month, 1, 0)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a month; write YYYY-MM, like 2026-12");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if y.len() != 4 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Period { year, month })
    }
}

/// The day of the month an order's reminder falls on in `period`.
pub fn day_in(day: Day, period: Period) -> u32 {
    match day {
        Day::Of(d) => u32::from(d).min(period.days()),
        Day::Last => period.days(),
    }
}

/// The instant of `hour`:00 local time on that day: the earlier one when the
/// clock falls back, the first valid one after a gap when it springs forward.
pub fn due_at(period: Period, day: Day, hour: u8, tz: Tz) -> DateTime<Utc> {
    local_instant(
        tz,
        period.year,
        period.month,
        day_in(day, period),
        u32::from(hour),
    )
}

/// The first month an order is reminded for: the month it was created in
/// when that month's reminder time was still ahead, else the next one — a
/// transfer day already past when the order was made is not asked for at
/// once (the user may well have paid that month already).
pub fn first_period(created: DateTime<Utc>, day: Day, hour: u8, tz: Tz) -> Period {
    let period = Period::of(created, tz);
    if due_at(period, day, hour, tz) >= created {
        period
    } else {
        period.next()
    }
}

fn local_instant(tz: Tz, year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(year, month, day)
        .or_else(|| NaiveDate::from_ymd_opt(year, month, 1))
        .unwrap_or_default();
    // Step forward an hour at a time over a spring-forward gap.
    for shift in 0..3 {
        let Some(naive) = date.and_hms_opt((hour + shift).min(23), 0, 0) else {
            continue;
        };
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(earliest, _) => return earliest.with_timezone(&Utc),
            LocalResult::None => continue,
        }
    }
    Utc.from_utc_datetime(&date.and_hms_opt(hour.min(23), 0, 0).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn nine_o_clock_in_zurich_on_the_days_the_clock_changes() {
        let tz = chrono_tz::Europe::Zurich;
        // Last Sunday of March 2026 (29th): CEST from 02:00, so 09:00 is 07:00 UTC.
        let march = Period {
            year: 2026,
            month: 3,
        };
        assert_eq!(
            due_at(march, Day::Of(29), 9, tz),
            at("2026-03-29T07:00:00Z")
        );
        // The day before is still CET.
        assert_eq!(
            due_at(march, Day::Of(28), 9, tz),
            at("2026-03-28T08:00:00Z")
        );
        // Last Sunday of October 2026 (25th): CET again, 09:00 is 08:00 UTC.
        let october = Period {
            year: 2026,
            month: 10,
        };
        assert_eq!(
            due_at(october, Day::Of(25), 9, tz),
            at("2026-10-25T08:00:00Z")
        );
        assert_eq!(
            due_at(october, Day::Of(24), 9, tz),
            at("2026-10-24T07:00:00Z")
        );
        // An hour inside the gap moves to the first valid hour; in the
        // overlap, the earlier instant is taken.
        assert_eq!(
            due_at(march, Day::Of(29), 2, tz),
            at("2026-03-29T01:00:00Z")
        );
        assert_eq!(
            due_at(october, Day::Of(25), 2, tz),
            at("2026-10-25T00:00:00Z")
        );
    }

    #[test]
    fn last_day_and_short_months() {
        let feb = Period {
            year: 2027,
            month: 2,
        };
        assert_eq!(day_in(Day::Last, feb), 28);
        assert_eq!(
            day_in(
                Day::Last,
                Period {
                    year: 2028,
                    month: 2
                }
            ),
            29
        );
        assert_eq!(day_in(Day::Of(15), feb), 15);
        assert_eq!("2026-12".parse::<Period>().unwrap().name(), "December 2026");
        assert!("2026-13".parse::<Period>().is_err());
        assert_eq!(
            Period {
                year: 2026,
                month: 1
            }
            .previous()
            .to_string(),
            "2025-12"
        );
    }

    #[test]
    fn the_first_reminder_is_never_for_a_day_already_past() {
        let tz = chrono_tz::Europe::Zurich;
        // (created, day, first month reminded)
        let cases = [
            ("2026-11-30T10:00:00Z", Day::Of(1), "2026-12"),
            ("2026-11-30T10:00:00Z", Day::Last, "2026-12"),
            ("2026-11-30T06:00:00Z", Day::Last, "2026-11"),
            ("2026-11-02T10:00:00Z", Day::Of(15), "2026-11"),
            ("2026-11-15T07:59:59Z", Day::Of(15), "2026-11"),
            ("2026-11-15T08:00:01Z", Day::Of(15), "2026-12"),
            ("2026-12-31T23:30:00Z", Day::Of(1), "2027-01"),
            ("2026-12-20T12:00:00Z", Day::Of(28), "2026-12"),
        ];
        for (created, day, expected) in cases {
            let first = first_period(at(created), day, 9, tz);
            assert_eq!(first.to_string(), expected, "{created} day {day:?}");
        }
    }

    #[test]
    fn the_period_is_the_local_month() {
        let tz = chrono_tz::Europe::Zurich;
        // 23:30 UTC on 31 December is already January in Zurich.
        assert_eq!(
            Period::of(at("2026-12-31T23:30:00Z"), tz).to_string(),
            "2027-01"
        );
    }
}
