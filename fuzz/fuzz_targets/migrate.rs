//! `migrate` of arbitrary (mostly legacy-looking) binaries: never a panic;
//! what it returns scans, has no depname import names left (each became an
//! `external-id`), and migrating it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warg_depsolve_compose::migrate;
use warg_depsolve_names::scan::scan;
use warg_depsolve_names::{DepRef, ImportClass};

fuzz_target!(|data: &[u8]| {
    let migrated = match migrate(data) {
        Ok(migrated) => migrated,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let after = scan(&migrated).expect("a migrated binary scans");
    assert!(after
        .imports
        .iter()
        .all(|i| !DepRef::looks_like(&i.name.name)));
    if let Ok(before) = scan(data) {
        let references = |imports: &[warg_depsolve_names::scan::Import]| -> Vec<DepRef> {
            imports
                .iter()
                .filter_map(|i| match i.name.classify() {
                    Ok(ImportClass::Declared(r) | ImportClass::Legacy(r)) => Some(r),
                    _ => None,
                })
                .collect()
        };
        // The same references, in the same order, now all declared.
        assert_eq!(references(&before.imports), references(&after.imports));
    }
    assert_eq!(migrate(&migrated).expect("migrating twice"), migrated);
});
