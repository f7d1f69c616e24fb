//! Release manifests on the hosts (`sha256sum` format) and the incremental-transfer diff.

use std::collections::BTreeMap;

use crate::layout::escape::{escape, unescape};
use crate::ports::ManifestEntry;

/// Renders the manifest kept next to each release on the host (`walle-manifest v1`, then one line
/// per file: `<sha256> <mode in octal> <size> <f|l>\t<escaped path>`), which the next deploy reads to
/// find what changed. `sha256sum -c` cannot read it; its input is [`render_check`].
pub(crate) fn render_full(files: &[ManifestEntry]) -> String {
    let mut out = String::from("walle-manifest v1\n");
    for f in files {
        out.push_str(&format!(
            "{} {:o} {} {}\t{}\n",
            f.sha256,
            f.mode,
            f.size,
            if f.symlink { 'l' } else { 'f' },
            escape(&f.path)
        ));
    }
    out
}

/// The `sha256sum -c` input for the regular files of a release.
pub(crate) fn render_check(files: &[ManifestEntry]) -> String {
    files
        .iter()
        .filter(|f| !f.symlink && !f.path.contains(['\n', '\\']))
        .map(|f| format!("{}  {}\n", f.sha256, f.path))
        .collect()
}

/// Parses [`render_full`]; `None` for an unknown format (then the transfer is full).
pub(crate) fn parse_full(text: &str) -> Option<BTreeMap<String, (String, u32, bool)>> {
    let mut lines = text.lines();
    if lines.next()? != "walle-manifest v1" {
        return None;
    }
    let mut out = BTreeMap::new();
    for line in lines {
        let (meta, path) = line.split_once('\t')?;
        let mut parts = meta.split(' ');
        let sha = parts.next()?.to_owned();
        let mode = u32::from_str_radix(parts.next()?, 8).ok()?;
        let _size = parts.next()?;
        let link = parts.next()? == "l";
        out.insert(unescape(path).ok()?, (sha, mode, link));
    }
    Some(out)
}

/// The difference between the previous release and the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Delta {
    /// Paths to send (new or changed content, mode or kind, and every symlink).
    pub(crate) send: Vec<String>,
    /// Regular files unchanged since the previous release, hard-linked from it.
    pub(crate) keep: Vec<String>,
}

/// Computes what to send and what to hard-link from `previous` for the new release. Symlinks are
/// always sent (they are tiny, and a link to a link is not portable).
pub(crate) fn delta(
    previous: &BTreeMap<String, (String, u32, bool)>,
    new: &[ManifestEntry],
) -> Delta {
    let mut d = Delta::default();
    for f in new {
        match previous.get(&f.path) {
            Some((sha, mode, link))
                if !f.symlink && *sha == f.sha256 && *mode == f.mode && !*link =>
            {
                d.keep.push(f.path.clone());
            }
            _ => d.send.push(f.path.clone()),
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &str, sha: &str, mode: u32, link: bool) -> ManifestEntry {
        ManifestEntry {
            path: path.into(),
            sha256: sha.into(),
            size: 1,
            mode,
            symlink: link,
        }
    }

    #[test]
    fn round_trip_and_delta() {
        let old = vec![
            e("a", "1", 0o644, false),
            e("b\tc\nd", "2", 0o644, false),
            e("gone", "3", 0o644, false),
            e("x", "4", 0o644, false),
        ];
        let parsed = parse_full(&render_full(&old)).unwrap();
        assert_eq!(parsed.len(), 4);
        assert!(parsed.contains_key("b\tc\nd"));
        let new = vec![
            e("a", "1", 0o644, false),
            e("b\tc\nd", "9", 0o644, false),
            e("new", "5", 0o755, false),
            e("x", "4", 0o755, false),
        ];
        let d = delta(&parsed, &new);
        assert_eq!(d.send, vec!["b\tc\nd".to_owned(), "new".into(), "x".into()]);
        assert_eq!(d.keep, vec!["a".to_owned()]);
        let links = vec![e("l", "7", 0o777, true)];
        let d = delta(&parse_full(&render_full(&links)).unwrap(), &links);
        assert_eq!((d.send, d.keep), (vec!["l".to_owned()], vec![]));
        assert_eq!(parse_full("something else"), None);
        assert_eq!(render_check(&new[..1]), "1  a\n");
    }
}
