//! The command line against an OCI registry that accepts connections and
//! never answers (a listener on loopback): `--timeout` bounds the wait,
//! the error names the registry and what was being fetched, and a note on
//! stderr (not a terminal here) says what is being waited for.

mod common;

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::Env;

/// Accepts connections on loopback and keeps them open, unanswered, until
/// dropped.
struct Silent {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let held = Mutex::new(Vec::new());
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        held.lock().unwrap().push(conn);
                    }
                }
            })
        };
        Silent {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// A config routing `test:*` to this listener as registry `slow`, with
    /// `extra` in its table.
    fn config(&self, env: &Env, extra: &str) -> String {
        let path = env.path("config.toml");
        std::fs::write(
            &path,
            format!(
                "default_registry = \"slow\"\n\
                 [registry.\"slow\".oci]\nregistry = \"127.0.0.1:{}\"\nprotocol = \"http\"\n{extra}",
                self.port
            ),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_registry_that_never_answers_fails_after_the_timeout_naming_it() {
    let silent = Silent::start();
    let env = Env::new();
    let config = silent.config(&env, "");
    let err = env.fails(
        &[
            "versions",
            "test:add",
            "--config",
            &config,
            "--timeout",
            "1",
        ],
        &[
            "registry `slow`",
            &format!("127.0.0.1:{}", silent.port),
            "fetching the tag list of `test:add` failed after 3 attempts",
            "no answer within 1 s",
        ],
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_slow_registry_is_noted_on_stderr_and_timeout_overrides_the_config() {
    let silent = Silent::start();
    let env = Env::new();
    // The config's 0.5 s would fail before the note is due (5 s); the
    // flag replaces it.
    let config = silent.config(&env, "read_timeout = 0.5\nretries = 0\n");
    let out = env.run(&[
        "versions",
        "test:add",
        "--config",
        &config,
        "--timeout",
        "5.5",
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    // The note while waiting, then the error.
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[0],
        format!(
            "note: waiting for registry `slow` (http://127.0.0.1:{}): fetching the tag list \
             of `test:add`, no answer for 5 s ...",
            silent.port
        ),
    );
    assert!(lines[1].starts_with("error: "), "{err}");
    assert!(
        lines[1].ends_with("after 1 attempt: no answer within 5.5 s"),
        "{err}"
    );
}

#[test]
fn timeout_must_be_a_positive_number_of_seconds() {
    let env = Env::new();
    for bad in ["0", "-1", "soon", "7200"] {
        let out = env.run(&["versions", "test:add", &format!("--timeout={bad}")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--timeout"), "{bad}: {err}");
    }
}
