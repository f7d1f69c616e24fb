//! A minimal SFTP client for the one request libssh2's Rust bindings do not offer:
//! `posix-rename@openssh.com`, which is `rename(2)` on the server and so replaces an existing
//! file or symlink atomically.
//!
//! Plain SFTP v3 `RENAME` (all that `ssh2::Sftp::rename` sends; libssh2 drops the overwrite flags
//! below protocol version 5) refuses to replace an existing path on OpenSSH, so it cannot switch a
//! live symlink. This client speaks SFTP v3 on its own `sftp` subsystem channel.

use std::io::{Read, Write};
use std::time::Instant;

use super::wire::{Failure, Wire};

const FXP_INIT: u8 = 1;
const FXP_VERSION: u8 = 2;
const FXP_STATUS: u8 = 101;
const FXP_EXTENDED: u8 = 200;
const POSIX_RENAME: &str = "posix-rename@openssh.com";
/// Largest reply accepted (replies here are a few hundred bytes).
const MAX_PACKET: usize = 256 * 1024;

/// Why a request failed.
#[derive(Debug)]
pub(super) enum RawError {
    /// The connection or channel failed.
    Wire(Failure),
    /// The server answered with a non-OK status.
    Status { code: u32, message: String },
    /// The server does not offer `posix-rename@openssh.com`.
    Unsupported,
    /// The server sent something this client does not understand.
    Protocol(String),
}

impl From<Failure> for RawError {
    fn from(f: Failure) -> Self {
        RawError::Wire(f)
    }
}

/// An open SFTP subsystem channel.
pub(super) struct RawSftp {
    ch: ssh2::Channel,
    next_id: u32,
    posix_rename: bool,
}

impl RawSftp {
    /// Opens the channel and negotiates SFTP version 3.
    pub(super) fn open(wire: &Wire, until: Instant) -> Result<RawSftp, RawError> {
        let mut ch = wire.retry(until, || wire.sess.channel_session())?;
        wire.retry(until, || ch.subsystem("sftp"))?;
        let mut init = Vec::new();
        init.push(FXP_INIT);
        put_u32(&mut init, 3);
        send(wire, &mut ch, &init, until)?;
        let reply = receive(wire, &mut ch, until)?;
        let mut r = Reader(&reply);
        if r.u8()? != FXP_VERSION {
            return Err(RawError::Protocol("expected SSH_FXP_VERSION".to_owned()));
        }
        let _version = r.u32()?;
        let mut posix_rename = false;
        while !r.0.is_empty() {
            let name = r.string()?;
            let data = r.string()?;
            if name == POSIX_RENAME.as_bytes() && data == b"1" {
                posix_rename = true;
            }
        }
        Ok(RawSftp {
            ch,
            next_id: 1,
            posix_rename,
        })
    }

    /// `rename(from, to)` on the server, replacing `to` if it exists.
    pub(super) fn posix_rename(
        &mut self,
        wire: &Wire,
        from: &str,
        to: &str,
        until: Instant,
    ) -> Result<(), RawError> {
        if !self.posix_rename {
            return Err(RawError::Unsupported);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let mut req = Vec::new();
        req.push(FXP_EXTENDED);
        put_u32(&mut req, id);
        put_string(&mut req, POSIX_RENAME.as_bytes());
        put_string(&mut req, from.as_bytes());
        put_string(&mut req, to.as_bytes());
        send(wire, &mut self.ch, &req, until)?;
        let reply = receive(wire, &mut self.ch, until)?;
        let mut r = Reader(&reply);
        if r.u8()? != FXP_STATUS || r.u32()? != id {
            return Err(RawError::Protocol(
                "expected SSH_FXP_STATUS for the rename".to_owned(),
            ));
        }
        let code = r.u32()?;
        let message = String::from_utf8_lossy(r.string().unwrap_or_default()).into_owned();
        if code == 0 {
            Ok(())
        } else {
            Err(RawError::Status { code, message })
        }
    }

    /// Closes the channel, waiting at most until `until`.
    pub(super) fn close(mut self, wire: &Wire, until: Instant) {
        let _ = wire.retry(until, || self.ch.close());
        let _ = wire.retry(until, || self.ch.wait_close());
    }
}

/// Sends one packet: length, then `body`.
fn send(wire: &Wire, ch: &mut ssh2::Channel, body: &[u8], until: Instant) -> Result<(), Failure> {
    let mut packet = Vec::with_capacity(body.len() + 4);
    put_u32(&mut packet, u32::try_from(body.len()).unwrap_or(u32::MAX));
    packet.extend_from_slice(body);
    let mut off = 0;
    while off < packet.len() {
        off += wire.retry_io(until, || ch.write(&packet[off..]))?;
    }
    Ok(())
}

/// Receives one packet's body.
fn receive(wire: &Wire, ch: &mut ssh2::Channel, until: Instant) -> Result<Vec<u8>, RawError> {
    let mut len = [0u8; 4];
    read_exact(wire, ch, &mut len, until)?;
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_PACKET {
        return Err(RawError::Protocol(format!("SFTP packet of {len} bytes")));
    }
    let mut body = vec![0u8; len];
    read_exact(wire, ch, &mut body, until)?;
    Ok(body)
}

fn read_exact(
    wire: &Wire,
    ch: &mut ssh2::Channel,
    buf: &mut [u8],
    until: Instant,
) -> Result<(), RawError> {
    let mut off = 0;
    while off < buf.len() {
        let n = wire.retry_io(until, || ch.read(&mut buf[off..]))?;
        if n == 0 {
            if ch.eof() {
                return Err(RawError::Protocol(
                    "the SFTP server closed the channel".to_owned(),
                ));
            }
            wire.wait(until)?;
        }
        off += n;
    }
    Ok(())
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_u32(out, u32::try_from(s.len()).unwrap_or(u32::MAX));
    out.extend_from_slice(s);
}

/// Reads SSH wire types from a packet body.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RawError> {
        if self.0.len() < n {
            return Err(RawError::Protocol("truncated SFTP packet".to_owned()));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, RawError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, RawError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<&'a [u8], RawError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}
