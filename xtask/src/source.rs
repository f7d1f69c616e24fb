//! Reading Rust sources for the checks: listing files, blanking comments and literals, and dropping
//! `#[cfg(test)]` items, so that the checks see only the code that ships.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// Every `.rs` file under `dir`, sorted, skipping `target/` and hidden directories.
pub(crate) fn rust_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if dir.is_dir() {
        walk(dir, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let file_type = entry
            .file_type()
            .with_context(|| format!("cannot stat {}", path.display()))?;
        if file_type.is_dir() {
            if name != "target" && !name.starts_with('.') {
                walk(&path, out)?;
            }
        } else if file_type.is_file() && name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads a file to a string, with the path in the error.
pub(crate) fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// `path` relative to `root`, with `/` separators, for messages.
pub(crate) fn display(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Whether a file holds only tests by our layout rule: a sibling `tests.rs`, or anything under a
/// `tests/` or `benches/` directory.
pub(crate) fn is_test_file(root: &Path, path: &Path) -> bool {
    let rel = display(root, path);
    rel.ends_with("/tests.rs")
        || rel == "tests.rs"
        || rel
            .split('/')
            .any(|part| part == "tests" || part == "benches")
}

/// The source with comments (doc comments included) and the contents of string and character
/// literals replaced by spaces. Line breaks are kept, so line numbers stay valid.
pub(crate) fn blank_comments_and_literals(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(next, Some('"' | '#')) && !ident_before(&chars, i) {
            // A raw string r"..." or r#"..."#, or (no quote after the hashes) a raw identifier.
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push('r');
            out.extend(std::iter::repeat_n('#', hashes));
            out.push('"');
            i += 2 + hashes;
            while i < chars.len() {
                if chars[i] == '"'
                    && chars[i + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|c| **c == '#')
                        .count()
                        == hashes
                {
                    out.push('"');
                    out.extend(std::iter::repeat_n('#', hashes));
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if let Some(&c) = chars.get(i) {
                    out.push(blank(c));
                }
                i += 1;
            }
            if i < chars.len() {
                out.push('"');
                i += 1;
            }
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{7f}') or a lifetime ('a).
            if next == Some('\\') {
                // The escaped character itself may be a quote ('\''), so search after it.
                let end = chars
                    .get(i + 3..)
                    .and_then(|rest| rest.iter().position(|c| *c == '\''))
                    .map_or(chars.len(), |p| i + 3 + p);
                out.push('\'');
                out.extend(std::iter::repeat_n(' ', end.saturating_sub(i + 1)));
                if end < chars.len() {
                    out.push('\'');
                }
                i = end + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                out.push_str("' '");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// Blanks every item marked `#[cfg(test)]` (a `mod tests;` line, or a whole braced item) in a
/// source already passed through [`blank_comments_and_literals`]. Line breaks are kept.
pub(crate) fn blank_cfg_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out: Vec<char> = code.chars().collect();
    let text: String = out.iter().collect();
    let mut search = 0;
    while let Some(found) = text[search..].find(MARK) {
        let start = search + found;
        // Work in char indices: the blanked code is ASCII except inside identifiers, so map bytes.
        let start_char = text[..start].chars().count();
        let mut i = start_char + MARK.chars().count();
        let mut depth = 0usize;
        let mut end = out.len();
        while i < out.len() {
            match out[i] {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        for c in &mut out[start_char..end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        search = start + MARK.len();
    }
    out.into_iter().collect()
}

/// The code of a file that ships: comments, literals and `#[cfg(test)]` items blanked.
pub(crate) fn shipping_code(src: &str) -> String {
    blank_cfg_test_items(&blank_comments_and_literals(src))
}

#[cfg(test)]
mod tests;
