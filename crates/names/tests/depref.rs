//! Every form of the dependency-reference grammar, every error form, and the
//! render/parse round trip.

use proptest::prelude::*;
use semver::Version;
use warg_depsolve_names::{
    classify, DepRange, DepRef, HashAlgorithm, ImportClass, Integrity, PackageName,
};

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn unlocked(s: &str) -> (PackageName, DepRange) {
    match DepRef::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")) {
        DepRef::Unlocked { package, range } => (package, range),
        other => panic!("{s}: expected unlocked, got {other:?}"),
    }
}

#[test]
fn unlocked_forms() {
    let (pkg, range) = unlocked("unlocked-dep=<test:add>");
    assert_eq!(pkg.to_string(), "test:add");
    assert_eq!(range, DepRange::Any);
    assert_eq!(unlocked("unlocked-dep=<test:add@*>").1, DepRange::Any);
    assert_eq!(
        unlocked("unlocked-dep=<test:add@{>=1.2.3}>").1,
        DepRange::AtLeast(v("1.2.3"))
    );
    assert_eq!(
        unlocked("unlocked-dep=<test:add@{<2.0.0}>").1,
        DepRange::Below(v("2.0.0"))
    );
    assert_eq!(
        unlocked("unlocked-dep=<test:add@{>=1.0.0-rc.1 <2.0.0}>").1,
        DepRange::Between(v("1.0.0-rc.1"), v("2.0.0"))
    );
}

#[test]
fn cargo_style_requirements() {
    let cases = [
        (
            "{^1.2}",
            &["1.2.0", "1.9.9"][..],
            &["1.1.9", "2.0.0", "2.0.0-rc.1"][..],
        ),
        ("{~1.2.3}", &["1.2.3", "1.2.9"], &["1.3.0", "1.2.2"]),
        ("{=1.0.0}", &["1.0.0"], &["1.0.1"]),
        ("{1.2}", &["1.2.0", "1.5.0"], &["2.0.0"]),
        ("{^0.2.1}", &["0.2.1", "0.2.9"], &["0.3.0", "0.2.0"]),
        ("{^0.0.3}", &["0.0.3"], &["0.0.4"]),
        (
            "{>=1.0.0, <3.0.0}",
            &["1.0.0", "2.9.0"],
            &["3.0.0", "0.9.0"],
        ),
        ("{<=1.2}", &["1.2.9"], &["1.3.0"]),
        ("{>1.2}", &["1.3.0"], &["1.2.9"]),
        ("{1.*}", &["1.0.0", "1.9.0"], &["2.0.0"]),
        ("{>=1.0}", &["1.0.0"], &["0.9.0"]),
    ];
    for (range, inside, outside) in cases {
        let (_, parsed) = unlocked(&format!("unlocked-dep=<a:b@{range}>"));
        let set = parsed.to_ranges();
        for s in inside {
            assert!(set.contains(&v(s)), "{range} should contain {s}");
        }
        for s in outside {
            assert!(!set.contains(&v(s)), "{range} should not contain {s}");
        }
    }
    // A cargo requirement that means exactly a depname form becomes it.
    assert_eq!(
        unlocked("unlocked-dep=<a:b@{>= 1.0.0}>").1,
        DepRange::AtLeast(v("1.0.0"))
    );
}

#[test]
fn inverted_range_is_empty_not_a_panic() {
    let set = unlocked("unlocked-dep=<a:b@{>=2.0.0 <1.0.0}>")
        .1
        .to_ranges();
    assert!(set.is_empty());
    let same = unlocked("unlocked-dep=<a:b@{>=1.0.0 <1.0.0}>")
        .1
        .to_ranges();
    assert!(same.is_empty());
}

#[test]
fn exclusive_upper_bounds_exclude_prereleases_of_the_bound() {
    let set = unlocked("unlocked-dep=<a:b@{>=1.0.0 <2.0.0}>")
        .1
        .to_ranges();
    assert!(set.contains(&v("1.5.0-rc.1")), "solver rule filters these");
    assert!(!set.contains(&v("2.0.0-rc.1")));
    assert!(!set.contains(&v("2.0.0")));
    let named = unlocked("unlocked-dep=<a:b@{>=2.0.0-rc.1}>").1;
    assert!(named.names_prerelease_of(&v("2.0.0-rc.2")));
    assert!(!named.names_prerelease_of(&v("2.1.0-rc.1")));
    assert!(!DepRange::Any.names_prerelease_of(&v("1.0.0-rc.1")));
}

#[test]
fn locked_forms_keep_prerelease_build_and_integrity() {
    let digest = Integrity::sha256(b"hello");
    let s = format!("locked-dep=<test:add@1.2.3-rc.1+build.7>,integrity=<{digest}>");
    let DepRef::Locked {
        package,
        version,
        integrity,
    } = DepRef::parse(&s).unwrap()
    else {
        panic!()
    };
    assert_eq!(package.to_string(), "test:add");
    assert_eq!(version.to_string(), "1.2.3-rc.1+build.7");
    assert_eq!(integrity, vec![digest.clone()]);
    assert!(integrity[0].matches(b"hello"));
    assert!(!integrity[0].matches(b"hellO"));

    let plain = DepRef::parse("locked-dep=<test:add@1.0.0>").unwrap();
    assert!(matches!(plain, DepRef::Locked { ref integrity, .. } if integrity.is_empty()));

    let many = format!(
        "locked-dep=<a:b@1.0.0>,integrity=<{} {} {}>",
        Integrity::compute(HashAlgorithm::Sha256, b"x"),
        Integrity::compute(HashAlgorithm::Sha384, b"x"),
        Integrity::compute(HashAlgorithm::Sha512, b"x"),
    );
    let DepRef::Locked { integrity, .. } = DepRef::parse(&many).unwrap() else {
        panic!()
    };
    let algs: Vec<_> = integrity.iter().map(|i| i.algorithm).collect();
    assert_eq!(
        algs,
        [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512
        ]
    );
    assert!(integrity.iter().all(|i| i.matches(b"x")));
    assert_eq!(DepRef::parse(&many).unwrap().to_string(), many);
}

#[test]
fn oci_digest_form() {
    let i = Integrity::sha256(b"abc");
    let oci = i.to_oci();
    assert!(oci.starts_with("sha256:ba7816bf"));
    assert_eq!(Integrity::parse_oci(&oci).unwrap(), i);
    assert!(Integrity::parse_oci("sha256:00").is_err());
    assert!(Integrity::parse_oci("md5:00").is_err());
}

/// Each malformed input, the byte offset the error must point at, and a
/// phrase the message must contain.
#[test]
fn errors_name_what_was_expected_and_where() {
    let good = Integrity::sha256(b"x").to_string();
    let cases: Vec<(String, usize, &str)> = vec![
        ("dep=<a:b>".into(), 0, "`unlocked-dep=<` or `locked-dep=<`"),
        ("unlocked-dep=<a:b".into(), 17, "`>`"),
        ("unlocked-dep=<ab@*>".into(), 14, "package name"),
        ("unlocked-dep=<A:b-@*>".into(), 14, "package name"),
        ("unlocked-dep=<a:b/c@*>".into(), 17, "nested package paths"),
        ("unlocked-dep=<a:b@>".into(), 18, "`{`"),
        ("unlocked-dep=<a:b@1.0.0>".into(), 18, "`{`"),
        ("unlocked-dep=<a:b@{>=1.0.0>".into(), 27, "`}`"),
        ("unlocked-dep=<a:b@{>=x}>".into(), 21, "semver"),
        (
            "unlocked-dep=<a:b@{>=1.0.0 >2.0.0}>".into(),
            27,
            "`<` and an upper bound",
        ),
        ("unlocked-dep=<a:b@{>=1.0.0 <2.0}>".into(), 28, "semver"),
        ("unlocked-dep=<a:b@{<}>".into(), 20, "semver"),
        ("unlocked-dep=<a:b@{wat}>".into(), 19, "cargo-style"),
        ("unlocked-dep=<a:b@*>x".into(), 20, "end of the reference"),
        ("locked-dep=<a:b>".into(), 15, "`@`"),
        ("locked-dep=<a:b@1.0>".into(), 16, "full semver"),
        ("locked-dep=<a:b@1.0.0>,integrity=<>".into(), 34, "digests"),
        (
            "locked-dep=<a:b@1.0.0>,integrity=<md5-AAAA>".into(),
            34,
            "unknown algorithm",
        ),
        (
            "locked-dep=<a:b@1.0.0>,integrity=<sha256-%%%>".into(),
            34,
            "bad base64",
        ),
        (
            "locked-dep=<a:b@1.0.0>,integrity=<sha256-AAAA>".into(),
            34,
            "32 bytes",
        ),
        (
            format!("locked-dep=<a:b@1.0.0>,integrity=<{good}  {good}>"),
            86,
            "digest",
        ),
        (
            format!("locked-dep=<a:b@1.0.0>,integrity=<{good}"),
            85,
            "`>`",
        ),
        (
            "locked-dep=<a:b@1.0.0>,other".into(),
            22,
            "end of the reference",
        ),
    ];
    for (input, offset, phrase) in cases {
        let err = DepRef::parse(&input).expect_err(&input);
        let msg = err.to_string();
        assert_eq!(err.offset, offset, "{input}: {msg}");
        assert!(msg.contains(phrase), "{input}: `{msg}` lacks `{phrase}`");
        assert!(msg.contains(&format!("at byte {offset}")), "{msg}");
    }
}

#[test]
fn classification() {
    let declared = classify("inc", Some("unlocked-dep=<test:inc@{>=1.0.0}>")).unwrap();
    assert!(matches!(declared, ImportClass::Declared(_)));
    let legacy = classify("unlocked-dep=<test:inc@{>=1.0.0}>", None).unwrap();
    assert!(matches!(legacy, ImportClass::Legacy(_)));
    let iface = classify("test:inc/api@1.0.0", None).unwrap();
    assert!(matches!(iface, ImportClass::Interface(ref i) if i.package.to_string() == "test:inc"));
    // An interface import can still be a declared dependency.
    let both = classify("test:inc/api@1.0.0", Some("locked-dep=<test:inc@1.0.0>")).unwrap();
    assert!(matches!(both, ImportClass::Declared(_)));
    assert_eq!(classify("log", None).unwrap(), ImportClass::Host);
    // An opaque external-id is not a reference.
    assert_eq!(
        classify("log", Some("my-tool:1234")).unwrap(),
        ImportClass::Host
    );
    let bad = classify("inc", Some("unlocked-dep=<test:inc@{>=1}")).unwrap_err();
    // The import in the message, the parse error as its cause.
    assert_eq!(bad.to_string(), "import `inc`");
    assert!(
        warg_depsolve_names::error::chain(&bad)
            .starts_with("import `inc`: invalid dependency reference"),
        "{bad}"
    );
}

fn arb_version() -> impl Strategy<Value = Version> {
    let pre = prop_oneof![
        Just(String::new()),
        "(alpha|beta|rc)(\\.[1-9]?[0-9])?",
        "[1-9][0-9]{0,2}|0",
    ];
    let build = prop_oneof![Just(String::new()), "[a-z0-9]{1,6}(\\.[a-z0-9]{1,4})?"];
    (0u64..30, 0u64..30, 0u64..30, pre, build).prop_map(|(a, b, c, pre, build)| {
        let mut s = format!("{a}.{b}.{c}");
        if !pre.is_empty() {
            s.push('-');
            s.push_str(&pre);
        }
        if !build.is_empty() {
            s.push('+');
            s.push_str(&build);
        }
        Version::parse(&s).unwrap()
    })
}

fn arb_package() -> impl Strategy<Value = PackageName> {
    (
        "[a-z][a-z0-9]{0,5}(-[a-z][a-z0-9]{0,4})?",
        "[a-z][a-z0-9]{0,5}",
    )
        .prop_map(|(ns, name)| PackageName::new(&ns, &name).unwrap())
}

fn arb_range() -> impl Strategy<Value = DepRange> {
    let req = prop_oneof![
        "\\^[1-9]?[0-9](\\.[1-9]?[0-9](\\.[1-9]?[0-9])?)?",
        "~[1-9]?[0-9]\\.[1-9]?[0-9]",
        "=[0-9]\\.[0-9]\\.[0-9]",
        ">=[0-9]\\.[0-9], <[1-9][0-9]",
        "[0-9]\\.\\*",
    ]
    .prop_map(
        |s| match DepRef::parse(&format!("unlocked-dep=<a:b@{{{s}}}>")).unwrap() {
            DepRef::Unlocked { range, .. } => range,
            _ => unreachable!(),
        },
    );
    prop_oneof![
        Just(DepRange::Any),
        arb_version().prop_map(DepRange::AtLeast),
        arb_version().prop_map(DepRange::Below),
        (arb_version(), arb_version()).prop_map(|(a, b)| DepRange::Between(a, b)),
        req,
    ]
}

fn arb_depref() -> impl Strategy<Value = DepRef> {
    let integrity = (0usize..3, any::<[u8; 8]>()).prop_map(|(n, seed)| {
        [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ][..n]
            .iter()
            .map(|&alg| Integrity::compute(alg, &seed))
            .collect::<Vec<_>>()
    });
    prop_oneof![
        (arb_package(), arb_range())
            .prop_map(|(package, range)| DepRef::Unlocked { package, range }),
        (arb_package(), arb_version(), integrity).prop_map(|(package, version, integrity)| {
            DepRef::Locked {
                package,
                version,
                integrity,
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn render_then_parse_gives_the_same_value(dep in arb_depref()) {
        let text = dep.to_string();
        let parsed = DepRef::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&parsed, &dep, "{}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn write_version_matches_display(v in arb_version()) {
        let mut out = String::new();
        warg_depsolve_names::write_version(&mut out, &v).unwrap();
        prop_assert_eq!(out, v.to_string());
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in "(un)?locked-dep=<[ -~]{0,40}") {
        let _ = DepRef::parse(&s);
    }
}
