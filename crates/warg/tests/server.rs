//! The client against a real `warg-server` 0.10 started in-process:
//! publishing the testdata registry and reading it back byte for byte,
//! yanks, namespace imports, the `Warg-Registry` header, a server that
//! stops, and tampered answers (through a loopback proxy) refused.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use semver::Version;
use serde_json::Value;
use support::{key, Ns, Proxy, Server};
use warg_crypto::signing::generate_p256_pair;
use warg_depsolve_warg::{
    AnyHash, CheckpointProblem, LogName, Namespace, PackageName, ProofProblem, RecordProblem,
    WargClient, WargError, WargSettings,
};
use warg_protocol::registry::TimestampedCheckpoint;
use warg_protocol::SerdeEnvelope;

fn name(s: &str) -> PackageName {
    s.parse().unwrap()
}

fn sha256(bytes: &[u8]) -> AnyHash {
    warg_crypto::hash::HashAlgorithm::Sha256.digest(bytes)
}

/// An error's chain as a person reads it; fails if a cause's text is
/// repeated by an error above it (a cause belongs in `source()` only).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        for above in &parts {
            assert!(
                !above.contains(&text),
                "`{above}` repeats its cause `{text}`"
            );
        }
        parts.push(text);
        source = cause.source();
    }
    let text = parts.join(": ");
    if std::env::var_os("WARG_SHOW_CHAINS").is_some() {
        eprintln!("chain: {text}");
    }
    text
}

#[test]
fn testdata_published_then_read_back_byte_for_byte_and_yanked() {
    let server = Server::start(&[Ns::Defined("test")]);
    let key = key();
    let publisher = server.client(Some(&key));
    let releases = support::testdata();
    assert!(releases.len() > 10, "the testdata registry is there");
    for (package, version, bytes) in &releases {
        let published = publisher.publish(&name(package), version, bytes).unwrap();
        assert!(published.is_some(), "{package}@{version} is new");
    }

    // A new client reads every release back from validated logs.
    let reader = server.client(None);
    for (package, version, bytes) in &releases {
        let listed = reader.releases(&name(package)).unwrap();
        let release = listed.iter().find(|r| &r.version == version).unwrap();
        assert_eq!(release.digest, sha256(bytes), "{package}@{version}");
        assert!(!release.yanked);
        assert_eq!(&reader.download(&release.digest).unwrap(), bytes);
    }
    let add = name("test:add");
    let versions: Vec<String> = reader
        .releases(&add)
        .unwrap()
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0", "2.0.0"]);

    // Publishing the same bytes again is a no-op; other bytes are refused.
    let (_, v, bytes) = releases.iter().find(|(p, _, _)| p == "test:add").unwrap();
    assert_eq!(publisher.publish(&add, v, bytes).unwrap(), None);
    let e = publisher.publish(&add, v, b"other bytes").unwrap_err();
    assert!(matches!(e, WargError::AlreadyPublished { .. }), "{e}");

    // A yank: the release stays listed, yanked, with its digest, and its
    // content stays fetchable (a lock may pin it).
    let v110 = Version::new(1, 1, 0);
    assert!(publisher.set_yanked(&add, &v110, true).unwrap().is_some());
    assert_eq!(publisher.set_yanked(&add, &v110, true).unwrap(), None);
    let fresh = server.client(None);
    let yanked = fresh
        .releases(&add)
        .unwrap()
        .into_iter()
        .find(|r| r.version == v110)
        .unwrap();
    assert!(yanked.yanked);
    let original = &releases
        .iter()
        .find(|(p, v, _)| p == "test:add" && *v == v110)
        .unwrap()
        .2;
    assert_eq!(yanked.digest, sha256(original));
    assert_eq!(&fresh.download(&yanked.digest).unwrap(), original);

    // No un-yank in warg.
    let e = publisher.set_yanked(&add, &v110, false).unwrap_err();
    assert!(matches!(e, WargError::NoUnyank { .. }), "{e}");
    assert!(e.to_string().contains("cannot undo a yank"), "{e}");
    assert_eq!(
        publisher
            .set_yanked(&add, &Version::new(1, 0, 0), false)
            .unwrap(),
        None
    );
    let e = publisher
        .set_yanked(&add, &Version::new(9, 0, 0), true)
        .unwrap_err();
    assert!(matches!(e, WargError::VersionNotFound { .. }), "{e}");

    // Unknown packages and content.
    let e = fresh.releases(&name("test:nothing")).unwrap_err();
    assert!(matches!(e, WargError::PackageNotFound { .. }), "{e}");
    let e = fresh.download(&sha256(b"never published")).unwrap_err();
    assert!(matches!(e, WargError::ContentNotFound { .. }), "{e}");

    // Without a key: a clear error.
    let e = fresh.publish(&name("test:new"), &v110, b"x").unwrap_err();
    assert!(matches!(e, WargError::NoSigningKey { .. }), "{e}");
    // Another key may not release into a log it does not own.
    let stranger = server.client(Some(&support::key()));
    let e = stranger
        .publish(&add, &Version::new(3, 0, 0), b"x")
        .unwrap_err();
    assert!(matches!(e, WargError::NotPermitted { .. }), "{e}");
}

#[test]
fn logs_are_fetched_page_by_page() {
    let (_server, proxy, _key) = proxied();
    let pages = Arc::new(Mutex::new(0));
    let count = pages.clone();
    proxy.tamper(move |path, _| {
        if path == "/v1/fetch/logs" {
            *count.lock().unwrap() += 1;
        }
        None
    });
    let mut settings = support::quick(WargSettings::new(proxy.url()), None);
    settings.page_size = 1;
    let client = WargClient::new("paged", settings).unwrap();
    assert_eq!(client.releases(&name("test:add")).unwrap().len(), 2);
    // One record a page: the operator log's and the package's first, the
    // package's second, then nothing more.
    assert!(
        *pages.lock().unwrap() >= 3,
        "{} pages",
        pages.lock().unwrap()
    );
}

#[test]
fn a_prefetch_asks_once_for_many_packages_and_survives_a_missing_one() {
    let (_server, proxy, _key) = proxied();
    let requests: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = requests.clone();
    proxy.tamper(move |path, _| {
        log.lock().unwrap().push(path.to_string());
        None
    });
    let client = proxy.client(None);
    let (add, missing) = (name("test:add"), name("test:missing"));
    client.prefetch(&[add.clone(), missing.clone()]).unwrap();
    let asked = requests.lock().unwrap().clone();
    assert_eq!(
        asked,
        [
            "/v1/fetch/checkpoint",
            // 404 for the missing package's log, then again without it.
            "/v1/fetch/logs",
            "/v1/fetch/logs",
            "/v1/proof/inclusion",
        ]
    );
    // Both are answered from what the prefetch learned.
    assert_eq!(client.releases(&add).unwrap().len(), 2);
    let e = client.releases(&missing).unwrap_err();
    assert!(matches!(e, WargError::PackageNotFound { .. }), "{e}");
    assert_eq!(requests.lock().unwrap().len(), asked.len());
}

#[test]
fn a_registry_that_does_not_answer_is_given_up_on_in_time() {
    // Connections are taken (by the listen backlog) and never answered.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let mut settings = support::quick(WargSettings::for_host(&host), None);
    settings.connect_timeout = Duration::from_millis(300);
    settings.read_timeout = Duration::from_millis(300);
    let client = WargClient::new(host.clone(), settings).unwrap();
    let started = Instant::now();
    let e = client.releases(&name("test:add")).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let text = chain(&e);
    let WargError::Network { attempts, .. } = &e else {
        panic!("{text}")
    };
    assert_eq!(*attempts, 2, "{text}");
    assert!(text.contains(&format!("registry `{host}`")), "{text}");
    assert!(text.contains("for `test:add`"), "{text}");
    drop(listener);
}

#[test]
fn a_stored_state_is_resumed_from_its_fetch_tokens() {
    let server = Server::start(&[Ns::Defined("test")]);
    let key = key();
    let publisher = server.client(Some(&key));
    let pkg = name("test:kept");
    publisher
        .publish(&pkg, &Version::new(1, 0, 0), b"one")
        .unwrap();
    let first = server.client(None);
    assert_eq!(first.releases(&pkg).unwrap().len(), 1);
    let state = first.state().unwrap();
    let seen = state.checkpoint_length().unwrap();

    publisher
        .publish(&pkg, &Version::new(1, 1, 0), b"two")
        .unwrap();
    // A later client starts where the first stopped: the registry proves
    // its log consistent with the checkpoint seen, then sends only what
    // is new (the reference server panics on a token it does not know).
    let later = server.client(None).with_state(state).unwrap();
    let versions: Vec<Version> = later
        .releases(&pkg)
        .unwrap()
        .into_iter()
        .map(|r| r.version)
        .collect();
    assert_eq!(versions, [Version::new(1, 0, 0), Version::new(1, 1, 0)]);
    assert!(later.state().unwrap().checkpoint_length().unwrap() > seen);

    // A state is for the URL it was learned from: a client of another URL
    // starts afresh.
    let elsewhere = WargClient::new(
        "elsewhere",
        support::quick(WargSettings::new("http://127.0.0.1:9/"), None),
    )
    .unwrap()
    .with_state(later.state().unwrap())
    .unwrap();
    assert_eq!(elsewhere.state().unwrap().checkpoint_length(), None);

    // A state serializes, and comes back the same.
    let json = serde_json::to_string(&later.state().unwrap()).unwrap();
    let back: warg_depsolve_warg::RegistryState = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

#[test]
fn a_state_from_another_registry_instance_is_refused_before_any_token_is_sent() {
    // One address (the proxy's), first in front of one server ...
    let proxy = Proxy::start();
    let first = Server::start(&[Ns::Defined("test")]);
    proxy.forward_to(&first);
    let key = key();
    let pkg = name("test:kept");
    first
        .client(Some(&key))
        .publish(&pkg, &Version::new(1, 0, 0), b"one")
        .unwrap();
    let reader = proxy.client(None);
    reader.releases(&pkg).unwrap();
    let state = reader.state().unwrap();

    // ... then in front of another (a registry reset, say) with a longer
    // log.
    let second = Server::start(&[Ns::Defined("test")]);
    let publisher = second.client(Some(&key));
    for minor in 0..3 {
        publisher
            .publish(&pkg, &Version::new(1, minor, 0), &[minor as u8])
            .unwrap();
    }
    proxy.forward_to(&second);
    let e = proxy
        .client(None)
        .with_state(state)
        .unwrap()
        .releases(&pkg)
        .unwrap_err();
    let text = chain(&e);
    assert!(
        matches!(e, WargError::Inconsistent { .. } | WargError::Rewind { .. }),
        "{text}"
    );
}

#[test]
fn an_imported_namespace_names_the_registry_to_go_to() {
    let home = Server::start(&[Ns::Defined("other")]);
    let key = key();
    home.client(Some(&key))
        .publish(&name("other:lib"), &Version::new(1, 0, 0), b"lib")
        .unwrap();
    let host = home.host();
    let front = Server::start(&[Ns::Defined("test"), Ns::Imported("other", &host)]);

    let client = front.client(Some(&key));
    assert_eq!(client.namespace("test").unwrap(), Namespace::Defined);
    assert_eq!(client.namespace("nowhere").unwrap(), Namespace::Unknown);
    let Namespace::Imported { registry } = client.namespace("other").unwrap() else {
        panic!("`other` is imported")
    };
    assert_eq!(registry, host);
    let e = client.releases(&name("other:lib")).unwrap_err();
    let WargError::NamespaceImported { from, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(from, &host);
    // Publishing there is refused with the same answer.
    let e = client
        .publish(&name("other:new"), &Version::new(1, 0, 0), b"x")
        .unwrap_err();
    assert!(matches!(e, WargError::NamespaceImported { .. }), "{e}");

    // The caller goes to the registry named, directly.
    let direct = WargClient::new(
        registry.clone(),
        support::quick(WargSettings::for_host(&registry), None),
    )
    .unwrap();
    let lib = direct.releases(&name("other:lib")).unwrap();
    assert_eq!(direct.download(&lib[0].digest).unwrap(), b"lib");
}

#[test]
fn the_warg_registry_header_is_opt_in_and_a_501_names_the_registry() {
    let server = Server::start(&[Ns::Defined("test")]);
    let mut settings = server.settings(None);
    settings.registry_header = Some("elsewhere.example".into());
    let client = WargClient::new("front", settings).unwrap();
    let e = client.releases(&name("test:add")).unwrap_err();
    assert!(matches!(e, WargError::RegistryHeaderRefused { .. }), "{e}");
    let text = chain(&e);
    assert!(
        text.contains("`front`") && text.contains("elsewhere.example"),
        "{text}"
    );
}

#[test]
fn a_server_that_stops_mid_run_gives_a_clear_error_and_leaves_the_state_whole() {
    let mut server = Server::start(&[Ns::Defined("test")]);
    let key = key();
    let publisher = server.client(Some(&key));
    let (a, b) = (name("test:a"), name("test:b"));
    publisher.publish(&a, &Version::new(1, 0, 0), b"a").unwrap();
    publisher.publish(&b, &Version::new(1, 0, 0), b"b").unwrap();
    let client = server.client(None);
    let digest = client.releases(&a).unwrap()[0].digest.clone();
    let before = serde_json::to_string(&client.state().unwrap()).unwrap();

    server.stop();
    let e = client.releases(&b).unwrap_err();
    let text = chain(&e);
    assert!(text.contains("for `test:b`"), "{text}");
    let WargError::Network {
        registry, attempts, ..
    } = &e
    else {
        panic!("{}", chain(&e))
    };
    assert_eq!(registry, &server.host());
    assert_eq!(*attempts, 2, "one retry");
    let text = chain(&e);
    assert!(text.contains("fetching the checkpoint"), "{text}");
    // Nothing half done: the state is what it was, and what was asked
    // before is still answered.
    assert_eq!(
        serde_json::to_string(&client.state().unwrap()).unwrap(),
        before
    );
    assert_eq!(client.releases(&a).unwrap()[0].digest, digest);
    let e = client.download(&digest).unwrap_err();
    assert!(matches!(e, WargError::Network { .. }), "{e}");
}

/// A server behind a proxy, with one package `test:add` published.
fn proxied() -> (Server, Proxy, Arc<warg_crypto::signing::PrivateKey>) {
    let proxy = Proxy::start();
    let server = Server::start_with(&[Ns::Defined("test")], Some(&proxy.url()));
    proxy.forward_to(&server);
    let key = key();
    let publisher = server.client(Some(&key));
    publisher
        .publish(&name("test:add"), &Version::new(1, 0, 0), b"first")
        .unwrap();
    publisher
        .publish(&name("test:add"), &Version::new(1, 1, 0), b"second")
        .unwrap();
    (server, proxy, key)
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// Applies `edit` to the records of every package log in a fetch answer.
fn edit_package_records(body: &[u8], edit: impl Fn(&mut Vec<Value>)) -> Vec<u8> {
    let mut answer = json(body);
    if let Some(packages) = answer.get_mut("packages").and_then(Value::as_object_mut) {
        for records in packages.values_mut() {
            edit(records.as_array_mut().unwrap());
        }
    }
    serde_json::to_vec(&answer).unwrap()
}

#[test]
fn a_record_with_a_bad_signature_is_refused() {
    let (_server, proxy, _key) = proxied();
    let (_, other) = generate_p256_pair();
    proxy.tamper(move |path, body| {
        (path == "/v1/fetch/logs").then(|| {
            edit_package_records(body, |records| {
                // The last record, signed by another key under the same key id.
                let record = records.last_mut().unwrap();
                let content = base64::engine::general_purpose::STANDARD
                    .decode(record["contentBytes"].as_str().unwrap())
                    .unwrap();
                let message = [b"WARG-PACKAGE-RECORD-SIGNATURE-V0:".as_slice(), &content].concat();
                record["signature"] = other.sign(&message).unwrap().to_string().into();
            })
        })
    });
    let e = proxy.client(None).releases(&name("test:add")).unwrap_err();
    let text = chain(&e);
    assert!(text.contains("test:add"), "{text}");
    let WargError::InvalidRecord { log, problem, .. } = &e else {
        panic!("{}", chain(&e))
    };
    assert_eq!(log, &LogName::Package(name("test:add")));
    assert!(
        matches!(problem, RecordProblem::Package(_)),
        "{}",
        chain(&e)
    );
    assert!(
        chain(&e).contains("unable to verify signature"),
        "{}",
        chain(&e)
    );
}

#[test]
fn a_held_back_record_is_caught_by_the_inclusion_proof() {
    let (_server, proxy, _key) = proxied();
    proxy.tamper(|path, body| {
        (path == "/v1/fetch/logs")
            .then(|| edit_package_records(body, |records| drop(records.pop())))
    });
    let e = proxy.client(None).releases(&name("test:add")).unwrap_err();
    let text = chain(&e);
    assert!(text.contains("the log of `test:add`"), "{text}");
    let WargError::NotIncluded { log, .. } = &e else {
        panic!("{}", chain(&e))
    };
    assert_eq!(log, &LogName::Package(name("test:add")));
}

/// The checkpoint answer, re-signed by `key` (with `key_id` claimed, if
/// given).
fn resign(
    body: &[u8],
    key: &warg_crypto::signing::PrivateKey,
    edit: impl Fn(&mut TimestampedCheckpoint),
    key_id: Option<&str>,
) -> Vec<u8> {
    let signed: SerdeEnvelope<TimestampedCheckpoint> = serde_json::from_slice(body).unwrap();
    let mut contents = signed.into_contents();
    edit(&mut contents);
    let forged = SerdeEnvelope::signed_contents(key, contents).unwrap();
    let mut value = serde_json::to_value(&forged).unwrap();
    if let Some(id) = key_id {
        value["keyId"] = id.into();
    }
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn a_checkpoint_signed_by_another_key_is_refused() {
    let (server, proxy, _key) = proxied();
    let (_, other) = generate_p256_pair();
    proxy.tamper(move |path, body| {
        (path == "/v1/fetch/checkpoint").then(|| resign(body, &other, |_| {}, None))
    });
    let e = proxy.client(None).releases(&name("test:add")).unwrap_err();
    assert!(
        matches!(
            &e,
            WargError::CheckpointSignature {
                problem: CheckpointProblem::UnknownKey(_),
                ..
            }
        ),
        "{}",
        chain(&e)
    );

    // The same, claiming the operator's key id.
    let (_, other) = generate_p256_pair();
    let operator_id = server.operator_key.public_key().fingerprint().to_string();
    proxy.tamper(move |path, body| {
        (path == "/v1/fetch/checkpoint").then(|| resign(body, &other, |_| {}, Some(&operator_id)))
    });
    let e = proxy.client(None).releases(&name("test:add")).unwrap_err();
    assert!(
        matches!(
            &e,
            WargError::CheckpointSignature {
                problem: CheckpointProblem::BadSignature { .. },
                ..
            }
        ),
        "{}",
        chain(&e)
    );

    // Honest again: fine.
    proxy.honest();
    assert_eq!(
        proxy
            .client(None)
            .releases(&name("test:add"))
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_log_that_rewinds_or_rewrites_its_history_is_refused() {
    let (server, proxy, key) = proxied();
    // Remember the checkpoint as it is now.
    let old: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let keep = old.clone();
    proxy.tamper(move |path, body| {
        if path == "/v1/fetch/checkpoint" {
            *keep.lock().unwrap() = Some(body.to_vec());
        }
        None
    });
    let first = proxy.client(None);
    first.releases(&name("test:add")).unwrap();
    proxy.honest();
    let old = old.lock().unwrap().clone().unwrap();

    // The log grows; a client sees it.
    server
        .client(Some(&key))
        .publish(&name("test:add"), &Version::new(1, 2, 0), b"third")
        .unwrap();
    let seen = proxy.client(None);
    seen.releases(&name("test:add")).unwrap();
    let state = seen.state().unwrap();

    // Served the older (genuinely signed) checkpoint, it refuses.
    proxy.tamper(move |path, _| (path == "/v1/fetch/checkpoint").then(|| old.clone()));
    let e = proxy
        .client(None)
        .with_state(state.clone())
        .unwrap()
        .releases(&name("test:add"))
        .unwrap_err();
    assert!(matches!(e, WargError::Rewind { .. }), "{}", chain(&e));

    // Same length, other roots, signed with the operator's own key.
    let operator =
        warg_crypto::signing::PrivateKey::decode(server.operator_key.encode().to_string()).unwrap();
    proxy.tamper(move |path, body| {
        (path == "/v1/fetch/checkpoint").then(|| {
            resign(
                body,
                &operator,
                |c| c.checkpoint.map_root = sha256(b"another map"),
                None,
            )
        })
    });
    let e = proxy
        .client(None)
        .with_state(state.clone())
        .unwrap()
        .releases(&name("test:add"))
        .unwrap_err();
    assert!(matches!(e, WargError::Forked { .. }), "{}", chain(&e));

    // A consistency proof that does not hold.
    server
        .client(Some(&key))
        .publish(&name("test:add"), &Version::new(1, 3, 0), b"fourth")
        .unwrap();
    proxy.tamper(|path, body| {
        (path == "/v1/proof/consistency").then(|| {
            let mut answer = json(body);
            let engine = base64::engine::general_purpose::STANDARD;
            let mut proof = engine.decode(answer["proof"].as_str().unwrap()).unwrap();
            let last = proof.len() - 1;
            proof[last] ^= 0xff;
            answer["proof"] = engine.encode(proof).into();
            serde_json::to_vec(&answer).unwrap()
        })
    });
    let e = proxy
        .client(None)
        .with_state(state)
        .unwrap()
        .releases(&name("test:add"))
        .unwrap_err();
    let WargError::Inconsistent { problem, .. } = &e else {
        panic!("{}", chain(&e))
    };
    assert!(
        matches!(
            problem,
            ProofProblem::WrongRoot { .. } | ProofProblem::Decode(_)
        ),
        "{}",
        chain(&e)
    );
}

#[test]
fn content_whose_digest_differs_is_refused() {
    let (_server, proxy, _key) = proxied();
    let client = proxy.client(None);
    let release = client.releases(&name("test:add")).unwrap().remove(0);
    assert_eq!(client.download(&release.digest).unwrap(), b"first");
    proxy.tamper(|path, _| {
        path.starts_with("/content/")
            .then(|| b"not the same".to_vec())
    });
    let e = client.download(&release.digest).unwrap_err();
    chain(&e);
    let WargError::DigestMismatch {
        expected, actual, ..
    } = &e
    else {
        panic!("{}", chain(&e))
    };
    assert_eq!(expected, &release.digest.to_string());
    assert_eq!(actual, &sha256(b"not the same").to_string());
}

#[test]
fn the_source_traits_over_a_warg_registry() {
    use warg_depsolve_names::Integrity;
    use warg_depsolve_registry::{Source, SourceError};
    use warg_depsolve_warg::WargSource;

    let server = Server::start(&[Ns::Defined("test")]);
    let key = key();
    let source = WargSource::new(server.client(Some(&key)));
    let releases = support::testdata();
    let (package, version, bytes) = releases
        .iter()
        .find(|(p, v, _)| p == "test:add" && *v == Version::new(1, 0, 0))
        .unwrap();
    let package: warg_depsolve_names::PackageName = package.parse().unwrap();
    let publisher = source.publisher().unwrap();
    let meta = publisher.publish(&package, version, bytes).unwrap();
    assert_eq!(meta.digest, Integrity::sha256(bytes));
    // A component that does not validate is refused before anything is
    // sent.
    let e = publisher
        .publish(&package, &Version::new(9, 0, 0), b"not wasm")
        .unwrap_err();
    assert!(matches!(e, SourceError::InvalidComponent { .. }), "{e}");

    let reader = WargSource::new(server.client(None));
    let listing = reader.versions(&package).unwrap();
    let versions: Vec<Version> = listing.releases.iter().map(|r| r.version.clone()).collect();
    assert_eq!(versions, std::slice::from_ref(version));
    let digest = reader.hints().unwrap().release_digest(&package, version);
    assert_eq!(digest.unwrap().unwrap(), meta.digest);
    assert_eq!(*reader.metadata(&package, version).unwrap(), meta);
    let fetched = reader.fetch(&package, version, &meta.digest).unwrap();
    assert_eq!(&fetched[..], &bytes[..]);
    let fetched = WargSource::new(server.client(None))
        .fetch(&package, version, &meta.digest)
        .unwrap();
    assert_eq!(&fetched[..], &bytes[..]);

    publisher.set_yanked(&package, version, true).unwrap();
    let listing = WargSource::new(server.client(None))
        .versions(&package)
        .unwrap();
    assert!(listing.releases[0].yanked);
    let e = publisher.set_yanked(&package, version, false).unwrap_err();
    assert!(matches!(e, SourceError::Unsupported { .. }), "{e}");
    let e = reader
        .versions(&"test:nothing".parse().unwrap())
        .unwrap_err();
    assert!(matches!(e, SourceError::PackageNotFound { .. }), "{e}");
}

#[test]
fn a_kept_state_catches_a_registry_reset_from_one_run_to_the_next() {
    use warg_depsolve_registry::{Source, SourceError};
    use warg_depsolve_warg::WargSource;

    let dir = tempfile::tempdir().unwrap();
    let notices = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = {
        let notices = notices.clone();
        Arc::new(move |m: &str| notices.lock().unwrap().push(m.to_string()))
            as warg_depsolve_registry::cache::Warn
    };
    let open = |proxy: &Proxy| {
        WargSource::new(proxy.client(None))
            .with_state_dir(dir.path().to_path_buf(), Some(sink.clone()))
    };
    let pkg: warg_depsolve_names::PackageName = "test:kept".parse().unwrap();

    // A first run through one address learns the registry, and keeps it.
    let proxy = Proxy::start();
    let first = Server::start(&[Ns::Defined("test")]);
    proxy.forward_to(&first);
    let key = key();
    first
        .client(Some(&key))
        .publish(&name("test:kept"), &Version::new(1, 0, 0), b"one")
        .unwrap();
    assert_eq!(open(&proxy).versions(&pkg).unwrap().releases.len(), 1);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one state file");
    let kept = std::fs::read(&files[0]).unwrap();

    // A second run resumes from it.
    assert_eq!(open(&proxy).versions(&pkg).unwrap().releases.len(), 1);

    // The same address now answers for another registry (a reset, or an
    // impostor): the next run refuses it, and keeps the old state.
    let second = Server::start(&[Ns::Defined("test")]);
    let publisher = second.client(Some(&key));
    for minor in 0..3 {
        publisher
            .publish(
                &name("test:kept"),
                &Version::new(1, minor, 0),
                &[minor as u8],
            )
            .unwrap();
    }
    proxy.forward_to(&second);
    let e = open(&proxy).versions(&pkg).unwrap_err();
    let text = chain(&e);
    assert!(matches!(e, SourceError::Backend { .. }), "{text}");
    assert!(
        text.contains("consistent") || text.contains("rewind") || text.contains("shorter"),
        "{text}"
    );
    assert_eq!(std::fs::read(&files[0]).unwrap(), kept);

    // A damaged state is set aside with a notice: that run starts afresh
    // (and learns the registry now at the address).
    std::fs::write(&files[0], b"{ not json").unwrap();
    assert_eq!(open(&proxy).versions(&pkg).unwrap().releases.len(), 3);
    let said = notices.lock().unwrap().join("\n");
    assert!(said.contains("damaged"), "{said}");
    assert!(said.contains(&files[0].display().to_string()), "{said}");
}
