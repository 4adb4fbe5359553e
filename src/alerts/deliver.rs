//! The delivery shell: one bounded queue and one OS thread per webhook, each
//! thread POSTing its queue's changes in order with `ureq` (blocking) and
//! following [`Backoff`] between attempts.
//!
//! Threads rather than tokio tasks: `ureq` blocks, and a `spawn_blocking`
//! task stuck on an unresponsive receiver would hold up the runtime's own
//! shutdown. A delivery thread that outlives [`Alerter::shutdown`] ends by
//! itself at its next check, or when its request times out.
//!
//! The queue bound includes the change being delivered: a full queue evicts
//! its oldest entry even while it is in flight (that thread then stops
//! retrying it), so `dropped` is exact and never depends on timing.
//! Never logs a URL (only [`host_of`] it) nor a response body (never read).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rand::Rng;
use rand::rngs::StdRng;
use serde::Serialize;
use tokio::sync::oneshot;
use tracing::{debug, error, warn};

use super::backoff::{Attempt, Backoff, GiveUp, JITTER_MAX, Step, parse_retry_after};
use super::{StateChange, payload};
use crate::clock;
use crate::config::AlertSettings;

/// How deliveries are made: the retry schedule and the HTTP timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Retry schedule and attempt limit.
    pub backoff: Backoff,
    /// TCP (and TLS) connect timeout (default 5 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout, connect included (default 10 s).
    pub timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Delivery counters, summed over all webhooks (a change sent to two
/// webhooks counts twice). All but `queued` only grow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AlertStats {
    /// Changes waiting in the queues now, those being delivered included.
    pub queued: u64,
    /// Changes a webhook accepted (2xx).
    pub delivered: u64,
    /// Attempts that did not get a 2xx (network error, timeout, non-2xx).
    pub failed_attempts: u64,
    /// Changes evicted, oldest first, because a queue was full.
    pub dropped: u64,
    /// Changes given up: rejected (4xx other than 429, 3xx) or still
    /// failing after the last attempt.
    pub abandoned: u64,
}

/// Sends state changes to the configured webhooks without ever blocking the
/// caller. Dropping it stops the delivery threads at their next check; call
/// [`Alerter::shutdown`] to flush first.
pub struct Alerter {
    hooks: Vec<Hook>,
    capacity: usize,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Alerter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerter")
            .field(
                "webhooks",
                &self
                    .hooks
                    .iter()
                    .map(|h| h.host.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("capacity", &self.capacity)
            .field("stats", &self.stats())
            .finish()
    }
}

struct Hook {
    host: String,
    slot: Arc<Slot>,
    /// Resolves (with an error) when the delivery thread has ended.
    done: Option<oneshot::Receiver<()>>,
}

struct Entry {
    seq: u64,
    body: Arc<[u8]>,
}

#[derive(Default)]
struct Queue {
    entries: VecDeque<Entry>,
    next_seq: u64,
    /// No more sends; the thread ends once the queue is empty or `deadline` passed.
    closed: bool,
    /// While closed: when to stop trying (`None`: no limit).
    deadline: Option<Instant>,
}

impl Queue {
    fn expired(&self, now: Instant) -> bool {
        self.closed && self.deadline.is_some_and(|d| now >= d)
    }
}

#[derive(Default)]
struct Slot {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while holding the lock; if something ever did, the
        // queue is still structurally sound, so keep going.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    failed_attempts: AtomicU64,
    dropped: AtomicU64,
    abandoned: AtomicU64,
}

fn bump(c: &AtomicU64) -> u64 {
    c.fetch_add(1, Ordering::Relaxed).saturating_add(1)
}

impl Alerter {
    /// Start one delivery thread per webhook in `settings`, with the
    /// default [`Policy`] (1 s doubling backoff up to 5 min, 8 attempts,
    /// 5 s connect and 10 s request timeouts). With no webhooks it starts
    /// nothing and [`send`](Self::send) does nothing.
    #[must_use]
    pub fn start(settings: &AlertSettings) -> Alerter {
        Self::start_with(settings, Policy::default())
    }

    /// [`start`](Self::start) with an explicit policy (tests use a 10 ms base).
    #[must_use]
    pub fn start_with(settings: &AlertSettings, policy: Policy) -> Alerter {
        let counters = Arc::new(Counters::default());
        let hooks = settings
            .webhooks
            .iter()
            .enumerate()
            .map(|(i, hook)| {
                let host = host_of(&hook.url);
                let slot = Arc::new(Slot::default());
                let worker = Worker {
                    url: hook.url.clone(),
                    host: host.clone(),
                    agent: agent(&policy),
                    policy,
                    slot: Arc::clone(&slot),
                    counters: Arc::clone(&counters),
                    rng: clock::rng(),
                };
                let (tx, rx) = oneshot::channel::<()>();
                let spawned = std::thread::Builder::new()
                    .name(format!("ringwatch-alerts-{i}"))
                    .spawn(move || {
                        worker.run();
                        drop(tx);
                    });
                let done = match spawned {
                    Ok(_) => Some(rx),
                    Err(e) => {
                        error!(webhook = %host, "alerts: cannot start the delivery thread: {e}");
                        None
                    }
                };
                Hook { host, slot, done }
            })
            .collect();
        Alerter {
            hooks,
            capacity: settings.queue.max(1),
            counters,
        }
    }

    /// Queue a change for every webhook. Never blocks on the network: when
    /// a webhook's queue is full, its oldest change is dropped and counted.
    pub fn send(&self, change: StateChange) {
        if self.hooks.is_empty() {
            return;
        }
        let body: Arc<[u8]> = match serde_json::to_vec(&payload(&change)) {
            Ok(b) => b.into(),
            Err(e) => {
                error!("alerts: cannot encode a state change: {e}");
                return;
            }
        };
        for hook in &self.hooks {
            let mut q = hook.slot.lock();
            if q.closed {
                continue;
            }
            while q.entries.len() >= self.capacity {
                q.entries.pop_front();
                let total = bump(&self.counters.dropped);
                // Warn on the 1st, 2nd, 4th, 8th … drop: a flood must not flood the log too.
                if total.is_power_of_two() {
                    warn!(webhook = %hook.host, dropped_total = total, "alerts: queue full, dropped the oldest change");
                } else {
                    debug!(webhook = %hook.host, dropped_total = total, "alerts: queue full, dropped the oldest change");
                }
            }
            let seq = q.next_seq;
            q.next_seq = q.next_seq.wrapping_add(1);
            q.entries.push_back(Entry {
                seq,
                body: Arc::clone(&body),
            });
            drop(q);
            hook.slot.wake.notify_all();
        }
    }

    /// The delivery counters now.
    #[must_use]
    pub fn stats(&self) -> AlertStats {
        let queued = self
            .hooks
            .iter()
            .map(|h| u64::try_from(h.slot.lock().entries.len()).unwrap_or(u64::MAX))
            .fold(0u64, u64::saturating_add);
        let c = &self.counters;
        AlertStats {
            queued,
            delivered: c.delivered.load(Ordering::Relaxed),
            failed_attempts: c.failed_attempts.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            abandoned: c.abandoned.load(Ordering::Relaxed),
        }
    }

    /// The bodies queued for webhook `i`, oldest first (tests only).
    #[cfg(test)]
    pub(super) fn queued_bodies(&self, i: usize) -> Vec<Arc<[u8]>> {
        self.hooks
            .get(i)
            .map(|h| {
                h.slot
                    .lock()
                    .entries
                    .iter()
                    .map(|e| Arc::clone(&e.body))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Stop accepting changes, keep delivering what is queued for at most
    /// `grace`, then stop. Returns within `grace` (plus scheduling noise)
    /// even when a receiver never answers; what is left undelivered is
    /// logged and lost.
    pub async fn shutdown(mut self, grace: Duration) {
        let deadline = clock::now().checked_add(grace);
        for hook in &self.hooks {
            let mut q = hook.slot.lock();
            q.closed = true;
            q.deadline = deadline;
            drop(q);
            hook.slot.wake.notify_all();
        }
        let waits: Vec<_> = self
            .hooks
            .iter_mut()
            .filter_map(|h| h.done.take())
            .collect();
        let all = async move {
            for rx in waits {
                let _ = rx.await;
            }
        };
        let _ = tokio::time::timeout(grace, all).await;
        let left = self.stats().queued;
        if left > 0 {
            warn!(
                undelivered = left,
                "alerts: shutting down with undelivered state changes"
            );
        }
        // Drop sets the deadline to now: any thread still running stops at its next check.
    }
}

impl Drop for Alerter {
    fn drop(&mut self) {
        let now = clock::now();
        for hook in &self.hooks {
            let mut q = hook.slot.lock();
            q.closed = true;
            q.deadline = Some(q.deadline.map_or(now, |d| d.min(now)));
            drop(q);
            hook.slot.wake.notify_all();
        }
    }
}

/// The part of a webhook URL that is safe to log: `host` or `host:port`,
/// never the user info, path or query (which may carry a token).
#[must_use]
pub fn host_of(url: &str) -> String {
    match url.parse::<ureq::http::Uri>() {
        Ok(uri) => match (uri.host(), uri.port_u16()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => "(no host)".to_string(),
        },
        Err(_) => "(invalid url)".to_string(),
    }
}

fn agent(policy: &Policy) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(policy.connect_timeout))
        .timeout_global(Some(policy.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("ringwatch/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

/// POST `body` to `url` once; never reads the response body.
fn post(agent: &ureq::Agent, url: &str, body: &[u8], timeout: Duration) -> (Attempt, String) {
    let sent = agent
        .post(url)
        .header("content-type", "application/json")
        .config()
        .timeout_global(Some(timeout))
        .build()
        .send(body);
    match sent {
        Ok(resp) => {
            let code = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            (
                Attempt::Status { code, retry_after },
                format!("status {code}"),
            )
        }
        Err(e) => classify(&e),
    }
}

/// A ureq error as an attempt result and a description safe to log (no
/// URL, nothing from the response).
fn classify(e: &ureq::Error) -> (Attempt, String) {
    use ureq::Error as E;
    let unsendable = |what: &str| (Attempt::Unsendable, what.to_string());
    let transport = |what: String| (Attempt::Transport, what);
    match e {
        E::BadUri(_) | E::Http(_) => unsendable("invalid url"),
        E::RequireHttpsOnly(_) | E::TlsRequired => unsendable("https required"),
        E::InvalidProxyUrl => unsendable("invalid proxy url"),
        E::Timeout(t) => transport(format!("timeout ({t})")),
        E::HostNotFound => transport("host not found".into()),
        E::ConnectionFailed => transport("connection failed".into()),
        E::Io(io) => transport(format!("i/o error: {:?}", io.kind())),
        E::Tls(what) => transport(format!("tls error: {what}")),
        E::Rustls(err) => transport(format!("tls error: {err}")),
        E::Protocol(_) => transport("malformed response".into()),
        E::ConnectProxyFailed(_) => transport("proxy connect failed".into()),
        _ => transport("request failed".into()),
    }
}

struct Worker {
    url: String,
    host: String,
    agent: ureq::Agent,
    policy: Policy,
    slot: Arc<Slot>,
    counters: Arc<Counters>,
    rng: StdRng,
}

impl Worker {
    fn run(mut self) {
        while let Some((seq, body)) = self.next() {
            self.deliver(seq, &body);
        }
        debug!(webhook = %self.host, "alerts: delivery thread stopped");
    }

    /// The oldest queued change (left in the queue while in flight), or
    /// `None` when it is time to stop.
    fn next(&self) -> Option<(u64, Arc<[u8]>)> {
        let mut q = self.slot.lock();
        loop {
            if q.expired(clock::now()) || (q.closed && q.entries.is_empty()) {
                return None;
            }
            if let Some(e) = q.entries.front() {
                return Some((e.seq, Arc::clone(&e.body)));
            }
            q = self
                .slot
                .wake
                .wait(q)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Deliver one change: attempts and waits until it is delivered, given
    /// up, evicted, or the shutdown deadline passes.
    fn deliver(&mut self, seq: u64, body: &[u8]) {
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            let Some(timeout) = self.attempt_timeout() else {
                return;
            };
            let (result, what) = post(&self.agent, &self.url, body, timeout);
            let jitter = self.rng.gen_range(0..=JITTER_MAX);
            let step = self.policy.backoff.step(attempt, result, jitter);
            if step != Step::Delivered {
                bump(&self.counters.failed_attempts);
            }
            match step {
                Step::Delivered => {
                    bump(&self.counters.delivered);
                    let _ = self.finish(seq);
                    return;
                }
                Step::GiveUp(why) => {
                    // An entry evicted while in flight is already counted as dropped.
                    if self.finish(seq) {
                        bump(&self.counters.abandoned);
                    }
                    let why = match why {
                        GiveUp::Rejected(_) => "rejected, not retrying",
                        GiveUp::Exhausted => "still failing after the last attempt",
                        GiveUp::Unsendable => "cannot be sent",
                    };
                    warn!(webhook = %self.host, attempt, last = %what, "alerts: state change given up: {why}");
                    return;
                }
                Step::Retry(wait) => {
                    debug!(webhook = %self.host, attempt, last = %what, retry_in_ms = wait.as_millis(), "alerts: delivery failed, will retry");
                    if !self.wait_retry(seq, wait) {
                        return;
                    }
                }
            }
        }
    }

    /// The timeout of the next attempt: the policy's, cut to what is left
    /// of the shutdown grace; `None` when that is gone.
    fn attempt_timeout(&self) -> Option<Duration> {
        let q = self.slot.lock();
        let now = clock::now();
        match (q.closed, q.deadline) {
            (true, Some(deadline)) => {
                let left = deadline.saturating_duration_since(now);
                (!left.is_zero()).then(|| left.min(self.policy.timeout))
            }
            _ => Some(self.policy.timeout),
        }
    }

    /// Wait `wait` before retrying `seq`. False when the change was evicted
    /// meanwhile or the shutdown deadline passed (stop retrying it).
    fn wait_retry(&self, seq: u64, wait: Duration) -> bool {
        let retry_at = clock::now().checked_add(wait);
        let mut q = self.slot.lock();
        loop {
            let now = clock::now();
            if q.entries.front().map(|e| e.seq) != Some(seq) || q.expired(now) {
                return false;
            }
            let until = match (retry_at, q.deadline.filter(|_| q.closed)) {
                (Some(r), Some(d)) => Some(r.min(d)),
                (r, d) => r.or(d),
            };
            if retry_at.is_some_and(|r| now >= r) {
                return true;
            }
            q = match until {
                Some(until) => {
                    let (guard, _) = self
                        .slot
                        .wake
                        .wait_timeout(q, until.saturating_duration_since(now))
                        .unwrap_or_else(PoisonError::into_inner);
                    guard
                }
                None => self
                    .slot
                    .wake
                    .wait(q)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    /// Remove `seq` from the queue; false when it was evicted meanwhile.
    fn finish(&self, seq: u64) -> bool {
        let mut q = self.slot.lock();
        let queued = q.entries.front().map(|e| e.seq) == Some(seq);
        if queued {
            q.entries.pop_front();
        }
        queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_is_logged() {
        assert_eq!(
            host_of("https://hooks.slack.com/services/T0/B0/secret"),
            "hooks.slack.com"
        );
        assert_eq!(
            host_of("http://user:pw@10.0.0.5:8080/x?token=abc"),
            "10.0.0.5:8080"
        );
        assert_eq!(host_of("http://[::1]:9/hook"), "[::1]:9");
        assert_eq!(host_of("not a url"), "(invalid url)");
        assert_eq!(host_of("/relative?token=abc"), "(no host)");
    }

    /// TLS is compiled in with a crypto provider: an https POST to a local
    /// port that accepts and hangs up fails as a transport error (retried),
    /// not a panic or an "unsendable" configuration error.
    #[test]
    fn https_posts_reach_the_tls_handshake() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1) {
                drop(stream);
            }
        });
        let policy = Policy::default();
        let (result, what) = post(
            &agent(&policy),
            &format!("https://{addr}/hook"),
            b"{}",
            Duration::from_secs(5),
        );
        assert_eq!(result, Attempt::Transport, "{what}");
    }

    #[test]
    fn a_bad_url_is_not_retried() {
        let (result, what) = post(
            &agent(&Policy::default()),
            "http://exa mple.com/",
            b"{}",
            Duration::from_secs(1),
        );
        assert_eq!(result, Attempt::Unsendable, "{what}");
    }
}
