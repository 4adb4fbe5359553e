//! The built-in carrier lab: a real SIP far end (UAS over UDP) that answers
//! each INVITE the way a scripted carrier would — ring, answer, 603 Decline,
//! 603+ exactly as ATIS-1000099 describes, 608 with a jCard, 486, 503 with
//! Retry-After, silence — so ringwatch (or any dialer or SBC) can be tested
//! end to end on one machine with no trunk.
//!
//! One UDP socket serves every carrier. The carrier of an INVITE is the one
//! whose `destinations` list the Request-URI number (`Config::carrier_of`);
//! the caller ID is the P-Asserted-Identity number, else the From number.
//! The protocol core is [`uas::Uas`] (sans-IO, tested on virtual time); the
//! wire formats are in `wire.rs`; this file is the thin tokio shell:
//! [`start`] (a background task, for `[trunk] proxy = "lab"` and tests) and
//! [`serve`] (for the standalone `ringwatch lab`).
//!
//! # Behaviours (`[lab] default`, `behaviour`, `blocked_behaviour`, `random`)
//!
//! | name | on the wire (after `100 Trying`, `pdd_ms` later) |
//! |---|---|
//! | `ring` | `180 Ringing`; CANCEL → `200` + `487 Request Terminated`; none within `ring_timeout_seconds` → `480 Temporarily Unavailable` |
//! | `answer` | `180`, `alert_ms` later `200 OK` with SDP and Contact; ACK absorbed; BYE → `200` |
//! | `decline` | `603 Decline` |
//! | `decline_q850` | `603 Decline` + `Reason: Q.850;cause=21;text="Call Rejected"` (a 603+ flattened by TDM) |
//! | `network_blocked` | `603 Network Blocked` + `Reason: SIP;cause=603;text="v=analytics1;url=…;tel=…;email=…;id=…";location=RLN` |
//! | `network_blocked_q850` | the same with `Reason: Q.850;cause=21;text="v=analytics1;…";location=…` |
//! | `network_blocked_phrase_only` | `603 Network Blocked`, Reason stripped |
//! | `network_blocked_as_decline` | `603 Decline` with the ATIS Reason (phrase rewritten in transit) |
//! | `rejected` | `608 Rejected` + `Call-Info: <data:application/jose;base64,…>;purpose=jwscard` (JWS with a jCard of the redress contacts; placeholder signature) |
//! | `unwanted` | `607 Unwanted` |
//! | `forbidden` | `403 Forbidden` |
//! | `busy` | `486 Busy Here` |
//! | `unavailable` | `503 Service Unavailable` + `Retry-After: 120` |
//! | `not_found` | `404 Not Found` |
//! | `silence` | nothing, ever (not even to CANCEL) |
//!
//! With `alert_first = true` the rejecting behaviours send `180 Ringing`
//! first and their final `alert_ms` later. Every final is retransmitted
//! (T1 doubling to 4 s) until its ACK, for at most 64·T1 (`[call] t1_ms`).
//! A retransmitted INVITE gets the last response again. The ATIS `id` is
//! `{redress_id or "lab-<carrier>"}-{12 hex digits of SHA-256(Call-ID)}`.
//! Unparseable datagrams and responses are ignored and counted; OPTIONS gets
//! `200`; other methods `405`; requests for unknown calls `481`.
//!
//! # Configuration (`[lab]`, every key optional)
//!
//! ```toml
//! [lab]
//! listen = "127.0.0.1:5070"     # where `ringwatch lab` binds (IP:port; port 0 = any)
//! default = "ring"              # behaviour of carriers without a [[lab.carriers]] rule
//! unknown = "ring"              # destinations no carrier lists (default: `default`)
//! blocked_behaviour = "network_blocked"  # what blocked caller IDs get
//! alert_first = false           # 180 before rejecting finals
//! pdd_ms = 200                  # INVITE -> 180 (or -> final), 0..60000
//! alert_ms = 1000               # 180 -> 200 OK (answer) / final (alert_first), 0..120000
//! ring_timeout_seconds = 60     # `ring` -> 480 without CANCEL; also max answered-call hold
//! retry_after_seconds = 120     # Retry-After of `unavailable`, 0..86400
//! seed = 42                     # seeds random behaviours and tags (default: clock)
//! redress_url = "https://redress.example.com/ringwatch-lab"  # "" omits it
//! redress_tel = "+18005550199"                               # "" omits it
//! redress_email = "redress@example.com"                      # "" omits it
//! redress_id = "blk"            # ATIS id prefix, [A-Za-z0-9_-]{1,40}; default lab-<carrier>
//! location = "RLN"              # RFC 8606 location after the Reason text
//! random = { busy = 0.05 }      # default for carriers without their own `random`
//!
//! [[lab.carriers]]
//! name = "att"                  # a [[carriers]] name
//! behaviour = "ring"
//! block = ["+13125550101"]      # caller IDs this carrier blocks...
//! blocked_behaviour = "network_blocked"  # ...with this
//! random = { network_blocked = 0.1 }     # probability of another behaviour
//! # alert_first, pdd_ms, redress_url, redress_tel, redress_email,
//! # redress_id and location override the [lab] values per carrier.
//! ```

pub mod uas;
mod wire;

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock;
use crate::config::Config;

pub use crate::config::{LabBehaviour, LabRule, LabSettings};
pub use uas::{Ignored, LabEvent, LabStats, Transmit, Uas, Why};

/// Largest datagram accepted.
const MAX_DATAGRAM: usize = 65_535;

/// A lab running as a background task. Dropping the handle stops it; use
/// [`LabHandle::stop`] to stop it and read its counters.
#[derive(Debug)]
pub struct LabHandle {
    /// The address the lab listens on: point the trunk (or a dialer) here.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<LabStats>>>,
}

impl LabHandle {
    /// Stop the lab and wait for its task; returns its counters.
    pub async fn stop(mut self) -> io::Result<LabStats> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(LabStats::default()),
        }
    }
}

impl Drop for LabHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Bind `listen` (port 0 picks a free port) and serve the lab scripted by
/// `cfg` on a task of the current tokio runtime.
pub async fn start(cfg: &Config, listen: SocketAddr) -> io::Result<LabHandle> {
    let socket = UdpSocket::bind(listen).await?;
    let addr = socket.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let cfg = cfg.clone();
    let task = tokio::spawn(async move {
        serve(&cfg, socket, async {
            let _ = stopped.await;
        })
        .await
    });
    Ok(LabHandle {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

/// Serve the lab on `socket` until `shutdown` completes; returns the
/// counters. Each new call is logged at info level (carrier, caller,
/// destination, behaviour, Call-ID). Send and receive errors are logged and
/// survived: a far end does not die of one bad peer.
pub async fn serve(
    cfg: &Config,
    socket: UdpSocket,
    shutdown: impl Future<Output = ()>,
) -> io::Result<LabStats> {
    let local = socket.local_addr()?;
    let rng = match cfg.lab.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => clock::rng(),
    };
    let mut uas = Uas::new(cfg, local, rng);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    tokio::pin!(shutdown);
    loop {
        while let Some(t) = uas.poll_transmit() {
            if let Err(err) = socket.send_to(&t.data, t.to).await {
                tracing::debug!(to = %t.to, error = %err, "lab send failed");
            }
        }
        while let Some(event) = uas.poll_event() {
            log(&event);
        }
        let deadline = uas.poll_timeout();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut shutdown => break,
            received = socket.recv_from(&mut buf) => match received {
                Ok((len, from)) => uas.handle_datagram(clock::now(), from, &buf[..len]),
                Err(err) => tracing::debug!(error = %err, "lab receive error ignored"),
            },
            () = sleep => uas.handle_timeout(clock::now()),
        }
    }
    let stats = uas.stats();
    tracing::info!(
        calls = stats.calls,
        retransmissions = stats.retransmissions,
        ignored = stats.ignored,
        overloaded = stats.overloaded,
        "lab stopped"
    );
    Ok(stats)
}

fn log(event: &LabEvent) {
    match event {
        LabEvent::Call {
            call_id,
            peer,
            carrier,
            destination,
            caller,
            behaviour,
            why,
        } => tracing::info!(
            carrier = carrier.as_deref().unwrap_or("-"),
            caller = caller.as_ref().map_or("-", |c| c.as_str()),
            destination = destination.as_ref().map_or("-", |d| d.as_str()),
            behaviour = behaviour.as_str(),
            why = why.as_str(),
            %call_id,
            %peer,
            "lab call"
        ),
        LabEvent::Final { call_id, code } => tracing::debug!(%call_id, code, "lab final"),
        LabEvent::Cancelled { call_id } => tracing::debug!(%call_id, "lab call cancelled"),
        LabEvent::Bye { call_id } => tracing::debug!(%call_id, "lab call hung up"),
        LabEvent::Ignored { peer, why } => {
            tracing::debug!(%peer, why = ?why, "lab ignored a datagram");
        }
    }
}

#[cfg(test)]
mod e2e;
