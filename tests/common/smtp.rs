//! A small SMTP server on 127.0.0.1:0 for tests: it speaks enough ESMTP for
//! lettre (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it
//! accepts, and can be told to answer 451 ("try again later") instead, to
//! wait before its greeting (a slow server), or never to greet at all.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    /// While set, MAIL FROM is answered 451.
    pub refusing: Arc<AtomicBool>,
    /// Milliseconds to wait before the greeting; `u64::MAX`: never greet.
    pub greeting_delay: Arc<AtomicU64>,
}

impl SmtpSink {
    pub fn start(runtime: &tokio::runtime::Runtime) -> SmtpSink {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let refusing = Arc::new(AtomicBool::new(false));
        let greeting_delay = Arc::new(AtomicU64::new(0));
        let (m, r, g) = (mails.clone(), refusing.clone(), greeting_delay.clone());
        runtime.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (m, r) = (m.clone(), r.clone());
                let delay = g.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    if delay == u64::MAX {
                        // Accepts, then says nothing, holding the socket.
                        let _held = &socket;
                        std::future::pending::<()>().await;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                    let _ = session(socket, m, r).await;
                });
            }
        });
        SmtpSink {
            addr,
            mails,
            refusing,
            greeting_delay,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    pub fn refuse(&self, refuse: bool) {
        self.refusing.store(refuse, Ordering::SeqCst);
    }

    /// Greets each new connection only after `delay`.
    pub fn greet_after(&self, delay: std::time::Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX - 1);
        self.greeting_delay.store(millis, Ordering::SeqCst);
    }

    /// Accepts each new connection and never says a word.
    pub fn go_silent(&self) {
        self.greeting_delay.store(u64::MAX, Ordering::SeqCst);
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
    refusing: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 test.localhost ESMTP ready\r\n")
        .await?;
    let mut from = String::new();
    let mut to = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write
                .write_all(b"250-test.localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                .await?;
        } else if upper.starts_with("HELO") {
            write.write_all(b"250 test.localhost\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            if refusing.load(Ordering::SeqCst) {
                write
                    .write_all(b"451 4.3.0 temporarily unavailable, try later\r\n")
                    .await?;
            } else {
                from = address(&command[10..]);
                to.clear();
                write.write_all(b"250 2.1.0 OK\r\n").await?;
            }
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&command[8..]));
            write.write_all(b"250 2.1.5 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = Vec::new();
            loop {
                let mut raw = Vec::new();
                if lines.read_until(b'\n', &mut raw).await? == 0 {
                    return Ok(());
                }
                if raw == b".\r\n" || raw == b".\n" {
                    break;
                }
                let unstuffed = if raw.starts_with(b"..") {
                    &raw[1..]
                } else {
                    &raw[..]
                };
                data.extend_from_slice(unstuffed);
            }
            mails.lock().unwrap().push(Mail {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            write.write_all(b"250 2.0.0 OK queued\r\n").await?;
        } else if upper == "RSET" || upper == "NOOP" {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 5.5.2 not implemented\r\n").await?;
        }
    }
}

fn address(arg: &str) -> String {
    let arg = arg.trim();
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].to_string()
}
