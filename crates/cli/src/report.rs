//! What the sources report, shown on stderr: warnings, notices and download
//! bars. The library prints nothing; the command line hands it these sinks
//! ([`crate::cli::common::RegistryArgs::open`]).

use std::io::IsTerminal as _;
use std::sync::Arc;

use warg_depsolve_registry::cache::Warn;
use warg_depsolve_registry::progress::{Download, Progress};

use crate::cli::text::escape_controls;

/// Warnings of the sources (a damaged cache file discarded), printed as
/// `warning: ...` on stderr.
pub fn warnings() -> Warn {
    Arc::new(|message| eprintln!("warning: {}", escape_controls(message)))
}

/// Notices of the sources (a registry slow to answer), printed as
/// `note: ...` on stderr, whether or not stderr is a terminal.
pub fn notices() -> Warn {
    Arc::new(|message| eprintln!("note: {}", escape_controls(message)))
}

/// Download bars on stderr when it is a terminal; nothing otherwise (a
/// log or a pipe gets no redrawn lines).
pub fn progress() -> Option<Arc<dyn Progress>> {
    std::io::stderr()
        .is_terminal()
        .then(|| Arc::new(Bars) as Arc<dyn Progress>)
}

/// Draws each download as an indicatif bar on stderr.
struct Bars;

impl Progress for Bars {
    fn download(&self, registry: &str, item: &str, total: Option<u64>) -> Box<dyn Download> {
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::no_length(),
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
        ) {
            bar.set_style(style);
        }
        bar.set_prefix(format!(
            "downloading {} from {}",
            escape_controls(item),
            escape_controls(registry)
        ));
        Box::new(Bar(bar))
    }
}

/// One download's bar.
struct Bar(indicatif::ProgressBar);

impl Download for Bar {
    fn received(&mut self, bytes: u64) {
        self.0.set_position(bytes);
    }

    fn finish(self: Box<Self>) {
        self.0.finish_and_clear();
    }

    fn abandon(self: Box<Self>) {
        self.0.abandon();
    }
}

/// An error with advice on what to pass on the command line: shown as the
/// error itself (same message, same causes), then `hint: ...` on a line of
/// its own ([`crate::main`]), so the advice never reads as a cause.
#[derive(Debug)]
pub struct Hinted {
    error: Box<dyn std::error::Error + Send + Sync>,
    /// The advice.
    pub hint: &'static str,
}

impl Hinted {
    /// `error`, with `hint`.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static, hint: &'static str) -> Self {
        Hinted {
            error: Box::new(error),
            hint,
        }
    }
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Hinted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}
