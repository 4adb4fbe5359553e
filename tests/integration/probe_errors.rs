//! `ringwatch probe` when no call can be placed: an unreachable trunk, an
//! invalid number, an unknown carrier, a missing password. Each must exit 2
//! with one `ringwatch: ...` line on stderr and no panic; the ones that fail
//! before dialling must not send a single datagram to the trunk.

use std::io::ErrorKind;
use std::net::UdpSocket;

use crate::common::{FROM, PASSWORD_ENV, RingwatchRun, TempDir, config, free_udp_port};

/// A stand-in trunk that never answers but records whether anything
/// arrived, so a test can prove no call was attempted.
struct SilentTrunk {
    socket: UdpSocket,
}

impl SilentTrunk {
    fn bind() -> SilentTrunk {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind trunk");
        socket.set_nonblocking(true).expect("nonblocking");
        SilentTrunk { socket }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().expect("local addr").port()
    }

    /// Called after ringwatch exited: anything it sent is queued by now.
    fn assert_nothing_received(&self, run: &RingwatchRun) {
        let mut buf = [0u8; 2048];
        match self.socket.recv_from(&mut buf) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Ok((n, from)) => panic!(
                "ringwatch sent a datagram to the trunk from {from} although \
                 the command line was invalid:\n{}\n{}",
                String::from_utf8_lossy(&buf[..n]),
                run.diagnostics()
            ),
            Err(e) => panic!("recv on the stand-in trunk: {e}"),
        }
    }
}

#[test]
fn unreachable_trunk_is_an_error_not_a_verdict() {
    // Nothing listens on the port: the kernel answers the INVITE with ICMP
    // port unreachable, which must end the run with exit 2 (not wait for
    // Timer B and report a `timeout` verdict).
    let dir = TempDir::new("unreachable");
    let port = free_udp_port();
    let cfg = dir.write("probes.toml", &config(port, false));
    let run = RingwatchRun::probe(
        &dir,
        &cfg,
        &["--carrier", "lab", "--json", "--no-record"],
        &[],
    );
    run.assert_clean_error();
}

#[test]
fn invalid_numbers_are_rejected_before_dialling() {
    let dir = TempDir::new("invalid_number");
    let trunk = SilentTrunk::bind();
    let cfg = dir.write("probes.toml", &config(trunk.port(), false));
    let cfg = cfg.to_str().expect("utf-8 path");
    // (flag, value): each value is not an E.164 number.
    let cases = [
        ("--from", "12025550143"),       // no "+"
        ("--from", "+1202555O143"),      // a letter O
        ("--from", "+0123456789"),       // country codes never start with 0
        ("--from", "+1234567890123456"), // 16 digits: E.164 allows 15
        ("--to", "not-a-number"),
    ];
    for (flag, value) in cases {
        let from = if flag == "--from" { value } else { FROM };
        let mut argv = vec!["--config", cfg, "probe", "--from", from];
        if flag == "--to" {
            argv.extend_from_slice(&["--to", value]);
        }
        argv.extend_from_slice(&["--carrier", "lab", "--json", "--no-record"]);
        let run = RingwatchRun::run(&dir, &argv, &[]);
        run.assert_usage_error(value);
        trunk.assert_nothing_received(&run);
    }
}

#[test]
fn unknown_carrier_is_rejected_before_dialling() {
    let dir = TempDir::new("unknown_carrier");
    let trunk = SilentTrunk::bind();
    let cfg = dir.write("probes.toml", &config(trunk.port(), false));
    let run = RingwatchRun::probe(
        &dir,
        &cfg,
        &["--carrier", "no-such-carrier", "--json", "--no-record"],
        &[],
    );
    run.assert_clean_error();
    trunk.assert_nothing_received(&run);
}

#[test]
fn missing_password_variable_is_rejected_before_dialling() {
    // The config names RINGWATCH_TEST_PW, which the harness removes from
    // ringwatch's environment.
    let dir = TempDir::new("missing_password");
    let trunk = SilentTrunk::bind();
    let cfg = dir.write("probes.toml", &config(trunk.port(), true));
    let run = RingwatchRun::probe(
        &dir,
        &cfg,
        &["--carrier", "lab", "--json", "--no-record"],
        &[],
    );
    run.assert_clean_error();
    assert!(
        run.stderr.contains(PASSWORD_ENV),
        "the error should name the variable\n{}",
        run.diagnostics()
    );
    trunk.assert_nothing_received(&run);
}
