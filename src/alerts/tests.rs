//! Alert delivery against a local HTTP receiver (a `TcpListener` on
//! 127.0.0.1:0 in a thread, scripted to answer 500, 429 with Retry-After,
//! 404 or nothing at all), plus the fixtures the other test modules share.
//! The retry schedule itself is tested on virtual time in `backoff.rs`.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{AlertStats, Alerter, Backoff, Policy, StateChange};
use crate::classify::Outcome;
use crate::clock;
use crate::config::{AlertSettings, Webhook};
use crate::reputation::{
    Attribution, AttributionEvidence, CarrierReport, OutcomeCounts, Rates, Redress, State,
};

/// A blocked-at-verizon report for the fixtures.
pub(crate) fn report() -> CarrierReport {
    let mut counts = OutcomeCounts::new();
    counts.add(Outcome::NetworkBlocked, 1);
    CarrierReport {
        carrier: "verizon".into(),
        configured: true,
        state: State::Blocked,
        attribution: Some(Attribution::Number),
        since: Some("2025-06-01T13:59:58.120Z".into()),
        last_outcome: Some(Outcome::NetworkBlocked),
        last_status: Some(603),
        last_at: Some("2025-06-01T13:59:58.120Z".into()),
        last_probe_id: Some("01a2b3c4".into()),
        last_evidence_at: Some("2025-06-01T13:59:58.120Z".into()),
        fresh: true,
        counts,
        probes: 1,
        rates: Rates {
            asr: Some(0.0),
            ner: Some(0.0),
            alert: Some(0.0),
        },
        redress: Redress {
            url: vec!["https://redress.example/v?id=7".into()],
            tel: vec!["+18005550100".into()],
            email: vec!["fix@example.net".into()],
        },
        locations: vec!["ntwk".into()],
        incidents: Vec::new(),
        timeline: "X".into(),
        evidence: AttributionEvidence {
            own_failures: 1,
            others_probes: 4,
            others_alerting: 4,
            ..AttributionEvidence::default()
        },
        reason: "603+ from verizon while other caller IDs ring there".into(),
    }
}

/// A change of `number` at verizon.
pub(crate) fn change(number: &str, from: State, to: State) -> StateChange {
    StateChange {
        number: number.into(),
        label: Some("sales-east".into()),
        carrier: "verizon".into(),
        from,
        to,
        at: "2025-06-01T14:00:00.000Z".into(),
        report: report(),
    }
}

fn numbered(i: usize) -> StateChange {
    change(&format!("+1202555{:04}", i), State::Unknown, State::Blocked)
}

/// What the receiver answers to one request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    RetryAfter(u16, u64),
    /// Read the request, then never answer (the connection stays open).
    Hang,
}

#[derive(Debug)]
struct Received {
    method: String,
    content_type: String,
    body: Value,
    at: Instant,
}

struct Receiver {
    url: String,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Answer requests in order from `script`, then 200 forever.
    fn start(script: &[Reply]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/hooks/T000?token=secret",
            listener.local_addr().expect("addr")
        );
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&log);
        let mut script: VecDeque<Reply> = script.iter().copied().collect();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(req) = read_request(&mut stream) else {
                    continue;
                };
                shared.lock().expect("log").push(req);
                let (code, extra) = match script.pop_front().unwrap_or(Reply::Status(200)) {
                    Reply::Hang => {
                        held.push(stream);
                        continue;
                    }
                    Reply::Status(code) => (code, String::new()),
                    Reply::RetryAfter(code, secs) => (code, format!("Retry-After: {secs}\r\n")),
                };
                let head = format!(
                    "HTTP/1.1 {code} Scripted\r\nContent-Length: 2\r\nConnection: close\r\n{extra}\r\nno"
                );
                let _ = stream.write_all(head.as_bytes());
            }
        });
        Receiver { url, log }
    }

    fn numbers(&self) -> Vec<String> {
        let log = self.log.lock().expect("log");
        log.iter()
            .map(|r| r.body["number"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    fn count(&self) -> usize {
        self.log.lock().expect("log").len()
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let method = lines.next()?.split(' ').next()?.to_string();
    let mut length = 0usize;
    let mut content_type = String::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                "content-type" => content_type = value.trim().to_string(),
                _ => {}
            }
        }
    }
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
    Some(Received {
        method,
        content_type,
        body,
        at: clock::now(),
    })
}

fn fast() -> Policy {
    Policy {
        backoff: Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(100),
            max_attempts: 8,
            retry_after_cap: Duration::from_secs(2),
        },
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
    }
}

fn settings(urls: &[&str], queue: usize) -> AlertSettings {
    AlertSettings {
        webhooks: urls
            .iter()
            .map(|u| Webhook {
                url: (*u).to_string(),
            })
            .collect(),
        queue,
    }
}

/// Poll `cond` (every 5 ms, at most 10 s); true when it held.
async fn eventually(alerter: &Alerter, cond: impl Fn(&AlertStats) -> bool) -> bool {
    for _ in 0..2000 {
        if cond(&alerter.stats()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

/// A local port nothing listens on (connections are refused).
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}/hook")
}

#[tokio::test]
async fn a_change_is_delivered_once_with_the_right_json() {
    let rx = Receiver::start(&[]);
    let alerter = Alerter::start_with(&settings(&[&rx.url], 10), fast());
    alerter.send(change("+12025550143", State::Unknown, State::Blocked));
    assert!(
        eventually(&alerter, |s| s.delivered == 1).await,
        "{:?}",
        alerter.stats()
    );
    let stats = alerter.stats();
    alerter.shutdown(Duration::from_secs(1)).await;
    assert_eq!(
        stats,
        AlertStats {
            queued: 0,
            delivered: 1,
            failed_attempts: 0,
            dropped: 0,
            abandoned: 0
        }
    );
    let log = rx.log.lock().expect("log");
    assert_eq!(log.len(), 1);
    let req = &log[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.content_type, "application/json");
    let text = req.body["text"].as_str().expect("text");
    assert!(
        text.contains("+12025550143") && text.contains("verizon") && text.contains("BLOCKED"),
        "{text}"
    );
    assert_eq!(req.body["event"], "state_change");
    assert_eq!(req.body["from"], "unknown");
    assert_eq!(req.body["to"], "blocked");
    assert_eq!(req.body["attribution"], "number");
    assert_eq!(req.body["last_outcome"], "network_blocked");
    assert_eq!(req.body["last_status"], 603);
    assert_eq!(req.body["last_probe_id"], "01a2b3c4");
    assert_eq!(req.body["redress"]["tel"][0], "+18005550100");
    assert_eq!(req.body["locations"][0], "ntwk");
    assert_eq!(req.body["evidence"]["others_alerting"], 4);
}

#[tokio::test]
async fn every_webhook_gets_every_change() {
    let (a, b) = (Receiver::start(&[]), Receiver::start(&[]));
    let alerter = Alerter::start_with(&settings(&[&a.url, &b.url], 10), fast());
    alerter.send(numbered(1));
    alerter.send(numbered(2));
    assert!(
        eventually(&alerter, |s| s.delivered == 4).await,
        "{:?}",
        alerter.stats()
    );
    alerter.shutdown(Duration::from_secs(1)).await;
    assert_eq!(a.numbers(), ["+12025550001", "+12025550002"]);
    assert_eq!(b.numbers(), a.numbers());
}

#[tokio::test]
async fn server_errors_are_retried_and_order_is_kept() {
    use Reply::Status;
    let rx = Receiver::start(&[Status(500), Status(503), Status(502)]);
    let alerter = Alerter::start_with(&settings(&[&rx.url], 10), fast());
    for i in 1..=3 {
        alerter.send(numbered(i));
    }
    assert!(
        eventually(&alerter, |s| s.delivered == 3).await,
        "{:?}",
        alerter.stats()
    );
    let stats = alerter.stats();
    alerter.shutdown(Duration::from_secs(1)).await;
    assert_eq!(
        (stats.failed_attempts, stats.abandoned, stats.queued),
        (3, 0, 0)
    );
    assert_eq!(
        rx.numbers(),
        [
            "+12025550001",
            "+12025550001",
            "+12025550001",
            "+12025550001",
            "+12025550002",
            "+12025550003"
        ]
    );
}

#[tokio::test]
async fn not_found_is_not_retried_and_is_counted() {
    let rx = Receiver::start(&[Reply::Status(404)]);
    let alerter = Alerter::start_with(&settings(&[&rx.url], 10), fast());
    alerter.send(numbered(1));
    alerter.send(numbered(2));
    assert!(
        eventually(&alerter, |s| s.delivered == 1 && s.abandoned == 1).await,
        "{:?}",
        alerter.stats()
    );
    let stats = alerter.stats();
    alerter.shutdown(Duration::from_secs(1)).await;
    assert_eq!(stats.failed_attempts, 1);
    assert_eq!(rx.numbers(), ["+12025550001", "+12025550002"]);
}

#[tokio::test]
async fn retry_after_on_429_is_honoured() {
    let rx = Receiver::start(&[Reply::RetryAfter(429, 1)]);
    let alerter = Alerter::start_with(&settings(&[&rx.url], 10), fast());
    alerter.send(numbered(1));
    assert!(
        eventually(&alerter, |s| s.delivered == 1).await,
        "{:?}",
        alerter.stats()
    );
    alerter.shutdown(Duration::from_secs(1)).await;
    let log = rx.log.lock().expect("log");
    assert_eq!(log.len(), 2);
    let gap = log[1].at.saturating_duration_since(log[0].at);
    // The backoff alone would have retried after ~10 ms.
    assert!(gap >= Duration::from_millis(950), "{gap:?}");
}

#[tokio::test]
async fn a_full_queue_drops_the_oldest_without_blocking() {
    let url = refused_url();
    let slow = Policy {
        backoff: Backoff::default(),
        ..fast()
    };
    let alerter = Alerter::start_with(&settings(&[&url], 3), slow);
    let t0 = clock::now();
    for i in 1..=8 {
        alerter.send(numbered(i));
    }
    let took = clock::now().saturating_duration_since(t0);
    assert!(
        took < Duration::from_millis(500),
        "send blocked for {took:?}"
    );
    let stats = alerter.stats();
    assert_eq!((stats.dropped, stats.queued, stats.delivered), (5, 3, 0));
    let left: Vec<String> = alerter
        .queued_bodies(0)
        .iter()
        .map(|body| {
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            v["number"].as_str().unwrap_or("?").to_string()
        })
        .collect();
    assert_eq!(left, ["+12025550006", "+12025550007", "+12025550008"]);
    assert!(eventually(&alerter, |s| s.failed_attempts >= 1).await);
    let t0 = clock::now();
    alerter.shutdown(Duration::from_millis(100)).await;
    assert!(clock::now().saturating_duration_since(t0) < Duration::from_secs(1));
}

#[tokio::test]
async fn shutdown_flushes_what_is_queued() {
    let rx = Receiver::start(&[Reply::Status(500)]);
    let alerter = Alerter::start_with(&settings(&[&rx.url], 10), fast());
    for i in 1..=5 {
        alerter.send(numbered(i));
    }
    let t0 = clock::now();
    alerter.shutdown(Duration::from_secs(5)).await;
    let took = clock::now().saturating_duration_since(t0);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let numbers = rx.numbers();
    assert_eq!(numbers.len(), 6, "{numbers:?}");
    assert_eq!(numbers[5], "+12025550005");
}

#[tokio::test]
async fn a_silent_receiver_does_not_hold_shutdown_beyond_grace() {
    let rx = Receiver::start(&[Reply::Hang]);
    let patient = Policy {
        timeout: Duration::from_secs(60),
        ..fast()
    };
    let alerter = Alerter::start_with(&settings(&[&rx.url], 10), patient);
    alerter.send(numbered(1));
    alerter.send(numbered(2));
    for _ in 0..2000 {
        if rx.count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(rx.count(), 1);
    let t0 = clock::now();
    alerter.shutdown(Duration::from_millis(300)).await;
    let took = clock::now().saturating_duration_since(t0);
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[tokio::test]
async fn without_webhooks_nothing_happens() {
    let alerter = Alerter::start(&AlertSettings::default());
    alerter.send(numbered(1));
    assert_eq!(alerter.stats(), AlertStats::default());
    alerter.shutdown(Duration::from_secs(10)).await;
}

#[test]
fn alerter_can_be_shared_across_tasks() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Alerter>();
}
