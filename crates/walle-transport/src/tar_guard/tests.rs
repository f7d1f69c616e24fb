use std::io::Cursor;

use super::{GuardError, TarGuard, components, parse_number, symlink_target_ok};

/// A ustar header block with a valid checksum.
fn header(name: &[u8], kind: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name);
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

/// One entry: header plus padded data.
fn entry(name: &str, kind: u8, data: &[u8], link: &str) -> Vec<u8> {
    let mut out = header(name.as_bytes(), kind, data.len() as u64, link.as_bytes()).to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn file(name: &str, data: &[u8]) -> Vec<u8> {
    entry(name, b'0', data, "")
}

fn symlink(name: &str, target: &str) -> Vec<u8> {
    entry(name, b'2', b"", target)
}

fn hardlink(name: &str, target: &str) -> Vec<u8> {
    entry(name, b'1', b"", target)
}

fn pax(records: &[(&str, &str)]) -> Vec<u8> {
    pax_kind(b'x', records)
}

fn pax_kind(kind: u8, records: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (k, v) in records {
        let rest = format!(" {k}={v}\n");
        let mut len = rest.len() + 1;
        while format!("{len}{rest}").len() != len {
            len += 1;
        }
        body.push_str(&format!("{len}{rest}"));
    }
    entry("PaxHeaders/x", kind, body.as_bytes(), "")
}

fn archive(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out: Vec<u8> = parts.concat();
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// Runs the guard to the end; returns what it forwarded and how it ended.
fn run(input: &[u8]) -> (Vec<u8>, Result<u64, GuardError>) {
    let mut guard = TarGuard::new(Cursor::new(input.to_vec()));
    let mut out = Vec::new();
    loop {
        match guard.next_chunk(&mut out) {
            Ok(true) => {}
            Ok(false) => return (out, Ok(guard.entries())),
            Err(e) => return (out, Err(e)),
        }
    }
}

#[track_caller]
fn assert_unsafe(input: &[u8], evil: &str) {
    let (out, res) = run(input);
    match res {
        Err(GuardError::Unsafe { entry, reason }) => {
            assert!(
                entry.contains(evil) || reason.contains(evil),
                "{entry}: {reason}"
            );
        }
        other => panic!("expected the archive to be refused, got {other:?}"),
    }
    // Nothing of the refused entry went out.
    let evil_bytes = evil.as_bytes();
    assert!(
        !out.windows(evil_bytes.len()).any(|w| w == evil_bytes),
        "the refused entry {evil:?} was forwarded"
    );
}

#[test]
fn a_safe_archive_passes_through_unchanged() {
    let input = archive(&[
        entry("app/", b'5', b"", ""),
        file("app/index.php", b"<?php echo 1;"),
        symlink("app/current-config", "../shared/config.php"),
        entry("shared/", b'5', b"", ""),
        file("shared/config.php", &[7u8; 1500]),
        hardlink("app/again.php", "app/index.php"),
        symlink("top", "app"),
        file("./dot/relative", b"x"),
    ]);
    let (out, res) = run(&input);
    assert_eq!(res.expect("accepted"), 8);
    assert_eq!(out, input);
}

#[test]
fn absolute_and_dotdot_paths_are_refused() {
    assert_unsafe(
        &archive(&[file("ok", b"1"), file("../evil", b"x")]),
        "../evil",
    );
    assert_unsafe(&archive(&[file("/etc/evil", b"x")]), "/etc/evil");
    assert_unsafe(&archive(&[file("a/b/../../../evil", b"x")]), "../evil");
}

#[test]
fn symlinks_pointing_outside_are_refused() {
    assert_unsafe(&archive(&[symlink("l", "/etc")]), "absolute");
    assert_unsafe(&archive(&[symlink("l", "..")]), "outside");
    assert_unsafe(&archive(&[symlink("a/l", "../../x")]), "outside");
    assert_unsafe(&archive(&[symlink("a/l", "b/../../x")]), "after a name");
    assert_unsafe(&archive(&[symlink("l", "")]), "empty");
}

#[test]
fn writing_through_an_archive_link_is_refused() {
    // `l` points inside, but a later entry below it could be redirected by a replaced target.
    assert_unsafe(
        &archive(&[symlink("l", "sub"), file("l/evil", b"x")]),
        "l/evil",
    );
    assert_unsafe(
        &archive(&[symlink("l", "sub"), file("l", b"x")]),
        "which is a link",
    );
}

#[test]
fn hard_links_must_stay_inside_and_not_copy_symlinks() {
    assert_unsafe(&archive(&[hardlink("h", "../outside")]), "hard link");
    assert_unsafe(&archive(&[hardlink("h", "/etc/shadow")]), "hard link");
    assert_unsafe(
        &archive(&[symlink("d/l", "../x"), hardlink("h", "d/l")]),
        "to or through a link",
    );
}

#[test]
fn gnu_long_names_and_pax_paths_are_checked_too() {
    let long = entry("././@LongLink", b'L', b"../evil-long\0", "");
    assert_unsafe(&archive(&[long, file("benign", b"x")]), "../evil-long");
    let p = pax(&[("path", "../evil-pax")]);
    assert_unsafe(&archive(&[p, file("benign", b"x")]), "../evil-pax");
    let p = pax(&[("linkpath", "/etc/passwd")]);
    assert_unsafe(&archive(&[p, symlink("l", "ok")]), "absolute");
    let g = pax_kind(b'g', &[("path", "../global")]);
    assert_unsafe(&archive(&[g, file("a", b"x")]), "../global");
}

#[test]
fn pax_size_overrides_the_header_size() {
    let data = [1u8; 700];
    let mut f = header(b"big", b'0', 0, b"").to_vec();
    f.extend_from_slice(&data);
    f.resize(f.len().div_ceil(512) * 512, 0);
    let input = archive(&[pax(&[("size", "700")]), f, file("after", b"y")]);
    let (out, res) = run(&input);
    assert_eq!(res.expect("accepted"), 2);
    assert_eq!(out, input);
}

#[test]
fn devices_and_fifos_are_refused() {
    assert_unsafe(&archive(&[entry("dev/sda", b'4', b"", "")]), "block device");
    assert_unsafe(&archive(&[entry("fifo", b'6', b"", "")]), "FIFO");
}

#[test]
fn corrupt_and_truncated_archives_are_refused() {
    let mut bad = file("a", b"x");
    bad[0] = b'b';
    assert!(matches!(
        run(&archive(&[bad])).1,
        Err(GuardError::Malformed { .. })
    ));
    let full = archive(&[file("a", &[1u8; 2000])]);
    assert!(matches!(
        run(&full[..1000]).1,
        Err(GuardError::Malformed { .. })
    ));
    assert!(matches!(
        run(&full[..300]).1,
        Err(GuardError::Malformed { .. })
    ));
    let dir_with_data = archive(&[entry("d/", b'5', b"abc", "")]);
    assert!(matches!(
        run(&dir_with_data).1,
        Err(GuardError::Malformed { .. })
    ));
}

#[test]
fn nothing_after_the_end_marker_is_forwarded() {
    let mut input = archive(&[file("a", b"x")]);
    let clean = input.clone();
    input.extend_from_slice(&file("../smuggled", b"x"));
    let (out, res) = run(&input);
    assert_eq!(res.expect("accepted"), 1);
    assert_eq!(out, clean);
}

#[test]
fn a_missing_end_marker_is_added() {
    let input = file("a", b"x");
    let (out, res) = run(&input);
    assert_eq!(res.expect("accepted"), 1);
    assert_eq!(out, archive(&[input]));
}

#[test]
fn archives_written_by_gnu_tar_pass_in_every_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("r");
    let deep = root.join("a".repeat(60)).join("b".repeat(60));
    std::fs::create_dir_all(&deep).expect("mkdir");
    std::fs::write(deep.join("c".repeat(90)), vec![5u8; 3000]).expect("write");
    std::fs::write(root.join("plain"), b"hello").expect("write");
    std::os::unix::fs::symlink("plain", root.join("link")).expect("symlink");
    std::fs::hard_link(root.join("plain"), root.join("hard")).expect("hard link");
    for format in ["gnu", "pax", "ustar", "oldgnu"] {
        let out = crate::local::command("tar")
            .arg(format!("--format={format}"))
            .args(["-c", "-f", "-", "-C"])
            .arg(&root)
            .arg(".")
            .output()
            .expect("tar runs");
        if format == "ustar" && !out.status.success() {
            // ustar cannot hold a 90-byte file name below 120 bytes of directories.
            continue;
        }
        assert!(out.status.success(), "{format}: {:?}", out);
        let (fwd, res) = run(&out.stdout);
        let entries = res.unwrap_or_else(|e| panic!("{format}: {e:?}"));
        assert_eq!(entries, 7, "{format}");
        assert_eq!(fwd[..], out.stdout[..fwd.len()], "{format}");
    }
}

#[test]
fn numbers_and_paths_parse() {
    assert_eq!(parse_number(b"0000644\0"), Ok(0o644));
    assert_eq!(parse_number(b"   12 \0"), Ok(0o12));
    assert_eq!(
        parse_number(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
        Ok(256)
    );
    assert!(parse_number(b"9").is_err());
    assert_eq!(
        components(b"./a//b/.").expect("relative"),
        vec![&b"a"[..], b"b"]
    );
    assert!(components(b"a/../b").is_err());
    assert!(symlink_target_ok(&[b"a", b"b", b"l"], b"../../x").is_ok());
    assert!(symlink_target_ok(&[b"a", b"b", b"l"], b"../../../x").is_err());
}
