//! The caches: parse counting through the trait, content integrity, offline
//! mode, and two real processes filling one cache at once.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::{component, fixture_registry, leaf, pkg, ver};
use warg_depsolve_names::{Integrity, PackageName};
use warg_depsolve_registry::{
    Cache, CacheStats, CachedSource, Hints, LocalRegistry, MemorySource, Source, SourceError,
};

#[test]
fn second_metadata_read_of_a_digest_parses_nothing() {
    let cache_dir = tempfile::tempdir().unwrap();
    let local = LocalRegistry::new("fixtures", fixture_registry());
    let (inc, v1) = (pkg("test:inc"), ver("1.0.0"));

    let first = CachedSource::new(&local, Cache::new(cache_dir.path()));
    let source: &dyn Source = &first;
    let meta = source.metadata(&inc, &v1).unwrap();
    assert_eq!(local.scans(), 1);
    // The type facts come with it (what the solver checks `add` against),
    // so the comparisons below show the cache keeps them too.
    let types = meta.types.as_ref().expect("test:inc's types read");
    assert!(types.imports.contains_key("add"));
    assert!(types.exports.contains_key("first"));
    assert_eq!(first.stats().metadata_misses, 1);
    // Same instance: answered from memory.
    assert_eq!(source.metadata(&inc, &v1).unwrap(), meta);
    assert_eq!(local.scans(), 1);

    // A new instance over the same cache directory (as a second run would
    // be): the digest is looked up, the metadata read back, nothing parsed.
    let second = CachedSource::new(&local, Cache::new(cache_dir.path()));
    let source: &dyn Source = &second;
    assert_eq!(source.metadata(&inc, &v1).unwrap(), meta);
    assert_eq!(local.scans(), 1);
    assert_eq!(
        second.stats(),
        CacheStats {
            metadata_hits: 1,
            ..CacheStats::default()
        }
    );
    // A release not seen before is parsed once.
    source.metadata(&pkg("test:add"), &ver("1.0.0")).unwrap();
    assert_eq!(local.scans(), 2);
}

#[test]
fn metadata_is_shared_by_digest_and_filled_in_per_release() {
    let cache_dir = tempfile::tempdir().unwrap();
    let reg_dir = tempfile::tempdir().unwrap();
    let local = LocalRegistry::new("local", reg_dir.path());
    let bytes = component(&[("d", Some("unlocked-dep=<test:base@*>"))], "same");
    local
        .publish(&pkg("test:one"), &ver("1.0.0"), &bytes)
        .unwrap();
    local
        .publish(&pkg("test:two"), &ver("3.0.0"), &bytes)
        .unwrap();
    let before = local.scans();

    let cached = CachedSource::new(&local, Cache::new(cache_dir.path()));
    let one = cached.metadata(&pkg("test:one"), &ver("1.0.0")).unwrap();
    let two = cached.metadata(&pkg("test:two"), &ver("3.0.0")).unwrap();
    assert_eq!(local.scans(), before + 1, "same bytes, one parse");
    assert_eq!(
        (two.package.clone(), two.version.clone()),
        (pkg("test:two"), ver("3.0.0"))
    );
    assert_eq!(
        (one.digest.clone(), one.dependencies.clone()),
        (two.digest.clone(), two.dependencies.clone())
    );
}

#[test]
fn content_is_stored_by_digest_and_checked_on_every_read() {
    let cache_dir = tempfile::tempdir().unwrap();
    let local = LocalRegistry::new("fixtures", fixture_registry());
    let add = pkg("test:add");
    let cached = CachedSource::new(&local, Cache::new(cache_dir.path()));
    let meta = cached.metadata(&add, &ver("1.1.0")).unwrap();
    let bytes = cached.fetch(&add, &meta.version, &meta.digest).unwrap();
    assert_eq!(Integrity::sha256(&bytes), meta.digest);
    assert_eq!(cached.stats().content_misses, 1);

    let hex = meta.digest.to_oci().split_once(':').unwrap().1.to_string();
    let stored = cache_dir.path().join("sha256").join(&hex);
    assert_eq!(std::fs::read(&stored).unwrap(), &*bytes);
    assert_eq!(
        &*cached.fetch(&add, &meta.version, &meta.digest).unwrap(),
        &*bytes
    );
    assert_eq!(cached.stats().content_hits, 1);

    // Flip a byte in the stored file: online, the next read discards it,
    // fetches the bytes again (a warning says so) and repairs the file.
    let mut damaged = bytes.to_vec();
    damaged[10] ^= 0x80;
    std::fs::write(&stored, &damaged).unwrap();
    let warnings = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = warnings.clone();
    let healing = CachedSource::new(&local, Cache::new(cache_dir.path())).with_warnings(
        std::sync::Arc::new(move |w: &str| sink.lock().unwrap().push(w.to_string())),
    );
    assert_eq!(
        &*healing.fetch(&add, &meta.version, &meta.digest).unwrap(),
        &*bytes
    );
    assert_eq!(healing.stats().content_misses, 1);
    assert_eq!(std::fs::read(&stored).unwrap(), &*bytes);
    let warned = warnings.lock().unwrap().join("\n");
    assert!(
        warned.contains(&stored.display().to_string()) && warned.contains("test:add"),
        "{warned}"
    );

    // Offline, there is nowhere to fetch from: the error names the
    // package, the registry, the file and both digests.
    std::fs::write(&stored, &damaged).unwrap();
    let offline = CachedSource::offline(&local, Cache::new(cache_dir.path()));
    let err = offline
        .fetch(&add, &meta.version, &meta.digest)
        .unwrap_err();
    let text = err.to_string();
    match err {
        SourceError::DamagedCache {
            source_name,
            path,
            expected,
            actual,
            ..
        } => {
            assert_eq!(source_name, "fixtures");
            assert_eq!(path, stored);
            assert_eq!(expected, meta.digest.to_oci());
            assert_eq!(actual, Integrity::sha256(&damaged).to_oci());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        text.contains("test:add") && text.contains("without --offline"),
        "{text}"
    );

    // The store on its own says the same.
    let store = Cache::new(cache_dir.path());
    assert!(store.content().get(&meta.digest).is_err());
    // Inserting bytes under a digest they do not match is refused.
    assert!(store.content().insert(&meta.digest, b"other").is_err());
    // Inserting the right bytes heals the file.
    store.content().insert(&meta.digest, &bytes).unwrap();
    assert_eq!(
        &*store.content().get(&meta.digest).unwrap().unwrap(),
        &*bytes
    );
}

#[test]
fn offline_answers_from_the_cache_alone() {
    let cache_dir = tempfile::tempdir().unwrap();
    let reg_dir = tempfile::tempdir().unwrap();
    let local = LocalRegistry::new("local", reg_dir.path());
    let add = pkg("test:add");
    local.publish(&add, &ver("1.0.0"), &leaf("1")).unwrap();
    local.publish(&add, &ver("1.1.0"), &leaf("2")).unwrap();
    local
        .publish(&pkg("test:other"), &ver("1.0.0"), &leaf("3"))
        .unwrap();
    local.yank(&add, &ver("1.1.0")).unwrap();

    // One online pass: versions, one release's metadata and content.
    let online = CachedSource::new(&local, Cache::new(cache_dir.path()));
    let versions = online.versions(&add).unwrap().releases.to_vec();
    let meta = online.metadata(&add, &ver("1.0.0")).unwrap();
    let bytes = online.fetch(&add, &meta.version, &meta.digest).unwrap();

    // Offline, with the registry gone entirely.
    drop(online);
    std::fs::remove_dir_all(reg_dir.path()).unwrap();
    let gone = LocalRegistry::new("local", reg_dir.path());
    let offline = CachedSource::offline(&gone, Cache::new(cache_dir.path()));
    assert!(offline.is_offline());
    assert_eq!(offline.versions(&add).unwrap().releases.to_vec(), versions);
    assert!(offline.versions(&add).unwrap().releases[1].yanked);
    assert_eq!(offline.metadata(&add, &ver("1.0.0")).unwrap(), meta);
    assert_eq!(
        offline.fetch(&add, &meta.version, &meta.digest).unwrap(),
        bytes
    );
    assert_eq!(gone.scans(), 0);

    // What was never seen is NotCached, naming it and the registry.
    let not_cached = |err: SourceError, needle: &str| match err {
        SourceError::NotCached { source_name, what } => {
            assert_eq!(source_name, "local");
            assert!(what.contains(needle), "{what}");
        }
        other => panic!("{other:?}"),
    };
    not_cached(
        offline.versions(&pkg("test:other")).unwrap_err(),
        "version list of `test:other`",
    );
    not_cached(
        offline.metadata(&add, &ver("1.1.0")).unwrap_err(),
        "test:add@1.1.0",
    );
    let unseen = Integrity::sha256(&leaf("2"));
    not_cached(
        offline.fetch(&add, &ver("1.0.0"), &unseen).unwrap_err(),
        &unseen.to_oci(),
    );
}

#[test]
fn cached_router_and_memory_sources_work_too() {
    let cache_dir = tempfile::tempdir().unwrap();
    let memory = Arc::new(MemorySource::new("mem"));
    let base = pkg("test:base");
    memory.add_synthetic(&base, &ver("1.0.0"), vec![]).unwrap();
    let mut registries = warg_depsolve_registry::Registries::new(Some("mem".into()));
    registries.insert("mem", memory.clone());
    let cached = CachedSource::new(registries, Cache::new(cache_dir.path()));
    let meta = cached.metadata(&base, &ver("1.0.0")).unwrap();
    cached.versions(&base).unwrap();
    cached.fetch(&base, &meta.version, &meta.digest).unwrap();
    assert_eq!(cached.registry_for(&base), "mem");

    let offline = CachedSource::offline(cached.inner(), Cache::new(cache_dir.path()));
    assert_eq!(offline.metadata(&base, &ver("1.0.0")).unwrap(), meta);
    assert_eq!(offline.versions(&base).unwrap().releases.len(), 1);
}

// ---------------------------------------------------------------------
// Two processes filling one cache.

const CHILD_ENV: &str = "WARG_DEPSOLVE_REGISTRY_CACHE_CHILD";

fn packages() -> Vec<(PackageName, Vec<semver::Version>)> {
    (0..10)
        .map(|p| {
            let versions = (0..6).map(|v| ver(&format!("1.{v}.0"))).collect();
            (pkg(&format!("test:p{p}")), versions)
        })
        .collect()
}

/// What one child does: several rounds over every release, each round with
/// a fresh `CachedSource` (as a new process would have), from several
/// threads, in an order that depends on the child's id.
fn fill_cache(registry: &Path, cache: &Path, id: usize) {
    let local = Arc::new(LocalRegistry::new("local", registry));
    let mut work = packages();
    if id % 2 == 1 {
        work.reverse();
    }
    for _round in 0..3 {
        let cached = Arc::new(CachedSource::new(local.clone(), Cache::new(cache)));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (cached, work) = (cached.clone(), work.clone());
                std::thread::spawn(move || {
                    for (i, (package, versions)) in work.iter().enumerate() {
                        if i % 4 != t {
                            continue;
                        }
                        cached.versions(package).unwrap();
                        for v in versions {
                            let meta = cached.metadata(package, v).unwrap();
                            cached.fetch(package, &meta.version, &meta.digest).unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}

/// Not a test on its own: the body of the child processes of
/// `two_processes_fill_one_cache`, which runs this test binary again with
/// this test's name and the environment variable set.
#[test]
#[ignore = "a child process of two_processes_fill_one_cache, not a test of its own"]
fn cache_child_worker() {
    let spec = std::env::var(CHILD_ENV).expect("run by two_processes_fill_one_cache");
    let mut parts = spec.split('\n');
    let (registry, cache, id, done) = (
        PathBuf::from(parts.next().unwrap()),
        PathBuf::from(parts.next().unwrap()),
        parts.next().unwrap().parse::<usize>().unwrap(),
        PathBuf::from(parts.next().unwrap()),
    );
    fill_cache(&registry, &cache, id);
    std::fs::write(done, b"done").unwrap();
}

#[test]
fn two_processes_fill_one_cache() {
    let reg_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let marks = tempfile::tempdir().unwrap();
    let publisher = LocalRegistry::new("local", reg_dir.path());
    for (package, versions) in packages() {
        for v in versions {
            let dep = format!("unlocked-dep=<test:base@{{>={v}}}>");
            let bytes = component(&[("base", Some(&dep))], &format!("{package}-{v}"));
            publisher.publish(&package, &v, &bytes).unwrap();
        }
    }
    publisher.yank(&pkg("test:p3"), &ver("1.2.0")).unwrap();

    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|id| {
            let spec = format!(
                "{}\n{}\n{id}\n{}",
                reg_dir.path().display(),
                cache_dir.path().display(),
                marks.path().join(format!("child-{id}")).display()
            );
            Command::new(&exe)
                .args([
                    "cache_child_worker",
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(CHILD_ENV, spec)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Both run at once; their output is shown only if one fails.
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child failed: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for id in 0..2 {
        assert!(
            marks.path().join(format!("child-{id}")).is_file(),
            "child {id} did not run"
        );
    }

    // Every content file hashes to its name; no temporary file is left.
    let mut stored = 0;
    for entry in std::fs::read_dir(cache_dir.path().join("sha256")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        assert!(!name.starts_with(".tmp"), "leftover {name}");
        let digest = Integrity::parse_oci(&format!("sha256:{name}")).unwrap();
        assert!(
            digest.matches(&std::fs::read(entry.path()).unwrap()),
            "{name}"
        );
        stored += 1;
    }
    assert_eq!(stored, 60);
    assert_no_temp_files(cache_dir.path());

    // The cache alone answers everything, and agrees with the registry.
    let gone = LocalRegistry::new("local", reg_dir.path().join("absent"));
    let offline = CachedSource::offline(&gone, Cache::new(cache_dir.path()));
    for (package, versions) in packages() {
        assert_eq!(
            offline.versions(&package).unwrap().releases.to_vec(),
            publisher.versions(&package).unwrap().releases.to_vec()
        );
        for v in versions {
            let meta = offline.metadata(&package, &v).unwrap();
            assert_eq!(*meta, *publisher.metadata(&package, &v).unwrap());
            offline
                .fetch(&package, &meta.version, &meta.digest)
                .unwrap();
        }
    }
    assert_eq!(gone.scans(), 0);
}

fn assert_no_temp_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        assert!(
            !name.starts_with(".tmp"),
            "leftover {}",
            entry.path().display()
        );
        if entry.file_type().unwrap().is_dir() {
            assert_no_temp_files(&entry.path());
        }
    }
}

// ---------------------------------------------------------------------
// The package summary: a warm read trusts the registry's stamps, and
// notices every change a user makes.

/// A local registry whose files are stamped as soon as they are in the
/// past (the tests wait a little after each change instead of the default
/// settle time).
fn stamped_registry(dir: &Path) -> LocalRegistry {
    LocalRegistry::new("local", dir).with_settle_time(std::time::Duration::ZERO)
}

/// Longer than a file system timestamp tick, so the next change gets a
/// later time.
fn tick() {
    std::thread::sleep(std::time::Duration::from_millis(30));
}

fn versions_of(source: &dyn Source, package: &PackageName) -> Vec<(String, bool)> {
    source
        .versions(package)
        .unwrap()
        .releases
        .to_vec()
        .into_iter()
        .map(|r| (r.version.to_string(), r.yanked))
        .collect()
}

#[test]
fn warm_reads_list_and_hash_nothing_until_something_changes() {
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let local = stamped_registry(reg_dir.path());
    let add = pkg("test:add");
    local.publish(&add, &ver("1.0.0"), &leaf("1")).unwrap();
    tick();
    let cold = CachedSource::new(&local, Cache::new(cache_dir.path()));
    cold.versions(&add).unwrap();
    let meta = cold.metadata(&add, &ver("1.0.0")).unwrap();
    // Written once, when the source is done (here: asked to, as the next
    // instance shares the directory while this one lives).
    cold.flush_all().unwrap();
    let summary = cache_dir.path().join("index/local/summaries.index");
    let written = std::fs::read(&summary).unwrap();

    // A new instance (a new process): no listing, no read of the release.
    let (listings, reads, scans) = (local.listings(), local.reads(), local.scans());
    let warm = CachedSource::new(&local, Cache::new(cache_dir.path()));
    assert_eq!(versions_of(&warm, &add), [("1.0.0".into(), false)]);
    assert_eq!(warm.metadata(&add, &ver("1.0.0")).unwrap(), meta);
    assert_eq!(
        warm.release_digest(&add, &ver("1.0.0")).unwrap().unwrap(),
        meta.digest
    );
    assert_eq!(
        (local.listings(), local.reads(), local.scans()),
        (listings, reads, scans)
    );
    // And nothing was written: the summary is the same file.
    assert_eq!(std::fs::read(&summary).unwrap(), written);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let ino = std::fs::metadata(&summary).unwrap().ino();
        CachedSource::new(&local, Cache::new(cache_dir.path()))
            .metadata(&add, &ver("1.0.0"))
            .unwrap();
        assert_eq!(std::fs::metadata(&summary).unwrap().ino(), ino);
    }
}

#[test]
fn published_yanked_and_unyanked_releases_are_seen_by_the_next_solve() {
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let local = stamped_registry(reg_dir.path());
    let add = pkg("test:add");
    local.publish(&add, &ver("1.0.0"), &leaf("1")).unwrap();
    tick();
    let fresh = || CachedSource::new(&local, Cache::new(cache_dir.path()));
    assert_eq!(versions_of(&fresh(), &add), [("1.0.0".into(), false)]);

    local.publish(&add, &ver("1.1.0"), &leaf("2")).unwrap();
    tick();
    let expected = vec![("1.0.0".to_string(), false), ("1.1.0".to_string(), false)];
    assert_eq!(versions_of(&fresh(), &add), expected);

    local.yank(&add, &ver("1.1.0")).unwrap();
    tick();
    let yanked = vec![("1.0.0".to_string(), false), ("1.1.0".to_string(), true)];
    assert_eq!(versions_of(&fresh(), &add), yanked);
    // Offline, the last list seen.
    let offline = CachedSource::offline(&local, Cache::new(cache_dir.path()));
    assert_eq!(versions_of(&offline, &add), yanked);

    local.unyank(&add, &ver("1.1.0")).unwrap();
    tick();
    assert_eq!(versions_of(&fresh(), &add), expected);
    // Unchanged since: answered without listing.
    let listings = local.listings();
    assert_eq!(versions_of(&fresh(), &add), expected);
    assert_eq!(local.listings(), listings);
}

#[test]
fn a_release_file_replaced_on_disk_is_read_again() {
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let local = stamped_registry(reg_dir.path());
    let (add, v1) = (pkg("test:add"), ver("1.0.0"));
    let before = component(&[], "one");
    local.publish(&add, &v1, &before).unwrap();
    tick();
    let fresh = || CachedSource::new(&local, Cache::new(cache_dir.path()));
    let old = fresh().metadata(&add, &v1).unwrap();
    assert!(old.dependencies.is_empty());

    // Replaced in place (releases are immutable, but a file is a file),
    // with other bytes of the same size.
    let same_size = component(&[], "two");
    assert_eq!(same_size.len(), before.len());
    let path = local.release_path(&add, &v1).unwrap();
    std::fs::write(&path, &same_size).unwrap();
    tick();
    let source = fresh();
    assert_eq!(
        source.release_digest(&add, &v1).unwrap().unwrap(),
        Integrity::sha256(&same_size)
    );
    assert_eq!(
        source.metadata(&add, &v1).unwrap().digest,
        Integrity::sha256(&same_size)
    );

    // Replaced by a rename, with a dependency: the new metadata, and the
    // old digest no longer fetches.
    let with_dep = component(&[("base", Some("unlocked-dep=<test:base@*>"))], "three");
    let tmp = reg_dir.path().join("test/add/new.tmp");
    std::fs::write(&tmp, &with_dep).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    tick();
    let source = fresh();
    let new = source.metadata(&add, &v1).unwrap();
    assert_eq!(new.digest, Integrity::sha256(&with_dep));
    assert_eq!(new.dependencies.len(), 1);
    assert!(source.fetch(&add, &old.version, &old.digest).is_err());
    assert_eq!(
        &*source.fetch(&add, &new.version, &new.digest).unwrap(),
        &with_dep[..]
    );
}

#[test]
fn recently_changed_files_are_read_every_time() {
    // Racy git: a file changed less than the settle time ago may change
    // again within the same timestamp tick, so its identity is not
    // trusted and its bytes are read on every new instance.
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let local = LocalRegistry::new("local", reg_dir.path())
        .with_settle_time(std::time::Duration::from_secs(3600));
    let (add, v1) = (pkg("test:add"), ver("1.0.0"));
    local.publish(&add, &v1, &component(&[], "one")).unwrap();
    let fresh = || CachedSource::new(&local, Cache::new(cache_dir.path()));
    fresh().metadata(&add, &v1).unwrap();
    let reads = local.reads();
    fresh().metadata(&add, &v1).unwrap();
    assert_eq!(local.reads(), reads + 1, "hashed again");
    // So a rewrite of the same size right away is seen.
    let path = local.release_path(&add, &v1).unwrap();
    let two = component(&[], "two");
    std::fs::write(&path, &two).unwrap();
    assert_eq!(
        fresh().metadata(&add, &v1).unwrap().digest,
        Integrity::sha256(&two)
    );
    // The directory, too, is listed every time.
    let listings = local.listings();
    fresh().versions(&add).unwrap();
    fresh().versions(&add).unwrap();
    assert_eq!(local.listings(), listings + 2);
}

#[cfg(unix)]
#[test]
fn a_symlinked_release_is_listed_only_while_its_target_exists() {
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let elsewhere = tempfile::tempdir().unwrap();
    let local = stamped_registry(reg_dir.path());
    let add = pkg("test:add");
    local.publish(&add, &ver("1.0.0"), &leaf("1")).unwrap();
    let target = elsewhere.path().join("add.wasm");
    std::fs::write(&target, leaf("2")).unwrap();
    std::os::unix::fs::symlink(&target, reg_dir.path().join("test/add/1.1.0.wasm")).unwrap();
    tick();
    let fresh = || CachedSource::new(&local, Cache::new(cache_dir.path()));
    let both = vec![("1.0.0".to_string(), false), ("1.1.0".to_string(), false)];
    assert_eq!(versions_of(&fresh(), &add), both);
    // The directory does not change when the target goes away.
    std::fs::remove_file(&target).unwrap();
    assert_eq!(versions_of(&fresh(), &add), [("1.0.0".into(), false)]);
}

#[test]
fn an_unreadable_summary_is_rebuilt() {
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let local = stamped_registry(reg_dir.path());
    let (add, v1) = (pkg("test:add"), ver("1.0.0"));
    local.publish(&add, &v1, &leaf("1")).unwrap();
    tick();
    let fresh = || CachedSource::new(&local, Cache::new(cache_dir.path()));
    let meta = fresh().metadata(&add, &v1).unwrap();
    let summary = cache_dir.path().join("index/local/summaries.index");
    std::fs::write(&summary, b"{ not json").unwrap();
    let scans = local.scans();
    assert_eq!(fresh().metadata(&add, &v1).unwrap(), meta);
    // Found again by digest in the metadata cache, not parsed.
    assert_eq!(local.scans(), scans);
    let rebuilt = String::from_utf8(std::fs::read(&summary).unwrap()).unwrap();
    let line = rebuilt
        .lines()
        .find_map(|l| l.strip_prefix("test:add "))
        .expect("test:add's summary line");
    assert!(line.contains(&meta.digest.to_oci()), "{line}");
    // And the rebuilt summary is read back: no scan, no hash.
    let (reads, scans) = (local.reads(), local.scans());
    assert_eq!(fresh().metadata(&add, &v1).unwrap(), meta);
    assert_eq!((local.reads(), local.scans()), (reads, scans));
    // Offline, with the summary gone, the per-release files still answer.
    std::fs::remove_file(&summary).unwrap();
    let offline = CachedSource::offline(&local, Cache::new(cache_dir.path()));
    assert_eq!(offline.metadata(&add, &v1).unwrap(), meta);
}

/// A cold solve learns a package's releases one by one; its summary is
/// written once, when the source is done, not after every release (which
/// rewrote a growing file: quadratic in the number of releases), into the
/// registry's one summaries file, beside the other packages' lines.
#[test]
fn the_summary_is_written_once_per_package() {
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let local = LocalRegistry::new("local", reg_dir.path());
    let add = pkg("test:add");
    let versions = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"];
    for (i, v) in versions.iter().enumerate() {
        local.publish(&add, &ver(v), &leaf(&i.to_string())).unwrap();
    }
    let summary = cache_dir.path().join("index/local/summaries.index");
    {
        let cold = CachedSource::new(&local, Cache::new(cache_dir.path()));
        cold.versions(&add).unwrap();
        for v in versions {
            cold.metadata(&add, &ver(v)).unwrap();
        }
        assert!(!summary.exists(), "written before the source was done");
    }
    let text = std::fs::read_to_string(&summary).unwrap();
    for v in versions {
        assert!(text.contains(v), "{v} missing from {text}");
    }
    // Another instance learning another package keeps this one's line.
    let base = pkg("test:base");
    local.publish(&base, &ver("1.0.0"), &leaf("b")).unwrap();
    {
        let other = CachedSource::new(&local, Cache::new(cache_dir.path()));
        other.metadata(&base, &ver("1.0.0")).unwrap();
    }
    let text = std::fs::read_to_string(&summary).unwrap();
    let packages: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(' ').map(|(name, _)| name))
        .collect();
    assert_eq!(packages, ["test:add", "test:base"], "{text}");
}
