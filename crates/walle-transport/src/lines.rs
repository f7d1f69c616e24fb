//! Splitting a byte stream into output lines as it arrives.

use walle_core::ports::OutputLine;

/// Lines longer than this are passed on in pieces of this size, so binary output without newlines
/// cannot grow the buffer without bound.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// Which stream a [`LineSplitter`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Cuts chunks of output into lines at `\n`, keeping a partial last line until more arrives.
#[derive(Debug)]
pub(crate) struct LineSplitter {
    stream: Stream,
    partial: Vec<u8>,
}

impl LineSplitter {
    pub(crate) fn new(stream: Stream) -> Self {
        LineSplitter {
            stream,
            partial: Vec::new(),
        }
    }

    /// Adds a chunk, calling `emit` for every line it completes.
    pub(crate) fn push(&mut self, mut data: &[u8], emit: &mut dyn FnMut(OutputLine)) {
        while let Some(pos) = data.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&data[..pos]);
            self.flush(emit);
            data = &data[pos + 1..];
        }
        self.partial.extend_from_slice(data);
        while self.partial.len() >= MAX_LINE {
            let rest = self.partial.split_off(MAX_LINE);
            self.flush(emit);
            self.partial = rest;
        }
    }

    /// Passes on the last line if it did not end with a newline.
    pub(crate) fn finish(&mut self, emit: &mut dyn FnMut(OutputLine)) {
        if !self.partial.is_empty() {
            self.flush(emit);
        }
    }

    fn flush(&mut self, emit: &mut dyn FnMut(OutputLine)) {
        let text = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial.clear();
        emit(match self.stream {
            Stream::Stdout => OutputLine::Stdout(text),
            Stream::Stderr => OutputLine::Stderr(text),
        });
    }
}

#[cfg(test)]
mod tests;
