//! Parsing the `--xml` output of `svn list`, `svn log`, `svn info` and `svn diff --summarize`.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use walle_core::Timestamp;
use walle_core::time::Civil;

/// An element with its attributes, text and children: the outputs are small, so a tiny tree is
/// simpler than streaming.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Element {
    pub(super) name: String,
    pub(super) attrs: Vec<(String, String)>,
    pub(super) text: String,
    pub(super) children: Vec<Element>,
}

impl Element {
    pub(super) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(super) fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.clone())
    }
}

/// Parses a document into its root element.
pub(super) fn parse(xml: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => stack.push(element(&start)?),
            Ok(Event::Empty(start)) => {
                let el = element(&start)?;
                push_child(&mut stack, el)?;
            }
            Ok(Event::End(_)) => {
                let el = stack.pop().ok_or("unbalanced XML")?;
                push_child(&mut stack, el)?;
            }
            Ok(Event::Text(text)) => {
                let text = text.unescape().map_err(|e| e.to_string())?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Ok(Event::CData(data)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("bad XML from svn: {e}")),
        }
    }
    let mut document = stack.pop().ok_or("unbalanced XML")?;
    if !stack.is_empty() {
        return Err("truncated XML from svn".to_owned());
    }
    document
        .children
        .pop()
        .ok_or_else(|| "empty XML from svn".to_owned())
}

fn element(start: &BytesStart<'_>) -> Result<Element, String> {
    let mut el = Element {
        name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let value = attr.unescape_value().map_err(|e| e.to_string())?;
        el.attrs.push((
            String::from_utf8_lossy(attr.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(el)
}

fn push_child(stack: &mut [Element], el: Element) -> Result<(), String> {
    stack
        .last_mut()
        .ok_or_else(|| "unbalanced XML".to_owned())
        .map(|parent| parent.children.push(el))
}

/// An entry of `svn list --xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListEntry {
    /// `path` attribute of the enclosing `<list>` (the URL listed).
    pub(super) list: String,
    pub(super) kind: String,
    pub(super) name: String,
    /// Last changed revision.
    pub(super) revision: u64,
    pub(super) date: Timestamp,
}

/// A `<logentry>` of `svn log --xml [-v]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LogEntry {
    pub(super) revision: u64,
    pub(super) author: String,
    pub(super) date: Timestamp,
    pub(super) message: String,
    /// Changed paths (with `-v`), repository-absolute (`/trunk/a.txt`).
    pub(super) paths: Vec<String>,
}

/// A `<path>` of `svn diff --summarize --xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DiffPath {
    /// `added`, `deleted`, `modified` or `none` (property change only).
    pub(super) item: String,
    /// `none` or `modified`.
    pub(super) props: String,
    /// `file` or `dir`.
    pub(super) kind: String,
    /// The URL below the old target.
    pub(super) url: String,
}

pub(super) fn list(xml: &str) -> Result<Vec<ListEntry>, String> {
    let root = parse(xml)?;
    let mut out = Vec::new();
    for list in root.children("list") {
        let url = list.attr("path").unwrap_or("").to_owned();
        for entry in list.children("entry") {
            let commit = entry.child("commit").ok_or("list entry without <commit>")?;
            out.push(ListEntry {
                list: url.clone(),
                kind: entry.attr("kind").unwrap_or("").to_owned(),
                name: entry.child_text("name").unwrap_or_default(),
                revision: revision(commit.attr("revision"))?,
                date: date(&commit.child_text("date").unwrap_or_default())?,
            });
        }
    }
    Ok(out)
}

pub(super) fn log(xml: &str) -> Result<Vec<LogEntry>, String> {
    let root = parse(xml)?;
    root.children("logentry")
        .map(|entry| {
            Ok(LogEntry {
                revision: revision(entry.attr("revision"))?,
                author: entry.child_text("author").unwrap_or_default(),
                date: match entry.child_text("date") {
                    Some(d) => date(&d)?,
                    None => Timestamp::EPOCH,
                },
                message: entry.child_text("msg").unwrap_or_default(),
                paths: entry
                    .child("paths")
                    .map(|p| p.children("path").map(|p| p.text.clone()).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The last changed revision of the (single) target of `svn info --xml`.
pub(super) fn info_last_changed(xml: &str) -> Result<u64, String> {
    let root = parse(xml)?;
    let entry = root.child("entry").ok_or("svn info printed no entry")?;
    let commit = entry
        .child("commit")
        .ok_or("svn info entry without <commit>")?;
    revision(commit.attr("revision"))
}

pub(super) fn diff_summary(xml: &str) -> Result<Vec<DiffPath>, String> {
    let root = parse(xml)?;
    let Some(paths) = root.child("paths") else {
        return Ok(Vec::new());
    };
    Ok(paths
        .children("path")
        .map(|p| DiffPath {
            item: p.attr("item").unwrap_or("").to_owned(),
            props: p.attr("props").unwrap_or("").to_owned(),
            kind: p.attr("kind").unwrap_or("").to_owned(),
            url: p.text.clone(),
        })
        .collect())
}

fn revision(raw: Option<&str>) -> Result<u64, String> {
    let raw = raw.ok_or("missing revision attribute")?;
    raw.parse()
        .map_err(|_| format!("bad revision number {raw:?}"))
}

/// `2026-11-25T13:57:40.169944Z` (always UTC in svn's XML).
pub(super) fn date(raw: &str) -> Result<Timestamp, String> {
    let bad = || format!("bad date {raw:?} from svn");
    let raw = raw.trim();
    let (date, time) = raw.split_once('T').ok_or_else(bad)?;
    let time = time.strip_suffix('Z').ok_or_else(bad)?;
    let mut d = date.splitn(3, '-');
    let (whole, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut t = whole.splitn(3, ':');
    let next = |it: &mut std::str::SplitN<'_, char>| -> Result<i64, String> {
        it.next().and_then(|s| s.parse().ok()).ok_or_else(bad)
    };
    let small = |v: i64| u32::try_from(v).map_err(|_| bad());
    let civil = Civil {
        year: next(&mut d)?,
        month: small(next(&mut d)?)?,
        day: small(next(&mut d)?)?,
        hour: small(next(&mut t)?)?,
        minute: small(next(&mut t)?)?,
        second: small(next(&mut t)?)?,
    };
    let millis: i64 = format!("{fraction:0<3}")[..3].parse().map_err(|_| bad())?;
    let ts = Timestamp::from_civil(civil).ok_or_else(bad)?;
    Ok(Timestamp::from_unix_millis(ts.unix_millis() + millis))
}
