//! Inputs the fuzz targets (`fuzz/`, see FUZZING.md) found that crashed or
//! broke a documented property, minimized by hand: each must now fail
//! cleanly, with an error that says what is wrong.

mod common;

use common::*;
use warg_depsolve_compose::{migrate, unbundle, Bundler, ComposeError, Packages};
use warg_depsolve_names::error::chain;

/// The component header (version 0x0d, layer 1).
const HEADER: &[u8] = b"\0asm\x0d\x00\x01\x00";

fn component(sections: &[u8]) -> Vec<u8> {
    [HEADER, sections].concat()
}

/// `migrate` target: an import section whose entry count is 2^32 - 1 made
/// `migrate` reserve room for that many entries (70 GB) and abort.
#[test]
fn migrate_of_an_import_count_past_the_section_fails_cleanly() {
    let bytes = component(b"\x0a\x05\xff\xff\xff\xff\x0f");
    let err = migrate(&bytes).unwrap_err();
    assert!(
        matches!(err, ComposeError::InvalidComponent { .. }),
        "{err:?}"
    );
    assert!(chain(&err).contains("unexpected end-of-file"), "{err:?}");
    assert!(!err.to_string().contains("end-of-file"), "{err}");
}

/// `migrate` target: an input with no depname came back unchanged without
/// being validated, so a damaged file was "migrated" (and the CLI wrote
/// it and exited 0). Here `(import "a" (instance (type 5)))` with no type 5.
#[test]
fn migrate_of_an_invalid_component_without_depnames_fails() {
    let bytes = component(b"\x0a\x06\x01\x00\x01a\x05\x05");
    let err = migrate(&bytes).unwrap_err();
    assert!(
        matches!(&err, ComposeError::InvalidComponent { component, .. } if component == "legacy component"),
        "{err:?}"
    );
    assert!(chain(&err).contains("unknown type 5"), "{err:?}");

    // A valid component without depnames still comes back byte for byte.
    let fine = root("meet");
    assert_eq!(migrate(&fine).unwrap(), fine);
}

/// `unbundle` target: a record that gave a nested dependency another
/// version of its package (`test:add` 1.1.0 recorded as 9.1.0) was
/// accepted, and unbundle handed out 1.1.0's bytes as 9.1.0.
#[test]
fn unbundle_refuses_a_record_that_renames_a_nested_version() {
    let (root, resolution) = resolved("meet");
    let bundled = Bundler::from_root(&root, &resolution, Packages::Source(&registry()))
        .to_vec()
        .unwrap();
    unbundle(&bundled).unwrap();

    let from = br#""package":"test:add","version":"1.1.0""#;
    let to = br#""package":"test:add","version":"9.1.0""#;
    let at = bundled
        .windows(from.len())
        .position(|w| w == from)
        .expect("the record names test:add 1.1.0");
    let mut tampered = bundled.clone();
    tampered[at..at + to.len()].copy_from_slice(to);

    let err = unbundle(&tampered).unwrap_err();
    assert!(matches!(err, ComposeError::Record(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("do not match the nested dependencies") && message.contains("9.1.0"),
        "{message}"
    );
}
