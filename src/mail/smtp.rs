//! One SMTP conversation per message, through lettre's connection type, with
//! a time limit on every step: the connect, the greeting, each command and
//! each answer. The limit sits on the socket itself ([`Patient`]): any read
//! or write that makes no progress for `[email] timeout_secs` fails, so a
//! server that accepts and never greets fails after that long — and one that
//! takes 20 s to greet, with a 30 s limit, is slow, not dead.
//!
//! `smtp://` is plain (`?tls=none` written out when there is a password),
//! `?tls=required` STARTTLS, `?tls=opportunistic` STARTTLS when offered;
//! `smtps://` TLS from the first byte. The user comes from the URL, the
//! password from `$SMTP_PASSWORD`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use url::Url;

use super::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    None,
    Opportunistic,
    Required,
    Wrapper,
}

/// Where and how to send.
pub(super) struct Smtp {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
}

impl Smtp {
    /// From `email.smtp_url` (already checked by the config) and the password.
    pub(super) fn new(
        url: &Url,
        password: Option<&str>,
        timeout: Duration,
    ) -> Result<Smtp, String> {
        // lettre's STARTTLS and our smtps:// use the process's provider.
        crate::pocket::install_crypto_provider();
        let tls_param = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", _) => (Tls::Wrapper, 465),
            ("smtp", Some("required")) => (Tls::Required, 587),
            ("smtp", Some("opportunistic")) => (Tls::Opportunistic, 587),
            ("smtp", None | Some("none")) => (Tls::None, 25),
            (scheme, tls) => return Err(format!("{scheme}:// with tls={tls:?} is not supported")),
        };
        let host = url
            .host_str()
            .ok_or("the URL has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8_lossy()
            .into_owned();
        let credentials = match (user.is_empty(), password) {
            (true, _) => None,
            (false, Some(password)) => Some(Credentials::new(user, password.to_string())),
            (false, None) => {
                return Err(format!(
                    "it names the user {user} but ${} is not set",
                    crate::config::SMTP_PASSWORD_ENV
                ));
            }
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_string()),
        };
        Ok(Smtp {
            port: url.port().unwrap_or(default_port),
            host,
            tls,
            credentials,
            hello,
            timeout,
        })
    }

    /// Sends one message; the server's last answer.
    pub(super) async fn send(&self, message: &Message) -> Result<String, Error> {
        let mut conn = self.connect().await?;
        let result = async {
            if let Some(credentials) = &self.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await
                    .map_err(smtp)?;
            }
            conn.send(message.envelope(), &message.formatted())
                .await
                .map_err(smtp)
        }
        .await;
        match result {
            Ok(response) => {
                let _ = conn.quit().await;
                Ok(response
                    .message()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(200)
                    .collect())
            }
            Err(e) => {
                conn.abort().await;
                Err(e)
            }
        }
    }

    /// Connects, reads the greeting, says EHLO, and secures the connection
    /// as configured.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Error> {
        let address = format!("{}:{}", self.host, self.port);
        let tcp = tokio::time::timeout(self.timeout, TcpStream::connect(&address))
            .await
            .map_err(|_| {
                Error::Smtp(format!(
                    "cannot connect to {address}: no answer within {} s",
                    self.timeout.as_secs()
                ))
            })?
            .map_err(|e| Error::Smtp(format!("cannot connect to {address}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let patient = Patient::new(tcp, self.timeout);
        let stream: Box<dyn AsyncTokioStream> = match self.tls {
            Tls::Wrapper => Box::new(self.wrap(patient).await?),
            _ => Box::new(patient),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(smtp)?;
        let parameters = || TlsParameters::new(self.host.clone()).map_err(smtp);
        match self.tls {
            Tls::Required if !conn.can_starttls() => {
                conn.abort().await;
                return Err(Error::Smtp(
                    "the server does not offer STARTTLS, and tls=required says not to go on without it".into(),
                ));
            }
            Tls::Required | Tls::Opportunistic if conn.can_starttls() => {
                conn.starttls(parameters()?, &self.hello)
                    .await
                    .map_err(smtp)?;
            }
            _ => {}
        }
        Ok(conn)
    }

    /// TLS from the first byte (`smtps://`), over the patient socket.
    async fn wrap(&self, patient: Patient<TcpStream>) -> Result<Wrapped, Error> {
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(self.host.clone())
            .map_err(|e| Error::Smtp(format!("{} is not a TLS server name: {e}", self.host)))?;
        let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, patient)
            .await
            .map_err(|e| Error::Smtp(format!("TLS with {} failed: {e}", self.host)))?;
        Ok(Wrapped(stream))
    }
}

fn smtp(e: lettre::transport::smtp::Error) -> Error {
    Error::Smtp(e.to_string())
}

/// A socket whose every read and write fails with `TimedOut` after waiting
/// `limit` without progress.
#[derive(Debug)]
pub(super) struct Patient<S> {
    inner: S,
    limit: Duration,
    read: Option<Pin<Box<Sleep>>>,
    write: Option<Pin<Box<Sleep>>>,
}

impl<S> Patient<S> {
    pub(super) fn new(inner: S, limit: Duration) -> Patient<S> {
        Patient {
            inner,
            limit,
            read: None,
            write: None,
        }
    }
}

/// Polls `op`; while it waits, a timer runs, and when the timer fires first
/// the wait ends with `TimedOut`. Progress clears the timer.
fn patiently<T>(
    timer: &mut Option<Pin<Box<Sleep>>>,
    limit: Duration,
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<T>>,
) -> Poll<io::Result<T>> {
    if let Poll::Ready(result) = op(cx) {
        *timer = None;
        return Poll::Ready(result);
    }
    let sleep =
        timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + limit)));
    ready!(sleep.as_mut().poll(cx));
    *timer = None;
    Poll::Ready(Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("the mail server sent nothing for {} s", limit.as_secs()),
    )))
}

impl<S: AsyncRead + Unpin> AsyncRead for Patient<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        patiently(&mut this.read, this.limit, cx, |cx| {
            Pin::new(inner).poll_read(cx, buf)
        })
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Patient<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        patiently(&mut this.write, this.limit, cx, |cx| {
            Pin::new(inner).poll_write(cx, buf)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        patiently(&mut this.write, this.limit, cx, |cx| {
            Pin::new(inner).poll_flush(cx)
        })
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Patient<TcpStream> {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.inner.peer_addr()
    }
}

/// The `smtps://` stream: TLS over the patient socket.
#[derive(Debug)]
struct Wrapped(tokio_rustls::client::TlsStream<Patient<TcpStream>>);

impl AsyncRead for Wrapped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Wrapped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Wrapped {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}
