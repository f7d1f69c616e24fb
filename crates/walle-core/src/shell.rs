//! Commands built from argument lists, and the one POSIX quoting function that renders them.
//!
//! No value is ever spliced into a shell string unquoted: a [`Command`] holds a program, its
//! arguments, environment assignments and a working directory, and [`Command::render`] quotes each
//! of them for `sh`. User hook lines are shell scripts by design; they run as `sh -c <line>` with
//! the variables passed as quoted environment assignments, never pasted into the script.

use crate::value::{AbsPath, VarName};

/// Quotes a string for POSIX `sh` with single quotes, so it is one word with no expansion.
///
/// `it's` becomes `'it'\''s'`. The empty string becomes `''`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A command to run on a host: program, arguments, environment and working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    program: String,
    args: Vec<String>,
    env: Vec<(VarName, String)>,
    cwd: Option<AbsPath>,
}

impl Command {
    /// A command running `program` (looked up in `PATH` when it has no `/`).
    pub fn new(program: impl Into<String>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
        }
    }

    /// `sh -c <script>`: runs a user-supplied shell line (a hook) as one quoted argument.
    pub fn shell(script: impl Into<String>) -> Self {
        Self::new("sh").arg("-c").arg(script)
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the command (later assignments of the same name win).
    pub fn env(mut self, name: VarName, value: impl Into<String>) -> Self {
        self.env.retain(|(n, _)| n != &name);
        self.env.push((name, value.into()));
        self
    }

    /// Sets several environment variables.
    pub fn envs(mut self, vars: &[(VarName, String)]) -> Self {
        for (n, v) in vars {
            self = self.env(n.clone(), v.clone());
        }
        self
    }

    /// Runs the command in `dir`.
    pub fn cwd(mut self, dir: AbsPath) -> Self {
        self.cwd = Some(dir);
        self
    }

    /// The program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The arguments, without the program.
    pub fn arguments(&self) -> &[String] {
        &self.args
    }

    /// The environment assignments, in order.
    pub fn environment(&self) -> &[(VarName, String)] {
        &self.env
    }

    /// The working directory, if any.
    pub fn working_dir(&self) -> Option<&AbsPath> {
        self.cwd.as_ref()
    }

    /// Renders the command as one `sh` command line with every part quoted:
    /// `cd '/dir' && NAME='value' 'program' 'arg1' 'arg2'`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(dir) = &self.cwd {
            out.push_str("cd ");
            out.push_str(&quote(dir.as_str()));
            out.push_str(" && ");
        }
        for (name, value) in &self.env {
            out.push_str(name.as_str());
            out.push('=');
            out.push_str(&quote(value));
            out.push(' ');
        }
        out.push_str(&quote(&self.program));
        for a in &self.args {
            out.push(' ');
            out.push_str(&quote(a));
        }
        out
    }

    /// A short human-readable form for logs and the console: the program and arguments, with the
    /// environment left out (values may be long, and are shown once per deploy instead).
    pub fn display(&self) -> String {
        let mut out = String::new();
        if let Some(dir) = &self.cwd {
            out.push_str(&format!("(in {dir}) "));
        }
        if self.program == "sh" && self.args.len() == 2 && self.args[0] == "-c" {
            out.push_str(&self.args[1]);
            return out;
        }
        out.push_str(&self.program);
        for a in &self.args {
            out.push(' ');
            if a.is_empty()
                || a.contains(|c: char| !(c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c)))
            {
                out.push_str(&quote(a));
            } else {
                out.push_str(a);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
