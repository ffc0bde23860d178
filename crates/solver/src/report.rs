//! Turning pubgrub's derivation tree into an explanation a person can
//! follow: package-and-range terms, the root named by its file, "imports"
//! rather than "depends on", and tracks only where a package has several.

use std::collections::{BTreeSet, HashMap};

use pubgrub::{
    DefaultStringReporter, DerivationTree, Derived, External, Map, ReportFormatter, Reporter, Term,
};
use semver::Version;
use warg_depsolve_names::{PackageName, Track};

use crate::display::Versions;
use crate::node::Node;

/// The explanation of a failed solve, a chain of "because" sentences ending
/// in the root's failure. `known` holds every release the solver saw, so a
/// range that holds one release can be named by that release.
pub(crate) fn explain(
    tree: &DerivationTree<Node, Versions, String>,
    known: HashMap<PackageName, Vec<Version>>,
) -> String {
    // A track is worth printing only when the report mentions two tracks
    // of one package.
    let mut tracks: HashMap<&PackageName, BTreeSet<Track>> = HashMap::new();
    for node in tree.packages() {
        if let Node::Track { package, track } = node {
            tracks.entry(package).or_default().insert(*track);
        }
    }
    let multi_track = tracks
        .into_iter()
        .filter(|(_, t)| t.len() > 1)
        .map(|(p, _)| p.clone())
        .collect();
    let mut report = DefaultStringReporter::report_with_formatter(
        tree,
        &Formatter {
            known: &known,
            multi_track,
        },
    );
    // What exists, so the reader sees what the ranges missed (a "no
    // versions" step is collapsed out of the derivation above).
    let mut packages: Vec<&PackageName> = tree
        .packages()
        .into_iter()
        .filter_map(|node| match node {
            Node::Track { package, .. } | Node::Span { package, .. } => Some(&**package),
            Node::Root(_) => None,
        })
        .collect();
    packages.sort();
    packages.dedup();
    for package in packages {
        report.push('\n');
        report.push_str(&releases_line(
            package,
            known.get(package).map_or(&[][..], Vec::as_slice),
        ));
    }
    report
}

/// How many releases of a package the report lists (the newest).
const LISTED_RELEASES: usize = 10;

/// `test:add has 1.0.0, 1.1.0, 2.0.0`, the newest few when there are many.
fn releases_line(package: &PackageName, releases: &[Version]) -> String {
    let mut sorted: Vec<&Version> = releases.iter().collect();
    sorted.sort();
    sorted.dedup();
    if sorted.is_empty() {
        return format!("{package} has no releases");
    }
    let skipped = sorted.len().saturating_sub(LISTED_RELEASES);
    let shown: Vec<String> = sorted[skipped..].iter().map(|v| v.to_string()).collect();
    if skipped == 0 {
        format!("{package} has {}", shown.join(", "))
    } else {
        format!(
            "{package} has {} releases, the newest {}",
            sorted.len(),
            shown.join(", ")
        )
    }
}

struct Formatter<'k> {
    known: &'k HashMap<PackageName, Vec<Version>>,
    multi_track: BTreeSet<PackageName>,
}

fn full(vs: &Versions) -> bool {
    vs.0 == pubgrub::Ranges::full()
}

impl Formatter<'_> {
    fn name(&self, p: &Node) -> String {
        match p {
            Node::Track { package, track } if self.multi_track.contains(package) => {
                format!("{package} (track {track})")
            }
            Node::Track { package, .. } | Node::Span { package, .. } => package.to_string(),
            Node::Root(_) => p.to_string(),
        }
    }

    /// The releases of `p` inside `vs`.
    fn releases_in<'a>(
        &'a self,
        p: &'a Node,
        vs: &'a Versions,
    ) -> impl Iterator<Item = &'a Version> + 'a {
        let (package, track) = match p {
            Node::Track { package, track } => (Some(package), Some(*track)),
            Node::Span { package, .. } => (Some(package), None),
            Node::Root(_) => (None, None),
        };
        package
            .and_then(|p| self.known.get(p))
            .into_iter()
            .flatten()
            .filter(move |v| track.is_none_or(|t| Track::of(v) == t) && vs.contains_version(v))
    }

    /// A dependent: `test:top 1.1.0` when the set holds one release,
    /// `every version of test:top`, else `test:top >=1.0.0`.
    fn package_versions(&self, p: &Node, vs: &Versions) -> String {
        let mut releases = self.releases_in(p, vs);
        if let (Some(only), None) = (releases.next(), releases.next()) {
            return format!("{} {only}", self.name(p));
        }
        if full(vs) {
            format!("every version of {}", self.name(p))
        } else {
            format!("{} {vs}", self.name(p))
        }
    }

    /// A requirement: `test:base >=1.2.0 <2.0.0`, or `test:base`.
    fn requirement(&self, p: &Node, vs: &Versions) -> String {
        if full(vs) {
            self.name(p)
        } else {
            format!("{} {vs}", self.name(p))
        }
    }
}

impl ReportFormatter<Node, Versions, String> for Formatter<'_> {
    type Output = String;

    fn format_external(&self, external: &External<Node, Versions, String>) -> String {
        match external {
            External::NotRoot(p, _) => format!("we are solving the imports of {p}"),
            External::NoVersions(p, vs) => {
                if full(vs) {
                    format!("{} has no usable release", self.name(p))
                } else {
                    format!("no usable release of {} matches {vs}", self.name(p))
                }
            }
            External::Custom(p, vs, why) => {
                format!("{} cannot be used: {why}", self.package_versions(p, vs))
            }
            External::FromDependencyOf(p, vs, dep, dep_vs) => match p {
                Node::Root(_) => format!("{p} imports {}", self.requirement(dep, dep_vs)),
                Node::Span { package, .. } => {
                    format!(
                        "choosing {package} {vs} means using {}",
                        self.requirement(dep, dep_vs)
                    )
                }
                Node::Track { .. } => format!(
                    "{} imports {}",
                    self.package_versions(p, vs),
                    self.requirement(dep, dep_vs)
                ),
            },
        }
    }

    fn format_terms(&self, terms: &Map<Node, Term<Versions>>) -> String {
        let terms: Vec<_> = terms.iter().collect();
        match terms.as_slice() {
            [] => "version solving failed".into(),
            [(p @ Node::Root(_), Term::Positive(_))] => {
                format!("the imports of {p} cannot all be satisfied")
            }
            [(p, Term::Positive(vs))] => format!("{} cannot be used", self.package_versions(p, vs)),
            [(p, Term::Negative(vs))] => format!("{} is required", self.requirement(p, vs)),
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => self.format_external(
                &External::FromDependencyOf((*p1).clone(), r1.clone(), (*p2).clone(), r2.clone()),
            ),
            many => {
                let parts: Vec<String> = many
                    .iter()
                    .map(|(p, t)| match t {
                        Term::Positive(vs) => self.package_versions(p, vs),
                        Term::Negative(vs) => format!("not {}", self.requirement(p, vs)),
                    })
                    .collect();
                let (last, rest) = parts.split_last().expect("at least three terms");
                format!("{} and {last} cannot be used together", rest.join(", "))
            }
        }
    }

    fn explain_both_external(
        &self,
        e1: &External<Node, Versions, String>,
        e2: &External<Node, Versions, String>,
        current: &Map<Node, Term<Versions>>,
    ) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(e1),
            self.format_external(e2),
            self.format_terms(current)
        )
    }

    fn explain_both_ref(
        &self,
        id1: usize,
        d1: &Derived<Node, Versions, String>,
        id2: usize,
        d2: &Derived<Node, Versions, String>,
        current: &Map<Node, Term<Versions>>,
    ) -> String {
        format!(
            "Because {} ({id1}) and {} ({id2}), {}.",
            self.format_terms(&d1.terms),
            self.format_terms(&d2.terms),
            self.format_terms(current)
        )
    }

    fn explain_ref_and_external(
        &self,
        id: usize,
        d: &Derived<Node, Versions, String>,
        e: &External<Node, Versions, String>,
        current: &Map<Node, Term<Versions>>,
    ) -> String {
        format!(
            "Because {} ({id}) and {}, {}.",
            self.format_terms(&d.terms),
            self.format_external(e),
            self.format_terms(current)
        )
    }

    fn and_explain_external(
        &self,
        e: &External<Node, Versions, String>,
        current: &Map<Node, Term<Versions>>,
    ) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(e),
            self.format_terms(current)
        )
    }

    fn and_explain_ref(
        &self,
        id: usize,
        d: &Derived<Node, Versions, String>,
        current: &Map<Node, Term<Versions>>,
    ) -> String {
        format!(
            "And because {} ({id}), {}.",
            self.format_terms(&d.terms),
            self.format_terms(current)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior: &External<Node, Versions, String>,
        e: &External<Node, Versions, String>,
        current: &Map<Node, Term<Versions>>,
    ) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior),
            self.format_external(e),
            self.format_terms(current)
        )
    }
}
