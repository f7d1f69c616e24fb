use walle_core::ports::OutputLine;

use super::{LineSplitter, MAX_LINE, Stream};

fn split(chunks: &[&[u8]]) -> Vec<OutputLine> {
    let mut out = Vec::new();
    let mut s = LineSplitter::new(Stream::Stdout);
    for c in chunks {
        s.push(c, &mut |l| out.push(l));
    }
    s.finish(&mut |l| out.push(l));
    out
}

fn stdout(lines: &[&str]) -> Vec<OutputLine> {
    lines
        .iter()
        .map(|l| OutputLine::Stdout((*l).to_owned()))
        .collect()
}

#[test]
fn lines_are_cut_at_newlines_across_chunks() {
    assert_eq!(
        split(&[b"ab", b"c\nd", b"\n\ne"]),
        stdout(&["abc", "d", "", "e"])
    );
}

#[test]
fn trailing_newline_gives_no_empty_line() {
    assert_eq!(split(&[b"a\n"]), stdout(&["a"]));
    assert_eq!(split(&[]), stdout(&[]));
}

#[test]
fn invalid_utf8_is_replaced() {
    assert_eq!(split(&[b"a\xffb\n"]), stdout(&["a\u{fffd}b"]));
}

#[test]
fn long_lines_are_passed_on_in_pieces() {
    let long = vec![b'x'; MAX_LINE * 2 + 5];
    let out = split(&[&long]);
    let lens: Vec<usize> = out
        .iter()
        .map(|l| match l {
            OutputLine::Stdout(s) | OutputLine::Stderr(s) => s.len(),
        })
        .collect();
    assert_eq!(lens, vec![MAX_LINE, MAX_LINE, 5]);
}

#[test]
fn stderr_lines_are_tagged() {
    let mut out = Vec::new();
    let mut s = LineSplitter::new(Stream::Stderr);
    s.push(b"oops\n", &mut |l| out.push(l));
    assert_eq!(out, vec![OutputLine::Stderr("oops".to_owned())]);
}
