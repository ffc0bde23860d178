//! A re-solve answered from the cache's memo (`resolve_remembered`): the
//! same solution with nothing read while nothing changed, and a new solve
//! as soon as anything the solution rests on changes.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use semver::Version;
use warg_depsolve_names::{Integrity, PackageName};
use warg_depsolve_registry::{
    Cache, CachedSource, Hints, Listing, LocalRegistry, MemorySource, ReleaseMetadata, Source,
    SourceError, Verified,
};
use warg_depsolve_solver::memo::resolve_remembered;
use warg_depsolve_solver::{resolve, Resolution, Root, SolveOptions};

fn pkg(s: &str) -> PackageName {
    s.parse().unwrap()
}

fn ver(s: &str) -> Version {
    s.parse().unwrap()
}

/// A component importing each `(name, reference)`, told apart by `tag`.
fn component(imports: &[(&str, &str)], tag: &str) -> Vec<u8> {
    let mut wat = String::from("(component\n");
    for (name, id) in imports {
        wat.push_str(&format!(
            "  (import {name:?} (external-id {id:?}) (instance))\n"
        ));
    }
    wat.push_str(&format!("  (core module $m (func (export {tag:?})))\n"));
    wat.push_str("  (export \"m\" (core module $m))\n)");
    wat::parse_str(&wat).unwrap()
}

/// Longer than a file system timestamp tick, so the next change gets a
/// later time.
fn tick() {
    std::thread::sleep(std::time::Duration::from_millis(30));
}

/// Passes everything to `inner`, counting the lists and releases read.
struct Counting<'a> {
    inner: &'a dyn Source,
    reads: AtomicUsize,
}

impl<'a> Counting<'a> {
    fn new(inner: &'a dyn Source) -> Self {
        Counting {
            inner,
            reads: AtomicUsize::new(0),
        }
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::Relaxed)
    }
}

impl Source for Counting<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn registry_for(&self, package: &PackageName) -> &str {
        self.inner.registry_for(package)
    }
    fn versions(&self, package: &PackageName) -> Result<Listing, SourceError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.versions(package)
    }
    fn metadata(
        &self,
        package: &PackageName,
        version: &Version,
    ) -> Result<Arc<ReleaseMetadata>, SourceError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.metadata(package, version)
    }
    fn fetch(
        &self,
        package: &PackageName,
        version: &Version,
        digest: &Integrity,
    ) -> Result<Verified, SourceError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.fetch(package, version, digest)
    }
    fn hints(&self) -> Option<&dyn Hints> {
        self.inner.hints()
    }
}

/// `app` needs `test:add@{>=1.0.0}`; `test:add@1.0.0` needs `test:base`.
fn registry(dir: &Path) -> (LocalRegistry, Root) {
    let local = LocalRegistry::new("local", dir).with_settle_time(std::time::Duration::ZERO);
    let base = component(&[], "base one");
    local
        .publish(&pkg("test:base"), &ver("1.0.0"), &base)
        .unwrap();
    let add = component(&[("base", "unlocked-dep=<test:base@*>")], "add one");
    local
        .publish(&pkg("test:add"), &ver("1.0.0"), &add)
        .unwrap();
    let root = component(&[("add", "unlocked-dep=<test:add@{>=1.0.0}>")], "app");
    tick();
    (local, Root::from_component("app", &root).unwrap())
}

fn chosen(resolution: &Resolution) -> Vec<(String, String)> {
    resolution
        .packages
        .iter()
        .map(|p| (p.package.to_string(), p.version.to_string()))
        .collect()
}

/// A solve in a new process over `cache`: its resolution and how many
/// lists and releases it read.
fn solve_anew(local: &LocalRegistry, cache: &Path, root: &Root) -> (Resolution, usize) {
    let cache = Cache::new(cache);
    let cached = CachedSource::new(local, cache.clone());
    let counting = Counting::new(&cached);
    let resolution =
        resolve_remembered(&counting, &cache.memos(), root, &SolveOptions::default()).unwrap();
    // The answer is always the solver's own.
    let fresh = resolve(
        &CachedSource::new(local, cache),
        root,
        &SolveOptions::default(),
    )
    .unwrap();
    assert_eq!(resolution, fresh);
    (resolution, counting.reads())
}

#[test]
fn a_re_solve_reads_nothing_until_something_it_read_changes() {
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (local, root) = registry(reg_dir.path());
    let (first, reads) = solve_anew(&local, cache_dir.path(), &root);
    assert!(reads > 0);
    assert_eq!(
        chosen(&first),
        [
            ("test:add".into(), "1.0.0".into()),
            ("test:base".into(), "1.0.0".into())
        ]
    );
    let (again, reads) = solve_anew(&local, cache_dir.path(), &root);
    assert_eq!((again, reads), (first, 0), "remembered: nothing read");

    // A new release of a package the solve listed.
    local
        .publish(&pkg("test:add"), &ver("1.1.0"), &component(&[], "add two"))
        .unwrap();
    tick();
    let (newer, reads) = solve_anew(&local, cache_dir.path(), &root);
    assert!(reads > 0);
    assert_eq!(chosen(&newer), [("test:add".into(), "1.1.0".into())]);
    assert_eq!(solve_anew(&local, cache_dir.path(), &root).1, 0);

    // Yanked: back to the release before it.
    local.yank(&pkg("test:add"), &ver("1.1.0")).unwrap();
    tick();
    let (yanked, reads) = solve_anew(&local, cache_dir.path(), &root);
    assert!(reads > 0);
    assert_eq!(chosen(&yanked)[0], ("test:add".into(), "1.0.0".into()));
    assert_eq!(solve_anew(&local, cache_dir.path(), &root).1, 0);

    // A chosen release's file replaced in place, same size, other bytes:
    // the solution carries the new digest.
    let replaced = component(&[], "base two");
    let path = local
        .release_path(&pkg("test:base"), &ver("1.0.0"))
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap().len(), replaced.len());
    std::fs::write(&path, &replaced).unwrap();
    tick();
    let (after, reads) = solve_anew(&local, cache_dir.path(), &root);
    assert!(reads > 0);
    assert_eq!(after.packages[1].digest, Integrity::sha256(&replaced));
}

#[test]
fn another_root_is_solved_not_recalled() {
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (local, root) = registry(reg_dir.path());
    local
        .publish(&pkg("test:add"), &ver("1.1.0"), &component(&[], "add two"))
        .unwrap();
    tick();
    let (first, _) = solve_anew(&local, cache_dir.path(), &root);
    assert_eq!(chosen(&first), [("test:add".into(), "1.1.0".into())]);
    let below = component(&[("add", "unlocked-dep=<test:add@{<1.1.0}>")], "app");
    let below = Root::from_component("below", &below).unwrap();
    let (other, reads) = solve_anew(&local, cache_dir.path(), &below);
    assert!(reads > 0);
    assert_eq!(other.root, "below");
    assert_eq!(chosen(&other)[0], ("test:add".into(), "1.0.0".into()));
    // The root's name labels reports only: the same imports are recalled
    // under the new name.
    let renamed = Root {
        name: "renamed".into(),
        ..root.clone()
    };
    let (recalled, reads) = solve_anew(&local, cache_dir.path(), &renamed);
    assert_eq!((recalled.root.as_str(), reads), ("renamed", 0));
}

#[test]
fn a_source_without_stamps_solves_every_time() {
    let cache_dir = tempfile::tempdir().unwrap();
    let memory = MemorySource::new("memory");
    memory
        .add(&pkg("test:add"), &ver("1.0.0"), component(&[], "add"))
        .unwrap();
    let root = component(&[("add", "unlocked-dep=<test:add@{>=1.0.0}>")], "app");
    let root = Root::from_component("app", &root).unwrap();
    let memos = Cache::new(cache_dir.path()).memos();
    for _ in 0..2 {
        let counting = Counting::new(&memory);
        let resolution =
            resolve_remembered(&counting, &memos, &root, &SolveOptions::default()).unwrap();
        assert_eq!(chosen(&resolution), [("test:add".into(), "1.0.0".into())]);
        assert!(counting.reads() > 0);
    }
    assert!(
        !cache_dir.path().join("memo").exists(),
        "nothing remembered"
    );
}

#[test]
fn a_damaged_memo_is_solved_again() {
    let (reg_dir, cache_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (local, root) = registry(reg_dir.path());
    let (first, _) = solve_anew(&local, cache_dir.path(), &root);
    let memo_dir = cache_dir.path().join("memo");
    let files: Vec<_> = std::fs::read_dir(&memo_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    for (damage, what) in [(&b"{\"format\":1,"[..], "truncated"), (b"", "empty")] {
        std::fs::write(&files[0], damage).unwrap();
        let (again, reads) = solve_anew(&local, cache_dir.path(), &root);
        assert_eq!(again, first, "{what}");
        assert!(reads > 0, "{what}");
    }
    // And remembered again.
    assert_eq!(solve_anew(&local, cache_dir.path(), &root).1, 0);
}
