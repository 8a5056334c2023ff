//! How values are written to and read from columns: ids and addresses as
//! text, exact decimals as text, satoshis as INTEGER, times as ISO-8601 UTC
//! text with milliseconds (so that they sort as text). A value that does not
//! read back is a conversion error that names the column's content.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::Row;
use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rust_decimal::Decimal;

use crate::pocket::{ExchangeId, OrderId, timestamp};
use crate::wallet::Address;

/// A column whose text does not read as the type it stores.
pub(super) fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

/// A conversion error from a message.
pub(super) fn invalid(message: impl Into<String>) -> rusqlite::Error {
    conversion(std::io::Error::other(message.into()))
}

/// Text parsed with `FromStr`.
pub(super) fn parsed<T: FromStr>(row: &Row, i: usize) -> rusqlite::Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.get(i)?;
    text.parse()
        .map_err(|e: T::Err| invalid(format!("`{text}`: {e}")))
}

pub(super) fn decimal(row: &Row, i: usize) -> rusqlite::Result<Decimal> {
    parsed(row, i)
}

pub(super) fn decimal_opt(row: &Row, i: usize) -> rusqlite::Result<Option<Decimal>> {
    row.get::<_, Option<String>>(i)?
        .map(|t| t.parse::<Decimal>().map_err(conversion))
        .transpose()
}

/// Satoshis and heights are stored as INTEGER (i64).
pub(super) fn sats(row: &Row, i: usize) -> rusqlite::Result<Option<u64>> {
    row.get::<_, Option<i64>>(i)?
        .map(|v| u64::try_from(v).map_err(conversion))
        .transpose()
}

/// Satoshis as INTEGER; amounts beyond i64 (impossible for bitcoin) are capped.
pub(super) fn sats_column(v: Option<u64>) -> Option<i64> {
    v.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

pub(super) fn time(row: &Row, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(i)?;
    read_time(&text)
}

pub(super) fn time_opt(row: &Row, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    row.get::<_, Option<String>>(i)?
        .map(|text| read_time(&text))
        .transpose()
}

fn read_time(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| invalid(format!("`{text}` is not a time: {e}")))
}

/// A time as stored.
pub(super) fn time_text(t: &DateTime<Utc>) -> String {
    timestamp::format(t)
}

/// An address as stored (it was checked when it was derived).
pub(super) fn address(row: &Row, i: usize) -> rusqlite::Result<Address> {
    let text: String = row.get(i)?;
    crate::wallet::parse_address(&text).map_err(conversion)
}

macro_rules! text_id {
    ($name:ty) => {
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                value.as_str().map(<$name>::from)
            }
        }
    };
}

text_id!(OrderId);
text_id!(ExchangeId);
