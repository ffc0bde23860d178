//! The bundle record: `read_record` on arbitrary bytes, and on a real
//! bundle (`meet`) whose record payload is replaced by the input (so the
//! JSON reader sees mutated records, not only mutated framing, and
//! `unbundle` follows mutated section numbers and patches into real
//! sections). A record that reads serializes back to an equal record;
//! `unbundle` of the same bytes never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warg_depsolve_compose::{read_record, unbundle, BundleRecord};
use warg_depsolve_fuzz::meet_bundle_with_record;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Even first byte: the rest is a whole binary; odd: a record payload.
    let bytes = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        meet_bundle_with_record(rest)
    };
    match read_record(&bytes) {
        Ok(record) => {
            let json = serde_json::to_vec(&record).expect("a record serializes");
            let back: BundleRecord = serde_json::from_slice(&json).expect("and reads back");
            assert_eq!(back, record);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if let Err(e) = unbundle(&bytes) {
        assert!(!e.to_string().is_empty());
    }
});
