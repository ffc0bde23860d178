//! Text from a component cannot drive the user's terminal.

mod common;

use common::*;

/// Control characters from a component (here in external-ids) are escaped
/// in text output and error messages, so they cannot drive the terminal;
/// JSON carries them escaped as JSON does.
#[test]
fn control_characters_from_a_component_are_escaped() {
    let env = Env::new();
    std::fs::write(
        env.path("esc.wat"),
        r#"(component
  (import "inc" (external-id "unlocked-dep=<test:inc@{>=1.0.0}>\1b[2J\1b]0;owned\07") (instance))
  (import "log" (external-id "a note \1b[31mred\u{9b}") (func)))"#,
    )
    .unwrap();
    let out = env.run(&["inspect", "esc.wat"]);
    assert_eq!(out.status.code(), Some(1));
    for stream in [&out.stdout, &out.stderr] {
        let raw: Vec<u8> = stream
            .iter()
            .copied()
            .filter(|b| b.is_ascii_control() && *b != b'\n' && *b != b'\t')
            .collect();
        assert!(
            raw.is_empty(),
            "raw control bytes {raw:?} in {:?}",
            String::from_utf8_lossy(stream)
        );
        let text = String::from_utf8(stream.clone()).unwrap();
        assert!(!text.contains('\u{9b}'), "{text}");
    }
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(r"\u{1b}[2J\u{1b}]0;owned\u{7}"), "{stdout}");
    assert!(stdout.contains(r"a note \u{1b}[31mred\u{9b}"), "{stdout}");

    let json = env.run(&["inspect", "esc.wat", "--format", "json"]);
    let text = String::from_utf8(json.stdout).unwrap();
    assert!(text.contains(r"\u001b[31mred"), "{text}");
}
