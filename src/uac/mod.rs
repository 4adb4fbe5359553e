//! Sans-IO INVITE client for one test call (RFC 3261 §17.1.1, §9.1, §13.2.2,
//! §22; RFC 6026 for 2xx handling). No sockets, no clock, no global RNG.
//!
//! One [`Uac`] places one call: INVITE (retransmitted on Timer A, abandoned on
//! Timer B), ACK for every non-2xx final and its retransmissions, CANCEL only
//! after a provisional (`ring` after the first 180, or when no alerting
//! arrives in time), ACK + immediate BYE for every 2xx dialog (also one that
//! races our CANCEL, and forked 2xx), and one digest-authenticated retry on
//! 401/407. Responses are matched on Call-ID, top-Via branch, CSeq number and
//! CSeq method; anything else is a stray and is counted, never acted on.
//!
//! # Drive loop
//!
//! ```text
//! let mut uac = Uac::new(now, cfg, spec, rng);
//! loop {
//!     let deadline = loop {
//!         match uac.poll_output() {
//!             Output::Transmit(t) => socket.send(&t.data),
//!             Output::Event(e) => log(e),
//!             Output::Timeout(at) => break Some(at),
//!             Output::Done => break None,
//!         }
//!     };
//!     let Some(deadline) = deadline else { break };
//!     select! { datagram => uac.handle_input(Input::Datagram(now, &buf)),
//!               sleep_until(deadline) => uac.handle_input(Input::Timeout(now)) }
//! }
//! let summary = uac.summary();
//! ```

#[cfg(test)]
mod tests;
mod timer;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::rngs::StdRng;

use crate::sip::digest::{self, Challenge};
use crate::sip::ids::{Branch, CallId, Tag};
use crate::sip::message::Message;
use crate::sip::request::{self, RequestSpec, USER_AGENT};
use timer::{Timer, TimerTable};

/// RFC 3261 timer values and our TU timers.
#[derive(Debug, Clone)]
pub struct UacConfig {
    /// T1, the RTT estimate (500 ms).
    pub t1: Duration,
    /// T2, the cap for non-INVITE retransmission intervals (4 s).
    pub t2: Duration,
    /// Hang up (CANCEL) this long after the first 180.
    pub ring: Duration,
    /// Give up (CANCEL) when neither a 180 nor a final arrived this long after the INVITE.
    pub alert_timeout: Duration,
    /// Keep absorbing retransmitted finals and forked 2xx this long after the outcome.
    pub linger: Duration,
}

impl Default for UacConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            ring: Duration::from_secs(6),
            alert_timeout: Duration::from_secs(30),
            linger: Duration::from_secs(2),
        }
    }
}

/// Digest credentials. The password comes from the environment and is
/// never logged or stored; `Debug` redacts it.
#[derive(Clone)]
pub struct Credentials {
    /// Digest username.
    pub username: String,
    /// Digest password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What to call, from where.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// Our real local address: Via sent-by and Contact.
    pub local: SocketAddr,
    /// Request-URI (and To URI) of the destination.
    pub request_uri: rsip::Uri,
    /// The caller ID we own: From and P-Asserted-Identity.
    pub from_uri: rsip::Uri,
    /// SDP offer carried by the INVITE.
    pub sdp: Vec<u8>,
    /// Digest credentials for 401/407, if configured.
    pub credentials: Option<Credentials>,
}

/// One input to the state machine.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A deadline returned by `poll_output` has passed.
    Timeout(Instant),
    /// A datagram arrived from the trunk.
    Datagram(Instant, &'a [u8]),
    /// Stop the call as soon as the protocol allows (CANCEL after a provisional).
    Hangup(Instant),
    /// The early media carries ringback: the far end is alerting even
    /// though no 180 came (IMS/mobile networks send only 183 + ringback).
    MediaAlerting(Instant),
}

/// Which request or response a transmit carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    /// INVITE (first or authenticated retry).
    Invite,
    /// ACK (for a non-2xx final, or for a 2xx).
    Ack,
    /// CANCEL.
    Cancel,
    /// BYE.
    Bye,
    /// A response to a request the far end sent us.
    Response,
}

/// A datagram to send to the trunk.
#[derive(Debug, Clone)]
#[must_use]
pub struct Transmit {
    /// What it is.
    pub kind: TxKind,
    /// `true` for a retransmission (Timer A/E, or an ACK repeated for a
    /// retransmitted final).
    pub retransmission: bool,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Why a datagram was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrayReason {
    /// Not a SIP message at all.
    Unparseable,
    /// A response for another call.
    WrongCallId,
    /// A response whose top-Via branch, CSeq number or method matches none of our transactions.
    WrongTransaction,
    /// A request we do not serve.
    UnexpectedRequest,
}

/// Something worth logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A provisional response to our INVITE.
    Provisional(u16),
    /// The final response of the call (first one only).
    Final(u16),
    /// 401/407 answered with credentials; a new INVITE went out.
    AuthRetry(u16),
    /// We sent CANCEL (ring time elapsed, no alerting in time, or hangup).
    Cancelled,
    /// No response at all before Timer B.
    TimedOut,
    /// A datagram was ignored.
    Stray(StrayReason),
    /// A provisional or 2xx response to our INVITE carried an SDP answer
    /// (early media: hand it to the media session).
    Sdp(Vec<u8>),
}

/// The next thing the caller must do.
#[derive(Debug)]
#[must_use]
pub enum Output {
    /// Send this datagram to the trunk.
    Transmit(Transmit),
    /// Record this event.
    Event(Event),
    /// Nothing more until this instant (or a datagram).
    Timeout(Instant),
    /// The call is over; read [`Uac::summary`].
    Done,
}

/// What happened on the call, for classification and the probe record.
#[derive(Debug, Clone)]
pub struct Summary {
    /// First INVITE sent.
    pub started: Instant,
    /// First 180 or 183 (for PDD).
    pub first_progress: Option<Instant>,
    /// First 180.
    pub alerted: Option<Instant>,
    /// Provisional codes in arrival order (retransmissions included).
    pub provisionals: Vec<u16>,
    /// The final response of the last INVITE transaction (first 2xx when answered).
    pub final_response: Option<Message>,
    /// When it arrived.
    pub final_at: Option<Instant>,
    /// When the outcome became known (final, Timer B, or CANCEL given up).
    pub ended: Option<Instant>,
    /// We sent CANCEL.
    pub cancelled_by_us: bool,
    /// No response at all before Timer B.
    pub timed_out: bool,
    /// A 401/407 could not be satisfied.
    pub auth_exhausted: bool,
    /// Number of 2xx dialogs (more than one when forked).
    pub answered_dialogs: usize,
    /// Datagrams ignored as strays.
    pub strays: u32,
}

impl Summary {
    /// `true` when a 180 arrived.
    pub fn rang(&self) -> bool {
        self.alerted.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// INVITE sent, nothing heard (Timer A/B).
    Calling,
    /// A provisional arrived.
    Proceeding,
    /// CANCEL sent, waiting for the INVITE's final.
    Cancelling,
    /// Non-2xx final ACKed; lingering for retransmissions.
    Completed,
    /// 2xx ACKed and BYE sent; lingering for retransmissions and forks.
    Accepted,
    /// Nothing left to do.
    Terminated,
}

/// The INVITE transaction in progress.
#[derive(Debug)]
struct InviteTx {
    branch: Branch,
    cseq: u32,
    bytes: Vec<u8>,
    /// `(header name, value)` when this INVITE carries credentials.
    auth: Option<(String, String)>,
    /// ACK sent for its non-2xx final, repeated for retransmissions.
    ack: Option<Vec<u8>>,
}

/// A non-INVITE client transaction (CANCEL or BYE): retransmit on Timer E
/// until any final response or Timer F.
#[derive(Debug)]
struct NonInviteTx {
    branch: Branch,
    bytes: Vec<u8>,
    interval: Duration,
    next: Option<Instant>,
    give_up: Instant,
}

impl NonInviteTx {
    fn new(branch: Branch, bytes: Vec<u8>, now: Instant, cfg: &UacConfig) -> Self {
        Self {
            branch,
            bytes,
            interval: cfg.t1,
            next: Some(now + cfg.t1),
            give_up: now + cfg.t1 * 64,
        }
    }

    fn is_done(&self) -> bool {
        self.next.is_none()
    }
}

/// A confirmed dialog created by a 2xx (one per To-tag).
#[derive(Debug)]
struct Dialog {
    to_tag: String,
    ack: Vec<u8>,
    bye: NonInviteTx,
}

/// The INVITE client for one test call.
#[derive(Debug)]
pub struct Uac {
    cfg: UacConfig,
    spec: CallSpec,
    rng: StdRng,
    call_id: CallId,
    from: String,
    to: String,
    phase: Phase,
    timers: TimerTable,
    invite: InviteTx,
    /// Earlier (challenged) INVITE transactions: `(branch, cseq, ack)`.
    old: Vec<(Branch, u32, Vec<u8>)>,
    a_interval: Duration,
    cancel: Option<NonInviteTx>,
    pending_cancel: bool,
    hangup: bool,
    auth_attempts: u32,
    dialogs: Vec<Dialog>,
    out: VecDeque<Output>,
    summary: Summary,
}

/// Headers that go on every INVITE after the mandatory ones.
fn invite_headers(spec: &CallSpec, auth: Option<&(String, String)>) -> Vec<(String, String)> {
    let mut extra = vec![
        (
            "Contact".to_string(),
            format!("<sip:ringwatch@{}>", spec.local),
        ),
        (
            "P-Asserted-Identity".to_string(),
            format!("<{}>", spec.from_uri),
        ),
        (
            "Allow".to_string(),
            "INVITE, ACK, CANCEL, BYE, OPTIONS".to_string(),
        ),
        ("User-Agent".to_string(), USER_AGENT.to_string()),
    ];
    if let Some(auth) = auth {
        extra.push(auth.clone());
    }
    extra
}

impl Uac {
    /// Start a call at `now`: the INVITE is queued for transmission.
    pub fn new(now: Instant, cfg: UacConfig, spec: CallSpec, mut rng: StdRng) -> Self {
        let host = spec.local.ip().to_string();
        let call_id = CallId::generate(&mut rng, &host);
        let from_tag = Tag::generate(&mut rng);
        let from = format!("<{}>;tag={from_tag}", spec.from_uri);
        let to = format!("<{}>", spec.request_uri);
        let branch = Branch::generate(&mut rng);
        let cseq = rng.gen_range(1..10_000);
        let mut uac = Self {
            invite: InviteTx {
                branch,
                cseq,
                bytes: Vec::new(),
                auth: None,
                ack: None,
            },
            cfg,
            spec,
            rng,
            call_id,
            from,
            to,
            phase: Phase::Calling,
            timers: TimerTable::default(),
            old: Vec::new(),
            a_interval: Duration::ZERO,
            cancel: None,
            pending_cancel: false,
            hangup: false,
            auth_attempts: 0,
            dialogs: Vec::new(),
            out: VecDeque::new(),
            summary: Summary {
                started: now,
                first_progress: None,
                alerted: None,
                provisionals: Vec::new(),
                final_response: None,
                final_at: None,
                ended: None,
                cancelled_by_us: false,
                timed_out: false,
                auth_exhausted: false,
                answered_dialogs: 0,
                strays: 0,
            },
        };
        uac.send_invite(now);
        uac.timers.set(Timer::Alert, now + uac.cfg.alert_timeout);
        uac
    }

    /// The Call-ID of this call (evidence for the carrier).
    pub fn call_id(&self) -> &CallId {
        &self.call_id
    }

    /// What happened so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Consume the UAC and keep what happened.
    pub fn into_summary(self) -> Summary {
        self.summary
    }

    /// `true` once the outcome is known (the UAC may still linger).
    pub fn outcome_known(&self) -> bool {
        self.summary.ended.is_some()
    }

    /// Feed one input.
    pub fn handle_input(&mut self, input: Input<'_>) {
        match input {
            Input::Timeout(now) => self.handle_timeout(now),
            Input::Datagram(now, data) => self.handle_datagram(now, data),
            Input::Hangup(now) => self.handle_hangup(now),
            Input::MediaAlerting(now) => self.on_alerting(now),
        }
    }

    /// The next output; drain until `Timeout` or `Done` after every input.
    pub fn poll_output(&mut self) -> Output {
        if let Some(out) = self.out.pop_front() {
            return out;
        }
        if self.is_done() {
            return Output::Done;
        }
        match self.next_deadline() {
            Some(at) => Output::Timeout(at),
            None => Output::Done,
        }
    }

    /// The earliest deadline, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_deadline()
    }

    fn next_deadline(&self) -> Option<Instant> {
        let txs = self
            .cancel
            .iter()
            .chain(self.dialogs.iter().map(|d| &d.bye))
            .flat_map(|tx| tx.next.map(|n| n.min(tx.give_up)));
        self.timers.next().into_iter().chain(txs).min()
    }

    fn is_done(&self) -> bool {
        match self.phase {
            Phase::Terminated => true,
            Phase::Completed | Phase::Accepted => {
                self.timers.get(Timer::Linger).is_none()
                    && self.dialogs.iter().all(|d| d.bye.is_done())
            }
            _ => false,
        }
    }

    fn emit(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    fn transmit(&mut self, kind: TxKind, data: Vec<u8>, retransmission: bool) {
        self.out.push_back(Output::Transmit(Transmit {
            kind,
            retransmission,
            data,
        }));
    }

    fn end(&mut self, now: Instant) {
        if self.summary.ended.is_none() {
            self.summary.ended = Some(now);
        }
    }

    /// The parts every request of this call shares; callers add `extra` and `body`.
    fn request<'a>(
        &'a self,
        method: rsip::Method,
        uri: &'a rsip::Uri,
        branch: &'a Branch,
        to: &'a str,
        cseq: u32,
    ) -> RequestSpec<'a> {
        RequestSpec {
            method,
            uri,
            local: self.spec.local,
            branch,
            from: &self.from,
            to,
            call_id: &self.call_id,
            cseq,
            extra: &[],
            body: None,
        }
    }

    fn send_invite(&mut self, now: Instant) {
        let extra = invite_headers(&self.spec, self.invite.auth.as_ref());
        let bytes = request::build(&RequestSpec {
            extra: &extra,
            body: Some(("application/sdp", &self.spec.sdp)),
            ..self.request(
                rsip::Method::Invite,
                &self.spec.request_uri,
                &self.invite.branch,
                &self.to,
                self.invite.cseq,
            )
        });
        self.invite.bytes = bytes.clone();
        self.transmit(TxKind::Invite, bytes, false);
        self.phase = Phase::Calling;
        self.a_interval = self.cfg.t1;
        self.timers.set(Timer::A, now + self.cfg.t1);
        self.timers.set(Timer::B, now + self.cfg.t1 * 64);
    }

    fn handle_timeout(&mut self, now: Instant) {
        for timer in Timer::ALL {
            if !self.timers.is_expired(timer, now) {
                continue;
            }
            let due = self.timers.get(timer).unwrap_or(now);
            self.timers.stop(timer);
            match timer {
                Timer::A if self.phase == Phase::Calling => {
                    self.transmit(TxKind::Invite, self.invite.bytes.clone(), true);
                    self.a_interval *= 2;
                    // From the scheduled time, so the schedule does not drift.
                    self.timers.set(Timer::A, due + self.a_interval);
                }
                Timer::B if self.phase == Phase::Calling => {
                    self.summary.timed_out = true;
                    self.emit(Event::TimedOut);
                    self.end(now);
                    self.phase = Phase::Terminated;
                    self.timers.stop_all();
                }
                Timer::Alert if self.summary.alerted.is_none() => self.send_cancel(now),
                Timer::Ring => self.send_cancel(now),
                Timer::CancelGiveUp if self.phase == Phase::Cancelling => {
                    // RFC 3261 §9.1: consider the INVITE cancelled.
                    self.end(now);
                    self.phase = Phase::Terminated;
                    self.timers.stop_all();
                }
                _ => {}
            }
        }
        self.retransmit_non_invite(now);
    }

    fn retransmit_non_invite(&mut self, now: Instant) {
        let t2 = self.cfg.t2;
        let mut sends = Vec::new();
        let txs = self
            .cancel
            .iter_mut()
            .map(|tx| (TxKind::Cancel, tx))
            .chain(self.dialogs.iter_mut().map(|d| (TxKind::Bye, &mut d.bye)));
        for (kind, tx) in txs {
            let Some(next) = tx.next else { continue };
            if tx.give_up <= now {
                tx.next = None; // Timer F: give up quietly
            } else if next <= now {
                sends.push((kind, tx.bytes.clone()));
                tx.interval = (tx.interval * 2).min(t2);
                tx.next = Some(next + tx.interval);
            }
        }
        for (kind, bytes) in sends {
            self.transmit(kind, bytes, true);
        }
    }

    fn handle_hangup(&mut self, now: Instant) {
        self.hangup = true;
        self.send_cancel(now);
    }

    /// CANCEL the INVITE (RFC 3261 §9.1): only once a provisional arrived;
    /// before that, remember to do it when one does.
    fn send_cancel(&mut self, now: Instant) {
        match self.phase {
            Phase::Calling => self.pending_cancel = true,
            Phase::Proceeding => {
                let bytes = request::build(&self.request(
                    rsip::Method::Cancel,
                    &self.spec.request_uri,
                    &self.invite.branch,
                    &self.to,
                    self.invite.cseq,
                ));
                self.transmit(TxKind::Cancel, bytes.clone(), false);
                self.cancel = Some(NonInviteTx::new(
                    self.invite.branch.clone(),
                    bytes,
                    now,
                    &self.cfg,
                ));
                self.summary.cancelled_by_us = true;
                self.emit(Event::Cancelled);
                self.phase = Phase::Cancelling;
                self.timers.stop(Timer::Ring);
                self.timers.stop(Timer::Alert);
                self.timers.set(Timer::CancelGiveUp, now + self.cfg.t1 * 64);
            }
            _ => {}
        }
    }

    fn stray(&mut self, reason: StrayReason) {
        self.summary.strays += 1;
        self.emit(Event::Stray(reason));
    }

    fn handle_datagram(&mut self, now: Instant, data: &[u8]) {
        // RFC 5626 keep-alives (CRLF) are not messages and not strays.
        if data.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        let Ok(msg) = Message::parse(data) else {
            self.stray(StrayReason::Unparseable);
            return;
        };
        if msg.call_id() != Some(self.call_id.as_str()) {
            self.stray(StrayReason::WrongCallId);
            return;
        }
        let Some(code) = msg.status() else {
            self.handle_request(&msg);
            return;
        };
        let (Some(branch), Some(cseq)) = (msg.top_via_branch(), msg.cseq()) else {
            self.stray(StrayReason::WrongTransaction);
            return;
        };
        let method = cseq.method.to_ascii_uppercase();
        if branch == self.invite.branch.as_str() && cseq.num == self.invite.cseq {
            match method.as_str() {
                "INVITE" => self.on_invite_response(now, msg, code),
                "CANCEL" => {
                    if code >= 200
                        && let Some(tx) = &mut self.cancel
                    {
                        tx.next = None;
                    }
                }
                _ => self.stray(StrayReason::WrongTransaction),
            }
            return;
        }
        if method == "INVITE"
            && let Some(i) = self
                .old
                .iter()
                .position(|(b, n, _)| b.as_str() == branch && *n == cseq.num)
        {
            // A retransmitted 401/407 of a challenged INVITE: repeat its ACK.
            if code >= 300 {
                let ack = self.old[i].2.clone();
                self.transmit(TxKind::Ack, ack, true);
            }
            return;
        }
        if method == "BYE"
            && let Some(d) = self
                .dialogs
                .iter_mut()
                .find(|d| d.bye.branch.as_str() == branch)
        {
            if code >= 200 {
                d.bye.next = None;
            }
            return;
        }
        self.stray(StrayReason::WrongTransaction);
    }

    /// The far end may send BYE (e.g. after answering); anything else is a stray.
    fn handle_request(&mut self, msg: &Message) {
        match msg.method().map(str::to_ascii_uppercase).as_deref() {
            Some("BYE") => {
                let response = request::build_response(msg, 200, "OK", None, &[]);
                self.transmit(TxKind::Response, response, false);
            }
            Some("ACK") => {} // nothing to answer
            _ => {
                self.stray(StrayReason::UnexpectedRequest);
            }
        }
    }

    fn on_invite_response(&mut self, now: Instant, msg: Message, code: u16) {
        let is_sdp = msg
            .content_type()
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/sdp"));
        if code < 300 && is_sdp && !msg.body().is_empty() && self.summary.ended.is_none() {
            self.emit(Event::Sdp(msg.body().to_vec()));
        }
        match code {
            100..=199 => self.on_provisional(now, code),
            200..=299 => self.on_2xx(now, msg),
            _ => self.on_failure(now, msg, code),
        }
    }

    fn on_provisional(&mut self, now: Instant, code: u16) {
        if self.summary.ended.is_some() {
            return; // late provisional after the final: nothing to learn
        }
        self.summary.provisionals.push(code);
        self.emit(Event::Provisional(code));
        if matches!(code, 180 | 183) && self.summary.first_progress.is_none() {
            self.summary.first_progress = Some(now);
        }
        if self.phase == Phase::Calling {
            self.phase = Phase::Proceeding;
            self.timers.stop(Timer::A);
            self.timers.stop(Timer::B);
        }
        if code == 180 {
            self.on_alerting(now);
        }
        if self.pending_cancel {
            self.pending_cancel = false;
            self.send_cancel(now);
        }
    }

    /// The far end alerts (a 180, or ringback in early media): from now,
    /// `ring` until we CANCEL.
    fn on_alerting(&mut self, now: Instant) {
        if self.summary.alerted.is_some() || self.summary.ended.is_some() {
            return;
        }
        self.summary.alerted = Some(now);
        self.timers.stop(Timer::Alert);
        if self.phase == Phase::Proceeding {
            self.timers.set(Timer::Ring, now + self.cfg.ring);
        }
    }

    fn on_failure(&mut self, now: Instant, msg: Message, code: u16) {
        if let Some(ack) = &self.invite.ack {
            // Retransmission of the final we already ACKed.
            let ack = ack.clone();
            self.transmit(TxKind::Ack, ack, true);
            return;
        }
        if self.phase == Phase::Accepted || self.phase == Phase::Terminated {
            self.stray(StrayReason::WrongTransaction);
            return;
        }
        // RFC 3261 §17.1.1.3: ACK on the INVITE's branch, To with the response's tag.
        let to = msg.header("To").unwrap_or(&self.to).to_string();
        let ack = request::build(&self.request(
            rsip::Method::Ack,
            &self.spec.request_uri,
            &self.invite.branch,
            &to,
            self.invite.cseq,
        ));
        self.invite.ack = Some(ack.clone());
        self.transmit(TxKind::Ack, ack, false);

        if matches!(code, 401 | 407) {
            if self.try_authenticate(now, &msg, code) {
                return;
            }
            self.summary.auth_exhausted = true;
        }
        self.emit(Event::Final(code));
        self.summary.final_response = Some(msg);
        self.summary.final_at = Some(now);
        self.end(now);
        self.phase = Phase::Completed;
        for t in [
            Timer::A,
            Timer::B,
            Timer::Alert,
            Timer::Ring,
            Timer::CancelGiveUp,
        ] {
            self.timers.stop(t);
        }
        self.timers.set(Timer::Linger, now + self.cfg.linger);
    }

    /// Answer a 401/407 with a new INVITE (RFC 3261 §22.2: same Call-ID and
    /// From tag, CSeq + 1, new branch). At most one retry, plus one more when
    /// the server says the nonce was merely `stale`.
    fn try_authenticate(&mut self, now: Instant, msg: &Message, code: u16) -> bool {
        let Some(creds) = self.spec.credentials.clone() else {
            return false;
        };
        if self.hangup || self.summary.cancelled_by_us {
            return false;
        }
        let (challenge_header, answer_header) = if code == 401 {
            ("WWW-Authenticate", "Authorization")
        } else {
            ("Proxy-Authenticate", "Proxy-Authorization")
        };
        let Some(challenge) = Challenge::pick(msg.header_all(challenge_header)) else {
            return false;
        };
        let allowed = if challenge.stale { 2 } else { 1 };
        if self.auth_attempts >= allowed {
            return false;
        }
        self.auth_attempts += 1;
        let cnonce = format!("{:016x}", self.rng.r#gen::<u64>());
        let uri = self.spec.request_uri.to_string();
        let value = digest::authorization(
            &challenge,
            "INVITE",
            &uri,
            &creds.username,
            &creds.password,
            &cnonce,
            1,
        );
        let ack = self.invite.ack.take().unwrap_or_default();
        let old_branch =
            std::mem::replace(&mut self.invite.branch, Branch::generate(&mut self.rng));
        self.old.push((old_branch, self.invite.cseq, ack));
        self.invite.cseq += 1;
        self.invite.auth = Some((answer_header.to_string(), value));
        self.emit(Event::AuthRetry(code));
        self.send_invite(now);
        true
    }

    fn on_2xx(&mut self, now: Instant, msg: Message) {
        let to_tag = msg.to_tag().unwrap_or_default().to_string();
        if let Some(d) = self.dialogs.iter().find(|d| d.to_tag == to_tag) {
            // 2xx retransmission: repeat the same ACK (RFC 3261 §13.2.2.4).
            let ack = d.ack.clone();
            self.transmit(TxKind::Ack, ack, true);
            return;
        }
        // RFC 3261 §12.1.2: remote target from Contact, route set from
        // Record-Route reversed. We always send to the configured trunk
        // (outbound proxy), so the route set travels as Route headers.
        let target = msg
            .contact_uri()
            .and_then(|c| request::parse_uri(c).ok())
            .unwrap_or_else(|| self.spec.request_uri.clone());
        let mut extra: Vec<(String, String)> = msg
            .record_route()
            .iter()
            .rev()
            .map(|r| ("Route".to_string(), r.to_string()))
            .collect();
        if let Some(auth) = &self.invite.auth {
            extra.push(auth.clone());
        }
        let to = msg.header("To").unwrap_or(&self.to).to_string();
        let ack_branch = Branch::generate(&mut self.rng);
        let ack = request::build(&RequestSpec {
            extra: &extra,
            ..self.request(
                rsip::Method::Ack,
                &target,
                &ack_branch,
                &to,
                self.invite.cseq,
            )
        });
        let bye_branch = Branch::generate(&mut self.rng);
        let bye = request::build(&RequestSpec {
            extra: &extra,
            ..self.request(
                rsip::Method::Bye,
                &target,
                &bye_branch,
                &to,
                self.invite.cseq + 1,
            )
        });
        self.transmit(TxKind::Ack, ack.clone(), false);
        self.transmit(TxKind::Bye, bye.clone(), false);
        self.dialogs.push(Dialog {
            to_tag,
            ack,
            bye: NonInviteTx::new(bye_branch, bye, now, &self.cfg),
        });
        self.summary.answered_dialogs += 1;
        let first_2xx = !self
            .summary
            .final_response
            .as_ref()
            .is_some_and(|f| f.status().is_some_and(|c| (200..300).contains(&c)));
        if first_2xx {
            self.emit(Event::Final(msg.status().unwrap_or(200)));
            self.summary.final_response = Some(msg);
            self.summary.final_at = Some(now);
        }
        self.end(now);
        self.phase = Phase::Accepted;
        if let Some(tx) = &mut self.cancel {
            tx.next = None; // the INVITE completed; the CANCEL is moot
        }
        for t in [
            Timer::A,
            Timer::B,
            Timer::Alert,
            Timer::Ring,
            Timer::CancelGiveUp,
        ] {
            self.timers.stop(t);
        }
        // RFC 6026 Timer M would be 64·T1; we absorb forks for `linger`.
        self.timers.set(Timer::Linger, now + self.cfg.linger);
    }
}
