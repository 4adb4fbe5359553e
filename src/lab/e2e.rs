//! End to end on real loopback sockets: the lab started on `127.0.0.1:0`
//! and ringwatch's own probe shell ([`crate::probe::run_one`]) calling it
//! through UDP, exactly as it would call a trunk.

use std::path::Path;
use std::time::Duration;

use tokio::sync::watch;

use crate::classify::{Outcome, Standard};
use crate::config::{Config, E164};
use crate::probe::{self, ProbeSettings, ProbeTarget};
use crate::uac::UacConfig;

const CONFIG: &str = r#"
[trunk]
proxy = "lab"

[[numbers]]
number = "+12025550143"

[[numbers]]
number = "+13125550101"

[[carriers]]
name = "att"
destinations = ["+13125550178"]

[lab]
pdd_ms = 20
redress_url = "https://redress.att.example/blocked"

[[lab.carriers]]
name = "att"
behaviour = "ring"
block = ["+13125550101"]
"#;

fn number(s: &str) -> E164 {
    E164::parse(s).expect("e164")
}

#[tokio::test]
async fn probes_through_udp_see_603_plus_for_the_blocked_caller_and_ringing_for_another() {
    let cfg = Config::parse_str(CONFIG, Path::new("probes.toml")).expect("config");
    let lab = super::start(&cfg, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("lab starts");
    let settings = ProbeSettings {
        proxy: lab.addr,
        domain: "127.0.0.1".to_owned(),
        from_domain: None,
        user_phone: true,
        uac: UacConfig {
            ring: Duration::from_secs(1),
            t1: Duration::from_millis(100),
            linger: Duration::from_millis(100),
            alert_timeout: Duration::from_secs(5),
            ..UacConfig::default()
        },
        credentials: None,
    };
    let target = |caller: &str| ProbeTarget {
        caller_id: number(caller),
        carrier: "att".to_owned(),
        destination: number("+13125550178"),
    };
    let (_hangup_tx, hangup) = watch::channel(false);
    let (blocked_target, clean_target) = (target("+13125550101"), target("+12025550143"));
    let (blocked, clean) = tokio::join!(
        probe::run_one(&settings, &blocked_target, hangup.clone()),
        probe::run_one(&settings, &clean_target, hangup.clone()),
    );

    let blocked = blocked.expect("call placed");
    assert_eq!(blocked.outcome, Outcome::NetworkBlocked, "{blocked:?}");
    assert_eq!(blocked.status, Some(603));
    assert_eq!(blocked.reason_phrase.as_deref(), Some("Network Blocked"));
    let a = blocked.analytics.as_ref().expect("analytics");
    assert_eq!(a.standard, Standard::Atis1000099);
    assert_eq!(
        a.url.as_deref(),
        Some("https://redress.att.example/blocked")
    );
    assert_eq!(a.location.as_deref(), Some("RLN"));
    assert!(a.id.as_deref().is_some_and(|id| id.starts_with("lab-att-")));

    let clean = clean.expect("call placed");
    assert_eq!(clean.outcome, Outcome::Ringing, "{clean:?}");
    assert!(clean.rang && clean.cancelled_by_us);
    assert_eq!(clean.status, Some(487));

    let stats = lab.stop().await.expect("lab stops");
    assert_eq!(stats.calls, 2);
    assert_eq!(stats.ignored, 0);
}
