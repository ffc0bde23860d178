//! The top-level scan and `inspect` on arbitrary bytes: no panic, the two
//! agree on what is a component, every nested range lies inside the input,
//! and the report serializes as the CLI prints it (`--format json`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use warg_depsolve::inspect::inspect;
use warg_depsolve_names::scan::scan;

fuzz_target!(|data: &[u8]| {
    let scanned = scan(data);
    let inspected = inspect(data);
    assert_eq!(scanned.is_ok(), inspected.is_ok());
    match (scanned, inspected) {
        (Ok(scanned), Ok(report)) => {
            for nested in &scanned.nested {
                assert!(nested.range.start <= nested.range.end && nested.range.end <= data.len());
                let bytes = nested.bytes(data);
                assert!(bytes.starts_with(b"\0asm"), "{nested:?}");
            }
            for import in &scanned.imports {
                let _ = import.name.full_name();
                let _ = import.name.full_implements();
                let _ = import.name.classify();
            }
            assert_eq!(report.imports.len(), scanned.imports.len());
            assert_eq!(report.size, data.len());
            let _ = report.errors().count();
            serde_json::to_string(&report).expect("an inspection serializes");
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b);
            assert!(!a.to_string().is_empty());
        }
        _ => unreachable!(),
    }
});
