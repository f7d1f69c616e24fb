//! Behaviour every transport must show, written once and run against SSH hosts and locally.
//!
//! Each scenario gets a session and an empty directory on its target, and checks the result
//! through the same session (the SSH tests additionally look at the host's files directly).

use std::time::{Duration, Instant};

use walle_core::ports::{HostTarget, OutputLine, RunOptions, Session, Transport, TransportError};
use walle_core::shell::Command;
use walle_core::value::{AbsPath, VarName};

use crate::support::{RELEASE_LISTING, abs, real_release_tar, run, run_with, sh, tarball};

pub(crate) fn commands_and_exit_codes(s: &mut dyn Session, dir: &AbsPath) {
    assert_eq!(run(s, &Command::new("true")).0, 0);
    assert_eq!(run(s, &Command::shell("exit 3")).0, 3);
    assert_eq!(run(s, &Command::new("walle-no-such-program")).0, 127);

    let (code, out) = run(
        s,
        &Command::shell("echo out; echo err >&2; printf 'no newline'"),
    );
    assert_eq!(code, 0);
    assert_eq!(out.stdout, ["out", "no newline"]);
    assert_eq!(out.stderr, ["err"]);

    let (_, out) = run(s, &Command::new("pwd").cwd(dir.clone()));
    assert_eq!(out.stdout, [dir.as_str()]);

    // Arguments arrive as single words, whatever they contain.
    let (_, out) = run(
        s,
        &Command::new("printf")
            .arg("[%s]\n")
            .args(["a b", "it's", "$(id)", "-n", ""]),
    );
    assert_eq!(out.stdout, ["[a b]", "[it's]", "[$(id)]", "[-n]", "[]"]);

    // Lines arrive while the command runs, not at its end.
    let start = Instant::now();
    let mut first_at = None;
    s.run(
        &Command::shell("echo first; sleep 1; echo second"),
        &RunOptions::default(),
        &mut |line| {
            if first_at.is_none() && line == OutputLine::Stdout("first".to_owned()) {
                first_at = Some(start.elapsed());
            }
        },
    )
    .expect("runs");
    let first_at = first_at.expect("first line seen");
    assert!(first_at < Duration::from_millis(800), "{first_at:?}");
}

pub(crate) fn large_and_binary_output(s: &mut dyn Session) {
    let (code, out) = run(s, &Command::new("seq").args(["1", "200000"]));
    assert_eq!(code, 0);
    assert_eq!(out.stdout.len(), 200_000);
    assert_eq!(out.stdout[0], "1");
    assert_eq!(out.stdout[199_999], "200000");

    let (_, out) = run(s, &Command::shell(r"printf 'a\377b\000c\n'"));
    assert_eq!(out.stdout, ["a\u{fffd}b\0c"]);

    // 8 MB of random bytes on stdout and 1 MB on stderr at the same time.
    let (code, out) = run(
        s,
        &Command::shell(
            "head -c 1000000 /dev/urandom >&2 & head -c 8000000 /dev/urandom; wait; echo END",
        ),
    );
    assert_eq!(code, 0);
    assert_eq!(out.stdout.last().map(|l| l.ends_with("END")), Some(true));
    let stdout_chars: usize = out.stdout.iter().map(|l| l.chars().count() + 1).sum();
    assert!(stdout_chars > 7_000_000, "{stdout_chars}");
    assert!(!out.stderr.is_empty());
}

pub(crate) fn env_values_round_trip(s: &mut dyn Session) {
    let values = [
        "plain",
        "",
        "it's \"quoted\" `twice`",
        "line one\nline two\n",
        "$HOME $(id) ${PATH} \\ ; rm -rf / #",
        "  leading and trailing spaces  ",
        "unicode: 日本語 ü",
        "'",
        "\n",
    ];
    let name = VarName::new("WALLE_TEST_VALUE").expect("valid name");
    for value in values {
        // od prints every byte, so the comparison is exact (no line splitting in between).
        let cmd = Command::shell("printf %s \"$WALLE_TEST_VALUE\" | od -An -v -tx1")
            .env(name.clone(), value);
        let (code, out) = run(s, &cmd);
        assert_eq!(code, 0);
        let hex: Vec<String> = out
            .stdout
            .iter()
            .flat_map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        let expected: Vec<String> = value.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected, "value {value:?}");
    }
    // Several variables, and a later assignment of the same name wins.
    let a = VarName::new("WALLE_A").expect("valid name");
    let b = VarName::new("WALLE_B").expect("valid name");
    let cmd = Command::new("sh")
        .arg("-c")
        .arg("printf '%s|%s' \"$WALLE_A\" \"$WALLE_B\"")
        .env(a.clone(), "first")
        .env(b, "x y")
        .env(a, "second");
    assert_eq!(run(s, &cmd).1.stdout, ["second|x y"]);
}

/// A state check of process `pid` on the target: alive, or gone (zombies count as gone).
fn alive(s: &mut dyn Session, pid: &str) -> bool {
    let script = format!(
        "if [ -e /proc/{pid} ] && [ \"$(cut -d' ' -f3 /proc/{pid}/stat)\" != Z ]; \
         then echo alive; else echo gone; fi"
    );
    sh(s, &script) == ["alive"]
}

fn wait_gone(s: &mut dyn Session, pid: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while alive(s, pid) {
        assert!(Instant::now() < deadline, "process {pid} still runs");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn timeout_stops_the_command(s: &mut dyn Session, dir: &AbsPath) {
    let pids = format!("{dir}/pids");
    let script = format!(
        "sleep 300 & echo $! > {pids}.child; echo $$ > {pids}.main; echo started; exec sleep 300"
    );
    let opts = RunOptions {
        timeout: Duration::from_millis(1500),
        silence_timeout: None,
    };
    let start = Instant::now();
    let mut lines = Vec::new();
    let err = s
        .run(&Command::shell(script), &opts, &mut |l| lines.push(l))
        .expect_err("times out");
    let took = start.elapsed();
    match &err {
        TransportError::Timeout { after, what, .. } => {
            assert_eq!(*after, Duration::from_millis(1500));
            assert!(what.contains("sleep 300"), "{what}");
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    assert_eq!(lines, [OutputLine::Stdout("started".to_owned())]);
    // The command and the child it left in the background are stopped, and the session still works.
    for which in ["main", "child"] {
        let pid = sh(s, &format!("cat {pids}.{which}")).concat();
        wait_gone(s, &pid, Duration::from_secs(5));
    }
}

pub(crate) fn silence_timeout(s: &mut dyn Session) {
    let opts = RunOptions {
        timeout: Duration::from_secs(30),
        silence_timeout: Some(Duration::from_millis(800)),
    };
    let start = Instant::now();
    let mut lines = Vec::new();
    let err = s
        .run(
            &Command::shell("echo a; sleep 0.5; echo b; sleep 0.5; echo c; sleep 30"),
            &opts,
            &mut |l| lines.push(l),
        )
        .expect_err("times out");
    let took = start.elapsed();
    match &err {
        TransportError::Timeout { after, what, .. } => {
            assert_eq!(*after, Duration::from_millis(800));
            assert!(what.contains("no output"), "{what}");
        }
        other => panic!("expected a timeout, got {other}"),
    }
    // Two half-second pauses did not trip it; the long one did, 0.8 s after "c".
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_millis(2800),
        "{took:?}"
    );
    assert_eq!(lines.len(), 3, "{lines:?}");
    // A command that keeps talking is not stopped by the silence limit.
    let (code, out) = run_with(
        s,
        &Command::shell("for i in 1 2 3 4 5 6; do echo $i; sleep 0.3; done"),
        &opts,
    );
    assert_eq!((code, out.stdout.len()), (0, 6));
}

pub(crate) fn small_files(s: &mut dyn Session, dir: &AbsPath) {
    let ledger = abs(&format!("{dir}/ledger.jsonl"));
    assert_eq!(s.read_file(&ledger).expect("read"), None);
    let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    s.write_file(&ledger, &data).expect("write");
    assert_eq!(s.read_file(&ledger).expect("read"), Some(data));
    s.write_file(&ledger, b"{\"release\":\"r2\"}\n")
        .expect("overwrite");
    assert_eq!(
        s.read_file(&ledger).expect("read"),
        Some(b"{\"release\":\"r2\"}\n".to_vec())
    );
    s.write_file(&ledger, b"").expect("write empty");
    assert_eq!(s.read_file(&ledger).expect("read"), Some(Vec::new()));

    let lock = abs(&format!("{dir}/deploy.lock"));
    assert!(s.create_exclusive(&lock, b"task 1").expect("create"));
    assert!(!s.create_exclusive(&lock, b"task 2").expect("second create"));
    assert_eq!(s.read_file(&lock).expect("read"), Some(b"task 1".to_vec()));
    s.remove_file(&lock).expect("remove");
    s.remove_file(&lock).expect("remove again");
    assert!(
        s.create_exclusive(&lock, b"task 3")
            .expect("create after removal")
    );

    // Failures name the path and the host.
    let missing_dir = abs(&format!("{dir}/no/such/dir/file"));
    match s.write_file(&missing_dir, b"x") {
        Err(TransportError::Remote { path, .. }) => assert_eq!(path, missing_dir.as_str()),
        other => panic!("expected a remote error, got {other:?}"),
    }
    // Nothing but the files themselves is left behind (no temporary names).
    let listing = sh(s, &format!("ls -A {dir}"));
    assert_eq!(listing, ["deploy.lock", "ledger.jsonl"]);
}

pub(crate) fn upload(s: &mut dyn Session, dir: &AbsPath) {
    let dest = abs(&format!("{dir}/release.tar"));
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let n = s.upload(&mut &data[..], &dest, 0o640).expect("upload");
    assert_eq!(n, data.len() as u64);
    let out = sh(s, &format!("stat -c '%a %s' {dest}; cksum < {dest}"));
    assert_eq!(out[0], format!("640 {}", data.len()));
    // Uploading again replaces the file, with the new mode.
    s.upload(&mut &b"small"[..], &dest, 0o600).expect("replace");
    assert_eq!(s.read_file(&dest).expect("read"), Some(b"small".to_vec()));
    assert_eq!(sh(s, &format!("stat -c %a {dest}")), ["600"]);
    assert_eq!(sh(s, &format!("ls -A {dir}")), ["release.tar"]);
}

pub(crate) fn unpack(s: &mut dyn Session, dir: &AbsPath) {
    let (_tree, tar) = real_release_tar();
    let release = abs(&format!("{dir}/r1"));
    sh(s, &format!("mkdir {release}"));
    let summary = s.unpack(&mut &tar[..], &release).expect("unpack");
    assert_eq!(summary.entries, RELEASE_LISTING.len() as u64);
    assert!(summary.bytes > 70_000 && summary.bytes <= tar.len() as u64);
    let listing = sh(
        s,
        &format!(
            "cd {release} && find . | sort | while read -r f; do \
             if [ -L \"$f\" ]; then echo \"$f -> $(readlink \"$f\")\"; else echo \"$f\"; fi; done"
        ),
    );
    assert_eq!(listing, RELEASE_LISTING);
    assert_eq!(
        sh(s, &format!("cat {release}/public/index.php")),
        ["<?php echo 'hi';"]
    );
    assert_eq!(sh(s, &format!("wc -c < {release}/public/blob")), ["70000"]);

    // The release directory must be new and empty.
    match s.unpack(&mut &tar[..], &release) {
        Err(TransportError::Remote { detail, .. }) => {
            assert!(detail.contains("not empty"), "{detail}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    match s.unpack(&mut &tar[..], &abs(&format!("{dir}/missing"))) {
        Err(TransportError::Remote { .. }) => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub(crate) fn unsafe_archives_are_refused(s: &mut dyn Session, dir: &AbsPath) {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "dotdot",
            tarball::archive(&[
                tarball::dir("app/"),
                tarball::file("app/ok.txt", b"fine"),
                tarball::file("app/../../escaped.txt", b"evil"),
            ]),
        ),
        (
            "absolute",
            tarball::archive(&[tarball::file(&format!("{dir}/escaped.txt"), b"evil")]),
        ),
        (
            "symlink-out",
            tarball::archive(&[
                tarball::symlink("link", ".."),
                tarball::file("link/escaped.txt", b"evil"),
            ]),
        ),
        (
            "symlink-through",
            tarball::archive(&[
                tarball::symlink("link", "sub"),
                tarball::file("link/file", b"evil"),
            ]),
        ),
    ];
    for (name, tar) in cases {
        let release = abs(&format!("{dir}/{name}"));
        sh(s, &format!("mkdir {release}"));
        match s.unpack(&mut &tar[..], &release) {
            Err(TransportError::UnsafeArchive { entry, dest, .. }) => {
                assert_eq!(dest, release.as_str());
                assert!(!entry.is_empty());
            }
            other => panic!("{name}: expected the archive to be refused, got {other:?}"),
        }
        // Nothing landed outside the release directory.
        let outside = sh(s, &format!("cd {dir} && find . -name escaped.txt"));
        assert!(outside.is_empty(), "{name}: {outside:?}");
        // The session is still usable.
        assert_eq!(run(s, &Command::new("true")).0, 0);
    }
}

pub(crate) fn switch_symlink(s: &mut dyn Session, dir: &AbsPath) {
    sh(
        s,
        &format!("mkdir {dir}/r1 {dir}/r2 {dir}/realdir && touch {dir}/realdir/keep"),
    );
    let current = abs(&format!("{dir}/current"));
    let r1 = abs(&format!("{dir}/r1"));
    let r2 = abs(&format!("{dir}/r2"));
    assert_eq!(s.read_link(&current).expect("read"), None);
    s.switch_symlink(&current, &r1)
        .expect("first switch creates the link");
    assert_eq!(s.read_link(&current).expect("read"), Some(r1.to_string()));
    s.switch_symlink(&current, &r2).expect("switch");
    assert_eq!(s.read_link(&current).expect("read"), Some(r2.to_string()));
    // It is the link that changed, not something inside the old target.
    assert_eq!(sh(s, &format!("ls -A {dir}/r1")), Vec::<String>::new());
    s.switch_symlink(&current, &r1).expect("switch back");
    assert_eq!(sh(s, &format!("readlink {current}")), [r1.as_str()]);

    // A real directory in the link's place is left alone.
    let realdir = abs(&format!("{dir}/realdir"));
    match s.switch_symlink(&realdir, &r2) {
        Err(TransportError::Remote { detail, .. }) => {
            assert!(detail.contains("real directory"), "{detail}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(sh(s, &format!("ls -A {realdir}")), ["keep"]);
    assert_eq!(s.read_link(&realdir).expect("read"), None);
    // No temporary links are left behind.
    assert_eq!(
        sh(s, &format!("ls -A {dir}")),
        ["current", "r1", "r2", "realdir"]
    );
}

/// A shell loop that checks, as fast as it can until `stop` exists, that `current` resolves to one
/// of `dir/r0`..`dir/r3`; it creates `ready` when it starts and ends with `done <reads> <bad>`.
pub(crate) fn reader_loop(
    dir: &AbsPath,
    current: &AbsPath,
    ready: &AbsPath,
    stop: &AbsPath,
) -> String {
    format!(
        "n=0; bad=0; : > {ready}
         while [ ! -e {stop} ] && [ $n -lt 2000000 ]; do
           if ! t=$(readlink -e {current}); then bad=$((bad+1)); echo \"MISSING at $n\"; fi
           case \"$t\" in {dir}/r[0-3]) ;; *) bad=$((bad+1)); echo \"WRONG $t\";; esac
           n=$((n+1))
         done
         echo \"done $n $bad\""
    )
}

/// Switches `current` around at least `switches` times (and for at least 1.5 s) while a reader
/// loop on the target checks, as fast as it can, that `current` always resolves to a release.
/// Returns the number of switches, how long they took and how often the reader looked.
pub(crate) fn switch_is_atomic(
    transport: &dyn Transport,
    target: &HostTarget,
    s: &mut dyn Session,
    dir: &AbsPath,
    switches: usize,
) -> (usize, Duration, u64) {
    let releases: Vec<AbsPath> = (0..4).map(|i| abs(&format!("{dir}/r{i}"))).collect();
    sh(
        s,
        &format!(
            "mkdir {}",
            releases
                .iter()
                .map(AbsPath::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );
    let current = abs(&format!("{dir}/current"));
    s.switch_symlink(&current, &releases[0])
        .expect("first switch");
    let ready = abs(&format!("{dir}/reader.ready"));
    let stop = abs(&format!("{dir}/reader.stop"));
    let reader_script = reader_loop(dir, &current, &ready, &stop);
    let mut reader = transport
        .connect(target, &walle_core::ports::ConnectOptions::default())
        .expect("second session");
    let reader_opts = RunOptions {
        timeout: Duration::from_secs(90),
        silence_timeout: None,
    };
    let stats = std::thread::scope(|scope| {
        let handle = scope.spawn(move || {
            let (code, out) = run_with(&mut *reader, &Command::shell(reader_script), &reader_opts);
            (code, out.stdout)
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.read_file(&ready).expect("read").is_none() {
            assert!(Instant::now() < deadline, "the reader loop did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        let start = Instant::now();
        let mut done = 0;
        // At least `switches` switches and at least 1.5 s of them, so the reader looks often.
        while (done < switches || start.elapsed() < Duration::from_millis(1500))
            && start.elapsed() < Duration::from_secs(40)
        {
            s.switch_symlink(&current, &releases[(done + 1) % releases.len()])
                .expect("switch");
            done += 1;
        }
        let took = start.elapsed();
        s.write_file(&stop, b"").expect("stop the reader");
        let (code, lines) = handle.join().expect("reader thread");
        assert_eq!(code, 0);
        let last = lines.last().cloned().unwrap_or_default();
        let fields: Vec<&str> = last.split_whitespace().collect();
        assert_eq!(fields.first(), Some(&"done"), "{lines:?}");
        let reads: u64 = fields[1].parse().expect("count");
        assert_eq!(
            fields[2], "0",
            "the reader saw a missing or wrong link: {lines:?}"
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            done >= switches.min(100),
            "only {done} switches in {took:?}"
        );
        assert!(reads >= 50, "the reader only looked {reads} times");
        (done, took, reads)
    });
    // No temporary links are left behind.
    let listing = sh(s, &format!("ls -A {dir}"));
    assert_eq!(
        listing,
        [
            "current",
            "r0",
            "r1",
            "r2",
            "r3",
            "reader.ready",
            "reader.stop"
        ]
    );
    stats
}
