//! The `pocket-dca` binary: parse the command line, run it, map the outcome
//! to an exit code. Everything else is in the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    pocket_dca::cli::quiet_on_closed_pipe();
    let cli = match pocket_dca::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(pocket_dca::cli::run(cli)) {
        Ok(code) => code,
        Err(err) if pocket_dca::cli::is_closed_pipe(&err) => pocket_dca::cli::closed_pipe(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
