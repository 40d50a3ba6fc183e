//! The architecture's invariants that a reader of `ARCHITECTURE.md` relies on, checked on the
//! manifests and the sources: the domain depends on no infrastructure (so the compiler keeps
//! HTTP, the stores and the МИС protocols out of it); only the composition root picks the
//! adapters; and no crate's modules import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, with its text up to its tests (`#[cfg(test)]` to the end).
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a readable folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a readable file");
                let code = match text.find("#[cfg(test)]") {
                    Some(at) => text[..at].to_owned(),
                    None => text,
                };
                out.push((path, code));
            }
        }
    }
    out.sort();
    out
}

/// The text without its comments (`//` to the end of a line).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names of a manifest's `[dependencies]` (not its dev-dependencies).
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).expect("the manifest");
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
        } else if inside && let Some((name, _)) = line.split_once('=') {
            let name = name.trim().trim_end_matches(".workspace").to_owned();
            if !name.is_empty() && !name.starts_with('#') {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn the_domain_depends_on_no_infrastructure_and_the_compiler_says_so() {
    // What the domain cannot name, because it does not depend on it: HTTP, the wire's types,
    // the stores, the caches' and the exporter's crates, the МИС protocols and the adapters'
    // own crate.
    let infrastructure = [
        "api-types",
        "actix",
        "reqwest",
        "hyper",
        "utoipa",
        "redis",
        "governor",
        "moka",
        "metrics-exporter-prometheus",
        "rusqlite",
        "quick-xml",
        "gateway-state",
        "mis-hub",
        "mis-fhir",
        "sandbox-mis",
    ];
    let deps = dependencies(&root().join("crates/gateway-domain/Cargo.toml"));
    assert!(
        deps.contains(&"mis".to_owned()),
        "the reader found {deps:?}"
    );
    for dep in &deps {
        assert!(
            !infrastructure.iter().any(|i| dep.starts_with(i)),
            "gateway-domain depends on {dep}: infrastructure belongs under its ports, the wire in the shell"
        );
    }
    // The state adapters depend on the domain (they implement its ports), not on the shell.
    let state = dependencies(&root().join("crates/gateway-state/Cargo.toml"));
    assert!(state.contains(&"gateway-domain".to_owned()));
    assert!(
        !state
            .iter()
            .any(|d| d == "registratura" || d.starts_with("actix"))
    );
}

#[test]
fn only_the_composition_root_picks_the_adapters() {
    // `startup` and `wiring` make them and `config` reads `[state]`; the shell serves the
    // exporter's text.
    let allowed = ["startup.rs", "config.rs", "wiring"];
    let src = root().join("api/src");
    for (path, text) in sources(&src) {
        let relative = path.strip_prefix(&src).expect("under src");
        if allowed.iter().any(|a| relative.starts_with(a)) {
            continue;
        }
        let code = code_of(&text);
        for (at, _) in code.match_indices("gateway_state::") {
            assert!(
                code[at..].starts_with("gateway_state::metrics::"),
                "{} names an adapter: only the composition root picks them",
                path.display()
            );
        }
    }
}

/// The module of a source file (`routes::patient` for `src/routes/patient.rs`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// Every `crate::…` path a text names, with `use crate::{a, b::{c, d}}` groups expanded and
/// `super::` made absolute.
fn paths_named(code: &str, module: &str) -> Vec<String> {
    let mut out = Vec::new();
    let flat: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    // `super` is the module's parent (a `mod.rs` is its folder's module already).
    let parent: Vec<&str> = {
        let mut p: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
        p.pop();
        p
    };
    let mut rest = flat.as_str();
    while let Some(at) = rest.find(['c', 's']) {
        let tail = &rest[at..];
        let boundary = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let (prefix, body) = if boundary && tail.starts_with("crate::") {
            (Vec::new(), &tail["crate::".len()..])
        } else if boundary && tail.starts_with("super::") {
            (parent.clone(), &tail["super::".len()..])
        } else {
            rest = &tail[1..];
            continue;
        };
        let (expanded, used) = expand(body);
        for path in expanded {
            let mut full: Vec<String> = prefix.iter().map(|s| (*s).to_owned()).collect();
            full.extend(path.split("::").map(str::to_owned));
            out.push(full.join("::"));
        }
        rest = &body[used..];
    }
    out
}

/// Expands `a::b::{c, d::{e}}`-shaped text at the start of `body` into its paths; also how
/// much of `body` it took.
fn expand(body: &str) -> (Vec<String>, usize) {
    let mut head = String::new();
    let bytes: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_alphanumeric() || c == '_' || c == ':' {
            head.push(c);
            i += 1;
        } else if c == '{' && (head.is_empty() || head.ends_with("::")) {
            // A group: split its top-level items.
            let mut depth = 0;
            let start = i + 1;
            let mut j = start;
            let mut items = Vec::new();
            let mut item_start = start;
            while j < bytes.len() {
                match bytes[j] {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(bytes[item_start..j].iter().collect::<String>());
                        item_start = j + 1;
                    }
                    _ => {}
                }
                j += 1;
            }
            items.push(
                bytes[item_start..j.min(bytes.len())]
                    .iter()
                    .collect::<String>(),
            );
            let mut out = Vec::new();
            for item in items {
                let item = item.trim();
                if item.is_empty() || item == "self" {
                    out.push(head.trim_end_matches("::").to_owned());
                    continue;
                }
                let (inner, _) = expand(item);
                out.extend(inner.into_iter().map(|p| format!("{head}{p}")));
            }
            let used: usize = bytes[..(j + 1).min(bytes.len())]
                .iter()
                .map(|c| c.len_utf8())
                .sum();
            return (out, used);
        } else {
            break;
        }
    }
    let used: usize = bytes[..i].iter().map(|c| c.len_utf8()).sum();
    (vec![head.trim_end_matches("::").to_owned()], used)
}

/// The import graph of a crate's modules: module -> the modules it names. A name resolves to
/// the deepest module it starts with.
fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = sources(src);
    let modules: BTreeSet<String> = files.iter().map(|(p, _)| module_of(src, p)).collect();
    let mut graph = BTreeMap::new();
    for (path, text) in &files {
        let module = module_of(src, path);
        let mut edges = BTreeSet::new();
        for named in paths_named(&code_of(text), &module) {
            let parts: Vec<&str> = named.split("::").collect();
            let target = (1..=parts.len())
                .rev()
                .map(|n| parts[..n].join("::"))
                .find(|m| modules.contains(m));
            if let Some(target) = target
                && target != module
            {
                edges.insert(target);
            }
        }
        graph.insert(module, edges);
    }
    graph
}

/// Whether `a` is `b`'s parent module (the `mod.rs` and its own children may name each other).
fn parent_and_child(a: &str, b: &str) -> bool {
    let parent = |m: &str| m.rsplit_once("::").map_or("", |(p, _)| p).to_owned();
    parent(b) == a || parent(a) == b
}

/// A circle among the modules, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>, roots: &[&str]) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        roots: &[&str],
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if parent_and_child(node, next) || roots.contains(&next.as_str()) {
                continue;
            }
            match state.get(next.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|m| m == next).unwrap_or(0);
                    let mut found = stack[from..].to_vec();
                    found.push(next.clone());
                    return Some(found);
                }
                Some(_) => {}
                None => {
                    if let Some(found) = visit(next, graph, roots, state, stack) {
                        return Some(found);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if roots.contains(&node.as_str()) || state.contains_key(node) {
            continue;
        }
        if let Some(found) = visit(node, graph, roots, &mut state, &mut Vec::new()) {
            return Some(found);
        }
    }
    None
}

#[test]
fn no_crate_s_modules_import_each_other_in_a_circle() {
    // The composition roots wire everything and are named by nothing but `main.rs` (and each
    // other: the Windows service runs the gateway `startup` builds).
    let crates: [(&str, &[&str]); 3] = [
        ("api/src", &["", "main", "startup", "check", "service", "wiring", "config"]),
        ("crates/gateway-domain/src", &[""]),
        ("widget/src", &[""]),
    ];
    for (dir, roots) in crates {
        let src = root().join(dir);
        let graph = import_graph(&src);
        if let Some(found) = circle(&graph, roots) {
            panic!(
                "{dir}: modules import each other in a circle: {}",
                found.join(" -> ")
            );
        }
        // A root's own modules are part of it.
        let in_a_root = |module: &str| {
            roots
                .iter()
                .any(|r| module == *r || (!r.is_empty() && module.starts_with(&format!("{r}::"))))
        };
        for (module, edges) in &graph {
            for root in roots.iter().filter(|r| !r.is_empty()) {
                assert!(
                    !edges.contains(*root) || in_a_root(module),
                    "{dir}: {module} imports the composition root {root}"
                );
            }
        }
    }
}

/// Whether a walk through a crate's modules only goes down: no module on it imports one that
/// comes before it (its caller, or its caller's caller). The first such import, if any.
fn goes_back_up(graph: &BTreeMap<String, BTreeSet<String>>, walk: &[&str]) -> Option<String> {
    for (i, module) in walk.iter().enumerate() {
        let imports = graph
            .get(*module)
            .unwrap_or_else(|| panic!("no module {module}"));
        if let Some(up) = walk[..i].iter().find(|m| imports.contains(**m)) {
            return Some(format!("{module} imports {up}, which comes before it"));
        }
    }
    None
}

#[test]
fn a_booking_s_walk_from_the_route_to_the_mis_only_goes_down() {
    // The modules a booking passes, a move and a cancellation too, from the domain's entry to
    // the guard in front of the МИС: each calls only those after it, so that a reader
    // following the clinic never comes back to a file they left.
    let domain = import_graph(&root().join("crates/gateway-domain/src"));
    let walks: [&[&str]; 3] = [
        &[
            "booking",
            "booking::target",
            "claims",
            "referrals",
            "outcome",
            "memo",
            "clinic",
            "guard",
        ],
        &["booking", "booking::tickets", "outcome", "clinic", "guard"],
        &["waiting", "outcome", "clinic", "guard"],
    ];
    for walk in walks {
        if let Some(found) = goes_back_up(&domain, walk) {
            panic!("the walk {walk:?} goes back up: {found}");
        }
    }
    // The shell's part: the route, the mapping onto the wire, the domain.
    let api = import_graph(&root().join("api/src"));
    let shell = ["routes::patient", "extract", "error", "wire"];
    assert_eq!(goes_back_up(&api, &shell), None);
}

#[test]
fn the_import_reader_sees_groups_and_super() {
    let named = paths_named(
        "use crate::{a, b::{c, d}}; use super::e; crate::f::g(); let x = supercrate::h;",
        "m::n",
    );
    assert_eq!(named, ["a", "b::c", "b::d", "m::e", "f::g"]);
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"])]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
            .collect();
    assert!(circle(&graph, &[""]).is_some(), "a circle is found");
    let mut acyclic = graph.clone();
    acyclic.insert("c".into(), BTreeSet::new());
    assert!(circle(&acyclic, &[""]).is_none());
    assert_eq!(goes_back_up(&acyclic, &["a", "b", "c"]), None);
    assert!(goes_back_up(&acyclic, &["b", "a"]).is_some(), "a imports b");
}
