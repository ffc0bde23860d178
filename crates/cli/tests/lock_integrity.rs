//! A lock file's digests are enforced: a pinned release whose bytes changed
//! stops every command that reads the lock, until `update` accepts it.

mod common;

use common::*;

/// `bytes` with a custom section appended: still a valid component, with
/// another digest.
fn altered(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let name = b"altered";
    out.extend_from_slice(&[0, (1 + name.len() + 1) as u8, name.len() as u8]);
    out.extend_from_slice(name);
    out.push(1);
    out
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

#[test]
fn a_changed_pinned_release_is_refused_until_update_accepts_it() {
    let env = Env::new();
    env.copy_registry("reg");
    env.copy("roots/meet.wat", "meet.wat");
    env.ok(&["resolve", "meet.wat", "--registry", "reg"]);
    let lock_before = env.read("meet.lock");

    // The release is changed in the registry after it was locked.
    let release = env.path("reg/test/add/1.1.0.wasm");
    let original = std::fs::read(&release).unwrap();
    let changed = altered(&original);
    std::fs::write(&release, &changed).unwrap();
    let (pinned, found) = (sha256(&original), sha256(&changed));

    let needles = [
        "test:add@1.1.0",
        "registry `local`",
        "meet.lock",
        &pinned,
        &found,
        "update test:add",
    ];
    for args in [
        vec!["bundle", "meet.wat", "--registry", "reg", "-o", "out.wasm"],
        vec!["lock", "meet.wat", "--registry", "reg", "-o", "out.wasm"],
        vec!["resolve", "meet.wat", "--registry", "reg"],
        vec!["tree", "meet.wat", "--registry", "reg"],
        vec!["update", "meet.wat", "test:inc", "--registry", "reg"],
    ] {
        env.fails(&args, &needles);
        assert!(!env.exists("out.wasm"), "{args:?} wrote its output");
        assert_eq!(
            env.read("meet.lock"),
            lock_before,
            "{args:?} changed the lock"
        );
    }

    // Accepting it is explicit, and says what changed.
    let text = env.ok(&["update", "meet.wat", "test:add", "--registry", "reg"]);
    assert!(
        text.contains(&format!("1.1.0 digest {pinned} -> {found}")),
        "{text}"
    );
    env.ok(&["bundle", "meet.wat", "--registry", "reg", "-o", "out.wasm"]);
}

#[test]
fn locked_compares_every_field() {
    let env = Env::new();
    env.copy_registry("reg");
    env.copy("roots/meet.wat", "meet.wat");
    env.ok(&["resolve", "meet.wat", "--registry", "reg"]);
    env.ok(&["resolve", "meet.wat", "--registry", "reg", "--locked"]);
    let text = String::from_utf8(env.read("meet.lock")).unwrap();

    // Another registry recorded for a package.
    let moved = text.replacen("registry = \"local\"", "registry = \"elsewhere\"", 1);
    std::fs::write(env.path("meet.lock"), &moved).unwrap();
    env.fails(
        &["resolve", "meet.wat", "--registry", "reg", "--locked"],
        &["would change", "registry elsewhere -> local"],
    );

    // Other recorded requirements.
    let edited = text.replacen(
        "required-by = [\"root: inc",
        "required-by = [\"root: other",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(env.path("meet.lock"), &edited).unwrap();
    env.fails(
        &["resolve", "meet.wat", "--registry", "reg", "--locked"],
        &["would change", "required-by"],
    );
    assert_eq!(String::from_utf8(env.read("meet.lock")).unwrap(), edited);
}

#[test]
fn two_pins_on_one_track_are_an_error() {
    let env = Env::new();
    env.copy_registry("reg");
    env.copy("roots/meet.wat", "meet.wat");
    env.ok(&["resolve", "meet.wat", "--registry", "reg"]);
    let text = String::from_utf8(env.read("meet.lock")).unwrap();
    let add = text.find("name = \"test:add\"").unwrap();
    let entry_start = add + text[add..].find("[[packages.versions]]").unwrap();
    let entry_end = entry_start
        + text[entry_start..]
            .find("\n\n")
            .unwrap_or(text.len() - entry_start);
    let entry = &text[entry_start..entry_end];
    let second = entry.replace("version = \"1.1.0\"", "version = \"1.0.0\"");
    let doubled = format!(
        "{}{entry}\n\n{second}{}",
        &text[..entry_start],
        &text[entry_end..]
    );
    std::fs::write(env.path("meet.lock"), &doubled).unwrap();
    env.fails(
        &["bundle", "meet.wat", "--registry", "reg", "-o", "out.wasm"],
        &[
            "meet.lock",
            "test:add",
            "pinned twice on track 1",
            "1.1.0",
            "1.0.0",
        ],
    );
    assert!(!env.exists("out.wasm"));
}
