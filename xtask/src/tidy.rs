//! The tidy checks: conventions that `cargo test` enforces on the whole workspace.
//!
//! - every `.rs` file under `crates/*/src` and `xtask/src` starts with a `//!` module doc (or
//!   `#![doc` for `lib.rs` and `main.rs`), except sibling `tests.rs` unit-test modules, whose
//!   purpose their name already states;
//! - no test is marked `#[should_panic]` (assert the `Err`) or `#[ignore]` (assert today's
//!   output with a `FIXME`), anywhere;
//! - no `todo!(` or `unimplemented!(` in code that ships (tests may hold them while being written);
//! - the three migration trees of walle-store hold the same migration names.
//!
//! Comments and string literals are ignored, so documentation may name what it forbids.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::source;

/// One broken rule in one place.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Offence {
    /// Which rule.
    pub(crate) rule: &'static str,
    /// `path:line` or a directory.
    pub(crate) place: String,
    /// What is wrong there.
    pub(crate) detail: String,
}

/// Runs every tidy check on the workspace at `root`.
pub(crate) fn check(root: &Path) -> anyhow::Result<Vec<Offence>> {
    let mut offences = Vec::new();
    let files = source::rust_files(root)?;
    for path in &files {
        let text = source::read(path)?;
        let rel = source::display(root, path);
        if in_module_doc_scope(&rel) {
            offences.extend(module_doc(&rel, &text));
        }
        let code = source::blank_comments_and_literals(&text);
        offences.extend(test_markers(&rel, &code));
        if !source::is_test_file(root, path) {
            offences.extend(placeholders(&rel, &source::blank_cfg_test_items(&code)));
        }
    }
    offences.extend(migration_trees(root)?);
    offences.sort();
    Ok(offences)
}

/// The offences as a report, grouped by rule.
pub(crate) fn report(offences: &[Offence]) -> String {
    let mut out = String::new();
    let rules: BTreeSet<&str> = offences.iter().map(|o| o.rule).collect();
    for rule in rules {
        let _ = writeln!(out, "{rule}:");
        for o in offences.iter().filter(|o| o.rule == rule) {
            let _ = writeln!(out, "  {}: {}", o.place, o.detail);
        }
    }
    let _ = writeln!(out, "{} offence(s)", offences.len());
    out
}

/// Files under `crates/*/src/` and `xtask/src/`.
fn in_module_doc_scope(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    matches!(
        parts.as_slice(),
        ["crates", _, "src", ..] | ["xtask", "src", ..]
    )
}

/// The first line must be a `//!` doc (or `#![doc` in a crate root).
pub(crate) fn module_doc(rel: &str, text: &str) -> Option<Offence> {
    if rel.ends_with("/tests.rs") {
        return None;
    }
    let first = text.lines().next().unwrap_or("").trim_start();
    let crate_root = rel.ends_with("/lib.rs") || rel.ends_with("/main.rs");
    if first.starts_with("//!") || (crate_root && first.starts_with("#![doc")) {
        None
    } else {
        Some(Offence {
            rule: "module docs (the first line must be a `//!` line, or `#![doc` in lib.rs/main.rs)",
            place: rel.to_owned(),
            detail: format!("starts with {:?}", truncate(first, 60)),
        })
    }
}

/// `#[should_panic]` and `#[ignore]` anywhere (in code with comments and literals blanked).
pub(crate) fn test_markers(rel: &str, code: &str) -> Vec<Offence> {
    let mut out = Vec::new();
    for (i, line) in code.lines().enumerate() {
        for (marker, instead) in [
            ("#[should_panic", "assert the `Err` instead"),
            ("#[ignore", "assert today's output with a FIXME instead"),
        ] {
            if line.contains(marker) {
                out.push(Offence {
                    rule: "no #[should_panic] or #[ignore] (STYLE.md item 18)",
                    place: format!("{rel}:{}", i + 1),
                    detail: format!("`{marker}]`: {instead}"),
                });
            }
        }
    }
    out
}

/// `todo!(` and `unimplemented!(` in shipping code (tests and `#[cfg(test)]` items blanked).
pub(crate) fn placeholders(rel: &str, code: &str) -> Vec<Offence> {
    let mut out = Vec::new();
    for (i, line) in code.lines().enumerate() {
        for marker in ["todo!(", "unimplemented!("] {
            let whole = line.match_indices(marker).any(|(at, _)| {
                !line[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if whole {
                out.push(Offence {
                    rule: "no todo!() or unimplemented!() in code that ships",
                    place: format!("{rel}:{}", i + 1),
                    detail: format!("`{marker})`: return an error or finish the code"),
                });
            }
        }
    }
    out
}

/// The migration directories of each backend must have the same names (STYLE.md item 15).
pub(crate) fn migration_trees(root: &Path) -> anyhow::Result<Vec<Offence>> {
    let base = root.join("crates/walle-store/migrations");
    if !base.is_dir() {
        return Ok(Vec::new());
    }
    let mut trees = Vec::new();
    for backend in ["sqlite", "mysql", "postgres"] {
        let dir = base.join(backend);
        let mut names = BTreeSet::new();
        if dir.is_dir() {
            for entry in std::fs::read_dir(&dir)
                .map_err(|e| anyhow::format_err!("cannot list {}: {e}", dir.display()))?
            {
                let entry =
                    entry.map_err(|e| anyhow::format_err!("cannot list {}: {e}", dir.display()))?;
                if entry.path().is_dir() {
                    names.insert(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        trees.push((backend, names));
    }
    let all: BTreeSet<&String> = trees.iter().flat_map(|(_, n)| n.iter()).collect();
    let mut out = Vec::new();
    for (backend, names) in &trees {
        for missing in all.iter().filter(|n| !names.contains(n.as_str())) {
            out.push(Offence {
                rule: "migration trees must mirror each other (STYLE.md item 15)",
                place: format!("crates/walle-store/migrations/{backend}"),
                detail: format!("has no {missing}"),
            });
        }
    }
    Ok(out)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests;
