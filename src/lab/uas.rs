//! The lab's sans-IO SIP far end: one [`Uas`] serves every call arriving on
//! the lab socket, answering each INVITE with its carrier's scripted
//! behaviour.
//!
//! Owns the INVITE server transactions (RFC 3261 §17.2.1: 100 Trying at
//! once, the last response re-sent for a retransmitted INVITE, the final
//! response retransmitted on Timer G until the ACK, given up at Timer H;
//! a 2xx retransmitted the same way until its ACK, §13.3.1.4), CANCEL
//! (§9.2: 200 to the CANCEL, 487 to the INVITE), BYE (200, retransmissions
//! answered again), OPTIONS (200) and the choice of behaviour per call
//! (carrier from the Request-URI, caller ID from P-Asserted-Identity or
//! From, block list, seeded randomness).
//!
//! No sockets, no clock, no global RNG: `now` comes in with every input,
//! datagrams and the next deadline go out through `poll_*`. Nothing a peer
//! sends can make it panic or grow without bound: at most [`MAX_CALLS`]
//! calls of at most [`MAX_INVITE_BYTES`] are kept, each forgotten after its
//! timers run out.
//!
//! # Drive loop
//!
//! ```text
//! let mut uas = Uas::new(&cfg, local, rng);
//! loop {
//!     while let Some(t) = uas.poll_transmit() { socket.send_to(&t.data, t.to) }
//!     while let Some(e) = uas.poll_event() { log(e) }
//!     select! { (n, from) = recv_from => uas.handle_datagram(now, from, &buf[..n]),
//!               sleep_until(uas.poll_timeout()) => uas.handle_timeout(now) }
//! }
//! ```

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::rngs::StdRng;

use super::wire::{self, AtisForm};
use crate::config::{Carrier, Config, E164, LabBehaviour, LabSettings, Redress};
use crate::sip::ids::Tag;
use crate::sip::message::Message;

/// Most calls kept at once; a new INVITE beyond this gets 503.
pub const MAX_CALLS: usize = 4096;

/// Largest INVITE a call is started for (it is kept while the call lasts);
/// a larger one gets 513 Message Too Large. Real INVITEs are 1-4 KB.
pub const MAX_INVITE_BYTES: usize = 8 * 1024;

/// RFC 3261 T2: cap of the response retransmission interval.
const T2: Duration = Duration::from_secs(4);
/// RFC 3261 T4: Timer I, how long an ACKed non-2xx transaction absorbs ACKs.
const T4: Duration = Duration::from_secs(5);

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Transmit {
    /// Where: the source address of the request it answers (RFC 3581).
    pub to: SocketAddr,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Why a call got its behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The carrier's `behaviour` (or `[lab] default`).
    Rule,
    /// The caller ID is in the carrier's `block` list.
    Blocked,
    /// A `random` draw picked another behaviour.
    Random,
    /// No carrier lists the destination: `[lab] unknown`.
    Unknown,
}

impl Why {
    /// Lower-case name for logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Rule => "rule",
            Why::Blocked => "blocked",
            Why::Random => "random",
            Why::Unknown => "unknown_destination",
        }
    }
}

/// Why a datagram was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// Not a SIP message at all.
    Malformed,
    /// A request missing Via, From, To, Call-ID or a usable CSeq.
    Incomplete,
    /// A response: the lab sends no requests, so none is expected.
    Response,
    /// An ACK for no call the lab knows.
    StrayAck,
}

/// Something worth logging.
#[derive(Debug, Clone, PartialEq)]
pub enum LabEvent {
    /// A new call and the behaviour it gets.
    Call {
        /// SIP Call-ID.
        call_id: String,
        /// Where it came from.
        peer: SocketAddr,
        /// The carrier whose destination was dialled (`None`: not configured).
        carrier: Option<String>,
        /// The Request-URI number.
        destination: Option<E164>,
        /// P-Asserted-Identity or From number.
        caller: Option<E164>,
        /// What the far end does.
        behaviour: LabBehaviour,
        /// Why.
        why: Why,
    },
    /// The first final response to a call's INVITE went out.
    Final {
        /// SIP Call-ID.
        call_id: String,
        /// Status code.
        code: u16,
    },
    /// A CANCEL ended a call (200 + 487).
    Cancelled {
        /// SIP Call-ID.
        call_id: String,
    },
    /// A BYE ended an answered call.
    Bye {
        /// SIP Call-ID.
        call_id: String,
    },
    /// A datagram was ignored.
    Ignored {
        /// Its source.
        peer: SocketAddr,
        /// Why.
        why: Ignored,
    },
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabStats {
    /// INVITEs that started a call.
    pub calls: u64,
    /// Retransmitted INVITEs, ACKs and BYEs absorbed.
    pub retransmissions: u64,
    /// Datagrams ignored (malformed, incomplete, responses, stray ACKs).
    pub ignored: u64,
    /// INVITEs refused with 503 because [`MAX_CALLS`] calls were in progress.
    pub overloaded: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// 100 sent; the scripted step is pending.
    Trying,
    /// 180 sent.
    Alerting,
    /// Non-2xx final sent; retransmitting until ACK (Timer G/H).
    Completed,
    /// 2xx sent; retransmitting until ACK.
    Accepted,
    /// 2xx ACKed: the dialog is up until BYE.
    Confirmed,
    /// Over; absorbing retransmissions until forgotten.
    Done,
    /// `silence`: nothing is ever sent.
    Silent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Send 180 Ringing.
    Alert,
    /// Send the behaviour's final response.
    Final,
    /// `ring` was not cancelled in time: 480.
    RingTimeout,
}

/// Final response retransmission: Timer G (T1 doubling to T2), Timer H.
#[derive(Debug, Clone, Copy)]
struct Retx {
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

#[derive(Debug)]
struct Call {
    peer: SocketAddr,
    invite: Message,
    branch: String,
    cseq: u32,
    to_tag: String,
    behaviour: LabBehaviour,
    carrier: Option<String>,
    redress: Redress,
    phase: Phase,
    /// The last response to the INVITE, re-sent for a retransmitted INVITE.
    last: Option<Vec<u8>>,
    step: Option<(Instant, Step)>,
    retx: Option<Retx>,
    forget_at: Option<Instant>,
    /// `(branch, 200 OK)` of the BYE answered, re-sent for its retransmissions.
    bye: Option<(String, Vec<u8>)>,
}

impl Call {
    fn deadline(&self) -> Option<Instant> {
        let retx = self.retx.map(|r| r.next.min(r.give_up));
        [self.step.map(|(at, _)| at), retx, self.forget_at]
            .into_iter()
            .flatten()
            .min()
    }
}

/// Everything but the call table, so call handlers can borrow both.
#[derive(Debug)]
struct Core {
    lab: LabSettings,
    carriers: Vec<Carrier>,
    t1: Duration,
    local: SocketAddr,
    rng: StdRng,
    transmits: VecDeque<Transmit>,
    events: VecDeque<LabEvent>,
    stats: LabStats,
}

/// The lab far end for every carrier, on one socket.
#[derive(Debug)]
pub struct Uas {
    calls: HashMap<String, Call>,
    core: Core,
}

impl Uas {
    /// A far end scripted by `cfg.lab` for the carriers of `cfg`, reachable
    /// at `local` (Contact and SDP of a 200 OK). `rng` picks To tags and
    /// random behaviours: seed it for reproducible runs.
    pub fn new(cfg: &Config, local: SocketAddr, rng: StdRng) -> Self {
        Uas {
            calls: HashMap::new(),
            core: Core {
                lab: cfg.lab.clone(),
                carriers: cfg.carriers.clone(),
                t1: cfg.call.t1,
                local,
                rng,
                transmits: VecDeque::new(),
                events: VecDeque::new(),
                stats: LabStats::default(),
            },
        }
    }

    /// Counters since start.
    #[must_use]
    pub fn stats(&self) -> LabStats {
        self.core.stats
    }

    /// Calls currently kept (in progress or absorbing retransmissions).
    #[must_use]
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// The next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.core.transmits.pop_front()
    }

    /// The next event to log.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<LabEvent> {
        self.core.events.pop_front()
    }

    /// When [`Uas::handle_timeout`] must next be called; `None` when
    /// nothing is scheduled.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.calls.values().filter_map(Call::deadline).min()
    }

    /// Run every step and timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<String> = self
            .calls
            .iter()
            .filter(|(_, c)| c.deadline().is_some_and(|d| d <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let forget = match self.calls.get_mut(&key) {
                Some(call) => self.core.advance(call, now),
                None => false,
            };
            if forget {
                self.calls.remove(&key);
            }
        }
    }

    /// One datagram from `from` at `now`. Never fails: what cannot be
    /// served is answered with an error response or ignored and counted.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if data.iter().all(u8::is_ascii_whitespace) {
            // RFC 5626 §4.4.1 keep-alive: a double CRLF ping gets a CRLF pong.
            if data == b"\r\n\r\n" {
                self.core.send(from, b"\r\n".to_vec());
            }
            return;
        }
        let Ok(msg) = Message::parse(data) else {
            self.core.ignore(from, Ignored::Malformed);
            return;
        };
        let Some(method) = msg.method().map(str::to_ascii_uppercase) else {
            self.core.ignore(from, Ignored::Response);
            return;
        };
        let complete = msg.top_via().is_some()
            && msg.header("From").is_some()
            && msg.header("To").is_some()
            && msg.call_id().is_some();
        let Some(cseq) = msg.cseq().filter(|_| complete) else {
            self.core.ignore(from, Ignored::Incomplete);
            return;
        };
        if !cseq.method.eq_ignore_ascii_case(&method) {
            if method != "ACK" {
                self.core.reply(&msg, from, 400, "Bad Request", None, &[]);
            }
            return;
        }
        let call_id = msg.call_id().unwrap_or_default().to_owned();
        match method.as_str() {
            "INVITE" => self.on_invite(now, from, msg, call_id.clone(), cseq.num),
            "ACK" => self.on_ack(now, from, &msg, &call_id, cseq.num),
            "CANCEL" => self.on_cancel(now, from, &msg, &call_id),
            "BYE" => self.on_bye(now, from, &msg, &call_id),
            "OPTIONS" => {
                let tag = self.core.tag();
                self.core.reply(
                    &msg,
                    from,
                    200,
                    "OK",
                    Some(&tag),
                    &[
                        ("Allow", wire::ALLOW.to_owned()),
                        ("Accept", "application/sdp".to_owned()),
                    ],
                );
            }
            "UPDATE" | "INFO" => {
                let in_dialog = self.calls.get(&call_id).is_some_and(|c| {
                    msg.to_tag() == Some(c.to_tag.as_str())
                        && matches!(
                            c.phase,
                            Phase::Alerting | Phase::Accepted | Phase::Confirmed
                        )
                });
                if in_dialog {
                    self.core.reply(&msg, from, 200, "OK", None, &[]);
                } else {
                    self.core.no_such_call(&msg, from);
                }
            }
            "PRACK" => self.core.no_such_call(&msg, from),
            _ => {
                let tag = self.core.tag();
                self.core.reply(
                    &msg,
                    from,
                    405,
                    "Method Not Allowed",
                    Some(&tag),
                    &[("Allow", wire::ALLOW.to_owned())],
                );
            }
        }
        // A step due at once (`pdd_ms = 0`) runs now, not on the next poll.
        let forget = match self.calls.get_mut(&call_id) {
            Some(call) if call.deadline().is_some_and(|d| d <= now) => self.core.advance(call, now),
            _ => false,
        };
        if forget {
            self.calls.remove(&call_id);
        }
    }

    fn on_invite(
        &mut self,
        now: Instant,
        from: SocketAddr,
        msg: Message,
        call_id: String,
        cseq: u32,
    ) {
        let branch = msg.top_via_branch().unwrap_or_default().to_owned();
        if let Some(call) = self.calls.get_mut(&call_id) {
            if call.branch == branch && call.cseq == cseq {
                // A retransmission (§17.2.1): repeat the last response.
                self.core.stats.retransmissions += 1;
                match call.phase {
                    Phase::Silent => call.forget_at = Some(now + self.core.t1 * 64),
                    Phase::Trying | Phase::Alerting | Phase::Completed | Phase::Accepted => {
                        if let Some(last) = call.last.clone() {
                            self.core.send(from, last);
                        }
                    }
                    Phase::Confirmed | Phase::Done => {}
                }
                return;
            }
            if let Some(tag) = msg.to_tag() {
                if tag == call.to_tag && call.phase == Phase::Confirmed {
                    // A re-INVITE (session refresh): same answer again.
                    let (extra, sdp) = self.core.answer(call);
                    let bytes = wire::response(
                        &msg,
                        from,
                        200,
                        "OK",
                        None,
                        &extra,
                        Some(("application/sdp", &sdp)),
                    );
                    self.core.send(from, bytes);
                } else {
                    self.core.no_such_call(&msg, from);
                }
                return;
            }
            match call.phase {
                // The old call is over: a new INVITE with the same Call-ID
                // (e.g. a dialer's retry) starts afresh.
                Phase::Completed | Phase::Done => {}
                Phase::Silent => return,
                _ => {
                    let tag = call.to_tag.clone();
                    self.core
                        .reply(&msg, from, 482, "Loop Detected", Some(&tag), &[]);
                    return;
                }
            }
        } else if msg.to_tag().is_some() {
            self.core.no_such_call(&msg, from);
            return;
        }
        if msg.raw().len() > MAX_INVITE_BYTES {
            let tag = self.core.tag();
            self.core
                .reply(&msg, from, 513, "Message Too Large", Some(&tag), &[]);
            return;
        }
        if self.calls.len() >= MAX_CALLS && !self.calls.contains_key(&call_id) {
            self.core.stats.overloaded += 1;
            let tag = self.core.tag();
            self.core.reply(
                &msg,
                from,
                503,
                "Service Unavailable",
                Some(&tag),
                &[("Retry-After", "5".to_owned())],
            );
            return;
        }
        let call = self.core.new_call(now, from, msg, branch, cseq, &call_id);
        self.calls.insert(call_id, call);
    }

    fn on_ack(&mut self, now: Instant, from: SocketAddr, msg: &Message, call_id: &str, cseq: u32) {
        let Some(call) = self.calls.get_mut(call_id) else {
            self.core.ignore(from, Ignored::StrayAck);
            return;
        };
        if call.cseq != cseq {
            self.core.stats.retransmissions += 1;
            return;
        }
        match call.phase {
            Phase::Completed => {
                // §17.2.1: Confirmed, Timer I absorbs further ACKs.
                call.retx = None;
                call.phase = Phase::Done;
                call.forget_at = Some(now + T4);
            }
            Phase::Accepted if msg.to_tag() == Some(call.to_tag.as_str()) => {
                call.retx = None;
                call.phase = Phase::Confirmed;
                // Longest an answered call is kept without a BYE.
                call.forget_at = Some(now + self.core.lab.ring_timeout);
            }
            _ => self.core.stats.retransmissions += 1,
        }
    }

    fn on_cancel(&mut self, now: Instant, from: SocketAddr, msg: &Message, call_id: &str) {
        let branch = msg.top_via_branch().unwrap_or_default();
        let Some(call) = self
            .calls
            .get_mut(call_id)
            .filter(|c| c.branch == branch && c.phase != Phase::Silent)
        else {
            if !self
                .calls
                .get(call_id)
                .is_some_and(|c| c.phase == Phase::Silent)
            {
                self.core.no_such_call(msg, from);
            }
            return;
        };
        // §9.2: 200 to the CANCEL, with the tag of the INVITE's responses.
        let tag = call.to_tag.clone();
        self.core.reply(msg, from, 200, "OK", Some(&tag), &[]);
        if matches!(call.phase, Phase::Trying | Phase::Alerting) {
            self.core.events.push_back(LabEvent::Cancelled {
                call_id: call_id.to_owned(),
            });
            self.core
                .final_response(call, now, 487, "Request Terminated", Vec::new());
        }
    }

    fn on_bye(&mut self, now: Instant, from: SocketAddr, msg: &Message, call_id: &str) {
        let branch = msg.top_via_branch().unwrap_or_default().to_owned();
        let Some(call) = self
            .calls
            .get_mut(call_id)
            .filter(|c| msg.to_tag() == Some(c.to_tag.as_str()))
        else {
            self.core.no_such_call(msg, from);
            return;
        };
        if let Some((b, ok)) = &call.bye {
            if *b == branch {
                self.core.stats.retransmissions += 1;
                let ok = ok.clone();
                self.core.send(from, ok);
            } else {
                self.core.no_such_call(msg, from);
            }
            return;
        }
        match call.phase {
            Phase::Trying | Phase::Alerting => {
                // §15.1.2: BYE in an early dialog ends the INVITE with 487.
                self.core
                    .final_response(call, now, 487, "Request Terminated", Vec::new());
            }
            Phase::Accepted | Phase::Confirmed => {}
            Phase::Completed | Phase::Done | Phase::Silent => {
                self.core.no_such_call(msg, from);
                return;
            }
        }
        let ok = wire::response(msg, from, 200, "OK", None, &[], None);
        self.core.send(from, ok.clone());
        self.core.events.push_back(LabEvent::Bye {
            call_id: call_id.to_owned(),
        });
        if matches!(call.phase, Phase::Accepted | Phase::Confirmed) {
            call.retx = None;
            call.phase = Phase::Done;
        }
        // Timer J: answer retransmitted BYEs for 64·T1.
        call.forget_at = Some(now + self.core.t1 * 64);
        call.bye = Some((branch, ok));
    }
}

impl Core {
    fn send(&mut self, to: SocketAddr, data: Vec<u8>) {
        self.transmits.push_back(Transmit { to, data });
    }

    fn ignore(&mut self, peer: SocketAddr, why: Ignored) {
        self.stats.ignored += 1;
        self.events.push_back(LabEvent::Ignored { peer, why });
    }

    fn tag(&mut self) -> String {
        Tag::generate(&mut self.rng).to_string()
    }

    /// A body-less response to `msg`.
    fn reply(
        &mut self,
        msg: &Message,
        peer: SocketAddr,
        code: u16,
        phrase: &str,
        to_tag: Option<&str>,
        extra: &[(&str, String)],
    ) {
        let bytes = wire::response(msg, peer, code, phrase, to_tag, extra, None);
        self.send(peer, bytes);
    }

    fn no_such_call(&mut self, msg: &Message, peer: SocketAddr) {
        let tag = self.tag();
        self.reply(
            msg,
            peer,
            481,
            "Call/Transaction Does Not Exist",
            Some(&tag),
            &[],
        );
    }

    /// Pick the behaviour, send 100 Trying and schedule the script.
    fn new_call(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        invite: Message,
        branch: String,
        cseq: u32,
        call_id: &str,
    ) -> Call {
        self.stats.calls += 1;
        let destination = wire::destination(&invite);
        let caller = wire::caller(&invite);
        let carrier = destination
            .as_ref()
            .and_then(|d| self.carriers.iter().find(|c| c.destinations.contains(d)))
            .map(|c| c.name.clone());
        let rule = match &carrier {
            Some(name) => self.lab.rule(name),
            None => &self.lab.default,
        };
        let (behaviour, why) = match &carrier {
            None => (self.lab.unknown, Why::Unknown),
            Some(_) => match rule.behaviour_for(caller.as_ref()) {
                (b, true) => (b, Why::Blocked),
                (b, false) if rule.random.is_empty() => (b, Why::Rule),
                (b, false) => {
                    let picked = rule.randomise(b, self.rng.r#gen::<f64>());
                    (picked, if picked == b { Why::Rule } else { Why::Random })
                }
            },
        };
        let alert_first = rule.alert_first;
        let redress = rule.redress.clone();
        let pdd = rule.pdd;
        let to_tag = self.tag();
        self.events.push_back(LabEvent::Call {
            call_id: call_id.to_owned(),
            peer,
            carrier: carrier.clone(),
            destination,
            caller,
            behaviour,
            why,
        });
        let mut call = Call {
            peer,
            invite,
            branch,
            cseq,
            to_tag,
            behaviour,
            carrier,
            redress,
            phase: Phase::Trying,
            last: None,
            step: None,
            retx: None,
            forget_at: None,
            bye: None,
        };
        if behaviour == LabBehaviour::Silence {
            call.phase = Phase::Silent;
            call.forget_at = Some(now + self.t1 * 64);
            return call;
        }
        let trying = wire::response(&call.invite, peer, 100, "Trying", None, &[], None);
        self.send(peer, trying.clone());
        call.last = Some(trying);
        let first = if behaviour.always_alerts() || alert_first {
            Step::Alert
        } else {
            Step::Final
        };
        call.step = Some((now + pdd, first));
        call
    }

    /// Run whatever is due on `call`; `true` when it can be forgotten.
    fn advance(&mut self, call: &mut Call, now: Instant) -> bool {
        if let Some((at, step)) = call.step
            && at <= now
        {
            call.step = None;
            self.run_step(call, now, step);
        }
        if let Some(retx) = call.retx {
            if retx.give_up <= now {
                // Timer H (or no ACK for a 2xx): stop and forget.
                call.retx = None;
                return true;
            }
            if retx.next <= now {
                if let Some(last) = call.last.clone() {
                    self.send(call.peer, last);
                }
                let interval = (retx.interval * 2).min(T2);
                call.retx = Some(Retx {
                    next: retx.next + interval,
                    interval,
                    ..retx
                });
            }
        }
        call.forget_at.is_some_and(|at| at <= now)
    }

    fn run_step(&mut self, call: &mut Call, now: Instant, step: Step) {
        match step {
            Step::Alert => {
                let ringing = wire::response(
                    &call.invite,
                    call.peer,
                    180,
                    "Ringing",
                    Some(&call.to_tag),
                    &[],
                    None,
                );
                self.send(call.peer, ringing.clone());
                call.last = Some(ringing);
                call.phase = Phase::Alerting;
                let next = match call.behaviour {
                    LabBehaviour::Ring => (now + self.lab.ring_timeout, Step::RingTimeout),
                    _ => (now + self.lab.alert, Step::Final),
                };
                call.step = Some(next);
            }
            Step::RingTimeout => {
                self.final_response(call, now, 480, "Temporarily Unavailable", Vec::new());
            }
            Step::Final => self.scripted_final(call, now),
        }
    }

    /// The behaviour's final response.
    fn scripted_final(&mut self, call: &mut Call, now: Instant) {
        match call.behaviour {
            LabBehaviour::Answer => {
                let (extra, sdp) = self.answer(call);
                let bytes = wire::response(
                    &call.invite,
                    call.peer,
                    200,
                    "OK",
                    Some(&call.to_tag),
                    &extra,
                    Some(("application/sdp", &sdp)),
                );
                self.sent_final(call, now, 200, bytes);
                call.phase = Phase::Accepted;
                return;
            }
            // `ring` ends only by CANCEL or its timeout; `silence` never.
            LabBehaviour::Ring | LabBehaviour::Silence => return,
            _ => {}
        }
        let (code, phrase, extra) = self.final_of(call);
        self.final_response(call, now, code, phrase, extra);
    }

    /// Status, phrase and extra headers of a behaviour that rejects the call.
    fn final_of(&self, call: &Call) -> (u16, &'static str, Vec<(&'static str, String)>) {
        let carrier = call.carrier.as_deref().unwrap_or("unknown");
        let atis = |form| {
            let prefix = call
                .redress
                .id_prefix
                .clone()
                .unwrap_or_else(|| format!("lab-{carrier}"));
            let id = wire::redress_id(&prefix, call.invite.call_id().unwrap_or_default());
            vec![("Reason", wire::atis_reason(form, &call.redress, &id))]
        };
        match call.behaviour {
            LabBehaviour::Decline => (603, "Decline", Vec::new()),
            LabBehaviour::DeclineQ850 => (
                603,
                "Decline",
                vec![("Reason", "Q.850;cause=21;text=\"Call Rejected\"".to_owned())],
            ),
            LabBehaviour::NetworkBlocked => (603, "Network Blocked", atis(AtisForm::Sip)),
            LabBehaviour::NetworkBlockedQ850 => (603, "Network Blocked", atis(AtisForm::Q850)),
            LabBehaviour::NetworkBlockedPhraseOnly => (603, "Network Blocked", Vec::new()),
            LabBehaviour::NetworkBlockedAsDecline => (603, "Decline", atis(AtisForm::Sip)),
            LabBehaviour::Rejected => (
                608,
                "Rejected",
                vec![("Call-Info", wire::jwscard(carrier, &call.redress))],
            ),
            LabBehaviour::Unwanted => (607, "Unwanted", Vec::new()),
            LabBehaviour::Forbidden => (403, "Forbidden", Vec::new()),
            LabBehaviour::Busy => (486, "Busy Here", Vec::new()),
            LabBehaviour::Unavailable => (
                503,
                "Service Unavailable",
                vec![("Retry-After", self.lab.retry_after_seconds.to_string())],
            ),
            LabBehaviour::NotFound => (404, "Not Found", Vec::new()),
            // Not reached: these never send a scripted rejection.
            LabBehaviour::Ring | LabBehaviour::Answer | LabBehaviour::Silence => {
                (480, "Temporarily Unavailable", Vec::new())
            }
        }
    }

    /// Contact header and SDP of a 200 OK to the INVITE.
    fn answer(&mut self, call: &Call) -> (Vec<(&'static str, String)>, Vec<u8>) {
        let ip = if self.local.ip().is_unspecified() {
            wire::uri_ip(&call.invite)
                .filter(|ip| !ip.is_unspecified())
                .unwrap_or(match self.local.ip() {
                    IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
                })
        } else {
            self.local.ip()
        };
        let contact = format!("<sip:lab@{}>", SocketAddr::new(ip, self.local.port()));
        let media_port = self.local.port().checked_add(2).unwrap_or(9);
        let sdp = crate::sdp::offer(ip, media_port, u64::from(self.rng.r#gen::<u32>()));
        (
            vec![("Contact", contact), ("Allow", wire::ALLOW.to_owned())],
            sdp,
        )
    }

    /// Send a non-2xx final to the INVITE and enter Completed.
    fn final_response(
        &mut self,
        call: &mut Call,
        now: Instant,
        code: u16,
        phrase: &str,
        extra: Vec<(&'static str, String)>,
    ) {
        let bytes = wire::response(
            &call.invite,
            call.peer,
            code,
            phrase,
            Some(&call.to_tag),
            &extra,
            None,
        );
        self.sent_final(call, now, code, bytes);
        call.phase = Phase::Completed;
    }

    fn sent_final(&mut self, call: &mut Call, now: Instant, code: u16, bytes: Vec<u8>) {
        self.send(call.peer, bytes.clone());
        call.last = Some(bytes);
        call.step = None;
        call.retx = Some(Retx {
            next: now + self.t1,
            interval: self.t1,
            give_up: now + self.t1 * 64,
        });
        self.events.push_back(LabEvent::Final {
            call_id: call.invite.call_id().unwrap_or_default().to_owned(),
            code,
        });
    }
}

#[cfg(test)]
mod tests;
