//! `ringwatch probe` against SIPp far ends: one scenario per outcome of the
//! taxonomy (tests/scenarios/*.xml says what each plays and checks).
//!
//! Each test asserts the whole record (outcome, rang, status, the real
//! reason phrase, analytics, retry_after_s), the exit code, and that SIPp's
//! scenario passed: SIPp exits non-zero when ringwatch did not ACK, CANCEL or
//! BYE as RFC 3261 requires, or sent a request it should not have.

use std::collections::HashMap;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::common::{Expect, ExpectAnalytics, Options, ProbeCase, TRUNK_USER, header};

/// The password the auth tests give ringwatch (and SIPp, for verifyauth).
const PASSWORD: &str = "s3cret-Tr0mb0ne";

/// The ATIS-1000099 analytics of nb_sip and nb_rewritten (sip-signals 1.3).
fn atis_full() -> ExpectAnalytics {
    ExpectAnalytics {
        standard: "ATIS-1000099",
        url: Some("https://redress.carrier.example/blocked"),
        tel: Some("+18005550199"),
        email: Some("redress@carrier.example"),
        id: Some("blk-7Q2M-0031"),
        location: Some("RLN"),
    }
}

/// A final response that ends the call without analytics, after a 100.
fn plain(outcome: &'static str, status: u16, phrase: &'static str) -> Expect {
    Expect {
        outcome,
        rang: false,
        status: Some(status),
        reason_phrase: Some(phrase),
        analytics: None,
        retry_after_s: None,
        exit: 1,
    }
}

/// We hung up a ringing call: CANCEL, then 487 to the INVITE.
fn ringing() -> Expect {
    Expect {
        outcome: "ringing",
        rang: true,
        status: Some(487),
        reason_phrase: Some("Request Terminated"),
        analytics: None,
        retry_after_s: None,
        exit: 0,
    }
}

fn run(name: &str, scenario: &str) -> ProbeCase {
    ProbeCase::run(name, scenario, &Options::default())
}

#[test]
fn ring_cancel_is_ringing() {
    let case = run("ring_cancel", "ring_cancel");
    case.assert(&ringing());
}

#[test]
fn answered_is_answered_then_acked_and_hung_up() {
    let case = run("answered", "answered");
    case.assert(&Expect {
        outcome: "answered",
        rang: true,
        status: Some(200),
        reason_phrase: Some("OK"),
        analytics: None,
        retry_after_s: None,
        exit: 0,
    });
}

#[test]
fn decline_after_ring_is_declined() {
    let case = run("decline_after_ring", "decline_after_ring");
    case.assert(&Expect {
        rang: true,
        ..plain("declined", 603, "Decline")
    });
}

#[test]
fn decline_with_q850_cause_and_no_atis_text_is_declined() {
    let case = run("decline_no_ring", "decline_no_ring");
    case.assert(&plain("declined", 603, "Decline"));
}

#[test]
fn atis_603_plus_sip_form_is_network_blocked_with_every_field() {
    let case = run("nb_sip", "nb_sip");
    case.assert(&Expect {
        analytics: Some(atis_full()),
        ..plain("network_blocked", 603, "Network Blocked")
    });
}

#[test]
fn atis_603_plus_q850_form_after_ringing_is_network_blocked() {
    let case = run("nb_q850", "nb_q850");
    case.assert(&Expect {
        rang: true,
        analytics: Some(ExpectAnalytics {
            standard: "ATIS-1000099",
            url: Some("https://transit.example/redress"),
            tel: None,
            email: None,
            id: None,
            location: Some("TN"),
        }),
        ..plain("network_blocked", 603, "Network Blocked")
    });
}

#[test]
fn atis_603_plus_with_rewritten_phrase_is_network_blocked() {
    let case = run("nb_rewritten", "nb_rewritten");
    case.assert(&Expect {
        analytics: Some(atis_full()),
        ..plain("network_blocked", 603, "Decline")
    });
}

#[test]
fn network_blocked_phrase_without_reason_is_phrase_only() {
    let case = run("nb_phrase_only", "nb_phrase_only");
    case.assert(&Expect {
        analytics: Some(ExpectAnalytics {
            standard: "phrase-only",
            url: None,
            tel: None,
            email: None,
            id: None,
            location: None,
        }),
        ..plain("network_blocked", 603, "Network Blocked")
    });
}

#[test]
fn rfc8688_608_with_jwscard_is_rejected_with_jcard_contacts() {
    let case = run("rejected_608", "rejected_608");
    case.assert(&Expect {
        analytics: Some(ExpectAnalytics {
            standard: "RFC8688",
            url: Some("https://blocker.example/redress"),
            tel: Some("+1-800-555-0199"),
            email: Some("redress@blocker.example"),
            id: None,
            location: None,
        }),
        ..plain("rejected", 608, "Rejected")
    });
}

#[test]
fn unwanted_607_is_unwanted() {
    run("unwanted_607", "unwanted_607").assert(&plain("unwanted", 607, "Unwanted"));
}

#[test]
fn forbidden_403_is_forbidden() {
    run("forbidden_403", "forbidden_403").assert(&plain("forbidden", 403, "Forbidden"));
}

#[test]
fn not_found_404_is_not_found() {
    run("not_found_404", "not_found_404").assert(&plain("not_found", 404, "Not Found"));
}

#[test]
fn temporarily_unavailable_480_is_no_answer() {
    run("no_answer_480", "no_answer_480").assert(&plain(
        "no_answer",
        480,
        "Temporarily Unavailable",
    ));
}

#[test]
fn busy_486_is_busy() {
    run("busy_486", "busy_486").assert(&plain("busy", 486, "Busy Here"));
}

#[test]
fn service_unavailable_503_is_unavailable_with_retry_after() {
    let case = run("unavailable_503", "unavailable_503");
    case.assert(&Expect {
        retry_after_s: Some(120),
        ..plain("unavailable", 503, "Service Unavailable")
    });
}

#[test]
fn silent_far_end_is_timeout_after_timer_a_retransmissions() {
    let case = run("no_answer_silent", "no_answer_silent");
    let mut problems = case.check(&Expect {
        outcome: "timeout",
        rang: false,
        status: None,
        reason_phrase: None,
        analytics: None,
        retry_after_s: None,
        exit: 1,
    });
    // With T1 = 100 ms, Timer A sends at 0, 0.1, 0.3, 0.7, 1.5, 3.1 and 6.3 s
    // and Timer B ends the transaction at 6.4 s: 7 copies at most. At least
    // the first four are due within 0.7 s, however loaded the machine.
    let invites = case.sipp.received_requests("INVITE").len();
    if !(4..=7).contains(&invites) {
        problems.push(format!(
            "SIPp received {invites} INVITE copies; Timer A with T1 = 100 ms \
             and Timer B at 6.4 s allow 4 to 7"
        ));
    }
    case.fail_if(&problems);
}

/// A Digest credentials header value, split into its parameters (quotes
/// removed). `None` if it is not `Digest ...`.
fn digest_params(value: &str) -> Option<HashMap<String, String>> {
    let rest = value.trim().strip_prefix("Digest")?.trim_start();
    let mut params = HashMap::new();
    let mut quoted = false;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in rest.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&rest[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&rest[start..]);
    for part in parts {
        let (k, v) = part.split_once('=')?;
        params.insert(
            k.trim().to_ascii_lowercase(),
            v.trim().trim_matches('"').to_owned(),
        );
    }
    Some(params)
}

/// Recompute, independently of ringwatch, the digest response of the INVITE
/// carrying `header_name` in SIPp's trace (RFC 7616 / RFC 8760, qop=auth),
/// and check it, its uri and that neither the password nor the response
/// leaked into ringwatch's output.
fn check_digest(case: &ProbeCase, header_name: &str, algorithm: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let invites = case.sipp.received_requests("INVITE");
    let Some((invite, value)) = invites
        .iter()
        .find_map(|m| header(m, header_name).map(|v| (m, v)))
    else {
        problems.push(format!("no INVITE with {header_name} in SIPp's trace"));
        return problems;
    };
    let Some(p) = digest_params(value) else {
        problems.push(format!("{header_name} is not Digest: {value}"));
        return problems;
    };
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    let hash = |s: String| -> String {
        match algorithm {
            "MD5" => hex::encode(Md5::digest(s.as_bytes())),
            _ => hex::encode(Sha256::digest(s.as_bytes())),
        }
    };
    let request_uri = invite.split(' ').nth(1).unwrap_or("");
    if get("algorithm") != algorithm {
        problems.push(format!(
            "algorithm {:?}, want {algorithm}",
            get("algorithm")
        ));
    }
    if get("username") != TRUNK_USER {
        problems.push(format!("username {:?}, want {TRUNK_USER}", get("username")));
    }
    if get("uri") != request_uri {
        problems.push(format!(
            "digest uri {:?} is not the Request-URI {request_uri:?}",
            get("uri")
        ));
    }
    let ha1 = hash(format!("{}:{}:{PASSWORD}", get("username"), get("realm")));
    let ha2 = hash(format!("INVITE:{}", get("uri")));
    let want = hash(format!(
        "{ha1}:{}:{}:{}:{}:{ha2}",
        get("nonce"),
        get("nc"),
        get("cnonce"),
        get("qop")
    ));
    if get("response") != want {
        problems.push(format!(
            "digest response {:?} is not the {algorithm} of the password ({want})",
            get("response")
        ));
    }
    for (what, secret) in [("password", PASSWORD), ("digest response", get("response"))] {
        let out = format!("{}{}", case.ringwatch.stdout, case.ringwatch.stderr);
        if !secret.is_empty() && out.contains(secret) {
            problems.push(format!("the {what} leaked into ringwatch's output"));
        }
    }
    problems
}

#[test]
fn www_authenticate_401_is_answered_with_md5_credentials() {
    let case = ProbeCase::run(
        "auth_401",
        "auth_401",
        &Options {
            credentials: true,
            password: Some(PASSWORD),
            sipp_keys: &[("password", PASSWORD)],
        },
    );
    // SIPp's verifyauth accepted the credentials, or it would have sent a
    // second 401 and the outcome would be auth_failed.
    let mut problems = case.check(&ringing());
    problems.extend(check_digest(&case, "Authorization", "MD5"));
    case.fail_if(&problems);
}

#[test]
fn rejected_credentials_are_auth_failed_without_a_third_invite() {
    // ringwatch has the wrong password: SIPp's verifyauth fails, it
    // challenges again, and ringwatch must ACK and give up (a third INVITE
    // fails the scenario).
    let case = ProbeCase::run(
        "auth_401_bad",
        "auth_401",
        &Options {
            credentials: true,
            password: Some("not-the-password"),
            sipp_keys: &[("password", PASSWORD)],
        },
    );
    case.assert(&Expect {
        outcome: "auth_failed",
        rang: false,
        status: Some(401),
        reason_phrase: Some("Unauthorized"),
        analytics: None,
        retry_after_s: None,
        exit: 1,
    });
}

#[test]
fn proxy_authenticate_407_is_answered_with_sha256_credentials() {
    let case = ProbeCase::run(
        "auth_407",
        "auth_407",
        &Options {
            credentials: true,
            password: Some(PASSWORD),
            sipp_keys: &[],
        },
    );
    let mut problems = case.check(&ringing());
    // SIPp cannot verify a Proxy-Authorization, nor SHA-256: check it here.
    problems.extend(check_digest(&case, "Proxy-Authorization", "SHA-256"));
    case.fail_if(&problems);
}
