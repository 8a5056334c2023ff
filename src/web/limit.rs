//! How fast passwords may be guessed: per client address, 5 failures in a
//! minute, then a wait that doubles with each time the limit is hit again
//! (1, 2, 4 … minutes, at most an hour); for everyone together, 100 failures
//! in a minute; and at most two password checks (argon2, slow on purpose)
//! at once. A refused attempt is answered before any password check, with
//! the wait. IPv6 clients are counted by their /64, which one machine
//! usually has whole. Pure bookkeeping over instants, tested as such.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per address in [`WINDOW`].
pub const PER_ADDRESS: usize = 5;
/// Failures allowed from all addresses together in [`WINDOW`].
pub const GLOBAL: usize = 100;
pub const WINDOW: Duration = Duration::from_secs(60);
/// The longest wait after repeated bursts.
const MAX_WAIT: Duration = Duration::from_secs(3600);
/// Addresses remembered at most (the oldest are forgotten first).
const MAX_ADDRESSES: usize = 10_000;
/// Password checks at once.
pub const CONCURRENT_CHECKS: usize = 2;

#[derive(Debug, Default)]
struct Record {
    failures: VecDeque<Instant>,
    /// How often this address hit the limit (the wait doubles each time).
    strikes: u32,
    blocked_until: Option<Instant>,
    last: Option<Instant>,
}

#[derive(Debug, Default)]
struct Books {
    addresses: HashMap<IpAddr, Record>,
    all: VecDeque<Instant>,
}

/// The login's limits.
#[derive(Debug, Default)]
pub struct Limiter {
    books: Mutex<Books>,
}

/// The address a client is counted under: IPv4 whole, IPv6 by its /64.
fn counted(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

fn prune(queue: &mut VecDeque<Instant>, now: Instant) {
    while queue
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        queue.pop_front();
    }
}

impl Limiter {
    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(wait)` when `ip` may not try a password now.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut books = self.books();
        prune(&mut books.all, now);
        if books.all.len() >= GLOBAL {
            let oldest = books.all.front().copied().unwrap_or(now);
            return Err(WINDOW.saturating_sub(now.duration_since(oldest)));
        }
        let Some(record) = books.addresses.get_mut(&counted(ip)) else {
            return Ok(());
        };
        match record.blocked_until {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Notes a wrong password from `ip`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut books = self.books();
        books.all.push_back(now);
        if books.addresses.len() >= MAX_ADDRESSES && !books.addresses.contains_key(&counted(ip)) {
            let oldest = books
                .addresses
                .iter()
                .min_by_key(|(_, r)| r.last)
                .map(|(ip, _)| *ip);
            if let Some(oldest) = oldest {
                books.addresses.remove(&oldest);
            }
        }
        let record = books.addresses.entry(counted(ip)).or_default();
        // A day without failures: a fresh start.
        if record
            .last
            .is_some_and(|t| now.duration_since(t) > Duration::from_secs(86_400))
        {
            *record = Record::default();
        }
        record.last = Some(now);
        prune(&mut record.failures, now);
        record.failures.push_back(now);
        if record.failures.len() >= PER_ADDRESS {
            record.strikes += 1;
            let wait = WINDOW
                .saturating_mul(1 << (record.strikes - 1).min(6))
                .min(MAX_WAIT);
            record.blocked_until = Some(now + wait);
            record.failures.clear();
        }
    }

    /// A right password from `ip`: its slate is clean.
    pub fn succeeded(&self, ip: IpAddr) {
        self.books().addresses.remove(&counted(ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_a_minute_then_a_wait_that_doubles() {
        let limiter = Limiter::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // (seconds, failed?, expected check before it)
        for s in 0..5 {
            assert_eq!(limiter.check(ip, at(s)), Ok(()), "attempt {s}");
            limiter.failed(ip, at(s));
        }
        // The sixth within the minute waits a minute from the fifth.
        assert_eq!(limiter.check(ip, at(10)), Err(Duration::from_secs(54)));
        assert_eq!(limiter.check(other, at(10)), Ok(()), "another address");
        assert_eq!(limiter.check(ip, at(64)), Ok(()));
        for s in 64..69 {
            limiter.failed(ip, at(s));
        }
        // The second time: two minutes.
        assert_eq!(limiter.check(ip, at(68)), Err(Duration::from_secs(120)));
        limiter.succeeded(ip);
        assert_eq!(limiter.check(ip, at(70)), Ok(()));
    }

    #[test]
    fn a_whole_ipv6_network_counts_as_one_and_everyone_has_a_ceiling() {
        let limiter = Limiter::default();
        let t0 = Instant::now();
        for i in 0..5u16 {
            let ip = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, i));
            limiter.failed(ip, t0);
        }
        let neighbour: IpAddr = "2001:db8:0:1::99".parse().unwrap();
        assert!(limiter.check(neighbour, t0).is_err());
        let elsewhere: IpAddr = "2001:db8:0:2::1".parse().unwrap();
        assert_eq!(limiter.check(elsewhere, t0), Ok(()));
        // 100 failures from 100 addresses: everybody waits.
        let limiter = Limiter::default();
        for i in 0..GLOBAL {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i as u32));
            limiter.failed(ip, t0 + Duration::from_millis(i as u64));
        }
        let fresh: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(limiter.check(fresh, t0 + Duration::from_secs(1)).is_err());
        assert_eq!(limiter.check(fresh, t0 + Duration::from_secs(61)), Ok(()));
    }
}
