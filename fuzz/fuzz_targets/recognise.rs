//! `recognise` of mutated compositions without our record, against the
//! fixture registry: never a panic; what it accepts is a locked form that
//! validates (it says so), pins only releases the registry has with the
//! digest it names, and bundles back (from the same registry) into a
//! component that validates.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use warg_depsolve_compose::{recognise, Bundler, ComposeError};
use warg_depsolve_registry::{LocalRegistry, Source};

/// The fixture registry (`testdata/registry`), read from disk: the
/// releases a mutated composition may nest.
static REGISTRY: LazyLock<LocalRegistry> = LazyLock::new(|| {
    LocalRegistry::new(
        "fixtures",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/registry"),
    )
});

fuzz_target!(|data: &[u8]| {
    let source: &dyn Source = &*REGISTRY;
    let recognised = match recognise(data, source) {
        Ok(recognised) => recognised,
        // Never an output that does not validate, whatever the input.
        Err(e @ ComposeError::InvalidOutput { .. }) => panic!("{e:?}"),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    for package in &recognised.packages {
        assert!(package.digest.matches(&package.bytes));
        let meta = source
            .metadata(&package.package, &package.version)
            .expect("a recognised release is the registry's");
        assert_eq!(meta.digest, package.digest);
    }
    match Bundler::from_locked(&recognised.locked, source).to_vec() {
        Err(e @ ComposeError::InvalidOutput { .. }) => panic!("{e:?}"),
        _ => {}
    }
});
