//! The layering check: the pure crates (`walle-core`, `walle-rbac`) pull in no runtime, database,
//! VCS, SSH, HTTP or TLS crate, and their code names no I/O, clock or environment API.
//!
//! Two checks, one list each, both here:
//! - [`FORBIDDEN_CRATES`] against the normal-dependency graph of `cargo metadata --all-features`;
//!   each name is first looked up among the workspace's packages, so that a misspelled name
//!   cannot pass silently;
//! - [`FORBIDDEN_SOURCE`] against the shipping code of the pure crates (comments, literals,
//!   `tests.rs` files and `#[cfg(test)]` items excluded).
//!
//! Crate-local `clippy.toml` files ban the same std functions at compile time.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, format_err};
use serde_json::Value;

use crate::source;

/// The crates that must stay pure, and the workspace crates each may depend on.
pub(crate) const PURE_CRATES: &[(&str, &[&str])] =
    &[("walle-core", &[]), ("walle-rbac", &["walle-core"])];

/// Packages the pure crates must not depend on, directly or through other normal dependencies.
pub(crate) const FORBIDDEN_CRATES: &[&str] = &[
    "tokio",
    "diesel",
    "git2",
    "ssh2",
    "axum",
    "hyper",
    "reqwest",
    "rusqlite",
    "libsqlite3-sys",
    "mysqlclient-sys",
    "pq-sys",
    "sqlx",
    "libgit2-sys",
    "libssh2-sys",
    "openssl",
    "openssl-sys",
];

/// Text the shipping code of the pure crates must not contain.
pub(crate) const FORBIDDEN_SOURCE: &[&str] = &[
    "std::fs",
    "std::process",
    "std::net",
    "std::env",
    "SystemTime",
    "Instant::now",
    // Also catches `std::thread::sleep`, and `thread::sleep` after `use std::thread`.
    "thread::sleep",
    "tokio",
];

/// `std::net` items that are plain values (parsing and formatting addresses does no I/O).
pub(crate) const PURE_STD_NET: &[&str] = &[
    "IpAddr",
    "Ipv4Addr",
    "Ipv6Addr",
    "SocketAddr",
    "SocketAddrV4",
    "SocketAddrV6",
    "AddrParseError",
];

/// Runs both checks on the workspace at `root`; the error lists every violation.
pub(crate) fn check(root: &Path) -> anyhow::Result<String> {
    let metadata = cargo_metadata(root)?;
    let deps = check_dependencies(&metadata)?;
    let sources = check_sources(root)?;
    let mut problems = deps.problems.clone();
    problems.extend(sources);
    if problems.is_empty() {
        Ok(deps.summary)
    } else {
        Err(format_err!(
            "layering check failed:\n  {}\n\n{}",
            problems.join("\n  "),
            deps.summary
        ))
    }
}

/// `cargo metadata --format-version 1 --all-features` of the workspace at `root`.
pub(crate) fn cargo_metadata(root: &Path) -> anyhow::Result<Value> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = root.join("Cargo.toml");
    let output = Command::new(&cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--all-features",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .with_context(|| format!("cannot run {} metadata", cargo.to_string_lossy()))?;
    if !output.status.success() {
        return Err(format_err!(
            "cargo metadata failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).context("cargo metadata printed invalid JSON")
}

/// The outcome of the dependency check.
#[derive(Debug)]
pub(crate) struct DependencyReport {
    /// One line per violation.
    pub(crate) problems: Vec<String>,
    /// What was checked, for the command's output.
    pub(crate) summary: String,
}

/// Walks the normal-dependency graph of each pure crate in `metadata`.
pub(crate) fn check_dependencies(metadata: &Value) -> anyhow::Result<DependencyReport> {
    let packages = packages(metadata)?;
    let names: BTreeSet<&str> = packages.values().copied().collect();
    let mut problems = Vec::new();
    let mut summary = String::new();

    // First the list itself: a name that matches no package can never fail the check below.
    let (present, absent): (Vec<&str>, Vec<&str>) = FORBIDDEN_CRATES
        .iter()
        .partition(|name| names.contains(*name));
    for name in &absent {
        let normalized = normalize(name);
        if let Some(close) = names.iter().find(|n| normalize(n) == normalized) {
            problems.push(format!(
                "forbidden crate {name:?} matches no package, but {close:?} is in the workspace: fix the spelling in xtask/src/layering.rs"
            ));
        }
    }
    let list = |names: &[&str]| {
        if names.is_empty() {
            "(none)".to_owned()
        } else {
            names.join(", ")
        }
    };
    summary.push_str(&format!(
        "forbidden crates present in the workspace (spelling verified): {}\n",
        list(&present)
    ));
    summary.push_str(&format!(
        "forbidden crates not used anywhere in the workspace yet: {}\n",
        list(&absent)
    ));

    let graph = normal_graph(metadata)?;
    let workspace: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .context("cargo metadata has no workspace_members")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for (krate, allowed_internal) in PURE_CRATES {
        let Some(id) = packages
            .iter()
            .find(|(id, name)| **name == *krate && workspace.contains(*id))
            .map(|(id, _)| *id)
        else {
            problems.push(format!("pure crate {krate} is not a workspace member"));
            continue;
        };
        let reached = reachable(&graph, id);
        for dep in &reached {
            let name = packages.get(dep).copied().unwrap_or(dep);
            if FORBIDDEN_CRATES.contains(&name) {
                problems.push(format!(
                    "{krate} depends on {name}: {}",
                    path_to(&graph, id, dep)
                        .iter()
                        .map(|p| packages.get(p).copied().unwrap_or(p))
                        .collect::<Vec<_>>()
                        .join(" -> ")
                ));
            }
            if workspace.contains(dep) && !allowed_internal.contains(&name) {
                problems.push(format!(
                    "{krate} depends on the workspace crate {name}; it may depend only on [{}]",
                    allowed_internal.join(", ")
                ));
            }
        }
        summary.push_str(&format!(
            "{krate}: {} normal dependencies checked\n",
            reached.len()
        ));
    }
    Ok(DependencyReport { problems, summary })
}

/// Package id → package name.
fn packages(metadata: &Value) -> anyhow::Result<BTreeMap<&str, &str>> {
    metadata["packages"]
        .as_array()
        .context("cargo metadata has no packages")?
        .iter()
        .map(|p| {
            let id = p["id"].as_str().context("package without id")?;
            let name = p["name"].as_str().context("package without name")?;
            Ok((id, name))
        })
        .collect()
}

/// Package id → the ids it depends on through a normal (not dev, not build) dependency.
fn normal_graph(metadata: &Value) -> anyhow::Result<BTreeMap<&str, Vec<&str>>> {
    let nodes = metadata["resolve"]["nodes"]
        .as_array()
        .context("cargo metadata has no resolve graph")?;
    let mut graph = BTreeMap::new();
    for node in nodes {
        let id = node["id"].as_str().context("resolve node without id")?;
        let mut deps = Vec::new();
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            if normal {
                deps.push(dep["pkg"].as_str().context("dependency without pkg")?);
            }
        }
        graph.insert(id, deps);
    }
    Ok(graph)
}

/// Every package reachable from `start` (excluding it).
fn reachable<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>, start: &'a str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([start]);
    while let Some(id) = queue.pop_front() {
        for dep in graph.get(id).into_iter().flatten() {
            if seen.insert(*dep) {
                queue.push_back(*dep);
            }
        }
    }
    seen
}

/// A shortest dependency path from `from` to `to`, both included.
fn path_to<'a>(
    graph: &BTreeMap<&'a str, Vec<&'a str>>,
    from: &'a str,
    to: &'a str,
) -> Vec<&'a str> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(id) = queue.pop_front() {
        if id == to {
            break;
        }
        for dep in graph.get(id).into_iter().flatten() {
            if *dep != from && !parent.contains_key(dep) {
                parent.insert(dep, id);
                queue.push_back(dep);
            }
        }
    }
    let mut path = vec![to];
    let mut at = to;
    while let Some(p) = parent.get(at) {
        path.push(p);
        at = p;
    }
    path.reverse();
    path
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// Scans the shipping code of each pure crate's `src/` for [`FORBIDDEN_SOURCE`].
pub(crate) fn check_sources(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for (krate, _) in PURE_CRATES {
        let src = root.join("crates").join(krate).join("src");
        let files = source::rust_files(&src)?;
        if files.is_empty() {
            problems.push(format!("{krate}: no sources found under {}", src.display()));
        }
        for path in files {
            if source::is_test_file(root, &path) {
                continue;
            }
            let code = source::shipping_code(&source::read(&path)?);
            for (line, pattern) in forbidden_in(&code) {
                problems.push(format!(
                    "{}:{line}: mentions `{pattern}` (pure crates do no I/O and read no clock or environment)",
                    source::display(root, &path)
                ));
            }
        }
    }
    Ok(problems)
}

/// The (1-based line, pattern) of each forbidden mention in shipping code.
pub(crate) fn forbidden_in(code: &str) -> Vec<(usize, String)> {
    let (rest, items) = split_std_groups(code);
    let lines = rest.lines().enumerate().map(|(i, l)| (i + 1, l.to_owned()));
    let mut found = Vec::new();
    for (line, path) in lines.chain(items) {
        for pattern in FORBIDDEN_SOURCE {
            let pure = *pattern == "std::net" && is_pure_std_net(&path);
            if mentions(&path, pattern) && !pure {
                found.push((line, (*pattern).to_owned()));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Whether `text` mentions `pattern` with no identifier character right before or after it (so
/// `tokio` matches `tokio::spawn` but not `tokio_free`, and `std::env` does not match `std::envy`).
fn mentions(text: &str, pattern: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(pattern).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + pattern.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Whether every `std::net` mention in `path` is one of [`PURE_STD_NET`].
fn is_pure_std_net(path: &str) -> bool {
    let mut pure: Vec<String> = PURE_STD_NET
        .iter()
        .map(|item| format!("std::net::{item}"))
        .collect();
    // Longest first, so that `SocketAddrV4` is not cut down to `SocketAddr` + `V4`.
    pure.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let mut rest = path.to_owned();
    for p in &pure {
        while let Some(at) = rest
            .match_indices(p.as_str())
            .find(|(at, _)| {
                !rest[at + p.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
            .map(|(at, _)| at)
        {
            rest.replace_range(at..at + p.len(), "");
        }
    }
    !mentions(&rest, "std::net")
}

/// The code with every `std::…::{…}` import group blanked out, and the (line, full path) of each
/// item of those groups (`use std::{fs, net::{IpAddr, TcpStream}}` gives `std::fs`,
/// `std::net::IpAddr` and `std::net::TcpStream`), so that grouped imports, on one line or many,
/// are checked like plain paths.
fn split_std_groups(code: &str) -> (String, Vec<(usize, String)>) {
    let mut rest = code.to_owned();
    let mut items = Vec::new();
    let mut from = 0;
    while let Some(open) = rest[from..].find("::{").map(|p| from + p) {
        let start = rest[..open]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |p| p + 1);
        let prefix = rest[start..open].to_owned();
        let close = matching_brace(&rest, open + 2);
        if prefix == "std" || prefix.starts_with("std::") {
            let inner_end = if rest[..close].ends_with('}') {
                close - 1
            } else {
                close
            };
            let line_of = |at: usize| code[..at].matches('\n').count() + 1;
            expand_group(
                &prefix,
                &rest[open + 3..inner_end],
                open + 3,
                &line_of,
                &mut items,
            );
            let blank: String = rest[start..close]
                .chars()
                .map(|c| {
                    if c == '\n' {
                        "\n".to_owned()
                    } else {
                        " ".repeat(c.len_utf8())
                    }
                })
                .collect();
            rest.replace_range(start..close, &blank);
            from = close;
        } else {
            from = open + 3;
        }
    }
    (rest, items)
}

/// The byte index just past the `}` matching the `{` at `open`, or the end of `text`.
fn matching_brace(text: &str, open: usize) -> usize {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return open + i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// Pushes `prefix::item` for each top-level item of a group's inner text, recursing into nested
/// groups. `offset` is the inner text's position in the file, for line numbers.
fn expand_group(
    prefix: &str,
    inner: &str,
    offset: usize,
    line_of: &dyn Fn(usize) -> usize,
    items: &mut Vec<(usize, String)>,
) {
    let mut depth = 0usize;
    let mut item_start = 0;
    let mut pieces = Vec::new();
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                pieces.push((item_start, &inner[item_start..i]));
                item_start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push((item_start, &inner[item_start..]));
    for (at, piece) in pieces {
        let trimmed = piece.trim();
        if trimmed.is_empty() {
            continue;
        }
        let at = offset + at + (piece.len() - piece.trim_start().len());
        match trimmed.find("::{") {
            Some(open) => {
                let sub = format!("{prefix}::{}", &trimmed[..open]);
                let inner = trimmed[open + 3..].trim_end_matches('}');
                expand_group(&sub, inner, at + open + 3, line_of, items);
            }
            None => items.push((line_of(at), format!("{prefix}::{trimmed}"))),
        }
    }
}

#[cfg(test)]
mod tests;
