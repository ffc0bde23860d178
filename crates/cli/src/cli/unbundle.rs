//! `warg-depsolve unbundle BUNDLED -o OUT [--store DIR] [--registry DIR |
//! --config FILE]`: the inverse of `bundle`, and of other tools'
//! compositions.
//!
//! A bundle made by `bundle` (it carries the `warg-depsolve-bundle`
//! record) is unbundled exactly: OUT gets the locked form, and each nested
//! dependency, restored to the registry's exact bytes (checked against the
//! digest the bundle records), goes to a content-addressed store (`--store
//! DIR`: `<DIR>/sha256/<hex>`, which `bundle --store DIR` reads) and/or is
//! published into a local registry (`--registry DIR`, wkg layout; an
//! existing release with other bytes is an error); one of them is needed
//! when there is a dependency to write. `bundle` of the locked form then
//! gives back the bundle byte for byte.
//!
//! A composition without the record (`wasm-tools compose`, wac, a bundle
//! after `wasm-tools strip`) is unbundled against the registries of
//! `--registry DIR` or `--config FILE` (required then): each nested
//! component that is one of their releases becomes a locked import of it,
//! the others stay inline; stderr says which were recognised and how many
//! stayed inline. `--store DIR` also gets the recognised releases' bytes.
//!
//! Packages are written first, the locked form last and atomically.
//!
//! JSON: the compose output shape (see [`compose_out`](super::compose_out)),
//! each package with `written_to` (the store file, else the registry file);
//! after recognition, each package with `nested` and the `inline` list.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use warg_depsolve::compose::has_record;
use warg_depsolve::NestedForm;
use warg_depsolve_registry::{ContentStore, LocalRegistry, DEFAULT_REGISTRY_NAME};

use super::common::RegistryArgs;
use super::compose_out::{print, print_with_inline, InlineRef, PackageRef, Written};
use super::Global;
use crate::input::read_wasm_file;
use crate::output::write_atomic;

/// Turn a bundle (or another tool's composition) back into the locked
/// form, storing (or publishing) the dependencies it nests.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The bundle (made by `warg-depsolve bundle`), or a composition
    /// without its record (`wasm-tools compose`, wac, `wasm-tools strip`).
    pub bundled: PathBuf,
    /// The output file for the locked form.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// A content-addressed store directory to write each dependency to.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// A local registry directory (wkg layout). A bundle made by
    /// `warg-depsolve bundle`: publish each dependency into it. A
    /// composition without the record: recognise its nested components
    /// among this registry's releases.
    #[arg(long, value_name = "DIR", conflicts_with = "config")]
    pub registry: Option<PathBuf>,
    /// A wkg-shaped `config.toml` whose registries a composition without
    /// the record is recognised against (else `$WARG_DEPSOLVE_CONFIG`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The cache directory, when recognising (as for `bundle`).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Use only the cache when recognising; never ask a registry.
    #[arg(long)]
    pub offline: bool,
}

/// Runs `unbundle`.
///
/// # Errors
///
/// The input is not a component; a bundle's dependency does not match its
/// recorded digest, or there is no `--store` or `--registry` to write its
/// dependencies to; a composition without the record and no `--registry`
/// or `--config`; a registry fails; the store or registry cannot be
/// written (or the registry holds that version with other bytes).
pub fn run(args: &Args, global: &Global, out: &mut dyn Write) -> anyhow::Result<()> {
    let input = args.bundled.display().to_string();
    let bundled = read_wasm_file(&args.bundled)?.bytes;
    if !has_record(&bundled).with_context(|| format!("cannot unbundle `{input}`"))? {
        return recognise(args, global, out, &bundled);
    }
    let unbundled =
        warg_depsolve::unbundle(&bundled).with_context(|| format!("cannot unbundle `{input}`"))?;
    if !unbundled.packages.is_empty() && args.store.is_none() && args.registry.is_none() {
        anyhow::bail!(
            "`{input}` nests {} dependencies: pass `--store DIR` or `--registry DIR` to write them to",
            unbundled.packages.len()
        );
    }
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
            nested: None,
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

/// `unbundle` of a composition without the record: recognise its nested
/// components in the configured registries.
fn recognise(
    args: &Args,
    global: &Global,
    out: &mut dyn Write,
    composition: &[u8],
) -> anyhow::Result<()> {
    let input = args.bundled.display().to_string();
    let configured = args.registry.is_some()
        || args.config.is_some()
        || std::env::var_os("WARG_DEPSOLVE_CONFIG").is_some_and(|v| !v.is_empty());
    if !configured {
        anyhow::bail!(
            "`{input}` carries no `warg-depsolve-bundle` record, so it is not a bundle made by \
             warg-depsolve; to recognise the components it nests among a registry's releases, \
             pass `--registry DIR` or `--config FILE`"
        );
    }
    let sources = RegistryArgs {
        registry: args.registry.clone(),
        config: args.config.clone(),
        cache: args.cache.clone(),
        timeout: None,
    }
    .open(args.offline)?;
    let recognised = warg_depsolve::recognise(composition, sources.source())
        .with_context(|| format!("cannot unbundle `{input}`"))?;
    let note = crate::report::notices();
    for (package, why) in &recognised.unavailable {
        note(&format!("`{package}` was not looked for: {why}"));
    }
    let store = args.store.as_ref().map(ContentStore::new);
    let mut packages = Vec::with_capacity(recognised.packages.len());
    for p in &recognised.packages {
        let label = format!("{}@{}", p.package, p.version);
        let written_to = match &store {
            Some(store) => {
                store
                    .insert(&p.digest, &p.bytes)
                    .with_context(|| format!("cannot store `{label}` from `{input}`"))?;
                Some(store.path_of(&p.digest).display().to_string())
            }
            None => None,
        };
        eprintln!(
            "recognised `{label}` ({}) nested {} at section {}",
            p.digest.to_oci(),
            p.form.describe(),
            p.section
        );
        packages.push(PackageRef {
            package: p.package.to_string(),
            version: p.version.to_string(),
            digest: p.digest.to_oci(),
            written_to,
            nested: Some(match p.form {
                NestedForm::Verbatim => "verbatim",
                NestedForm::Stripped => "stripped",
                NestedForm::WithoutCustomSections => "without-custom-sections",
            }),
        });
    }
    let inline: Vec<InlineRef> = recognised
        .inline
        .iter()
        .map(|c| InlineRef {
            section: c.section,
            digest: c.digest.to_oci(),
            size: c.size,
        })
        .collect();
    eprintln!(
        "recognised {} nested component{} in the registries; kept {} inline{}",
        packages.len(),
        if packages.len() == 1 { "" } else { "s" },
        inline.len(),
        if inline.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                inline
                    .iter()
                    .map(|c| format!("section {}: {}, {} bytes", c.section, c.digest, c.size))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
    );
    write_atomic(&args.output, &recognised.locked)?;
    print_with_inline(
        out,
        global,
        Written::of(
            "unbundle",
            "locked form",
            &args.bundled,
            &args.output,
            &recognised.locked,
        ),
        packages,
        Some(inline),
    )
}
