//! Unit tests of `http`: the pure renderers on hand-built snapshots, and
//! routing/auth through `serve` on `127.0.0.1:0` with a raw HTTP/1.1 client.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};

use super::*;
use crate::classify::Outcome;
use crate::daemon::snapshot::{Metrics, PddHistogram};
use crate::probe::ProbeRecord;
use crate::reputation::NumberReport;
use crate::testkit::{self, Redress, params, rec, state_of, with_redress};

const N1: &str = "+12025550143";
const N2: &str = "+13125550199";
const CARRIERS: [&str; 3] = ["att", "tmobile", "verizon"];
const HOSTILE_URL: &str = "https://x/\"><script>alert(1)</script>";

fn ring(number: &str, carrier: &str, h: i64) -> ProbeRecord {
    rec(number, carrier, h, Outcome::Ringing, Some(487))
}

fn block(number: &str, carrier: &str, h: i64, url: &str) -> ProbeRecord {
    with_redress(
        rec(number, carrier, h, Outcome::NetworkBlocked, Some(603)),
        Redress {
            url,
            tel: "+18005550100",
            email: Some("redress@example.net"),
            id: "abc",
        },
    )
}

fn report(number: &str, own: &[ProbeRecord]) -> NumberReport {
    testkit::report(number, &CARRIERS, own, &[], &params())
}

/// 2 numbers × 3 carriers: N1 blocked (603+, hostile redress URL) at att,
/// clean at tmobile, suspect (607) at verizon; N2 clean, clean, unknown.
fn snapshot() -> Snapshot {
    let n1 = report(
        N1,
        &[
            ring(N1, "att", 1),
            ring(N1, "att", 2),
            block(N1, "att", 3, HOSTILE_URL),
            ring(N1, "tmobile", 1),
            rec(N1, "verizon", 2, Outcome::Unwanted, Some(607)),
        ],
    );
    let n2 = report(
        N2,
        &[
            ring(N2, "att", 1),
            ring(N2, "tmobile", 2),
            rec(N2, "verizon", 3, Outcome::Timeout, None),
        ],
    );
    let mut pdd = PddHistogram::default();
    for s in [0.3, 1.5, 4.0] {
        pdd.observe(s);
    }
    let mut probes_total = BTreeMap::new();
    probes_total.insert(
        "att".to_owned(),
        BTreeMap::from([("network_blocked".to_owned(), 1), ("ringing".to_owned(), 3)]),
    );
    testkit::snapshot(
        "2025-11-21T08:00:00.000Z",
        &CARRIERS,
        vec![(N1, Some("Sales <West> & \"Co\""), n1), (N2, None, n2)],
        Metrics {
            probes_total,
            pdd_seconds: BTreeMap::from([("att".to_owned(), pdd)]),
            number_state: BTreeMap::new(),
            scheduler_lag_seconds: 0.25,
            trunk_paused: true,
            calls_in_flight: 2,
            alerts_queued: 1,
            alerts_dropped: 0,
        },
    )
}

#[test]
fn fixture_has_the_intended_states() {
    let s = snapshot();
    assert_eq!(state_of(&s, N1, "att"), "blocked");
    assert_eq!(state_of(&s, N1, "tmobile"), "clean");
    assert_eq!(state_of(&s, N1, "verizon"), "suspect");
    assert_eq!(state_of(&s, N2, "att"), "clean");
    assert_eq!(state_of(&s, N2, "tmobile"), "clean");
    assert_eq!(state_of(&s, N2, "verizon"), "unknown");
}

// ---------------------------------------------------------------- metrics

#[test]
fn metrics_exact_exposition() {
    let got = render_metrics(&snapshot(), false);
    let want = r#"# HELP ringwatch_probes_total Test calls finished since the daemon started, by carrier and outcome.
# TYPE ringwatch_probes_total counter
ringwatch_probes_total{carrier="att",outcome="network_blocked"} 1
ringwatch_probes_total{carrier="att",outcome="ringing"} 3
# HELP ringwatch_pdd_seconds Post-dial delay (INVITE to the first 180/183) per carrier.
# TYPE ringwatch_pdd_seconds histogram
ringwatch_pdd_seconds_bucket{carrier="att",le="0.1"} 0
ringwatch_pdd_seconds_bucket{carrier="att",le="0.25"} 0
ringwatch_pdd_seconds_bucket{carrier="att",le="0.5"} 1
ringwatch_pdd_seconds_bucket{carrier="att",le="1"} 1
ringwatch_pdd_seconds_bucket{carrier="att",le="2"} 2
ringwatch_pdd_seconds_bucket{carrier="att",le="3"} 2
ringwatch_pdd_seconds_bucket{carrier="att",le="5"} 3
ringwatch_pdd_seconds_bucket{carrier="att",le="8"} 3
ringwatch_pdd_seconds_bucket{carrier="att",le="13"} 3
ringwatch_pdd_seconds_bucket{carrier="att",le="20"} 3
ringwatch_pdd_seconds_bucket{carrier="att",le="+Inf"} 3
ringwatch_pdd_seconds_sum{carrier="att"} 5.8
ringwatch_pdd_seconds_count{carrier="att"} 3
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="0.1"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="0.25"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="0.5"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="1"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="2"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="3"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="5"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="8"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="13"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="20"} 0
ringwatch_pdd_seconds_bucket{carrier="tmobile",le="+Inf"} 0
ringwatch_pdd_seconds_sum{carrier="tmobile"} 0
ringwatch_pdd_seconds_count{carrier="tmobile"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="0.1"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="0.25"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="0.5"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="1"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="2"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="3"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="5"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="8"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="13"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="20"} 0
ringwatch_pdd_seconds_bucket{carrier="verizon",le="+Inf"} 0
ringwatch_pdd_seconds_sum{carrier="verizon"} 0
ringwatch_pdd_seconds_count{carrier="verizon"} 0
# HELP ringwatch_number_state (number, carrier) pairs per reputation state.
# TYPE ringwatch_number_state gauge
ringwatch_number_state{state="clean"} 3
ringwatch_number_state{state="suspect"} 1
ringwatch_number_state{state="blocked"} 1
ringwatch_number_state{state="unknown"} 1
# HELP ringwatch_scheduler_lag_seconds How late the last call started against its planned time.
# TYPE ringwatch_scheduler_lag_seconds gauge
ringwatch_scheduler_lag_seconds 0.25
# HELP ringwatch_trunk_paused 1 while the trunk is paused (503 Retry-After or backoff).
# TYPE ringwatch_trunk_paused gauge
ringwatch_trunk_paused 1
# HELP ringwatch_calls_in_flight Test calls in progress.
# TYPE ringwatch_calls_in_flight gauge
ringwatch_calls_in_flight 2
# HELP ringwatch_alerts_queued Alerts waiting for delivery.
# TYPE ringwatch_alerts_queued gauge
ringwatch_alerts_queued 1
# HELP ringwatch_alerts_dropped_total Alerts dropped because a queue was full.
# TYPE ringwatch_alerts_dropped_total counter
ringwatch_alerts_dropped_total 0
"#;
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
    assert_eq!(got, want);
}

#[test]
fn metrics_histogram_is_cumulative_and_repaired() {
    let mut s = Snapshot {
        carriers: vec!["c".to_owned()],
        ..Snapshot::default()
    };
    // Not cumulative, too short, and a bucket above count: all repaired.
    s.metrics.pdd_seconds.insert(
        "c".to_owned(),
        PddHistogram {
            buckets: vec![2, 1, 9],
            sum: 3.0,
            count: 4,
        },
    );
    let out = render_metrics(&s, false);
    let buckets: Vec<u64> = out
        .lines()
        .filter(|l| l.starts_with("ringwatch_pdd_seconds_bucket{carrier=\"c\""))
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse().ok())
                .expect("a count")
        })
        .collect();
    assert_eq!(buckets.len(), PDD_BUCKETS_LEN + 1);
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    assert_eq!(buckets, vec![2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4]);
    assert!(out.contains("ringwatch_pdd_seconds_bucket{carrier=\"c\",le=\"+Inf\"} 4\n"));
    assert!(out.contains("ringwatch_pdd_seconds_count{carrier=\"c\"} 4\n"));
}

const PDD_BUCKETS_LEN: usize = crate::daemon::snapshot::PDD_BUCKETS.len();

#[test]
fn metrics_have_no_phone_numbers_unless_enabled() {
    let s = snapshot();
    let off = render_metrics(&s, false);
    assert!(!off.contains("+1202"), "{off}");
    assert!(!off.contains("+1312"));
    assert!(!off.contains("ringwatch_number_carrier_state"));

    let on = render_metrics(&s, true);
    assert!(on.contains("# TYPE ringwatch_number_carrier_state gauge\n"));
    assert!(on.contains(
        "ringwatch_number_carrier_state{number=\"+12025550143\",carrier=\"att\",state=\"blocked\"} 1\n"
    ));
    assert!(on.contains(
        "ringwatch_number_carrier_state{number=\"+12025550143\",carrier=\"att\",state=\"clean\"} 0\n"
    ));
    assert!(on.contains(
        "ringwatch_number_carrier_state{number=\"+13125550199\",carrier=\"verizon\",state=\"unknown\"} 1\n"
    ));
    // 2 numbers × 3 carriers × 4 states.
    let n = on
        .lines()
        .filter(|l| l.starts_with("ringwatch_number_carrier_state{"))
        .count();
    assert_eq!(n, 24);
}

#[test]
fn metrics_escape_label_values() {
    let mut s = Snapshot::default();
    s.metrics.probes_total.insert(
        "we\\ird \"carrier\"\nx".to_owned(),
        BTreeMap::from([("ringing".to_owned(), 1)]),
    );
    let out = render_metrics(&s, false);
    assert!(
        out.contains(
            "ringwatch_probes_total{carrier=\"we\\\\ird \\\"carrier\\\"\\nx\",outcome=\"ringing\"} 1\n"
        ),
        "{out}"
    );
    // The escaped label cannot break the line structure.
    assert!(
        out.lines()
            .all(|l| l.starts_with('#') || l.starts_with("ringwatch_"))
    );
}

#[test]
fn metrics_of_an_empty_snapshot_still_have_all_states() {
    let out = render_metrics(&Snapshot::default(), true);
    for st in ["clean", "suspect", "blocked", "unknown"] {
        assert!(out.contains(&format!("ringwatch_number_state{{state=\"{st}\"}} 0\n")));
    }
    assert!(out.contains("ringwatch_trunk_paused 0\n"));
    assert!(out.ends_with("ringwatch_alerts_dropped_total 0\n"));
}

#[test]
fn metrics_non_finite_floats() {
    let mut s = Snapshot::default();
    s.metrics.scheduler_lag_seconds = f64::NAN;
    assert!(render_metrics(&s, false).contains("ringwatch_scheduler_lag_seconds NaN\n"));
    s.metrics.scheduler_lag_seconds = f64::INFINITY;
    assert!(render_metrics(&s, false).contains("ringwatch_scheduler_lag_seconds +Inf\n"));
}

// ---------------------------------------------------------------- dashboard

/// The opening `<td …>` tag of the cell for (number, carrier).
fn cell_tag<'a>(html: &'a str, number: &str, carrier: &str) -> Option<&'a str> {
    let needle = format!("data-number=\"{number}\" data-carrier=\"{carrier}\"");
    html.match_indices("<td ").find_map(|(i, _)| {
        let rest = html.get(i..)?;
        let tag = rest.get(..rest.find('>')? + 1)?;
        tag.contains(&needle).then_some(tag)
    })
}

/// The whole `<td …>…</td>` of the cell for (number, carrier).
fn cell_html<'a>(html: &'a str, number: &str, carrier: &str) -> Option<&'a str> {
    let tag = cell_tag(html, number, carrier)?;
    let start = html.find(tag)?;
    let rest = html.get(start..)?;
    rest.get(..rest.find("</td>")? + 5)
}

#[test]
fn dashboard_has_every_cell_with_its_state() {
    let s = snapshot();
    let html = render_dashboard(&s);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for n in [N1, N2] {
        for c in CARRIERS {
            let tag = cell_tag(&html, n, c).unwrap_or_else(|| panic!("cell {n} {c} missing"));
            let st = state_of(&s, n, c);
            assert!(tag.contains(&format!("data-state=\"{st}\"")), "{tag}");
            assert!(tag.contains(&format!("class=\"cell s-{st}\"")), "{tag}");
        }
    }
    let blocked = cell_html(&html, N1, "att").expect("blocked cell");
    assert!(blocked.contains(">network_blocked 603<"), "{blocked}");
    assert!(
        blocked.contains("attribution: <b>inconclusive</b>"),
        "{blocked}"
    );
    assert!(blocked.contains("data-timeline=\"RRB\""), "{blocked}");
    assert_eq!(blocked.matches("<rect class=\"k-").count(), 3);
    let clean = cell_html(&html, N1, "tmobile").expect("clean cell");
    assert!(
        !clean.contains("attribution"),
        "clean cells have no attribution"
    );
    assert!(clean.contains(">ringing 487<"));
    let suspect = cell_html(&html, N1, "verizon").expect("suspect cell");
    assert!(suspect.contains(">unwanted 607<"));
    // Summary pills, open incidents and the redress table.
    assert!(html.contains("data-count-state=\"clean\">3 clean<"));
    assert!(html.contains("id=\"trunk-paused\""));
    assert!(html.contains(
        "<tr class=\"incident\" data-number=\"+12025550143\" data-carrier=\"att\" data-state=\"blocked\">"
    ));
    assert!(html.contains(
        "<tr class=\"incident\" data-number=\"+12025550143\" data-carrier=\"verizon\" data-state=\"suspect\">"
    ));
    assert!(
        html.contains("<tr class=\"redress\" data-number=\"+12025550143\" data-carrier=\"att\">")
    );
    assert!(html.contains("<span class=\"redress-tel\">+18005550100</span>"));
    assert!(html.contains("<span class=\"redress-email\">redress@example.net</span>"));
    assert!(html.contains("<span class=\"redress-location\">RLN</span>"));
}

#[test]
fn dashboard_escapes_hostile_strings() {
    let mut s = snapshot();
    s.carriers.push("<img src=x onerror=alert(2)>".to_owned());
    let html = render_dashboard(&s);
    assert!(!html.contains("<script>alert"), "hostile script survived");
    assert!(!html.contains("<img"), "hostile tag survived");
    assert!(html.contains(
        "<span class=\"redress-url\">https://x/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</span>"
    ));
    assert!(html.contains("Sales &lt;West&gt; &amp; &quot;Co&quot;"));
    // Redress URLs are text, never links; the page has no links at all but the data: favicon.
    assert_eq!(html.matches("href=").count(), 1);
    assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
    // Exactly one script element: ours.
    assert_eq!(html.matches("<script").count(), 1);
}

#[test]
fn dashboard_is_self_contained_and_matches_its_csp() {
    let html = render_dashboard(&snapshot());
    for banned in [" src=", "http://", "@import", "url(", "<iframe", "<object"] {
        assert!(
            !html.contains(banned),
            "external resource marker {banned:?}"
        );
    }
    let inner = |open: &str, close: &str| -> String {
        let a = html.find(open).expect("open") + open.len();
        let b = html.get(a..).and_then(|r| r.find(close)).expect("close") + a;
        html.get(a..b).expect("slice").to_owned()
    };
    let hash = |t: &str| {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(t.as_bytes()))
    };
    let csp = csp();
    assert!(csp.contains(&format!(
        "style-src 'sha256-{}'",
        hash(&inner("<style>", "</style>"))
    )));
    assert!(csp.contains(&format!(
        "script-src 'sha256-{}'",
        hash(&inner("<script>", "</script>"))
    )));
    assert!(csp.starts_with("default-src 'none';"));
}

#[test]
fn dashboard_of_an_empty_snapshot() {
    let html = render_dashboard(&Snapshot::default());
    assert!(html.contains("No owned numbers yet."));
    assert!(html.contains("No open incidents."));
    assert!(html.contains("No blocked pairs."));
    assert!(html.ends_with("</html>\n"));
}

#[test]
fn esc_covers_html_specials_and_controls() {
    assert_eq!(
        Esc("a&b<c>d\"e'f\u{0}g\th").to_string(),
        "a&amp;b&lt;c&gt;d&quot;e&#39;f\u{fffd}g\th"
    );
    assert_eq!(Esc("plain ÿ €").to_string(), "plain ÿ €");
}

// ---------------------------------------------------------------- server

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Send raw bytes, read until the server closes, parse the response.
async fn raw(addr: SocketAddrV, request: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    // The server may reject and close before reading everything: tolerate
    // write and read errors, keep what arrived.
    let _ = s.write_all(request).await;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n) = s.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0); // 0: closed without a response
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

type SocketAddrV = std::net::SocketAddr;

async fn get(addr: SocketAddrV, path: &str, auth: Option<&str>) -> Reply {
    let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n");
    raw(addr, req.as_bytes()).await
}

struct Server {
    addr: SocketAddrV,
    tx: watch::Sender<Arc<Snapshot>>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(token: Option<&str>, number_labels: bool) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = watch::channel(Arc::new(snapshot()));
    let (stop, stopped) = oneshot::channel::<()>();
    let opts = HttpOptions {
        token: token.map(str::to_owned),
        number_labels,
    };
    let task = tokio::spawn(serve(listener, rx, opts, async move {
        let _ = stopped.await;
    }));
    Server {
        addr,
        tx,
        stop: Some(stop),
        task,
    }
}

const TOKEN: &str = "s3cret-token";

#[tokio::test]
async fn healthz_needs_no_token() {
    let srv = start(Some(TOKEN), false).await;
    let r = get(srv.addr, "/healthz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "ok");
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn token_is_required_everywhere_else() {
    let srv = start(Some(TOKEN), false).await;
    for path in [
        "/",
        "/metrics",
        "/api/numbers",
        "/api/numbers/+12025550143",
        "/nope",
    ] {
        let r = get(srv.addr, path, None).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"ringwatch\"")
        );
        let r = get(srv.addr, path, Some("Bearer wrong")).await;
        assert_eq!(r.status, 401, "{path} with a wrong token");
    }
    let good = format!("Bearer {TOKEN}");
    assert_eq!(get(srv.addr, "/metrics", Some(&good)).await.status, 200);
    let lower = format!("bearer  {TOKEN}");
    assert_eq!(get(srv.addr, "/metrics", Some(&lower)).await.status, 200);
    assert_eq!(get(srv.addr, "/metrics", Some(TOKEN)).await.status, 401);
    assert_eq!(
        get(srv.addr, "/metrics", Some("Basic czNjcmV0"))
            .await
            .status,
        401
    );
    let q = format!("/?token={TOKEN}");
    assert_eq!(get(srv.addr, &q, None).await.status, 200);
    let q = format!("/?token={TOKEN}x");
    assert_eq!(get(srv.addr, &q, None).await.status, 401);
    // With the token, an unknown path is a 404.
    assert_eq!(get(srv.addr, "/nope", Some(&good)).await.status, 404);
}

#[tokio::test]
async fn empty_token_is_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (_tx, rx) = watch::channel(Arc::new(Snapshot::default()));
    let opts = HttpOptions {
        token: Some(String::new()),
        number_labels: false,
    };
    let err = serve(listener, rx, opts, std::future::pending())
        .await
        .expect_err("empty token");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn metrics_endpoint() {
    let srv = start(None, false).await;
    let r = get(srv.addr, "/metrics", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(r.body, render_metrics(&snapshot(), false));
    let srv = start(None, true).await;
    let r = get(srv.addr, "/metrics", None).await;
    assert!(
        r.body
            .contains("ringwatch_number_carrier_state{number=\"+12025550143\"")
    );
}

#[tokio::test]
async fn api_numbers_and_one_number() {
    let srv = start(None, false).await;
    let r = get(srv.addr, "/api/numbers", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let all = r.json();
    let list = all.as_array().expect("array");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["number"], N1);
    assert_eq!(list[0]["label"], "Sales <West> & \"Co\"");
    assert_eq!(list[0]["report"]["carriers"][0]["state"], "blocked");
    assert_eq!(list[1]["label"], Value::Null);

    let want = serde_json::to_value(&snapshot().numbers[0].report).expect("json");
    for path in [
        "/api/numbers/+12025550143",
        "/api/numbers/%2B12025550143",
        "/api/numbers/%2b1-202-555-0143",
    ] {
        let r = get(srv.addr, path, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.json(), want, "{path}");
    }
    let r = get(srv.addr, "/api/numbers/+12025550100", None).await;
    assert_eq!(r.status, 404);
    assert!(
        r.json()["error"]
            .as_str()
            .expect("error")
            .contains("not an owned number")
    );
    for bad in [
        "/api/numbers/12025550143",
        "/api/numbers/abc",
        "/api/numbers/%FF%FE",
        "/api/numbers/+1999999999999999999999999",
        "/api/numbers/%00",
    ] {
        let r = get(srv.addr, bad, None).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["error"].is_string(), "{bad}");
    }
    let r = get(srv.addr, "/api/nope", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "not found");
    assert_eq!(get(srv.addr, "/api/numbers/", None).await.status, 404);
    assert_eq!(
        get(srv.addr, "/api/numbers/+12025550143/x", None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn dashboard_endpoint_and_snapshot_updates() {
    let srv = start(None, false).await;
    let r = get(srv.addr, "/", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("content-security-policy"), Some(csp()));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert!(r.body.contains("data-state=\"blocked\""));

    let mut next = snapshot();
    next.generated_at = "2025-11-21T12:05:00.000Z".to_owned();
    next.numbers.truncate(1);
    srv.tx.send(Arc::new(next)).expect("send");
    let r = get(srv.addr, "/", None).await;
    assert!(r.body.contains("2025-11-21 12:05:00 UTC"));
    assert!(!r.body.contains(N2));
    assert_eq!(
        get(srv.addr, "/api/numbers", None)
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn hostile_requests_do_not_hurt_the_server() {
    let srv = start(Some(TOKEN), false).await;
    // Huge header block.
    let mut req = String::from("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    for i in 0..300 {
        req.push_str(&format!("X-Junk-{i}: {}\r\n", "a".repeat(2000)));
    }
    req.push_str("Connection: close\r\n\r\n");
    let r = raw(srv.addr, req.as_bytes()).await;
    // 431, or a reset when the server closes with our bytes unread.
    assert!(matches!(r.status, 431 | 400 | 0), "status {}", r.status);
    // A huge Authorization header.
    let big = format!("Bearer {}", "x".repeat(60_000));
    assert_eq!(get(srv.addr, "/metrics", Some(&big)).await.status, 401);
    // A very long path and a garbage query.
    let long = format!("/{}?token=%ZZ&token", "a".repeat(20_000));
    assert_eq!(get(srv.addr, &long, None).await.status, 401);
    // Not HTTP at all.
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    s.write_all(b"\x00\x01\x02 garbage\r\n\r\n")
        .await
        .expect("write");
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink).await;
    // A POST on a known path.
    let post = format!(
        "POST /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw(srv.addr, post.as_bytes()).await.status, 405);
    // Still alive.
    assert_eq!(get(srv.addr, "/healthz", None).await.status, 200);
}

#[tokio::test]
async fn shutdown_returns_even_with_an_idle_connection_open() {
    let mut srv = start(None, false).await;
    // A keep-alive connection that stays open after one request.
    let mut idle = TcpStream::connect(srv.addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 512];
    let n = idle.read(&mut buf).await.expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // And one that never finishes its request.
    let mut half = TcpStream::connect(srv.addr).await.expect("connect");
    half.write_all(b"GET /metrics HTTP/1.1\r\nHo")
        .await
        .expect("write");

    if let Some(stop) = srv.stop.take() {
        let _ = stop.send(());
    }
    let limit = SHUTDOWN_GRACE + std::time::Duration::from_secs(3);
    let res = tokio::time::timeout(limit, &mut srv.task)
        .await
        .expect("serve returned within the grace period")
        .expect("join");
    assert!(res.is_ok());
    // Nothing listens any more.
    assert!(TcpStream::connect(srv.addr).await.is_err());
}
