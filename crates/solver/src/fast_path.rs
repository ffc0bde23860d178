//! The newest-first fast path, tried before pubgrub (as cargo and uv do):
//! when every package can be at the newest release its dependents allow,
//! a walk of the graph finds that solution without pubgrub's bookkeeping.

use pubgrub::{DependencyProvider as _, Map, Ranges, VersionSet as _};
use warg_depsolve_names::Track;

use crate::display::Versions;
use crate::error::SolveError;
use crate::node::Node;
use crate::provider::Provider;
use crate::version::Ver;

/// A hint: the versions a package was required to be in by dependents
/// that excluded an earlier choice, and who they were.
struct Hint {
    set: Versions,
    from: Vec<(Node, Ver)>,
}

/// A conflict found by a walk: the package, the range that excluded its
/// choice, and the dependent (at its chosen version) that asked.
type Conflict = (Node, Versions, (Node, Ver));

/// Walks the graph from `root` breadth first, choosing for each pubgrub
/// package, the first time a dependency names it, what
/// [`choose_version`](pubgrub::DependencyProvider::choose_version) would
/// choose (the newest allowed release, or the lock's pin), and checks
/// every later dependency on it against that choice.
///
/// A walk that finds conflicts (a later dependency that excludes the
/// choice) records each excluding range as a hint for that package and
/// walks again, choosing within the hints: the upper-bounded pins that
/// make most real conflicts are met on the second walk. A walk without
/// conflicts is a solution: every dependency of every chosen release is
/// satisfied. It is accepted only if every hint came from a release in
/// it, so no package is held back by a requirement the solution does
/// not have: each package is then at the newest release (pins and
/// yanks aside) that all its dependents in the solution allow. Otherwise
/// (too many walks, a stale hint, a missing release, an error below the
/// root) `Ok(None)`: pubgrub solves from scratch, so conflict reports are
/// exactly pubgrub's.
///
/// # Errors
///
/// Resolving the root's own dependencies fails (a missing package, the
/// source failing). That is the first thing pubgrub would ask too, and it
/// would meet the same error: returned at once, so the source is not
/// asked twice (a network source would be waited for twice).
pub(crate) fn newest_first(
    provider: &Provider<'_>,
    root: &Node,
) -> Result<Option<Map<Node, Ver>>, SolveError> {
    /// Walks before pubgrub takes over.
    const WALKS: usize = 6;
    // Kept by the requirements, so the walks below find it resolved.
    provider.resolved_deps(root, &Ver::zero())?;
    let mut hints: Map<Node, Hint> = Map::default();
    for _ in 0..WALKS {
        let Some((chosen, conflicts)) = walk(provider, root, &hints) else {
            return Ok(None);
        };
        if conflicts.is_empty() {
            let genuine = hints
                .values()
                .flat_map(|h| &h.from)
                .all(|(node, version)| chosen.get(node) == Some(version));
            return Ok(genuine.then_some(chosen));
        }
        for (node, set, from) in conflicts {
            let hint = hints.entry(node).or_insert_with(|| Hint {
                set: Versions::full(),
                from: Vec::new(),
            });
            hint.set = hint.set.intersection(&set);
            hint.from.push(from);
        }
    }
    Ok(None)
}

/// One walk of [`newest_first`]: the choices, and the conflicts found.
/// `None` when a package has nothing to choose or an error is met.
///
/// An error below the root (a release importing a missing package, the
/// source failing for one package or release) must not end the solve
/// here: the walk met it only because it chose the newest releases, and
/// pubgrub may find a solution that never looks at that release (an older
/// dependent without the import, or one another dependent's range
/// forces). Test `an_error_below_the_root_does_not_fail_a_solvable_root`.
fn walk(
    provider: &Provider<'_>,
    root: &Node,
    hints: &Map<Node, Hint>,
) -> Option<(Map<Node, Ver>, Vec<Conflict>)> {
    let root_version = Ver::zero();
    let mut chosen: Map<Node, Ver> = Map::default();
    chosen.insert(root.clone(), root_version);
    let mut queue = vec![(root.clone(), root_version)];
    let mut conflicts = Vec::new();
    let mut next = 0;
    let mut visit = |dependent: &(Node, Ver),
                     dep: &Node,
                     range: &Versions,
                     queue: &mut Vec<(Node, Ver)>|
     -> Option<()> {
        match chosen.get(dep) {
            Some(v) if range.contains(v) => {}
            Some(v) => {
                // The next walk would choose below `v` (the newest its
                // first dependent allowed) and inside this range: with
                // nothing there, more walks cannot help, and pubgrub
                // takes over now rather than after them.
                let mut within = range.intersection(&Versions(Ranges::lower_than(*v)));
                if let Some(hint) = hints.get(dep) {
                    within = within.intersection(&hint.set);
                }
                provider.choose_version(dep, &within).ok()??;
                conflicts.push((dep.clone(), range.clone(), dependent.clone()))
            }
            None => {
                let v = match hints.get(dep) {
                    Some(hint) => provider.choose_version(dep, &range.intersection(&hint.set)),
                    None => provider.choose_version(dep, range),
                };
                let v = v.ok()??;
                chosen.insert(dep.clone(), v);
                queue.push((dep.clone(), v));
            }
        }
        Some(())
    };
    while let Some(dependent) = queue.get(next).cloned() {
        next += 1;
        let (node, version) = &dependent;
        if let Node::Span { package, .. } = node {
            let track = Node::Track {
                package: package.clone(),
                track: Track::of(&version.version()),
            };
            visit(
                &dependent,
                &track,
                &Versions::singleton(*version),
                &mut queue,
            )?;
            continue;
        }
        let resolved = provider.resolved_deps(node, version).ok()?;
        for r in resolved.iter().flatten() {
            visit(&dependent, &r.node, &r.set, &mut queue)?;
        }
    }
    Some((chosen, conflicts))
}
