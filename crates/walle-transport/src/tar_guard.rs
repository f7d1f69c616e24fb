//! An in-stream tar checker: passes an archive on block by block and stops before any entry that
//! could write outside the directory it is unpacked into.
//!
//! The `tar` on the target is not trusted to be careful (BusyBox and old GNU tar differ), so the
//! deploy side parses every header (ustar, old GNU, GNU long names, pax) and forwards an entry only
//! after checking it. Every name an implementation might use for an entry is checked: the header
//! name with its ustar prefix, the GNU long name and the pax `path`, and likewise for link targets.
//!
//! Rules, for a destination directory that is empty when unpacking starts:
//! - entry paths are relative and have no `..` component;
//! - no entry is written at or below a path that an earlier entry made a symlink or hard link;
//! - a symlink target is relative, has the form `../../rest` with no `..` inside `rest`, and climbs
//!   no higher than the link's own directory is deep;
//! - a hard link target is a relative path without `..` that is not (and is not below) a link;
//! - only regular files, directories, symlinks and hard links are accepted (no devices, FIFOs or
//!   sparse and multi-volume entries).
//!
//! Together these keep every path the remote `tar` creates, and everything those symlinks resolve
//! to, inside the destination. Whatever follows the end-of-archive marker is not forwarded.

use std::collections::HashSet;
use std::io::{self, Read};

const BLOCK: usize = 512;
/// How much metadata (long names, pax records) one entry may carry.
const MAX_META: u64 = 1024 * 1024;
/// How much input is read at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Roughly how many bytes one call to [`TarGuard::next_chunk`] hands out.
const OUT_CHUNK: usize = 256 * 1024;

/// Why the archive was not passed on.
#[derive(Debug)]
pub(crate) enum GuardError {
    /// Reading the archive stream failed.
    Read(io::Error),
    /// An entry would escape the destination, or has a type that is not accepted.
    Unsafe { entry: String, reason: String },
    /// The stream is not a tar archive this checker can vouch for.
    Malformed { offset: u64, reason: String },
}

impl GuardError {
    /// The entry and reason as one string, for `TransportError::UnsafeArchive`'s `entry`.
    pub(crate) fn describe(&self) -> String {
        match self {
            GuardError::Read(err) => format!("(reading the archive failed: {err})"),
            GuardError::Unsafe { entry, reason } => format!("{entry} ({reason})"),
            GuardError::Malformed { offset, reason } => {
                format!("(not a valid tar archive at byte {offset}: {reason})")
            }
        }
    }
}

/// Wraps an archive stream; [`TarGuard::next_chunk`] yields only checked bytes.
pub(crate) struct TarGuard<R> {
    inner: R,
    input: Vec<u8>,
    input_eof: bool,
    /// Archive offset of `input[0]`.
    offset: u64,
    state: State,
    meta: Meta,
    /// Bytes of metadata entries held back until the entry they describe is checked.
    held: Vec<u8>,
    links: HashSet<Vec<u8>>,
    entries: u64,
}

#[derive(Debug)]
enum State {
    Header,
    /// Forwarding an entry's data (padded to whole blocks).
    Data {
        remaining: u64,
    },
    /// Collecting a metadata entry's content (padded to whole blocks).
    Meta {
        kind: u8,
        size: u64,
        remaining: u64,
        content: Vec<u8>,
    },
    Done,
}

/// Names set by metadata entries for the next real entry.
#[derive(Debug, Default)]
struct Meta {
    gnu_name: Option<Vec<u8>>,
    gnu_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax_size: Option<u64>,
}

impl<R: Read> TarGuard<R> {
    pub(crate) fn new(inner: R) -> Self {
        TarGuard {
            inner,
            input: Vec::new(),
            input_eof: false,
            offset: 0,
            state: State::Header,
            meta: Meta::default(),
            held: Vec::new(),
            links: HashSet::new(),
            entries: 0,
        }
    }

    /// Entries (files, directories, links) passed on so far.
    pub(crate) fn entries(&self) -> u64 {
        self.entries
    }

    /// Appends the next checked bytes to `out`. Returns `false` once the archive has ended and
    /// everything up to its end-of-archive marker has been handed out.
    pub(crate) fn next_chunk(&mut self, out: &mut Vec<u8>) -> Result<bool, GuardError> {
        let start = out.len();
        while out.len() - start < OUT_CHUNK {
            match &mut self.state {
                State::Done => return Ok(out.len() > start),
                State::Header => {
                    if !self.fill(BLOCK)? {
                        if self.input.is_empty() && self.held.is_empty() {
                            // No end-of-archive marker: add one so the remote tar ends cleanly.
                            out.extend_from_slice(&[0u8; 2 * BLOCK]);
                            self.state = State::Done;
                            continue;
                        }
                        return Err(self.malformed("the archive ends inside a header"));
                    }
                    let mut block = [0u8; BLOCK];
                    block.copy_from_slice(&self.input[..BLOCK]);
                    self.consume(BLOCK);
                    self.header(&block, out)?;
                }
                State::Data { remaining } => {
                    if *remaining == 0 {
                        self.state = State::Header;
                        continue;
                    }
                    let want = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(READ_CHUNK);
                    if !self.fill(1)? {
                        return Err(self.malformed("the archive ends inside an entry's data"));
                    }
                    let n = want.min(self.input.len());
                    out.extend_from_slice(&self.input[..n]);
                    if let State::Data { remaining } = &mut self.state {
                        *remaining -= n as u64;
                    }
                    self.consume(n);
                }
                State::Meta { remaining, .. } => {
                    if *remaining == 0 {
                        self.finish_meta()?;
                        continue;
                    }
                    let want = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(READ_CHUNK);
                    if !self.fill(1)? {
                        return Err(self.malformed("the archive ends inside a metadata entry"));
                    }
                    let n = want.min(self.input.len());
                    let chunk = self.input[..n].to_vec();
                    self.held.extend_from_slice(&chunk);
                    if let State::Meta {
                        remaining,
                        content,
                        size,
                        ..
                    } = &mut self.state
                    {
                        let keep = (*size as usize).saturating_sub(content.len()).min(n);
                        content.extend_from_slice(&chunk[..keep]);
                        *remaining -= n as u64;
                    }
                    self.consume(n);
                }
            }
        }
        Ok(true)
    }

    /// Makes at least `n` bytes available in `input`; `false` if the stream ends first.
    fn fill(&mut self, n: usize) -> Result<bool, GuardError> {
        while self.input.len() < n && !self.input_eof {
            let old = self.input.len();
            self.input.resize(old + READ_CHUNK, 0);
            match self.inner.read(&mut self.input[old..]) {
                Ok(0) => {
                    self.input.truncate(old);
                    self.input_eof = true;
                }
                Ok(k) => self.input.truncate(old + k),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.input.truncate(old),
                Err(e) => {
                    self.input.truncate(old);
                    return Err(GuardError::Read(e));
                }
            }
        }
        Ok(self.input.len() >= n)
    }

    fn consume(&mut self, n: usize) {
        self.input.drain(..n);
        self.offset += n as u64;
    }

    fn malformed(&self, reason: &str) -> GuardError {
        GuardError::Malformed {
            offset: self.offset,
            reason: reason.to_owned(),
        }
    }

    /// Handles one header block that has just been consumed.
    fn header(&mut self, block: &[u8; BLOCK], out: &mut Vec<u8>) -> Result<(), GuardError> {
        let at = self.offset - BLOCK as u64;
        let bad = |reason: String| GuardError::Malformed { offset: at, reason };
        if block.iter().all(|&b| b == 0) {
            if !self.held.is_empty() {
                return Err(bad("metadata entry without an entry after it".to_owned()));
            }
            // End of archive: hand out a clean marker and never forward what follows.
            out.extend_from_slice(&[0u8; 2 * BLOCK]);
            self.state = State::Done;
            return Ok(());
        }
        verify_checksum(block).map_err(bad)?;
        let header_size = parse_number(&block[124..136]).map_err(|r| bad(format!("size: {r}")))?;
        let kind = block[156];
        match kind {
            b'x' | b'g' | b'L' | b'K' => {
                if header_size > MAX_META {
                    return Err(bad(format!("metadata entry of {header_size} bytes")));
                }
                self.held.extend_from_slice(block);
                self.state = State::Meta {
                    kind,
                    size: header_size,
                    remaining: padded(header_size),
                    content: Vec::new(),
                };
                Ok(())
            }
            b'0' | b'\0' | b'7' | b'5' | b'1' | b'2' => {
                let meta = std::mem::take(&mut self.meta);
                let size = meta.pax_size.unwrap_or(header_size);
                let entry = Entry::from_header(block, meta);
                self.check(&entry, kind)?;
                if matches!(kind, b'5' | b'1' | b'2') && size != 0 {
                    return Err(bad(format!(
                        "{} has data although its type carries none",
                        entry.display()
                    )));
                }
                out.append(&mut self.held);
                out.extend_from_slice(block);
                self.entries += 1;
                self.state = State::Data {
                    remaining: padded(size),
                };
                Ok(())
            }
            other => Err(GuardError::Unsafe {
                entry: Entry::from_header(block, std::mem::take(&mut self.meta)).display(),
                reason: format!("entry type {} is not accepted", type_name(other)),
            }),
        }
    }

    /// Interprets a collected metadata entry.
    fn finish_meta(&mut self) -> Result<(), GuardError> {
        let State::Meta { kind, content, .. } = std::mem::replace(&mut self.state, State::Header)
        else {
            return Ok(());
        };
        match kind {
            b'L' => self.meta.gnu_name = Some(until_nul(&content).to_vec()),
            b'K' => self.meta.gnu_link = Some(until_nul(&content).to_vec()),
            b'x' | b'g' => {
                let records = parse_pax(&content).map_err(|r| self.malformed(&r))?;
                for (key, value) in records {
                    match (kind, key.as_slice()) {
                        (b'g', b"path" | b"linkpath") => {
                            return Err(GuardError::Unsafe {
                                entry: String::from_utf8_lossy(&value).into_owned(),
                                reason: "a global pax header sets a path for every entry"
                                    .to_owned(),
                            });
                        }
                        (b'x', b"path") => self.meta.pax_path = Some(until_nul(&value).to_vec()),
                        (b'x', b"linkpath") => {
                            self.meta.pax_link = Some(until_nul(&value).to_vec());
                        }
                        (b'x', b"size") => {
                            let text = String::from_utf8_lossy(&value);
                            let size = text
                                .trim()
                                .parse::<u64>()
                                .map_err(|_| self.malformed("bad pax size"))?;
                            self.meta.pax_size = Some(size);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies the rules in the module documentation to one entry.
    fn check(&mut self, entry: &Entry, kind: u8) -> Result<(), GuardError> {
        let unsafe_entry = |reason: String| GuardError::Unsafe {
            entry: entry.display(),
            reason,
        };
        let mut paths = Vec::new();
        for name in &entry.names {
            let comps = components(name).map_err(|r| unsafe_entry(r.to_owned()))?;
            if comps.is_empty() && kind != b'5' {
                return Err(unsafe_entry(
                    "it would replace the destination directory itself".to_owned(),
                ));
            }
            if let Some(link) = self.link_on_path(&comps) {
                return Err(unsafe_entry(format!(
                    "it is written at or below {}, which is a link in this archive",
                    String::from_utf8_lossy(&link)
                )));
            }
            paths.push(comps);
        }
        match kind {
            b'2' => {
                for target in &entry.link_targets {
                    for comps in &paths {
                        symlink_target_ok(comps, target).map_err(|r| unsafe_entry(r.to_owned()))?;
                    }
                }
            }
            b'1' => {
                for target in &entry.link_targets {
                    let comps =
                        components(target).map_err(|r| unsafe_entry(format!("hard link: {r}")))?;
                    if comps.is_empty() {
                        return Err(unsafe_entry(
                            "hard link to the destination itself".to_owned(),
                        ));
                    }
                    if self.link_on_path(&comps).is_some() {
                        return Err(unsafe_entry(
                            "hard link to or through a link in this archive".to_owned(),
                        ));
                    }
                }
            }
            _ => {}
        }
        if matches!(kind, b'1' | b'2') {
            for comps in paths {
                self.links.insert(comps.join(&b'/'));
            }
        }
        Ok(())
    }

    /// The first link entry that `comps` or one of its prefixes names.
    fn link_on_path(&self, comps: &[&[u8]]) -> Option<Vec<u8>> {
        let mut prefix: Vec<u8> = Vec::new();
        for (i, c) in comps.iter().enumerate() {
            if i > 0 {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(c);
            if self.links.contains(&prefix) {
                return Some(prefix);
            }
        }
        None
    }
}

/// The names of one entry, as every implementation might read them.
#[derive(Debug)]
struct Entry {
    /// Candidates for the path: pax `path`, GNU long name, ustar name (deduplicated).
    names: Vec<Vec<u8>>,
    /// Candidates for the link target.
    link_targets: Vec<Vec<u8>>,
}

impl Entry {
    fn from_header(block: &[u8; BLOCK], meta: Meta) -> Entry {
        let mut ustar_name = until_nul(&block[0..100]).to_vec();
        // POSIX ustar ("ustar\0") has a prefix field; old GNU ("ustar  \0") uses those bytes otherwise.
        if &block[257..263] == b"ustar\0" {
            let prefix = until_nul(&block[345..500]);
            if !prefix.is_empty() {
                let mut full = prefix.to_vec();
                full.push(b'/');
                full.extend_from_slice(&ustar_name);
                ustar_name = full;
            }
        }
        let ustar_link = until_nul(&block[157..257]).to_vec();
        let mut names = Vec::new();
        for n in [meta.pax_path, meta.gnu_name, Some(ustar_name)]
            .into_iter()
            .flatten()
        {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let mut link_targets = Vec::new();
        for n in [meta.pax_link, meta.gnu_link, Some(ustar_link)]
            .into_iter()
            .flatten()
        {
            if !link_targets.contains(&n) {
                link_targets.push(n);
            }
        }
        Entry {
            names,
            link_targets,
        }
    }

    /// The name to show: the one a modern tar uses.
    fn display(&self) -> String {
        self.names
            .first()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default()
    }
}

/// The components of a relative entry path without `.` and empty ones; refuses absolute paths
/// and `..`.
fn components(path: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    if path.first() == Some(&b'/') {
        return Err("absolute path");
    }
    let mut out = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err("path has a '..' component"),
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Checks a symlink at `link` (components) pointing at `target`.
fn symlink_target_ok(link: &[&[u8]], target: &[u8]) -> Result<(), &'static str> {
    if target.is_empty() {
        return Err("symlink with an empty target");
    }
    if target.first() == Some(&b'/') {
        return Err("symlink to an absolute path");
    }
    let mut ups = 0usize;
    let mut named = false;
    for c in target.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." if named => return Err("symlink target has '..' after a name"),
            b".." => ups += 1,
            _ => named = true,
        }
    }
    let depth = link.len().saturating_sub(1);
    if ups > depth {
        return Err("symlink points outside the destination directory");
    }
    Ok(())
}

/// Checks the header checksum (unsigned sum, or the signed sum some old tars wrote).
fn verify_checksum(block: &[u8; BLOCK]) -> Result<(), String> {
    let stored = parse_number(&block[148..156]).map_err(|r| format!("checksum field: {r}"))?;
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    if stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed) {
        Ok(())
    } else {
        Err(format!(
            "header checksum {stored} does not match {unsigned}"
        ))
    }
}

/// A numeric header field: octal text (NUL- or space-terminated) or GNU base-256.
fn parse_number(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        if field[0] & 0x40 != 0 {
            return Err("negative base-256 number".to_owned());
        }
        let mut v: u64 = u64::from(field[0] & 0x3f);
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|x| x.checked_add(u64::from(b)))
                .ok_or("base-256 number too large")?;
        }
        return Ok(v);
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| b != 0 && b != b' ')
        .collect();
    if text.is_empty() {
        return Ok(0);
    }
    let mut v: u64 = 0;
    for b in text {
        if !(b'0'..=b'7').contains(&b) {
            return Err(format!("{:?} is not an octal digit", b as char));
        }
        v = v
            .checked_mul(8)
            .and_then(|x| x.checked_add(u64::from(b - b'0')))
            .ok_or("octal number too large")?;
    }
    Ok(v)
}

/// A pax record: key and value.
type PaxRecord = (Vec<u8>, Vec<u8>);

/// Parses pax records: `<len> <key>=<value>\n`, where `len` counts the whole record.
fn parse_pax(mut data: &[u8]) -> Result<Vec<PaxRecord>, String> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.iter().all(|&b| b == 0) {
            break;
        }
        let space = data
            .iter()
            .position(|&b| b == b' ')
            .ok_or("pax record without a length")?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("pax record with a bad length")?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return Err("pax record length does not fit".to_owned());
        }
        let record = &data[space + 1..len - 1];
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or("pax record without '='")?;
        out.push((record[..eq].to_vec(), record[eq + 1..].to_vec()));
        data = &data[len..];
    }
    Ok(out)
}

fn until_nul(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64) * BLOCK as u64
}

fn type_name(kind: u8) -> String {
    match kind {
        b'3' => "character device".to_owned(),
        b'4' => "block device".to_owned(),
        b'6' => "FIFO".to_owned(),
        b'S' => "GNU sparse file".to_owned(),
        b'M' => "multi-volume continuation".to_owned(),
        b'V' => "volume label".to_owned(),
        b'D' => "GNU dump directory".to_owned(),
        other if other.is_ascii_graphic() => format!("'{}'", other as char),
        other => format!("byte {other}"),
    }
}

#[cfg(test)]
mod tests;
