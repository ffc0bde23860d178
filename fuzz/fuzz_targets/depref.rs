//! Dependency references and the other names an import can carry: parsing
//! never panics, and what parses renders back to text that parses to the
//! same value (`DepRef`'s documented inverse; the same for integrity
//! strings, package and interface names and tracks).
#![no_main]

use libfuzzer_sys::fuzz_target;
use warg_depsolve_fuzz::{split2, text};
use warg_depsolve_names::{
    classify, DepRef, ImportClass, Integrity, InterfaceName, PackageName, Track,
};

fuzz_target!(|data: &[u8]| {
    // One input drives the import name and its `external-id`.
    let (first, second) = split2(data);
    let Some(name) = text(first) else { return };
    let external_id = second.and_then(text);

    depref(name);
    if let Some(id) = external_id {
        depref(id);
    }
    match classify(name, external_id) {
        Ok(ImportClass::Declared(r) | ImportClass::Legacy(r)) => round_trip(&r),
        Ok(ImportClass::Interface(i)) => {
            assert_eq!(InterfaceName::parse(&i.to_string()), Some(i));
        }
        Ok(ImportClass::Host) => {}
        // The error names the import and renders.
        Err(e) => assert!(e.to_string().contains(&format!("import `{name}`"))),
    }

    if let Ok(i) = Integrity::parse_sri(name) {
        assert_eq!(Integrity::parse_sri(&i.to_string()).as_ref(), Ok(&i));
        assert_eq!(Integrity::parse_oci(&i.to_oci()), Ok(i));
    }
    if let Ok(i) = Integrity::parse_oci(name) {
        assert_eq!(i.to_oci(), name);
    }
    if let Ok(p) = name.parse::<PackageName>() {
        assert_eq!(p.to_string().parse::<PackageName>(), Ok(p));
    }
    if let Some(i) = InterfaceName::parse(name) {
        assert_eq!(InterfaceName::parse(&i.to_string()), Some(i));
    }
    if let Ok(t) = name.parse::<Track>() {
        assert_eq!(t.to_string().parse::<Track>(), Ok(t));
        let _ = t.versions();
    }
});

fn depref(s: &str) {
    match DepRef::parse(s) {
        Ok(r) => round_trip(&r),
        Err(e) => {
            // The offset points into the input, at a character boundary.
            assert!(e.offset <= s.len() && s.is_char_boundary(e.offset), "{e:?}");
            let _ = e.to_string();
        }
    }
}

fn round_trip(r: &DepRef) {
    let text = r.to_string();
    assert_eq!(DepRef::parse(&text).as_ref(), Ok(r), "{text}");
    let versions = r.versions();
    if let DepRef::Unlocked { range, .. } = r {
        // Asked of every version the range mentions.
        let _ = range.names_prerelease_of(&semver::Version::new(1, 0, 0));
        let _ = versions.contains(&semver::Version::new(1, 0, 0));
    }
}
