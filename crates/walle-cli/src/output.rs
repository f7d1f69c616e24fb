//! The one place that prints: command results as text or JSON, errors, and live deploy progress.
//!
//! Commands return a [`Report`] (their data, rendered both ways); `main` hands it to [`emit`].
//! Progress during a deploy goes through [`progress::Progress`], an event sink that draws bars on
//! a terminal, prints plain lines when piped, and stays silent with `--json`.

pub mod progress;

use std::io::{IsTerminal as _, Write as _};

use serde::Serialize;

/// How output is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Standard error is a terminal: progress bars, text results.
    Terminal,
    /// Piped: plain progress lines, text results.
    Plain,
    /// `--json`: one JSON document on standard output, no progress.
    Json,
}

impl Mode {
    /// The mode for this process.
    pub fn detect(json: bool) -> Mode {
        if json {
            Mode::Json
        } else if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
            Mode::Terminal
        } else {
            Mode::Plain
        }
    }
}

/// A command's result: the text for people, the JSON for scripts, and the exit code.
#[derive(Debug, Clone)]
pub struct Report {
    text: String,
    json: serde_json::Value,
    code: u8,
}

impl Report {
    /// A successful result.
    pub fn new<T: Serialize>(data: &T, text: impl Into<String>) -> Report {
        Report {
            text: text.into(),
            json: serde_json::to_value(data).unwrap_or(serde_json::Value::Null),
            code: crate::error::EXIT_OK,
        }
    }

    /// The same result with another exit code (a deploy that ran and failed).
    pub fn with_code(mut self, code: u8) -> Report {
        self.code = code;
        self
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// The text form.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The JSON form.
    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }
}

/// Prints a result.
#[allow(clippy::print_stdout)] // This module is the one place that prints results.
pub fn emit(mode: Mode, report: &Report) {
    let mut out = std::io::stdout().lock();
    let _ = match mode {
        Mode::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(report.json()).unwrap_or_default()
        ),
        _ if report.text().is_empty() => Ok(()),
        _ => writeln!(out, "{}", report.text().trim_end()),
    };
    let _ = out.flush();
}

/// Prints an error (to standard error; with `--json`, also as a JSON document on standard output).
pub fn emit_error(mode: Mode, err: &anyhow::Error, code: u8) {
    let mut msg = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    if mode == Mode::Json {
        let doc = serde_json::json!({ "error": msg, "exit_code": code });
        let _ = writeln!(std::io::stdout().lock(), "{doc}");
    }
    let _ = writeln!(std::io::stderr().lock(), "error: {msg}");
}

/// Prints a line of information that is not part of the result (to standard error, so that
/// standard output stays parseable); silent with `--json`.
pub fn note(mode: Mode, line: &str) {
    if mode != Mode::Json {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// Prints a line of a followed log (standard output), or nothing with `--json`.
#[allow(clippy::print_stdout)] // The log follower prints as lines arrive.
pub fn log_line(mode: Mode, line: &str) {
    if mode != Mode::Json {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// A table with left-aligned columns, for list commands.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, cell) in cells.enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            l.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests;
