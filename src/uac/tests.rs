//! The UAC on virtual time: every call flow in milliseconds, no sleeps.

use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::sip::message::Message;

fn secs(s: f64) -> Duration {
    Duration::from_micros((s * 1_000_000.0) as u64)
}

fn spec(credentials: Option<Credentials>) -> CallSpec {
    CallSpec {
        local: "127.0.0.1:40000".parse().expect("addr"),
        request_uri: request::sip_uri("+13125550178", "carrier.example", true).expect("uri"),
        from_uri: request::sip_uri("+12025550143", "127.0.0.1", true).expect("uri"),
        sdp: b"v=0\r\n".to_vec(),
        credentials,
    }
}

/// A tiny UAS: a response to `req` echoing Via/From/To/Call-ID/CSeq.
/// `extra` is `Name: value\r\n` lines.
fn respond(req: &[u8], code: u16, phrase: &str, to_tag: Option<&str>, extra: &str) -> Vec<u8> {
    let req = Message::parse(req).expect("our request parses");
    let extra: Vec<(&str, &str)> = extra
        .split("\r\n")
        .filter_map(|line| line.split_once(": "))
        .collect();
    request::build_response(&req, code, phrase, to_tag, &extra)
}

struct Sim {
    uac: Uac,
    base: Instant,
    now: Instant,
    sent: Vec<(Duration, Transmit)>,
    events: Vec<Event>,
    deadline: Option<Instant>,
    done_at: Option<Duration>,
}

impl Sim {
    fn new(cfg: UacConfig, credentials: Option<Credentials>) -> Self {
        let base = crate::clock::now();
        let uac = Uac::new(base, cfg, spec(credentials), StdRng::seed_from_u64(7));
        let mut sim = Self {
            uac,
            base,
            now: base,
            sent: Vec::new(),
            events: Vec::new(),
            deadline: None,
            done_at: None,
        };
        sim.drain();
        sim
    }

    fn drain(&mut self) {
        loop {
            match self.uac.poll_output() {
                Output::Transmit(t) => self.sent.push((self.now - self.base, t)),
                Output::Event(e) => self.events.push(e),
                Output::Timeout(at) => {
                    assert!(at >= self.now, "deadline in the past");
                    self.deadline = Some(at);
                    return;
                }
                Output::Done => {
                    self.deadline = None;
                    self.done_at.get_or_insert(self.now - self.base);
                    return;
                }
            }
        }
    }

    /// Fire every deadline up to `at` (virtual time since the start).
    fn advance_to(&mut self, at: Duration) {
        while let Some(d) = self.deadline {
            if d > self.base + at {
                break;
            }
            self.now = d;
            self.uac.handle_input(Input::Timeout(d));
            self.drain();
        }
        self.now = self.base + at;
    }

    fn run_to_end(&mut self) {
        let mut guard = 0;
        while let Some(d) = self.deadline {
            self.now = d;
            self.uac.handle_input(Input::Timeout(d));
            self.drain();
            guard += 1;
            assert!(guard < 1000, "no progress");
        }
    }

    fn deliver(&mut self, bytes: &[u8]) {
        self.uac.handle_input(Input::Datagram(self.now, bytes));
        self.drain();
    }

    fn of(&self, kind: TxKind) -> Vec<&(Duration, Transmit)> {
        self.sent.iter().filter(|(_, t)| t.kind == kind).collect()
    }

    fn last(&self, kind: TxKind) -> Message {
        let (_, t) = self.of(kind).last().copied().expect("sent");
        Message::parse(&t.data).expect("parses")
    }

    fn invite_bytes(&self) -> Vec<u8> {
        self.of(TxKind::Invite)
            .last()
            .expect("invite")
            .1
            .data
            .clone()
    }
}

fn text(m: &Message) -> String {
    String::from_utf8_lossy(m.raw()).into_owned()
}

#[test]
fn invite_is_well_formed() {
    let sim = Sim::new(UacConfig::default(), None);
    let invite = sim.last(TxKind::Invite);
    assert_eq!(invite.method(), Some("INVITE"));
    assert_eq!(
        invite.request_uri(),
        Some("sip:+13125550178@carrier.example;user=phone")
    );
    let via = invite.top_via().expect("via");
    assert!(
        via.starts_with("SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK"),
        "{via}"
    );
    assert!(via.ends_with(";rport"), "{via}");
    assert_eq!(invite.header("Max-Forwards"), Some("70"));
    assert!(invite.from_tag().is_some());
    assert!(
        invite
            .header("From")
            .expect("from")
            .contains("sip:+12025550143@127.0.0.1;user=phone")
    );
    assert_eq!(
        invite.header("P-Asserted-Identity"),
        Some("<sip:+12025550143@127.0.0.1;user=phone>")
    );
    assert_eq!(invite.to_tag(), None);
    assert_eq!(invite.contact_uri(), Some("sip:ringwatch@127.0.0.1:40000"));
    assert_eq!(invite.content_type(), Some("application/sdp"));
    assert_eq!(invite.body(), b"v=0\r\n");
    assert!(invite.cseq().expect("cseq").num < 1 << 31);
}

#[test]
fn timer_a_doubles_and_timer_b_fires_at_32s() {
    let mut sim = Sim::new(UacConfig::default(), None);
    sim.run_to_end();
    let times: Vec<Duration> = sim.of(TxKind::Invite).iter().map(|(t, _)| *t).collect();
    let expected: Vec<Duration> = [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5].map(secs).to_vec();
    assert_eq!(times, expected, "retransmit intervals 0.5/1/2/4/8/16 s");
    assert!(
        sim.of(TxKind::Invite)[1..]
            .iter()
            .all(|(_, t)| t.retransmission)
    );
    assert_eq!(sim.done_at, Some(secs(32.0)));
    let s = sim.uac.summary();
    assert!(s.timed_out);
    assert!(s.final_response.is_none());
    assert!(
        sim.of(TxKind::Cancel).is_empty(),
        "never CANCEL without a provisional"
    );
    assert!(sim.events.contains(&Event::TimedOut));
}

#[test]
fn provisional_stops_timer_a_and_b() {
    let mut sim = Sim::new(UacConfig::default(), None);
    sim.advance_to(secs(0.7));
    let trying = respond(&sim.invite_bytes(), 100, "Trying", None, "");
    sim.deliver(&trying);
    sim.advance_to(secs(29.0));
    assert_eq!(
        sim.of(TxKind::Invite).len(),
        2,
        "one retransmission before the 100, none after"
    );
    assert!(!sim.uac.summary().timed_out);
    assert!(sim.done_at.is_none());
}

#[test]
fn ring_then_cancel_then_487_is_acked() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    sim.advance_to(secs(0.1));
    sim.deliver(&respond(&invite, 100, "Trying", None, ""));
    sim.advance_to(secs(0.25));
    sim.deliver(&respond(&invite, 180, "Ringing", Some("uas1"), ""));
    sim.advance_to(secs(6.0));
    assert!(sim.of(TxKind::Cancel).is_empty(), "not before ring_seconds");
    sim.advance_to(secs(6.25));
    let cancels = sim.of(TxKind::Cancel);
    assert_eq!(cancels.len(), 1);
    assert_eq!(
        cancels[0].0,
        secs(6.25),
        "CANCEL exactly ring_seconds after the 180"
    );
    let cancel = sim.last(TxKind::Cancel);
    let inv = Message::parse(&invite).expect("invite");
    assert_eq!(
        cancel.top_via_branch(),
        inv.top_via_branch(),
        "CANCEL reuses the INVITE branch"
    );
    assert_eq!(
        cancel.cseq().expect("cseq").num,
        inv.cseq().expect("cseq").num
    );
    assert_eq!(cancel.cseq().expect("cseq").method, "CANCEL");
    assert_eq!(cancel.to_tag(), None, "CANCEL To has no tag");
    assert_eq!(cancel.request_uri(), inv.request_uri());

    let cancel_bytes = sim.of(TxKind::Cancel)[0].1.data.clone();
    sim.advance_to(secs(6.3));
    sim.deliver(&respond(&cancel_bytes, 200, "OK", Some("uas1"), ""));
    sim.deliver(&respond(
        &invite,
        487,
        "Request Terminated",
        Some("uas1"),
        "",
    ));
    let ack = sim.last(TxKind::Ack);
    assert_eq!(
        ack.top_via_branch(),
        inv.top_via_branch(),
        "non-2xx ACK reuses the branch"
    );
    assert_eq!(ack.to_tag(), Some("uas1"));
    assert_eq!(ack.cseq().expect("cseq").method, "ACK");
    assert_eq!(ack.cseq().expect("cseq").num, inv.cseq().expect("cseq").num);

    sim.run_to_end();
    let s = sim.uac.summary();
    assert!(s.rang() && s.cancelled_by_us);
    assert_eq!(
        s.final_response.as_ref().and_then(|m| m.status()),
        Some(487)
    );
    assert_eq!(s.first_progress.map(|t| t - s.started), Some(secs(0.25)));
    assert_eq!(
        sim.done_at,
        Some(secs(6.3) + Duration::from_secs(2)),
        "linger after the final"
    );
    assert_eq!(
        sim.of(TxKind::Cancel).len(),
        1,
        "CANCEL answered, not retransmitted"
    );
}

#[test]
fn cancel_retransmits_on_timer_e_and_gives_up_at_64_t1() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    sim.deliver(&respond(&invite, 180, "Ringing", Some("t"), ""));
    sim.run_to_end();
    let times: Vec<Duration> = sim.of(TxKind::Cancel).iter().map(|(t, _)| *t).collect();
    // Sent at 6 s, then T1 doubling capped at T2 = 4 s.
    let expected: Vec<Duration> = [6.0, 6.5, 7.5, 9.5, 13.5, 17.5, 21.5, 25.5, 29.5, 33.5, 37.5]
        .map(secs)
        .to_vec();
    assert_eq!(times, expected);
    assert_eq!(
        sim.done_at,
        Some(secs(38.0)),
        "INVITE considered cancelled 64·T1 after CANCEL"
    );
    let s = sim.uac.summary();
    assert!(s.rang() && s.cancelled_by_us && s.final_response.is_none());
}

#[test]
fn hangup_before_any_provisional_waits_for_one() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    sim.advance_to(secs(0.1));
    sim.uac.handle_input(Input::Hangup(sim.now));
    sim.drain();
    assert!(
        sim.of(TxKind::Cancel).is_empty(),
        "RFC 3261 §9.1: no CANCEL before a 1xx"
    );
    sim.advance_to(secs(0.3));
    sim.deliver(&respond(&invite, 100, "Trying", None, ""));
    assert_eq!(sim.of(TxKind::Cancel).len(), 1);
    assert_eq!(sim.of(TxKind::Cancel)[0].0, secs(0.3));
}

#[test]
fn no_alerting_in_time_gives_up_with_cancel() {
    let cfg = UacConfig {
        alert_timeout: Duration::from_secs(10),
        ..UacConfig::default()
    };
    let mut sim = Sim::new(cfg, None);
    let invite = sim.invite_bytes();
    sim.deliver(&respond(&invite, 183, "Session Progress", Some("x"), ""));
    sim.advance_to(secs(10.0));
    assert_eq!(sim.of(TxKind::Cancel).len(), 1);
    assert!(!sim.uac.summary().rang());
    assert!(
        sim.uac.summary().first_progress.is_some(),
        "183 counts for PDD"
    );
}

#[test]
fn answered_call_is_acked_and_hung_up_with_bye() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    sim.deliver(&respond(&invite, 180, "Ringing", Some("d1"), ""));
    sim.advance_to(secs(1.0));
    let ok = respond(
        &invite,
        200,
        "OK",
        Some("d1"),
        "Contact: <sip:uas@192.0.2.9:5070>\r\nRecord-Route: <sip:p2.example;lr>\r\nRecord-Route: <sip:p1.example;lr>\r\n",
    );
    sim.deliver(&ok);
    let ack = sim.last(TxKind::Ack);
    let bye = sim.last(TxKind::Bye);
    let inv = Message::parse(&invite).expect("invite");
    let n = inv.cseq().expect("cseq").num;
    assert_eq!(
        ack.request_uri(),
        Some("sip:uas@192.0.2.9:5070"),
        "2xx ACK goes to the Contact"
    );
    assert_ne!(
        ack.top_via_branch(),
        inv.top_via_branch(),
        "2xx ACK is a new transaction"
    );
    assert_eq!(ack.cseq().expect("cseq").num, n);
    assert_eq!(ack.to_tag(), Some("d1"));
    assert_eq!(
        ack.header_all("Route"),
        vec!["<sip:p1.example;lr>", "<sip:p2.example;lr>"]
    );
    assert_eq!(bye.cseq().expect("cseq").num, n + 1);
    assert_eq!(bye.cseq().expect("cseq").method, "BYE");
    assert_eq!(bye.to_tag(), Some("d1"));
    assert_eq!(bye.from_tag(), inv.from_tag());
    assert_eq!(bye.request_uri(), Some("sip:uas@192.0.2.9:5070"));

    // A retransmitted 200 gets the same ACK again and no second BYE.
    sim.deliver(&ok);
    assert_eq!(sim.of(TxKind::Ack).len(), 2);
    assert!(sim.of(TxKind::Ack)[1].1.retransmission);
    assert_eq!(sim.of(TxKind::Bye).len(), 1);

    let bye_bytes = sim.of(TxKind::Bye)[0].1.data.clone();
    sim.deliver(&respond(&bye_bytes, 200, "OK", None, ""));
    sim.run_to_end();
    let s = sim.uac.summary();
    assert_eq!(s.answered_dialogs, 1);
    assert_eq!(
        s.final_response.as_ref().and_then(|m| m.status()),
        Some(200)
    );
    assert_eq!(
        sim.of(TxKind::Bye).len(),
        1,
        "BYE answered, not retransmitted"
    );
    assert_eq!(sim.done_at, Some(secs(3.0)));
}

#[test]
fn bye_without_answer_retransmits_then_gives_up() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    sim.deliver(&respond(
        &invite,
        200,
        "OK",
        Some("d1"),
        "Contact: <sip:uas@192.0.2.9>\r\n",
    ));
    sim.run_to_end();
    assert!(sim.of(TxKind::Bye).len() > 5);
    assert_eq!(sim.done_at, Some(secs(32.0)), "Timer F bounds the BYE");
}

#[test]
fn two_hundred_racing_our_cancel_is_acked_and_byed() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    sim.deliver(&respond(&invite, 180, "Ringing", Some("r"), ""));
    sim.advance_to(secs(6.0));
    assert_eq!(sim.of(TxKind::Cancel).len(), 1);
    let cancel = sim.of(TxKind::Cancel)[0].1.data.clone();
    sim.advance_to(secs(6.01));
    sim.deliver(&respond(
        &invite,
        200,
        "OK",
        Some("r"),
        "Contact: <sip:uas@192.0.2.9>\r\n",
    ));
    sim.deliver(&respond(&cancel, 200, "OK", Some("r"), ""));
    assert_eq!(sim.of(TxKind::Ack).len(), 1);
    assert_eq!(sim.of(TxKind::Bye).len(), 1);
    let bye = sim.of(TxKind::Bye)[0].1.data.clone();
    sim.deliver(&respond(&bye, 200, "OK", None, ""));
    sim.run_to_end();
    let s = sim.uac.summary();
    assert!(s.cancelled_by_us);
    assert_eq!(
        s.final_response.as_ref().and_then(|m| m.status()),
        Some(200)
    );
}

#[test]
fn forked_2xx_each_get_ack_and_bye() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    sim.deliver(&respond(
        &invite,
        200,
        "OK",
        Some("fork-a"),
        "Contact: <sip:a@192.0.2.1>\r\n",
    ));
    sim.deliver(&respond(
        &invite,
        200,
        "OK",
        Some("fork-b"),
        "Contact: <sip:b@192.0.2.2>\r\n",
    ));
    let acks: Vec<Message> = sim
        .of(TxKind::Ack)
        .iter()
        .map(|(_, t)| Message::parse(&t.data).expect("ack"))
        .collect();
    let byes: Vec<Message> = sim
        .of(TxKind::Bye)
        .iter()
        .map(|(_, t)| Message::parse(&t.data).expect("bye"))
        .collect();
    assert_eq!(
        acks.iter().map(|m| m.to_tag()).collect::<Vec<_>>(),
        vec![Some("fork-a"), Some("fork-b")]
    );
    assert_eq!(
        byes.iter().map(|m| m.request_uri()).collect::<Vec<_>>(),
        vec![Some("sip:a@192.0.2.1"), Some("sip:b@192.0.2.2")]
    );
    assert_eq!(sim.uac.summary().answered_dialogs, 2);
    assert_eq!(
        sim.events
            .iter()
            .filter(|e| matches!(e, Event::Final(_)))
            .count(),
        1,
        "the first 2xx is the final"
    );
}

#[test]
fn duplicate_final_responses_are_re_acked_once_each() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    let busy = respond(&invite, 486, "Busy Here", Some("b"), "");
    sim.deliver(&busy);
    sim.advance_to(secs(0.5));
    sim.deliver(&busy);
    sim.deliver(&busy);
    let acks = sim.of(TxKind::Ack);
    assert_eq!(acks.len(), 3);
    assert!(!acks[0].1.retransmission && acks[1].1.retransmission && acks[2].1.retransmission);
    assert_eq!(
        acks[0].1.data, acks[1].1.data,
        "identical ACK for each retransmission"
    );
    assert_eq!(
        sim.events
            .iter()
            .filter(|e| matches!(e, Event::Final(_)))
            .count(),
        1
    );
    assert_eq!(sim.uac.summary().strays, 0);
    assert_eq!(
        sim.of(TxKind::Invite).len(),
        1,
        "no INVITE retransmission after the final"
    );
}

fn creds() -> Option<Credentials> {
    Some(Credentials {
        username: "trunk123".into(),
        password: "s3cret".into(),
    })
}

#[test]
fn challenge_401_is_answered_once_with_digest() {
    let mut sim = Sim::new(UacConfig::default(), creds());
    let first = sim.invite_bytes();
    let challenge = respond(
        &first,
        401,
        "Unauthorized",
        Some("c1"),
        "WWW-Authenticate: Digest realm=\"carrier.example\", nonce=\"8a3f2c1d9e7b4a60\", algorithm=MD5, qop=\"auth\"\r\n",
    );
    sim.advance_to(secs(0.05));
    sim.deliver(&challenge);
    let first_msg = Message::parse(&first).expect("first");
    let ack = sim.last(TxKind::Ack);
    assert_eq!(ack.top_via_branch(), first_msg.top_via_branch());
    let second = sim.last(TxKind::Invite);
    assert_eq!(sim.of(TxKind::Invite).len(), 2);
    assert_eq!(second.call_id(), first_msg.call_id(), "same Call-ID");
    assert_eq!(second.from_tag(), first_msg.from_tag(), "same From tag");
    assert_eq!(
        second.cseq().expect("c").num,
        first_msg.cseq().expect("c").num + 1,
        "CSeq + 1"
    );
    assert_ne!(
        second.top_via_branch(),
        first_msg.top_via_branch(),
        "new branch"
    );
    let auth = second.header("Authorization").expect("credentials");
    assert!(
        auth.starts_with("Digest username=\"trunk123\", realm=\"carrier.example\""),
        "{auth}"
    );
    assert!(auth.contains("uri=\"sip:+13125550178@carrier.example;user=phone\""));
    assert!(auth.contains("qop=auth, nc=00000001"));
    assert!(
        !text(&second).contains("s3cret"),
        "the password never goes on the wire"
    );
    assert!(matches!(
        sim.events.iter().find(|e| matches!(e, Event::AuthRetry(_))),
        Some(Event::AuthRetry(401))
    ));

    // A retransmitted 401 of the first transaction is ACKed again, nothing else.
    sim.deliver(&challenge);
    assert_eq!(sim.of(TxKind::Ack).len(), 2);
    assert_eq!(sim.of(TxKind::Invite).len(), 2);

    // Challenged again (not stale): give up, outcome auth failure.
    let second_bytes = sim.invite_bytes();
    sim.deliver(&respond(
        &second_bytes,
        401,
        "Unauthorized",
        Some("c2"),
        "WWW-Authenticate: Digest realm=\"carrier.example\", nonce=\"ffff\", qop=\"auth\"\r\n",
    ));
    assert_eq!(sim.of(TxKind::Invite).len(), 2);
    let s = sim.uac.summary();
    assert!(s.auth_exhausted);
    assert_eq!(
        s.final_response.as_ref().and_then(|m| m.status()),
        Some(401)
    );
}

#[test]
fn proxy_challenge_uses_proxy_authorization_and_then_rings() {
    let mut sim = Sim::new(UacConfig::default(), creds());
    let first = sim.invite_bytes();
    sim.deliver(&respond(
        &first,
        407,
        "Proxy Authentication Required",
        Some("c1"),
        "Proxy-Authenticate: Digest realm=\"carrier.example\", nonce=\"8a3f2c1d9e7b4a60\", algorithm=SHA-256, qop=\"auth\"\r\n",
    ));
    let second = sim.invite_bytes();
    let msg = Message::parse(&second).expect("second");
    assert!(
        msg.header("Proxy-Authorization")
            .expect("creds")
            .contains("algorithm=SHA-256")
    );
    sim.deliver(&respond(&second, 180, "Ringing", Some("r"), ""));
    assert!(sim.uac.summary().rang());
    assert!(!sim.uac.summary().auth_exhausted);
}

#[test]
fn challenge_without_credentials_is_auth_failure() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let first = sim.invite_bytes();
    sim.deliver(&respond(
        &first,
        407,
        "Proxy Authentication Required",
        Some("c1"),
        "Proxy-Authenticate: Digest realm=\"x\", nonce=\"n\"\r\n",
    ));
    assert_eq!(sim.of(TxKind::Invite).len(), 1);
    assert_eq!(sim.of(TxKind::Ack).len(), 1);
    assert!(sim.uac.summary().auth_exhausted);
}

#[test]
fn strays_are_ignored_and_counted() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    let ring = String::from_utf8(respond(&invite, 180, "Ringing", Some("t"), "")).expect("utf8");
    let inv = Message::parse(&invite).expect("inv");
    let call_id = inv.call_id().expect("cid").to_string();
    let branch = inv.top_via_branch().expect("branch").to_string();
    sim.deliver(ring.replace(&call_id, "spoofed@evil").as_bytes());
    sim.deliver(ring.replace(&branch, "z9hG4bKspoofed").as_bytes());
    sim.deliver(b"\x00\x01garbage");
    sim.deliver(b"\r\n\r\n"); // keep-alive: not a stray
    let cseq = inv.cseq().expect("cseq").num;
    sim.deliver(
        ring.replace(
            &format!("CSeq: {cseq} INVITE"),
            &format!("CSeq: {} INVITE", cseq + 5),
        )
        .as_bytes(),
    );
    sim.deliver(
        ring.replace(
            &format!("CSeq: {cseq} INVITE"),
            &format!("CSeq: {cseq} BYE"),
        )
        .as_bytes(),
    );
    let s = sim.uac.summary();
    assert_eq!(s.strays, 5);
    assert!(!s.rang(), "a spoofed 180 must not count");
    sim.advance_to(secs(0.5));
    assert_eq!(
        sim.of(TxKind::Invite).len(),
        2,
        "strays did not stop Timer A"
    );
}

#[test]
fn far_end_bye_is_answered_200() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    sim.deliver(&respond(
        &invite,
        200,
        "OK",
        Some("d"),
        "Contact: <sip:uas@192.0.2.9>\r\n",
    ));
    let inv = Message::parse(&invite).expect("inv");
    let bye = format!(
        "BYE sip:ringwatch@127.0.0.1:40000 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKfar\r\nFrom: {};tag=d\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
        inv.header("To").expect("to"),
        inv.header("From").expect("from"),
        inv.call_id().expect("cid")
    );
    sim.deliver(bye.as_bytes());
    let resp = Message::parse(&sim.of(TxKind::Response)[0].1.data).expect("resp");
    assert_eq!(resp.status(), Some(200));
    assert_eq!(resp.top_via_branch(), Some("z9hG4bKfar"));
    assert_eq!(resp.header("CSeq"), Some("1 BYE"));
}

#[test]
fn ringback_in_early_media_counts_as_alerting() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    sim.advance_to(secs(0.1));
    sim.deliver(&respond(
        &invite,
        183,
        "Session Progress",
        Some("m"),
        "Content-Type: application/sdp\r\n",
    ));
    assert!(!sim.uac.summary().rang(), "a 183 alone is not alerting");
    sim.advance_to(secs(2.0));
    sim.uac.handle_input(Input::MediaAlerting(sim.now));
    sim.drain();
    assert!(sim.uac.summary().rang());
    sim.advance_to(secs(7.9));
    assert!(sim.of(TxKind::Cancel).is_empty());
    sim.advance_to(secs(8.0));
    assert_eq!(
        sim.of(TxKind::Cancel).len(),
        1,
        "CANCEL ring_seconds after the ringback"
    );
}

#[test]
fn sdp_of_provisional_responses_is_handed_out() {
    let mut sim = Sim::new(UacConfig::default(), None);
    let invite = sim.invite_bytes();
    let with_body = |code: u16, phrase: &str| {
        let text = String::from_utf8(respond(
            &invite,
            code,
            phrase,
            Some("m"),
            "Content-Type: application/sdp\r\n",
        ))
        .expect("utf8");
        text.replace(
            "Content-Length: 0\r\n\r\n",
            "Content-Length: 5\r\n\r\nv=0\r\n",
        )
    };
    sim.deliver(with_body(183, "Session Progress").as_bytes());
    assert!(sim.events.contains(&Event::Sdp(b"v=0\r\n".to_vec())));
}
