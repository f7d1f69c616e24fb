//! Unit tests of the package filter.

use super::*;

fn filter(mode: FilterMode, patterns: &[&str]) -> PathFilter {
    PathFilter::new(&FileFilter {
        mode,
        patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
    })
    .expect("valid patterns")
}

#[test]
fn unanchored_patterns_match_at_any_depth() {
    let f = filter(
        FilterMode::Exclude,
        &["*.log", "node_modules", "# comment", "  "],
    );
    assert!(!f.file("a.log"));
    assert!(!f.file("var/log/a.log"));
    assert!(f.file("a.log.txt"));
    assert_eq!(f.dir("web/node_modules"), DirAction::Skip);
    assert_eq!(f.dir("web"), DirAction::Walk);
}

#[test]
fn anchored_patterns_match_from_the_root_only() {
    let f = filter(
        FilterMode::Exclude,
        &["/build", "config/local.php", "vendor/**"],
    );
    assert_eq!(f.dir("build"), DirAction::Skip);
    assert_eq!(f.dir("src/build"), DirAction::Walk);
    assert!(!f.file("config/local.php"));
    assert!(f.file("app/config/local.php"));
    assert_eq!(f.dir("vendor"), DirAction::Walk);
    assert!(!f.file("vendor/autoload.php"));
    assert_eq!(f.dir("vendor/lib"), DirAction::Skip);
}

#[test]
fn star_does_not_cross_directories() {
    let f = filter(FilterMode::Include, &["src/*.rs"]);
    assert!(f.file("src/main.rs"));
    assert!(!f.file("src/deep/mod.rs"));
}

#[test]
fn include_mode_takes_matched_directories_whole() {
    let f = filter(FilterMode::Include, &["public", "bin/run.sh", "docs/"]);
    assert_eq!(f.dir("public"), DirAction::TakeAll);
    assert_eq!(f.dir("docs"), DirAction::TakeAll);
    assert!(!f.file("docs"), "a trailing '/' matches directories only");
    assert_eq!(f.dir("bin"), DirAction::Walk);
    assert!(f.file("bin/run.sh"));
    assert!(!f.file("README.md"));
    assert!(!f.keeps_walked_dirs());
}

#[test]
fn vcs_metadata_is_never_written() {
    let f = filter(FilterMode::Include, &["**"]);
    assert_eq!(f.dir(".git"), DirAction::Skip);
    assert_eq!(f.dir("sub/.SVN"), DirAction::Skip);
    assert!(!f.file("sub/.git"));
    assert!(f.file("sub/.gitignore"));
}

#[test]
fn bad_patterns_are_reported() {
    for bad in ["/", "a/../b", "[z-a]"] {
        let err = PathFilter::new(&FileFilter {
            mode: FilterMode::Exclude,
            patterns: vec![bad.to_owned()],
        })
        .expect_err(bad);
        assert_eq!(err.pattern, bad);
    }
}
