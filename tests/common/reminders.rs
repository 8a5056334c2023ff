//! The reminder tests' world: the sandbox, an SMTP server and a wallet on
//! 127.0.0.1, a config that sends through them, and readers for what
//! arrives (the MIME parts, the QR code decoded by a decoder independent of
//! the encoder).
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use mail_parser::MimeHeaders;
use pocket_dca::config::{Config, ProcessEnv};
use pocket_dca::mail::Mailer;
use pocket_dca::pocket::OrderId;
use pocket_dca::reminders::{self, Outcome, Period, Settings};
use pocket_dca::sandbox::Options;
use pocket_dca::sandbox::wallet::HotWallet;
use pocket_dca::store::{ReminderRow, Store};
use pocket_dca::wallet::{Network, ScriptType};
use serde_json::{Value, json};

use super::TestSandbox;
use super::smtp::SmtpSink;

pub const CLIENT: &str = "reminder-test";
pub const IBAN: &str = "DE75512108001245126199";

pub struct World {
    pub sandbox: TestSandbox,
    pub smtp: SmtpSink,
    pub dir: tempfile::TempDir,
    pub wallet: HotWallet,
}

pub fn world() -> World {
    world_with("")
}

pub fn world_with(extra_email: &str) -> World {
    let runtime = super::runtime();
    let smtp = SmtpSink::start(&runtime);
    let sandbox = TestSandbox::start_on(runtime, Options::new(CLIENT, Network::Testnet));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pocket-dca.toml"),
        format!(
            "[database]\npath = \"dca.sqlite3\"\n[bitcoin]\nnetwork = \"testnet\"\n[pocket]\nbase_url = \"{}\"\nclient_id = \"{CLIENT}\"\n[email]\nfrom = \"pocket-dca <dca@example.com>\"\nto = \"me@example.com\"\nsmtp_url = \"{}\"\n{extra_email}[reminders]\ntimezone = \"Europe/Zurich\"\nhour = 9\n[sync]\ninterval_minutes = 0\n",
            sandbox.base_url(),
            smtp.url()
        ),
    )
    .unwrap();
    World {
        sandbox,
        smtp,
        dir,
        wallet: HotWallet::from_seed(&[21u8; 32], Network::Testnet).unwrap(),
    }
}

impl World {
    /// An order made in November 2026 (by the sandbox's clock, which
    /// Pocket's `created_on` comes from), so that the dates below hold
    /// whenever the tests run.
    pub fn create_order(&self, currency: &str, script_type: ScriptType, day: &str) -> Value {
        self.create_order_at("2026-11-20T12:00:00Z", currency, script_type, day)
    }

    pub fn create_order_at(
        &self,
        created: &str,
        currency: &str,
        script_type: ScriptType,
        day: &str,
    ) -> Value {
        let descriptor = self.wallet.account_descriptor(script_type).unwrap();
        self.sandbox
            .post("/sandbox/clock", json!({"now": chrono::Utc::now()}));
        super::create_order_signed(
            self.dir.path(),
            &descriptor,
            |path, _, message| {
                // The challenge was made at the real time (the tool checks
                // its expiry by the real clock); the order is made at
                // `created` by Pocket's clock.
                self.sandbox.post("/sandbox/clock", json!({"now": created}));
                self.wallet
                    .sign(script_type, &path.parse().unwrap(), message)
                    .unwrap()
            },
            &["--currency", currency, "--day", day],
            &["--label", "stack"],
        )
    }

    pub fn config(&self) -> Config {
        Config::load(&self.dir.path().join("pocket-dca.toml"), &ProcessEnv).unwrap()
    }

    pub fn store(&self) -> Store {
        Store::open(&self.dir.path().join("dca.sqlite3")).unwrap()
    }

    pub fn settings(&self) -> Settings {
        Settings::from_config(&self.config())
    }

    /// The mailer `serve` builds from this world's config.
    pub fn mailer(&self) -> Mailer {
        Mailer::from_config(&self.config().email).unwrap()
    }

    pub fn run_due(&self, now: DateTime<Utc>) -> Vec<(OrderId, Period, Outcome)> {
        let mailer = self.mailer();
        let mut store = self.store();
        self.sandbox
            .runtime
            .block_on(reminders::run_due(
                &mut store,
                &mailer,
                &self.settings(),
                now,
            ))
            .unwrap()
    }

    /// One pass of the alert mailer, as `serve` runs it: how many went out.
    pub fn mail_alerts(&self, now: DateTime<Utc>) -> usize {
        let mailer = self.mailer();
        let mut store = self.store();
        self.sandbox
            .runtime
            .block_on(reminders::mail_alerts(
                &mut store,
                &mailer,
                self.settings().timezone,
                now,
            ))
            .unwrap()
    }

    /// The recorded reminder of an order for a month.
    pub fn reminder(&self, order_id: &str, period: &str) -> ReminderRow {
        self.store()
            .reminder(&OrderId::from(order_id), period)
            .unwrap()
            .unwrap()
    }
}

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The parts of a received e-mail.
pub struct Parsed {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub png: Option<(String, Vec<u8>)>,
    pub multipart: String,
}

pub fn parse(data: &[u8]) -> Parsed {
    let message = mail_parser::MessageParser::default().parse(data).unwrap();
    let png = message.parts.iter().find_map(|part| {
        let ct = part.content_type()?;
        (ct.ctype() == "image" && ct.subtype() == Some("png")).then(|| {
            (
                part.content_id().unwrap_or("").to_string(),
                part.contents().to_vec(),
            )
        })
    });
    let root = message.parts[0].content_type().unwrap();
    Parsed {
        subject: message.subject().unwrap().to_string(),
        text: message.body_text(0).unwrap().to_string(),
        html: message.body_html(0).unwrap().to_string(),
        png,
        multipart: format!("{}/{}", root.ctype(), root.subtype().unwrap_or("")),
    }
}

/// Decodes the QR code in a PNG with rqrr (not the encoder's library).
pub fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_meta, content) = grids[0].decode().unwrap();
    content
}
