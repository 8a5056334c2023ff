//! `pocket-dca completions`: shell completion scripts.

use std::process::ExitCode;

use clap::CommandFactory;

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

pub(super) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut command = super::Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "pocket-dca",
        &mut std::io::stdout(),
    );
    Ok(ExitCode::SUCCESS)
}
