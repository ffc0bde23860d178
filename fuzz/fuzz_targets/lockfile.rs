//! Lock-file text: parsing never panics, and a lock that parses writes
//! (`to_toml`, which must never fail) to text that parses to the same pins
//! and writes the same bytes again (the file is byte-stable).
#![no_main]

use libfuzzer_sys::fuzz_target;
use warg_depsolve_fuzz::text;
use warg_depsolve_solver::LockFile;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let lock = match LockFile::parse(text) {
        Ok(lock) => lock,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let written = lock.to_toml();
    let again = LockFile::parse(&written)
        .unwrap_or_else(|e| panic!("a written lock file does not parse: {e}\n{written}"));
    assert_eq!(again.to_toml(), written);
    assert!(lock.changes_to(&again).is_empty());
    assert!(again.changes_to(&lock).is_empty());
    assert_eq!(lock.pins().count(), again.pins().count());
    for (package, _, version) in lock.pins() {
        assert!(again.pinned(&package, &version).is_some());
    }
});
