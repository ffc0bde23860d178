//! `warg-depsolve unbundle BUNDLED -o OUT (--store DIR | --registry DIR)`:
//! the exact inverse of `bundle`.
//!
//! Writes the locked form to OUT and each nested dependency, restored to the
//! registry's exact bytes (checked against the digest the bundle records),
//! to a content-addressed store (`--store DIR`: `<DIR>/sha256/<hex>`, which
//! `bundle --store DIR` reads) and/or publishes it into a local registry
//! (`--registry DIR`, wkg layout; an existing release with other bytes is
//! an error). `bundle` of the locked form then gives back the bundle byte
//! for byte. Packages are written first, the locked form last and
//! atomically.
//!
//! JSON: the compose output shape (see [`compose_out`](super::compose_out)),
//! each package with `written_to` (the store file, else the registry file).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use warg_depsolve_registry::{ContentStore, LocalRegistry, DEFAULT_REGISTRY_NAME};

use super::compose_out::{print, PackageRef, Written};
use super::Global;
use crate::input::read_wasm_file;
use crate::output::write_atomic;

/// Turn a bundle back into the locked form, storing (or publishing) the
/// dependencies it nests.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("destination").required(true).multiple(true).args(["store", "registry"])))]
pub struct Args {
    /// The bundle (made by `warg-depsolve bundle`).
    pub bundled: PathBuf,
    /// The output file for the locked form.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// A content-addressed store directory to write each dependency to.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// A local registry directory (wkg layout) to publish each dependency
    /// into.
    #[arg(long, value_name = "DIR")]
    pub registry: Option<PathBuf>,
}

/// Runs `unbundle`.
///
/// # Errors
///
/// The input is not a bundle made by this tool; a dependency does not
/// match its recorded digest; the store or registry cannot be written (or
/// the registry holds that version with other bytes).
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let input = args.bundled.display().to_string();
    let bundled = read_wasm_file(&args.bundled)?.bytes;
    let unbundled =
        warg_depsolve::unbundle(&bundled).with_context(|| format!("cannot unbundle `{input}`"))?;
    let store = args.store.as_ref().map(ContentStore::new);
    let registry = args
        .registry
        .as_ref()
        .map(|dir| LocalRegistry::new(DEFAULT_REGISTRY_NAME, dir));
    let mut packages = Vec::with_capacity(unbundled.packages.len());
    for p in &unbundled.packages {
        let label = format!("{}@{}", p.package, p.version);
        let mut written_to = None;
        if let Some(store) = &store {
            store
                .insert(&p.digest, &p.bytes)
                .with_context(|| format!("cannot store `{label}` from `{input}`"))?;
            written_to = Some(store.path_of(&p.digest).display().to_string());
        }
        if let Some(registry) = &registry {
            registry
                .publish(&p.package, &p.version, &p.bytes)
                .with_context(|| {
                    format!(
                        "cannot publish `{label}` from `{input}` into the local registry `{}`",
                        registry.root().display()
                    )
                })?;
            if written_to.is_none() {
                written_to = registry
                    .release_path(&p.package, &p.version)
                    .ok()
                    .map(|p| p.display().to_string());
            }
        }
        packages.push(PackageRef {
            package: p.package.to_string(),
            version: p.version.to_string(),
            digest: p.digest.to_oci(),
            written_to,
        });
    }
    write_atomic(&args.output, &unbundled.locked)?;
    print(
        out,
        global,
        Written::of(
            "unbundle",
            "locked form",
            &args.bundled,
            &args.output,
            &unbundled.locked,
        ),
        packages,
    )
}
