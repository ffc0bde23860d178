//! The `warg-depsolve` binary: parse the command line, run it, and report
//! any error (with its chain of causes) on stderr with exit status 1.

use std::process::ExitCode;

use clap::Parser as _;
use warg_depsolve::cli::text::escape_controls;
use warg_depsolve::cli::Cli;

/// The exit status after SIGINT or SIGTERM (128 + SIGINT, as shells
/// report an interrupted command).
const INTERRUPTED: i32 = 130;

fn main() -> ExitCode {
    // An interrupted run removes the temporary files of the writes in
    // progress (outputs, lock files, cache and registry entries), so it
    // leaves nothing half-written behind. The handler runs on its own
    // thread, not in a signal context.
    let _ = ctrlc::set_handler(|| {
        warg_depsolve::registry::fsutil::remove_live_temporaries();
        std::process::exit(INTERRUPTED);
    });
    match Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        // Output piped into `head` and the like: stop quietly.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", escape_controls(&message(&e)));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated, as they are: no error's
/// message repeats its cause (the workspace's one error policy, see
/// `warg_depsolve_names::error`), so nothing needs removing.
fn message(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
