//! Table tests for `classify` over raw response bytes: every rule of the
//! outcome table and every example of sip-signals.md §1.3 and §2.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;
use crate::sip::call_info::JCardContacts;

const HEAD: &str = "Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK7f3a1c9e;received=198.51.100.10;rport=5060\r\n\
From: <sip:+12025550143@probe.example.net>;tag=pr0b3-41d2\r\n\
To: <sip:+13125550178@carrier.example;user=phone>;tag=as8f7d6e\r\n\
Call-ID: 6f1c2e0a-4b7d-4c2e-9a51-3d7e2b1f0c44@probe.example.net\r\n\
CSeq: 1 INVITE\r\n";

/// A response with the usual headers plus `extra` header lines.
fn resp(status_line: &str, extra: &[&str]) -> Message {
    let mut s = format!("{status_line}\r\n{HEAD}");
    for h in extra {
        s.push_str(h);
        s.push_str("\r\n");
    }
    s.push_str("Content-Length: 0\r\n\r\n");
    Message::parse(s.as_bytes()).expect("test message parses")
}

fn facts(m: Option<&Message>, rang: bool, cancelled_by_us: bool) -> CallFacts<'_> {
    CallFacts {
        final_response: m,
        rang,
        cancelled_by_us,
        auth_exhausted: true,
        intercepted: false,
    }
}

fn run(m: &Message) -> Classification {
    classify(&facts(Some(m), false, false))
}

fn atis(
    url: Option<&str>,
    tel: Option<&str>,
    email: Option<&str>,
    id: Option<&str>,
    location: Option<&str>,
    phrase: &str,
) -> Analytics {
    Analytics {
        standard: Standard::Atis1000099,
        url: url.map(str::to_owned),
        tel: tel.map(str::to_owned),
        email: email.map(str::to_owned),
        id: id.map(str::to_owned),
        location: location.map(str::to_owned),
        phrase: phrase.to_owned(),
        version: Some("analytics1".to_owned()),
        extra: Vec::new(),
        contacts: None,
        truncated: false,
    }
}

fn none_anomalies(c: &Classification) {
    assert_eq!(c.anomalies, Vec::<String>::new());
}

#[test]
fn canonical_603_plus_from_raw_bytes() {
    let raw = b"SIP/2.0 603 Network Blocked\r\n\
Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bK7f3a1c9e;received=198.51.100.10;rport=5060\r\n\
From: <sip:+12025550143@probe.example.net>;tag=pr0b3-41d2\r\n\
To: <sip:+13125550178@carrier.example;user=phone>;tag=as8f7d6e\r\n\
Call-ID: 6f1c2e0a-4b7d-4c2e-9a51-3d7e2b1f0c44@probe.example.net\r\n\
CSeq: 1 INVITE\r\n\
Reason: SIP;cause=603;text=\"v=analytics1;url=https://redress.carrier.example/blocked;tel=+18005550199;email=redress@carrier.example;id=blk-7Q2M-0031\";location=RLN\r\n\
Content-Length: 0\r\n\r\n";
    let m = Message::parse(raw).expect("parses");
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    assert_eq!(c.status, Some(603));
    assert_eq!(c.reason_phrase.as_deref(), Some("Network Blocked"));
    assert_eq!(
        c.analytics,
        Some(atis(
            Some("https://redress.carrier.example/blocked"),
            Some("+18005550199"),
            Some("redress@carrier.example"),
            Some("blk-7Q2M-0031"),
            Some("RLN"),
            "Network Blocked",
        ))
    );
    assert_eq!(c.reasons.len(), 1);
    assert_eq!(c.reasons[0].protocol, "SIP");
    assert_eq!(c.reasons[0].cause, Some(603));
    assert_eq!(c.q850_cause, None);
    assert_eq!(c.retry_after_s, None);
    assert!(c.warnings.is_empty());
    none_anomalies(&c);

    let json = serde_json::to_value(&c).expect("json");
    assert_eq!(json["outcome"], "network_blocked");
    assert_eq!(json["analytics"]["standard"], "ATIS-1000099");
    assert_eq!(json["analytics"]["location"], "RLN");
    assert_eq!(json["analytics"]["id"], "blk-7Q2M-0031");
}

#[test]
fn q850_minimal_form() {
    let m = resp(
        "SIP/2.0 603 Network Blocked",
        &[
            r#"Reason: Q.850;cause=21;text="v=analytics1;url=https://transit.example/redress";location=TN"#,
        ],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    assert_eq!(
        c.analytics,
        Some(atis(
            Some("https://transit.example/redress"),
            None,
            None,
            None,
            Some("TN"),
            "Network Blocked"
        ))
    );
    assert_eq!(c.q850_cause, Some(21));
    none_anomalies(&c);
}

#[test]
fn whitespace_variant() {
    let m = resp(
        "SIP/2.0 603 Network Blocked",
        &[r#"Reason: SIP; cause=603; text="v=analytics1;tel=+18005550199";location=RPN"#],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    assert_eq!(
        c.analytics,
        Some(atis(
            None,
            Some("+18005550199"),
            None,
            None,
            Some("RPN"),
            "Network Blocked"
        ))
    );
    assert_eq!(c.reasons[0].cause, Some(603));
    none_anomalies(&c);
}

#[test]
fn two_protocols_in_one_header() {
    let m = resp(
        "SIP/2.0 603 Network Blocked",
        &[
            r#"Reason: Q.850;cause=21;location=U, SIP;cause=603;text="v=analytics1;email=noc@blocker.example";location=RLN"#,
        ],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    assert_eq!(
        c.analytics,
        Some(atis(
            None,
            None,
            Some("noc@blocker.example"),
            None,
            Some("RLN"),
            "Network Blocked"
        ))
    );
    assert_eq!(c.reasons.len(), 2);
    assert_eq!(c.reasons[0].location.as_deref(), Some("U"));
    assert_eq!(c.q850_cause, Some(21));
    none_anomalies(&c);
}

#[test]
fn phrase_rewritten_to_decline_is_still_603_plus() {
    let m = resp(
        "SIP/2.0 603 Decline",
        &[r#"Reason: SIP;cause=603;text="v=analytics1;url=https://example.com";location=RLN"#],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    assert_eq!(
        c.analytics,
        Some(atis(
            Some("https://example.com"),
            None,
            None,
            None,
            Some("RLN"),
            "Decline"
        ))
    );
    assert_eq!(c.reason_phrase.as_deref(), Some("Decline"));
    assert_eq!(c.anomalies, vec!["atis_phrase_rewritten: Decline"]);
}

#[test]
fn phrase_only_network_blocked() {
    for (line, extra) in [
        ("SIP/2.0 603 Network Blocked", &[][..]),
        ("SIP/2.0 603   network   BLOCKED  ", &[][..]),
        // A mangled Reason (no analytics text) is the same as a missing one.
        (
            "SIP/2.0 603 Network Blocked",
            &["Reason: SIP;cause=603;text=\"analytics1 url https://x\""][..],
        ),
    ] {
        let m = resp(line, extra);
        let c = run(&m);
        assert_eq!(c.outcome, Outcome::NetworkBlocked, "{line}");
        none_anomalies(&c);
        let a = c.analytics.expect("analytics");
        assert_eq!(a.standard, Standard::PhraseOnly);
        assert_eq!(
            (a.url, a.tel, a.email, a.id, a.location, a.version),
            (None, None, None, None, None, None)
        );
        assert_eq!(Some(a.phrase), c.reason_phrase);
    }
}

#[test]
fn truncated_unterminated_reason_still_603_plus() {
    let m = resp(
        "SIP/2.0 603 Network Blocked",
        &[
            r#"Reason: SIP;cause=603;text="v=analytics1;url=https://redress.carrier.example/blocked;tel=+1800555"#,
        ],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    let mut want = atis(
        Some("https://redress.carrier.example/blocked"),
        Some("+1800555"),
        None,
        None,
        None,
        "Network Blocked",
    );
    want.truncated = true;
    assert_eq!(c.analytics, Some(want));
    assert!(c.reasons[0].unterminated);
    assert_eq!(c.anomalies, vec!["reason_unterminated_quote"]);
}

#[test]
fn escaped_quotes_inside_text() {
    let m = resp(
        "SIP/2.0 603 Network Blocked",
        &[
            r#"Reason: SIP;cause=603;text="v=analytics1;url=https://x.example/\"a,b\";id=q_1";location=LN"#,
        ],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    assert_eq!(
        c.analytics,
        Some(atis(
            Some(r#"https://x.example/"a,b""#),
            None,
            None,
            Some("q_1"),
            Some("LN"),
            "Network Blocked"
        ))
    );
    assert_eq!(c.reasons.len(), 1);
    none_anomalies(&c);
}

#[test]
fn location_outside_the_quotes_wins() {
    let m = resp(
        "SIP/2.0 603 Network Blocked",
        &[
            r#"Reason: SIP;cause=603;text="v=analytics1;url=https://x.example;location=LN";location=RLN"#,
        ],
    );
    let c = run(&m);
    let a = c.analytics.expect("analytics");
    assert_eq!(a.location.as_deref(), Some("RLN"));
    assert_eq!(a.extra, vec![("location".to_owned(), "LN".to_owned())]);
}

#[test]
fn several_reason_header_lines() {
    let m = resp(
        "SIP/2.0 603 Network Blocked",
        &[
            "Reason: Q.850;cause=21",
            r#"Reason: SIP;cause=603;text="v=analytics1;tel=+18005550199;id=A-1";location=TN"#,
        ],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    assert_eq!(
        c.analytics,
        Some(atis(
            None,
            Some("+18005550199"),
            None,
            Some("A-1"),
            Some("TN"),
            "Network Blocked"
        ))
    );
    assert_eq!(c.reasons.len(), 2);
    assert_eq!(c.q850_cause, Some(21));
    none_anomalies(&c);
}

#[test]
fn plain_603_with_q850_cause_21_is_declined() {
    let m = resp(
        "SIP/2.0 603 Decline",
        &["Reason: Q.850;cause=21;location=U"],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::Declined);
    assert_eq!(c.analytics, None);
    assert_eq!(c.q850_cause, Some(21));
    assert_eq!(c.reason_phrase.as_deref(), Some("Decline"));
    none_anomalies(&c);

    let c = run(&resp("SIP/2.0 603 Decline", &[]));
    assert_eq!(c.outcome, Outcome::Declined);
    assert_eq!(c.q850_cause, None);
}

#[test]
fn atis_reason_on_non_603_is_an_anomaly() {
    let reason = r#"SIP;cause=486;text="v=analytics1;url=https://x.example""#;
    let m = resp("SIP/2.0 486 Busy Here", &[&format!("Reason: {reason}")]);
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::Busy);
    assert_eq!(c.analytics, None);
    assert_eq!(
        c.anomalies,
        vec![format!("atis_reason_on_non_603: 486 {reason}")]
    );
}

#[test]
fn atis_validation_records_but_does_not_reject() {
    let m = resp(
        "SIP/2.0 603 Network Blocked",
        &[
            r#"Reason: SIP;cause=603;text="v=analytics2;url=http://x.example;tel=555;email=a@b@c;id=bad id";location=XYZ"#,
        ],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NetworkBlocked);
    let a = c.analytics.expect("analytics");
    assert_eq!(a.standard, Standard::Atis1000099);
    assert_eq!(a.version.as_deref(), Some("analytics2"));
    assert_eq!(a.url.as_deref(), Some("http://x.example"));
    assert_eq!(
        c.anomalies,
        vec![
            "atis_unknown_version: analytics2",
            "atis_url_not_https: http://x.example",
            "atis_tel_not_e164: 555",
            "atis_email_invalid: a@b@c",
            "atis_id_invalid: bad id",
            "atis_location_unknown: XYZ",
        ]
    );

    let m = resp(
        "SIP/2.0 603 Network Blocked",
        &[r#"Reason: SIP;cause=603;text="v=analytics1;id=x";location=LOC-6"#],
    );
    assert_eq!(
        run(&m).anomalies,
        vec!["atis_no_contact: none of url, tel, email"]
    );
}

/// The jCard of sip-signals.md §2.
const JCARD: &str = r#"["vcard",[["version",{},"text","4.0"],["fn",{},"text","Example Analytics Redress Desk"],["tel",{"type":["work","voice"]},"uri","tel:+1-800-555-0199"],["email",{},"text","redress@blocker.example"],["url",{},"uri","https://blocker.example/redress"]]]"#;

#[test]
fn rejected_608_with_inline_data_jwscard() {
    let header = r#"{"alg":"ES256","typ":"JWT","x5u":"https://certs.blocker.example/ca.pem"}"#;
    let jws = format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(JCARD)
    );
    let uri = format!("data:application/jose,{jws}");
    let m = resp(
        "SIP/2.0 608 Rejected",
        &[&format!("Call-Info: <{uri}>;purpose=jwscard")],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::Rejected);
    assert_eq!(
        c.analytics,
        Some(Analytics {
            standard: Standard::Rfc8688,
            url: Some("https://blocker.example/redress".to_owned()),
            tel: Some("+1-800-555-0199".to_owned()),
            email: Some("redress@blocker.example".to_owned()),
            id: None,
            location: None,
            phrase: "Rejected".to_owned(),
            version: None,
            extra: Vec::new(),
            contacts: Some(JCardContacts {
                source: "data".to_owned(),
                uri,
                fn_: Some("Example Analytics Redress Desk".to_owned()),
                org: None,
                tel: vec!["+1-800-555-0199".to_owned()],
                email: vec!["redress@blocker.example".to_owned()],
                url: vec!["https://blocker.example/redress".to_owned()],
                verified: false,
            }),
            truncated: false,
        })
    );
    let json = serde_json::to_value(&c).expect("json");
    assert_eq!(json["analytics"]["standard"], "RFC8688");
    assert_eq!(
        json["analytics"]["contacts"]["fn"],
        "Example Analytics Redress Desk"
    );
    none_anomalies(&c);
}

#[test]
fn rejected_608_with_https_jwscard_is_not_fetched() {
    let m = resp(
        "SIP/2.0 608 Rejected",
        &["Call-Info: <https://blocker.example/redress/jws/9f2c1e>;purpose=jwscard"],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::Rejected);
    let a = c.analytics.expect("analytics");
    assert_eq!(a.standard, Standard::Rfc8688);
    assert_eq!((a.url, a.tel, a.email), (None, None, None));
    let contacts = a.contacts.expect("contacts");
    assert_eq!(contacts.source, "https");
    assert_eq!(contacts.uri, "https://blocker.example/redress/jws/9f2c1e");
    assert!(!contacts.has_contacts());
    assert!(!contacts.verified);
}

#[test]
fn rejected_608_without_jwscard_has_no_analytics() {
    let c = run(&resp(
        "SIP/2.0 608 Rejected",
        &["Call-Info: <https://x.example/info>;purpose=info"],
    ));
    assert_eq!(c.outcome, Outcome::Rejected);
    assert_eq!(c.analytics, None);
}

#[test]
fn scalarlg_503_retry_after_clamped() {
    let raw = b"SIP/2.0 503 Service Unavailable\r\n\
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129\r\n\
To: <sip:user@example.com>\r\n\
From: <sip:other@example.net>;tag=2easdjfejw\r\n\
CSeq: 9292394834772304023312 OPTIONS\r\n\
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r\r\n\
Retry-After: 949302838503028349304023988\r\n\
Warning: 1812 overture \"In Progress\"\r\n\
Content-Length: 0\r\n\r\n";
    let m = Message::parse(raw).expect("parses");
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::Unavailable);
    assert_eq!(c.status, Some(503));
    assert_eq!(c.retry_after_s, Some(86_400));
    assert_eq!(
        c.warnings,
        vec![Warning {
            code: None,
            agent: "overture".to_owned(),
            text: "In Progress".to_owned(),
            raw: "1812 overture \"In Progress\"".to_owned(),
        }]
    );
    assert_eq!(
        c.anomalies,
        vec!["retry_after_clamped: 949302838503028349304023988"]
    );
}

#[test]
fn retry_after_and_warnings_on_other_codes() {
    let m = resp(
        "SIP/2.0 486 Busy Here",
        &[
            "Retry-After: 300 (maintenance)",
            "Warning: 399 carrier.example \"one\", 399 carrier.example \"two, three\"",
            "Warning: 370 carrier.example \"four\"",
        ],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::Busy);
    assert_eq!(c.retry_after_s, Some(300));
    let texts: Vec<&str> = c.warnings.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(texts, vec!["one", "two, three", "four"]);
    assert_eq!(c.warnings[2].code, Some(370));
    none_anomalies(&c);

    let c = run(&resp(
        "SIP/2.0 503 Service Unavailable",
        &["Retry-After: soon"],
    ));
    assert_eq!(c.retry_after_s, None);
    assert_eq!(c.anomalies, vec!["retry_after_unparseable: soon"]);
}

#[test]
fn q850_cause_is_from_the_first_q850_value() {
    let m = resp(
        "SIP/2.0 404 Not Found",
        &[
            "Reason: SIP;cause=404, q.850;cause=0001;text=\"Unallocated (unassigned) number\";location=RLN",
            "Reason: Q.850;cause=3",
        ],
    );
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::NotFound);
    assert_eq!(c.q850_cause, Some(1));
    assert_eq!(c.reasons.len(), 3);
    assert_eq!(
        c.reasons[1].text.as_deref(),
        Some("Unallocated (unassigned) number")
    );
}

#[test]
fn status_code_table() {
    let table: &[(&str, Outcome)] = &[
        ("200 OK", Outcome::Answered),
        ("202 Accepted", Outcome::Answered),
        ("299 Whatever", Outcome::Answered),
        ("607 Unwanted", Outcome::Unwanted),
        ("403 Forbidden", Outcome::Forbidden),
        ("486 Busy Here", Outcome::Busy),
        ("600 Busy Everywhere", Outcome::Busy),
        ("404 Not Found", Outcome::NotFound),
        ("410 Gone", Outcome::NotFound),
        ("484 Address Incomplete", Outcome::NotFound),
        ("604 Does Not Exist Anywhere", Outcome::NotFound),
        ("480 Temporarily Unavailable", Outcome::NoAnswer),
        ("408 Request Timeout", Outcome::NoAnswer),
        ("487 Request Terminated", Outcome::NoAnswer),
        ("500 Server Internal Error", Outcome::Unavailable),
        ("502 Bad Gateway", Outcome::Unavailable),
        ("503 Service Unavailable", Outcome::Unavailable),
        ("504 Server Time-out", Outcome::Unavailable),
        ("599 Odd", Outcome::Unavailable),
        ("401 Unauthorized", Outcome::AuthFailed),
        ("407 Proxy Authentication Required", Outcome::AuthFailed),
        ("302 Moved Temporarily", Outcome::Failed),
        ("400 Bad Request", Outcome::Failed),
        ("402 Payment Required", Outcome::Failed),
        ("488 Not Acceptable Here", Outcome::Failed),
        ("606 Not Acceptable", Outcome::Failed),
        ("699 Unknown", Outcome::Failed),
        ("699 Network Blocked", Outcome::Failed),
    ];
    for (line, want) in table {
        let m = resp(&format!("SIP/2.0 {line}"), &[]);
        let c = run(&m);
        assert_eq!(c.outcome, *want, "{line}");
        assert_eq!(c.analytics, None, "{line}");
        none_anomalies(&c);
        let code: u16 = line[..3].parse().expect("code");
        assert_eq!(c.status, Some(code));
        assert_eq!(c.reason_phrase.as_deref(), Some(&line[4..]));
    }
}

#[test]
fn cancel_and_487_matrix() {
    let m487 = resp("SIP/2.0 487 Request Terminated", &[]);
    let cases = [
        // (final, rang, cancelled_by_us, want)
        (Some(&m487), true, true, Outcome::Ringing),
        (Some(&m487), false, true, Outcome::Timeout),
        (Some(&m487), true, false, Outcome::NoAnswer),
        (Some(&m487), false, false, Outcome::NoAnswer),
        (None, true, true, Outcome::Ringing),
        (None, false, true, Outcome::Timeout),
        (None, true, false, Outcome::Timeout),
        (None, false, false, Outcome::Timeout),
    ];
    for (m, rang, cancelled, want) in cases {
        let c = classify(&facts(m, rang, cancelled));
        assert_eq!(
            c.outcome,
            want,
            "final {:?} rang {rang} cancelled {cancelled}",
            m.map(|m| m.status())
        );
        none_anomalies(&c);
    }
    let c = classify(&facts(None, true, true));
    assert_eq!((c.status, c.reason_phrase), (None, None));
}

#[test]
fn a_final_that_wins_the_race_against_our_cancel_is_the_outcome() {
    let table = [
        ("SIP/2.0 486 Busy Here", Outcome::Busy),
        ("SIP/2.0 603 Decline", Outcome::Declined),
        ("SIP/2.0 200 OK", Outcome::Answered),
        ("SIP/2.0 480 Temporarily Unavailable", Outcome::NoAnswer),
    ];
    for (line, want) in table {
        let m = resp(line, &[]);
        let c = classify(&facts(Some(&m), true, true));
        assert_eq!(c.outcome, want, "{line}");
    }
}

#[test]
fn auth_failed_without_exhaustion_is_an_anomaly() {
    let m = resp(
        "SIP/2.0 407 Proxy Authentication Required",
        &[r#"Proxy-Authenticate: Digest realm="x", nonce="y""#],
    );
    let c = classify(&CallFacts {
        final_response: Some(&m),
        rang: false,
        cancelled_by_us: false,
        auth_exhausted: false,
        intercepted: false,
    });
    assert_eq!(c.outcome, Outcome::AuthFailed);
    assert_eq!(c.anomalies, vec!["auth_challenge_not_exhausted: 407"]);
}

#[test]
fn provisional_or_request_as_final_is_failed() {
    let c = run(&resp("SIP/2.0 180 Ringing", &[]));
    assert_eq!(c.outcome, Outcome::Failed);
    assert_eq!(c.anomalies, vec!["final_is_provisional: 180"]);

    let req = Message::parse(
        b"BYE sip:a@b.example SIP/2.0\r\nCall-ID: x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
    )
    .expect("parses");
    let c = run(&req);
    assert_eq!(c.outcome, Outcome::Failed);
    assert_eq!(c.status, None);
    assert_eq!(c.anomalies, vec!["final_is_not_a_response"]);
}

#[test]
fn empty_phrase_and_odd_headers_do_not_panic() {
    let m = Message::parse(
        b"SIP/2.0 603 \r\nReason: \"\r\nCall-Info: <\r\nRetry-After: \r\nWarning: \r\n\r\n",
    )
    .expect("parses");
    let c = run(&m);
    assert_eq!(c.outcome, Outcome::Declined);
    assert_eq!(c.reason_phrase.as_deref(), Some(""));
}

#[test]
fn every_truncation_of_a_603_plus_classifies_without_panic() {
    let full = format!(
        "SIP/2.0 603 Network Blocked\r\n{HEAD}Reason: SIP;cause=603;text=\"v=analytics1;url=https://redress.carrier.example/blocked;tel=+18005550199\";location=RLN"
    );
    let text_at = full.find("v=analytics1;").expect("text") + "v=analytics1;".len();
    let mut blocked_atis = 0;
    for len in 1..=full.len() {
        let Ok(m) = Message::parse(&full.as_bytes()[..len]) else {
            continue;
        };
        let c = run(&m);
        if len >= text_at {
            assert_eq!(c.outcome, Outcome::NetworkBlocked, "len {len}");
            let a = c.analytics.as_ref().expect("analytics");
            assert_eq!(a.standard, Standard::Atis1000099, "len {len}");
            blocked_atis += 1;
        } else if len >= "SIP/2.0 603 Network Blocked".len() {
            // Phrase complete, Reason missing or not yet analytics: phrase-only.
            assert_eq!(c.outcome, Outcome::NetworkBlocked, "len {len}");
        }
    }
    assert_eq!(blocked_atis, full.len() - text_at + 1);
}

#[test]
fn byte_mutations_do_not_panic() {
    let base = format!(
        "SIP/2.0 608 Rejected\r\n{HEAD}Reason: Q.850;cause=21;text=\"v=analytics1;a\\\"b\";location=U\r\nCall-Info: <data:application/jose;base64,e30uWyJ2Y2FyZCIsW11dLnM=>;purpose=jwscard\r\nRetry-After: 5 (x);duration=9\r\nWarning: 399 h \"t\"\r\n\r\n"
    );
    let specials = [
        b'"', b'\\', b',', b';', b'=', b'<', b'>', b'(', b')', 0xff, b' ',
    ];
    let mut state: u32 = 7;
    for _ in 0..4000 {
        let mut bytes = base.clone().into_bytes();
        for _ in 0..3 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let pos = (state >> 8) as usize % bytes.len();
            let pick = (state >> 20) as usize % specials.len();
            if let Some(b) = bytes.get_mut(pos) {
                *b = specials[pick];
            }
        }
        if let Ok(m) = Message::parse(&bytes) {
            let _ = classify(&facts(Some(&m), true, true));
        }
    }
}
