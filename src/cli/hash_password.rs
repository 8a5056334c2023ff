//! `pocket-dca hash-password`: an argon2 hash for the dashboard login.

use std::io::{BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use anyhow::bail;

use crate::web::auth::hash_password;

/// Print an argon2 hash of a password, for [server] dashboard_password_hash.
///
/// Reads the password from standard input (one line; on a terminal it is
/// asked for and not shown). With a password hash
/// set, the dashboard asks for the password and may listen on a
/// non-loopback address.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  read -rs PASS && printf '%s\\n' \"$PASS\" | pocket-dca hash-password")]
pub struct Args {}

pub(super) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin();
    let mut line = String::new();
    if stdin.is_terminal() {
        // Read without echo, like passwd.
        line = rpassword::prompt_password("Password (not shown): ")?;
    } else {
        stdin.lock().read_line(&mut line)?;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 8 {
        bail!("the password is shorter than 8 characters; choose a longer one");
    }
    let hash = hash_password(password).map_err(anyhow::Error::msg)?;
    println!("{hash}");
    Ok(ExitCode::SUCCESS)
}
