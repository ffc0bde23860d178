//! `warg-depsolve man [COMMAND]`: the manual page (roff, clap_mangen) of
//! the program, or of one subcommand, on stdout.
//!
//! ```sh
//! warg-depsolve man > warg-depsolve.1 && man ./warg-depsolve.1
//! warg-depsolve man bundle > warg-depsolve-bundle.1
//! ```
//!
//! Text only: `--format json` is refused.

use std::io::Write;

use anyhow::Context as _;
use clap::CommandFactory as _;

use super::{Cli, Format, Global};

/// Print the manual page (roff) of the program or of one subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A subcommand whose page to print; the program's when omitted.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Runs `man`.
///
/// # Errors
///
/// An unknown subcommand (naming the known ones); `--format json`; a
/// failure to write.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    if global.format == Format::Json {
        anyhow::bail!("`man` writes a roff page: --format json does not apply");
    }
    let program = Cli::command();
    let page = match &args.command {
        None => program,
        Some(name) => {
            let known: Vec<String> = program
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let sub = program
                .find_subcommand(name)
                .with_context(|| format!("no subcommand `{name}` (known: {})", known.join(", ")))?
                .clone();
            // The page's title names the program too (`warg-depsolve-bundle`,
            // as git's pages do), and so does its synopsis.
            let title = format!("warg-depsolve-{}", sub.get_name());
            let usage = format!("warg-depsolve {}", sub.get_name());
            sub.display_name(title).bin_name(usage)
        }
    };
    clap_mangen::Man::new(page)
        .source(concat!("warg-depsolve ", env!("CARGO_PKG_VERSION")))
        .render(out)
        .context("failed to write the manual page")
}
