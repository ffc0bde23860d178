//! `warg-depsolve migrate LEGACY -o OUT`: rewrite a warg-era binary.
//!
//! Every top-level import named by a raw depname (`unlocked-dep=<...>`,
//! `locked-dep=<...>`) becomes a kebab import name taken from the package
//! (`inc`) carrying the old string as its `external-id`; every other byte is
//! kept. Every other command then works on the output. Written atomically.
//!
//! JSON: the compose output shape (see [`compose_out`](super::compose_out))
//! with an empty `packages`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;

use super::compose_out::{print, Written};
use super::Global;
use crate::input::read_wasm_file;
use crate::output::write_atomic;

/// Rewrite a binary whose imports are raw depnames (pre-2026) into the
/// current form: kebab names carrying the depname as their external-id.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The legacy component binary.
    pub legacy: PathBuf,
    /// The output file.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
}

/// Runs `migrate`.
///
/// # Errors
///
/// The input is not a component or a depname does not parse; the output
/// cannot be written.
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let input = args.legacy.display().to_string();
    let legacy = read_wasm_file(&args.legacy)?.bytes;
    let migrated =
        warg_depsolve::migrate(&legacy).with_context(|| format!("cannot migrate `{input}`"))?;
    write_atomic(&args.output, &migrated)?;
    print(
        out,
        global,
        Written::of(
            "migrate",
            "migrated component",
            &args.legacy,
            &args.output,
            &migrated,
        ),
        Vec::new(),
    )
}
