//! `pocket-dca completions`: shell completion scripts.

use std::process::ExitCode;

/// Print a completion script for a shell.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  pocket-dca completions bash > /etc/bash_completion.d/pocket-dca
  pocket-dca completions zsh > \"${fpath[1]}/_pocket-dca\"
  pocket-dca completions fish > ~/.config/fish/completions/pocket-dca.fish")]
pub struct Args {
    /// The shell
    shell: clap_complete::Shell,
}

/// Prints the completion script of `command`, the whole command line.
pub(super) fn run(args: Args, mut command: clap::Command) -> anyhow::Result<ExitCode> {
    clap_complete::generate(
        args.shell,
        &mut command,
        "pocket-dca",
        &mut std::io::stdout(),
    );
    Ok(ExitCode::SUCCESS)
}
