//! `docs/PERMISSIONS.md` must be what the matrix renders.

use std::path::Path;

use crate::render_permissions_markdown;

const REGENERATE: &str = "UPDATE_EXPECT=1 cargo test -p walle-rbac";

#[test]
// Tests may do I/O; only the library code is pure (clippy.toml bans these calls there).
#[allow(clippy::disallowed_methods)]
fn permissions_md_matches_the_matrix() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/PERMISSIONS.md");
    let rendered = render_permissions_markdown();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &rendered).expect("docs/ is writable");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nGenerate it with `{REGENERATE}`",
            path.display()
        )
    });
    if on_disk != rendered {
        let (line, (disk, matrix)) = on_disk
            .lines()
            .chain(std::iter::repeat("<end of file>"))
            .zip(rendered.lines().chain(std::iter::repeat("<end of file>")))
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((0, ("<trailing newline>", "<trailing newline>")));
        panic!(
            "docs/PERMISSIONS.md differs from the permission matrix at line {}:\n  file:   {disk}\n  matrix: {matrix}\n\
             The file is generated; regenerate it with `{REGENERATE}` and commit it.",
            line + 1
        );
    }
}

#[test]
fn every_action_has_a_row() {
    let md = render_permissions_markdown();
    for action in crate::Action::ALL {
        assert!(
            md.contains(&format!("| `{}` |", action.as_str())),
            "{action}"
        );
    }
}
