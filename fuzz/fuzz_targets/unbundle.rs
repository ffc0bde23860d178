//! `unbundle` of mutated bundles: never a panic; what it accepts is checked
//! against the documented inverse. Every extracted package hashes to its
//! digest, and bundling the locked form again (from a source holding the
//! extracted packages) and unbundling that gives back the same locked form
//! and packages (`unbundle(&Bundler::from_locked(l, source).to_vec()?)?.locked
//! == l`); for an unmutated bundle, the bundle itself comes back byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warg_depsolve_compose::{unbundle, Bundler, ComposeError};
use warg_depsolve_registry::MemorySource;

fuzz_target!(|data: &[u8]| {
    let unbundled = match unbundle(data) {
        Ok(unbundled) => unbundled,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let source = MemorySource::new("fuzz");
    for package in &unbundled.packages {
        assert!(package.digest.matches(&package.bytes));
        // Two releases of one version with different bytes cannot both be
        // served; such an input has nothing more to check.
        if source
            .add(&package.package, &package.version, package.bytes.clone())
            .is_err()
        {
            return;
        }
    }
    let rebundled = match Bundler::from_locked(&unbundled.locked, &source).to_vec() {
        Ok(rebundled) => rebundled,
        // An output that does not validate is a bug whatever the input.
        Err(e @ ComposeError::InvalidOutput { .. }) => panic!("{e:?}"),
        Err(_) => return,
    };
    let again = unbundle(&rebundled).expect("a bundle made from a locked form unbundles");
    assert_eq!(again.locked, unbundled.locked);
    assert_eq!(again.packages, unbundled.packages);
    if data == warg_depsolve_fuzz::MEET_BUNDLE {
        assert_eq!(rebundled, data);
    }
});
