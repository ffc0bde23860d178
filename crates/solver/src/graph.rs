//! Questions about a solved graph: cycles, the tree, and why a package is
//! in it.

use serde::Serialize;
use warg_depsolve_names::PackageName;

use crate::resolution::{Edge, Resolution};

/// The first cycle in the chosen graph, as labels with the first repeated
/// at the end (`a@1.0.0 -> b@1.0.0 -> a@1.0.0`), or `None`.
///
/// Cycles are judged on the chosen graph, not on the registry: a registry
/// may hold a cycle that the solution avoids.
pub fn find_cycle(resolution: &Resolution) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        r: &Resolution,
        i: usize,
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<String>> {
        marks[i] = Mark::Active;
        stack.push(i);
        for e in &r.packages[i].edges {
            match marks[e.target] {
                Mark::Active => {
                    let start = stack.iter().position(|&s| s == e.target).unwrap();
                    let mut path: Vec<String> =
                        stack[start..].iter().map(|&s| r.label(s)).collect();
                    path.push(r.label(e.target));
                    return Some(path);
                }
                Mark::New => {
                    if let Some(path) = visit(r, e.target, marks, stack) {
                        return Some(path);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks[i] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; resolution.packages.len()];
    for i in 0..resolution.packages.len() {
        if marks[i] == Mark::New {
            if let Some(path) = visit(resolution, i, &mut marks, &mut Vec::new()) {
                return Some(path);
            }
        }
    }
    None
}

/// One node of the dependency tree as printed by `tree`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TreeNode {
    /// The import that leads here.
    pub import: String,
    /// The package.
    pub package: PackageName,
    /// The chosen version.
    pub version: String,
    /// True when this package was already shown higher in the tree (a
    /// shared node); its children are not repeated.
    pub shared: bool,
    /// Its own dependencies.
    pub children: Vec<TreeNode>,
}

/// The dependency tree below the root. A package reached a second time is
/// marked `shared` and not expanded again.
pub fn tree(resolution: &Resolution) -> Vec<TreeNode> {
    fn build(r: &Resolution, edges: &[Edge], seen: &mut Vec<bool>) -> Vec<TreeNode> {
        edges
            .iter()
            .map(|e| {
                let p = &r.packages[e.target];
                let shared = seen[e.target];
                seen[e.target] = true;
                TreeNode {
                    import: e.import.clone(),
                    package: p.package.clone(),
                    version: p.version.to_string(),
                    shared,
                    children: if shared {
                        Vec::new()
                    } else {
                        build(r, &p.edges, seen)
                    },
                }
            })
            .collect()
    }
    let mut seen = vec![false; resolution.packages.len()];
    build(resolution, &resolution.root_edges, &mut seen)
}

/// Renders [`tree`] as indented text, shared nodes marked `(*)`.
pub fn render_tree(resolution: &Resolution) -> String {
    fn walk(nodes: &[TreeNode], prefix: &str, out: &mut String) {
        for (i, n) in nodes.iter().enumerate() {
            let last = i + 1 == nodes.len();
            out.push_str(prefix);
            out.push_str(if last { "└── " } else { "├── " });
            out.push_str(&format!("{}@{} (as `{}`)", n.package, n.version, n.import));
            if n.shared {
                out.push_str(" (*)");
            }
            out.push('\n');
            let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
            walk(&n.children, &child_prefix, out);
        }
    }
    let mut out = format!("{}\n", resolution.root);
    walk(&tree(resolution), "", &mut out);
    out
}

/// Every path from the root to any resolved version of `package`, each as
/// labels from the root (`root`, `test:inc@1.0.0`, `test:add@1.1.0`).
pub fn why(resolution: &Resolution, package: &PackageName) -> Vec<Vec<String>> {
    fn walk(
        r: &Resolution,
        edges: &[Edge],
        package: &PackageName,
        path: &mut Vec<String>,
        out: &mut Vec<Vec<String>>,
    ) {
        for e in edges {
            let p = &r.packages[e.target];
            path.push(r.label(e.target));
            if &p.package == package {
                out.push(path.clone());
            } else {
                walk(r, &p.edges, package, path, out);
            }
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(
        resolution,
        &resolution.root_edges,
        package,
        &mut vec![resolution.root.clone()],
        &mut out,
    );
    out
}
