//! The `warg-depsolve` command line.
//!
//! One file per subcommand. Each file `src/cli/<name>.rs` defines
//! `pub struct Args` (clap's `#[derive(clap::Args)]`, with a doc comment that
//! becomes the subcommand's help) and
//! `pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()>`,
//! which writes its result to `out` in `global.format`. To add one: create
//! the file, add `pub mod <name>;` and a [`Command`] variant below, and one
//! arm in [`Cli::run`]. Shared text rendering lives in [`text`].
//!
//! Errors are returned, never printed: `main` prints them as
//! `error: <message>: <cause>: ...` and exits with status 1. A command that
//! has output worth showing despite an error (such as `inspect` on an import
//! with a malformed dependency reference) writes it first, then returns the
//! error.

use std::io::{self, Write};

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

pub mod bundle;
pub mod common;
pub mod completions;
pub mod compose_out;
pub mod inspect;
pub mod lock;
pub mod man;
pub mod migrate;
pub mod outdated;
pub mod publish;
pub mod resolve;
pub mod sbom;
pub mod text;
pub mod tree;
pub mod unbundle;
pub mod update;
pub mod vendor;
pub mod versions;
pub mod why;
pub mod yank;

/// Resolve, lock, bundle and unbundle WebAssembly component dependencies.
#[derive(Debug, Parser)]
#[command(name = "warg-depsolve", version, about)]
pub struct Cli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: Global,
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Output format of a subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for a person at a terminal.
    Text,
    /// JSON on one document, in the shape each subcommand documents.
    Json,
    /// CycloneDX 1.6 JSON (`sbom` only; its default).
    Cyclonedx,
    /// SPDX 2.3 JSON (`sbom` only).
    Spdx,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a component's imports (classified), exports, nested modules and
    /// components, and metadata.
    Inspect(inspect::Args),
    /// Publish a component as a release of a package in a registry.
    Publish(publish::Args),
    /// Mark a release yanked (or, with --undo, not).
    Yank(yank::Args),
    /// List a package's releases, yanked ones marked.
    Versions(versions::Args),
    /// Solve a component's dependencies, write the lock file, print the
    /// resolution.
    Resolve(resolve::Args),
    /// Print the dependency tree (shared packages marked).
    Tree(tree::Args),
    /// Show every path from the root to a package.
    Why(why::Args),
    /// Re-solve releasing the pins of the named packages (or all), and
    /// write the lock file.
    Update(update::Args),
    /// Write the locked form: dependencies imported, pinned by version and
    /// digest.
    Lock(lock::Args),
    /// Write the bundled form: every dependency nested, runnable as is.
    Bundle(bundle::Args),
    /// Turn a bundle back into the locked form, storing or publishing its
    /// dependencies.
    Unbundle(unbundle::Args),
    /// Rewrite a binary with raw depname imports into the current form.
    Migrate(migrate::Args),
    /// Show, for each pinned package, the newest version `update` would
    /// take and the newest release on any track.
    Outdated(outdated::Args),
    /// Copy every package of the resolution into a local registry
    /// directory, for builds with no network.
    Vendor(vendor::Args),
    /// Write a software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON)
    /// for a bundle, a locked form, or a root with its lock file.
    Sbom(sbom::Args),
    /// Print the completion script of a shell (bash, zsh, fish, ...).
    Completions(completions::Args),
    /// Print the manual page (roff) of the program or of one subcommand.
    Man(man::Args),
}

impl Cli {
    /// Runs the subcommand, writing its output to stdout.
    ///
    /// # Errors
    ///
    /// Whatever the subcommand reports, with context naming the files
    /// involved; also a failure to write to stdout.
    ///
    /// With `-o -` the output file is stdout, and the report goes to
    /// stderr instead.
    pub fn run(self) -> anyhow::Result<()> {
        if self.command.output().is_some_and(crate::output::is_stdout) {
            let mut report = text::EscapingWriter::new(io::stderr().lock());
            return self.run_to(&mut report);
        }
        let stdout = io::stdout();
        let mut out = text::EscapingWriter::new(io::BufWriter::new(stdout.lock()));
        let result = self.run_to(&mut out);
        // Output written before an error is still shown.
        let flushed = out.flush().context("failed to write to stdout");
        result.and(flushed)
    }

    /// Runs the subcommand, writing its output to `out`.
    ///
    /// # Errors
    ///
    /// As [`Cli::run`].
    pub fn run_to(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let sbom_only = matches!(self.global.format, Format::Cyclonedx | Format::Spdx);
        if sbom_only && !matches!(self.command, Command::Sbom(_)) {
            anyhow::bail!(
                "--format {} applies to `sbom` only: use text or json",
                self.global
                    .format
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_string())
            );
        }
        match &self.command {
            Command::Inspect(args) => inspect::run(args, &self.global, out),
            Command::Publish(args) => publish::run(args, &self.global, out),
            Command::Yank(args) => yank::run(args, &self.global, out),
            Command::Versions(args) => versions::run(args, &self.global, out),
            Command::Resolve(args) => resolve::run(args, &self.global, out),
            Command::Tree(args) => tree::run(args, &self.global, out),
            Command::Why(args) => why::run(args, &self.global, out),
            Command::Update(args) => update::run(args, &self.global, out),
            Command::Lock(args) => lock::run(args, &self.global, out),
            Command::Bundle(args) => bundle::run(args, &self.global, out),
            Command::Unbundle(args) => unbundle::run(args, &self.global, out),
            Command::Migrate(args) => migrate::run(args, &self.global, out),
            Command::Outdated(args) => outdated::run(args, &self.global, out),
            Command::Vendor(args) => vendor::run(args, &self.global, out),
            Command::Sbom(args) => sbom::run(args, &self.global, out),
            Command::Completions(args) => completions::run(args, &self.global, out),
            Command::Man(args) => man::run(args, &self.global, out),
        }
    }
}

impl Command {
    /// The output file of a command that writes one (`-o`).
    pub fn output(&self) -> Option<&std::path::Path> {
        match self {
            Command::Lock(args) => Some(&args.output),
            Command::Bundle(args) => Some(&args.output),
            Command::Unbundle(args) => Some(&args.output),
            Command::Migrate(args) => Some(&args.output),
            Command::Inspect(_)
            | Command::Publish(_)
            | Command::Yank(_)
            | Command::Versions(_)
            | Command::Resolve(_)
            | Command::Tree(_)
            | Command::Why(_)
            | Command::Update(_)
            | Command::Outdated(_)
            | Command::Vendor(_)
            | Command::Sbom(_)
            | Command::Completions(_)
            | Command::Man(_) => None,
        }
    }
}

/// Writes `value` as pretty JSON followed by a newline.
///
/// # Errors
///
/// Serialization or writing failed.
pub fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).context("failed to write JSON")?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }

    #[test]
    fn format_is_global() {
        let cli = Cli::try_parse_from(["warg-depsolve", "inspect", "x.wasm", "--format", "json"])
            .unwrap();
        assert_eq!(cli.global.format, Format::Json);
        let cli =
            Cli::try_parse_from(["warg-depsolve", "--format=json", "inspect", "x.wasm"]).unwrap();
        assert_eq!(cli.global.format, Format::Json);
    }
}
