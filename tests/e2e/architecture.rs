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

/// Every source tree of the workspace, each with the modules that are its roots: the
/// library's or binary's root file, and the composition roots that wire everything.
fn every_source_tree() -> Vec<(PathBuf, Vec<&'static str>)> {
    let root = root();
    let mut trees = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .map(|e| e.expect("entry").path())
        .collect();
    crates.extend([root.join("api"), root.join("widget")]);
    crates.sort();
    for krate in crates {
        let src = krate.join("src");
        if !src.is_dir() {
            continue;
        }
        let mut roots = vec!["", "main"];
        if krate.ends_with("api") {
            // The composition roots are named by nothing but `main.rs` (and each other: the
            // Windows service runs the gateway `startup` builds).
            roots.extend(["startup", "check", "service", "wiring", "config"]);
        }
        trees.push((src, roots));
    }
    // The end-to-end crate's targets: each folder with its own root file.
    for entry in std::fs::read_dir(root.join("tests")).expect("tests/") {
        let dir = entry.expect("entry").path();
        if dir.join("main.rs").is_file() || dir.join("lib.rs").is_file() {
            trees.push((dir, vec!["", "main"]));
        }
    }
    assert!(
        trees.len() >= 14,
        "every crate and target is read: {trees:?}"
    );
    trees
}

#[test]
fn no_crate_s_modules_import_each_other_in_a_circle() {
    for (src, roots) in every_source_tree() {
        let dir = src.strip_prefix(root()).expect("under the root").display();
        let roots = roots.as_slice();
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

#[test]
fn no_file_outside_tests_is_over_seven_hundred_lines() {
    // A file a reader cannot hold in their head is split by what it does (the store's
    // schedule and bookings, the guard and its port); tests may be longer, in files of their
    // own (`tests.rs`, `tests/`).
    const MOST: usize = 700;
    let mut over = Vec::new();
    let mut read = 0;
    for (src, _) in every_source_tree() {
        if src.starts_with(root().join("tests")) {
            continue;
        }
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)
                .expect("a readable folder")
                .flatten()
            {
                let path = entry.path();
                if path.is_dir() {
                    if !path.ends_with("tests") {
                        stack.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs")
                {
                    read += 1;
                    let lines = std::fs::read_to_string(&path)
                        .expect("readable")
                        .lines()
                        .count();
                    if lines > MOST {
                        over.push(format!("{} ({lines} lines)", path.display()));
                    }
                }
            }
        }
    }
    assert!(read > 150, "the sources are read: {read} files");
    assert!(over.is_empty(), "over {MOST} lines: {over:#?}");
}

/// Every file and folder of the repository (but the build's, git's and npm's), as paths
/// relative to its root with `/` between parts.
fn every_path() -> Vec<String> {
    let root = root();
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("a readable folder")
            .flatten()
        {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if matches!(name.as_str(), "target" | ".git" | "node_modules") {
                continue;
            }
            let relative = path.strip_prefix(&root).expect("under the root");
            out.push(
                relative
                    .iter()
                    .map(|p| p.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out
}

/// The names the workspace's manifests give: its crates and their dependencies.
fn crate_names(paths: &[String]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for manifest in paths.iter().filter(|p| p.ends_with("Cargo.toml")) {
        let text = std::fs::read_to_string(root().join(manifest)).expect("a manifest");
        let mut section = String::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line.to_owned();
            } else if let Some((key, value)) = line.split_once('=') {
                let key = key.trim().trim_end_matches(".workspace").to_owned();
                if section == "[package]" && key == "name" {
                    names.insert(value.trim().trim_matches('"').to_owned());
                } else if section.contains("dependencies") {
                    names.insert(key);
                }
            }
        }
    }
    names
}

/// Whether the Rust sources define `name`: an item, a field, an enum variant, a macro, a
/// Yew component (`#[function_component(Name)]`).
fn defines(sources: &str, name: &str) -> bool {
    if sources.contains(&format!("function_component({name})")) {
        return true;
    }
    let word = |at: usize| {
        let after = sources[at + name.len()..].chars().next();
        let before = sources[..at].chars().next_back();
        after.is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            && before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    };
    sources.match_indices(name).any(|(at, _)| {
        if !word(at) {
            return false;
        }
        let line_start = sources[..at].rfind('\n').map_or(0, |i| i + 1);
        let before = sources[line_start..at].trim();
        let after = sources[at + name.len()..].trim_start();
        let keyword = before.split_whitespace().next_back().unwrap_or("");
        matches!(
            keyword,
            "fn" | "struct"
                | "enum"
                | "trait"
                | "type"
                | "const"
                | "static"
                | "mod"
                | "union"
                | "macro_rules!"
        ) || ((before.is_empty() || before == "pub" || before.starts_with("pub("))
            && (after.starts_with(':')
                || after.starts_with(',')
                || after.starts_with('(')
                || after.starts_with('{')
                || after.starts_with('\n')
                || after.starts_with('=')))
    })
}

#[test]
fn the_architecture_document_names_only_what_exists() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let paths = every_path();
    let crates = crate_names(&paths);
    let sources: String = paths
        .iter()
        .filter(|p| p.ends_with(".rs"))
        .map(|p| std::fs::read_to_string(root().join(p)).expect("a source"))
        .collect::<Vec<_>>()
        .join("\n");
    // What the document names from outside the workspace: the standard library's traits.
    let outside = ["Debug", "Display"];
    let is_file = |name: &str| {
        let name = name.trim_end_matches('/');
        paths
            .iter()
            .any(|p| p == name || p.ends_with(&format!("/{name}")))
    };
    let is_module_or_crate = |segment: &str| {
        matches!(segment, "crate" | "self" | "super")
            || crates.contains(segment)
            || crates.contains(&segment.replace('_', "-"))
            || is_file(&format!("{segment}.rs"))
            || is_file(segment)
    };
    let mut missing = Vec::new();
    let mut checked = 0;
    // The spans in `code`, outside the fenced diagram.
    let prose: String = text
        .split("```")
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join("\n");
    for span in prose.split('`').skip(1).step_by(2) {
        let rust_path = span
            .trim_end_matches("()")
            .trim_end_matches('!')
            .split("::")
            .all(|s| {
                !s.is_empty()
                    && s.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !s.starts_with(|c: char| c.is_ascii_digit())
            });
        let file_like = !span.starts_with('/')
            && !span.starts_with("..")
            && !span.contains(char::is_whitespace)
            && (span.contains('/')
                || [".rs", ".toml", ".json", ".js", ".py", ".md", ".wsdl", ".sh"]
                    .iter()
                    .any(|e| span.ends_with(e)));
        let crate_like = span.contains('-')
            && span
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if file_like {
            checked += 1;
            if !is_file(span) {
                missing.push(format!("file {span}"));
            }
        } else if crate_like {
            checked += 1;
            if !crates.contains(span) {
                missing.push(format!("crate {span}"));
            }
        } else if rust_path {
            checked += 1;
            let path = span.trim_end_matches("()").trim_end_matches('!');
            let segments: Vec<&str> = path.split("::").collect();
            let last = segments[segments.len() - 1];
            let first_known = segments.len() == 1
                || is_module_or_crate(segments[0])
                || defines(&sources, segments[0]);
            let last_known = outside.contains(&last)
                || defines(&sources, last)
                || (segments.len() == 1 && is_module_or_crate(last));
            if !(first_known && last_known) {
                missing.push(format!("item {span}"));
            }
        }
    }
    assert!(checked > 200, "the document's names are read: {checked}");
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what does not exist: {missing:#?}"
    );
}

#[test]
fn the_document_checker_tells_a_definition_from_a_mention() {
    let src = "pub fn read_back() {}\nstruct A {\n    pub field: u8,\n}\nenum E {\n    Variant(u8),\n    Unit,\n}\nlet x = problems(read_backs);\nmacro_rules! record {}\n#[function_component(Screen)]\nfn screen() {}";
    for name in [
        "read_back",
        "field",
        "Variant",
        "Unit",
        "record",
        "A",
        "E",
        "Screen",
    ] {
        assert!(defines(src, name), "{name} is defined");
    }
    for name in ["problems", "read", "x", "u8"] {
        assert!(!defines(src, name), "{name} is only mentioned");
    }
}
