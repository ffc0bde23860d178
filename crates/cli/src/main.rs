//! The `warg-depsolve` binary: parse the command line, run it, and report
//! any error (with its chain of causes) on stderr with exit status 1.
//!
//! The work is the library's (package `warg-depsolve`); this package owns
//! what only a command line needs: argument parsing ([`cli`], clap),
//! reading component files ([`input`]), writing outputs ([`output`]),
//! what the sources report shown on stderr ([`report`]: warnings, notices,
//! download bars) and the signal handler.

mod cli;
mod input;
mod output;
mod report;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::text::escape_controls;
use crate::cli::Cli;

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
            if let Some(hinted) = e.chain().find_map(|c| c.downcast_ref::<report::Hinted>()) {
                eprintln!("hint: {}", hinted.hint);
            }
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
