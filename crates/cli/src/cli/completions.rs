//! `warg-depsolve completions SHELL`: the shell's completion script for
//! every subcommand and option (clap_complete), on stdout.
//!
//! ```sh
//! warg-depsolve completions bash > ~/.local/share/bash-completion/completions/warg-depsolve
//! warg-depsolve completions zsh > ~/.zfunc/_warg-depsolve
//! warg-depsolve completions fish > ~/.config/fish/completions/warg-depsolve.fish
//! ```
//!
//! Text only: `--format json` is refused.

use std::io::Write;

use clap::CommandFactory as _;
use clap_complete::Shell;

use super::{Cli, Format, Global};

/// Print the completion script of a shell.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Runs `completions`.
///
/// # Errors
///
/// `--format json`; a failure to write.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    if global.format == Format::Json {
        anyhow::bail!("`completions` writes a shell script: --format json does not apply");
    }
    let mut command = Cli::command();
    // Into memory first: clap_complete panics on a failed write (a closed
    // pipe), where this program reports one.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "warg-depsolve", &mut script);
    out.write_all(&script)?;
    Ok(())
}
