//! Integration tests of walle-transport against the real namespace sshd hosts (see docs/TESTING.md)
//! and, for the local transport, against a temporary directory on this machine.

mod auth;
mod behaviour;
mod faults;
mod host_keys;
mod local;
mod ssh;
mod support;
