//! Unit tests of loading and validating `probes.toml`: defaults, every
//! rule, and the line:column of every kind of error.

use std::path::Path;
use std::time::Duration;

use super::*;

const MINIMAL: &str = r#"
[trunk]
proxy = "127.0.0.1:5060"

[[numbers]]
number = "+12025550143"

[[carriers]]
name = "att"
destinations = ["+13125550178"]
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse_str(text, Path::new("probes.toml"))
}

fn ok(text: &str) -> Config {
    parse(text).unwrap_or_else(|e| panic!("expected valid, got: {e}\n{text}"))
}

/// The error, asserting it has a position: (line, column, message).
fn err_at(text: &str) -> (usize, usize, String) {
    let e = parse(text).expect_err("expected an error");
    let p = e
        .position()
        .unwrap_or_else(|| panic!("no position in: {e}"));
    let msg = e.message().unwrap_or_default().to_owned();
    assert_eq!(
        e.to_string(),
        format!("probes.toml:{}:{}: {msg}", p.line, p.column)
    );
    assert!(!e.to_string().contains('\n'), "{e}");
    (p.line, p.column, msg)
}

/// MINIMAL with `line` inserted right after the `[trunk]` header (line 3).
fn with_trunk_line(line: &str) -> String {
    MINIMAL.replacen("[trunk]\n", &format!("[trunk]\n{line}\n"), 1)
}

/// MINIMAL plus a `[call]` table holding `line` (which lands on line 13).
fn with_call_line(line: &str) -> String {
    format!("{MINIMAL}\n[call]\n{line}\n")
}

#[test]
fn example_template_is_valid() {
    let c = ok(EXAMPLE);
    assert_eq!(c.numbers.len(), 2);
    assert_eq!(c.numbers[1].number.as_str(), "+13125550101");
    assert_eq!(c.numbers[1].label.as_deref(), Some("support"));
    let names: Vec<&str> = c.carriers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["att", "verizon", "tmobile"]);
    assert_eq!(c.calls_per_run(), 6);
    assert_eq!(c.trunk.username, None);
}

#[test]
fn defaults_are_applied() {
    let c = ok(MINIMAL);
    assert_eq!(c.source, Path::new("probes.toml"));
    assert_eq!(
        c.trunk,
        Trunk {
            proxy_host: "127.0.0.1".into(),
            proxy_port: 5060,
            transport: Transport::Udp,
            domain: "127.0.0.1".into(),
            from_domain: None,
            username: None,
            password_env: None,
            user_phone: true,
        }
    );
    assert_eq!(c.call.ring, Duration::from_secs(6));
    assert_eq!(c.call.t1, Duration::from_millis(500));
    assert_eq!(c.call.linger, Duration::from_millis(2000));
    assert_eq!(c.call.alert_timeout, Duration::from_secs(30));
    assert_eq!(c.schedule.cps, 1.0);
    assert_eq!(c.schedule.max_concurrent, 10);
    assert_eq!(c.numbers[0].label, None);
    // Empty tables also mean defaults.
    let c2 = ok(&format!("{MINIMAL}\n[call]\n[schedule]\n"));
    assert_eq!(c2.call, c.call);
    assert_eq!(c2.schedule, c.schedule);
}

#[test]
fn every_key_is_read() {
    let text = r#"
[trunk]
proxy = "[2001:db8::10]:5080"
transport = "UDP"
domain = "trunk.example.net"
from_domain = "pbx.example.com"
username = "acct"
password_env = "RINGWATCH_TRUNK_PASSWORD"
user_phone = false
[call]
ring_seconds = 2.5
t1_ms = 50
linger_ms = 0
alert_timeout_seconds = 300
[schedule]
cps = 0.2
max_concurrent = 1000
[[numbers]]
number = "+1 202 555 0143"
label = "  sales-east "
[[carriers]]
name = "t-mobile_2"
destinations = ["+13125550178", "+442079460018"]
"#;
    let c = ok(text);
    assert_eq!(c.trunk.proxy_host, "2001:db8::10");
    assert_eq!(c.trunk.proxy_port, 5080);
    assert_eq!(c.trunk.proxy(), "[2001:db8::10]:5080");
    assert_eq!(c.trunk.domain, "trunk.example.net");
    assert_eq!(c.trunk.from_domain.as_deref(), Some("pbx.example.com"));
    assert_eq!(c.trunk.username.as_deref(), Some("acct"));
    assert_eq!(
        c.trunk.password_env.as_deref(),
        Some("RINGWATCH_TRUNK_PASSWORD")
    );
    assert!(!c.trunk.user_phone);
    assert_eq!(c.call.ring, Duration::from_millis(2500));
    assert_eq!(c.call.t1, Duration::from_millis(50));
    assert_eq!(c.call.linger, Duration::ZERO);
    assert_eq!(c.call.alert_timeout, Duration::from_secs(300));
    assert_eq!(c.schedule.cps, 0.2);
    assert_eq!(c.schedule.max_concurrent, 1000);
    assert_eq!(c.numbers[0].number.as_str(), "+12025550143");
    assert_eq!(c.numbers[0].label.as_deref(), Some("sales-east"));
    assert_eq!(c.carriers[0].destinations.len(), 2);
}

#[test]
fn proxy_forms_and_domain_default() {
    let c = ok(&MINIMAL.replace("127.0.0.1:5060", "sip.example.net"));
    assert_eq!(
        (c.trunk.proxy_host.as_str(), c.trunk.proxy_port),
        ("sip.example.net", 5060)
    );
    assert_eq!(c.trunk.domain, "sip.example.net");
    let c = ok(&MINIMAL.replace("127.0.0.1:5060", "[::1]"));
    assert_eq!(c.trunk.proxy_host, "::1");
    assert_eq!(c.trunk.domain, "[::1]");
    assert_eq!(c.trunk.proxy(), "[::1]:5060");
}

#[test]
fn lookups() {
    let c = ok(EXAMPLE);
    let dest = E164::parse("+14255550129").expect("valid");
    assert_eq!(
        c.carrier_of(&dest).map(|c| c.name.as_str()),
        Some("tmobile")
    );
    assert!(
        c.carrier_of(&E164::parse("+14255550100").expect("valid"))
            .is_none()
    );
    assert_eq!(c.carrier("verizon").map(|c| c.destinations.len()), Some(1));
    assert!(c.carrier("sprint").is_none());
    let own = E164::parse("+12025550143").expect("valid");
    assert_eq!(
        c.number(&own).and_then(|n| n.label.as_deref()),
        Some("sales-east")
    );
    assert!(c.number(&dest).is_none());
}

#[test]
fn carrier_of_returns_the_first_carrier_listing_it() {
    let text =
        format!("{MINIMAL}\n[[carriers]]\nname = \"other\"\ndestinations = [\"+13125550178\"]\n");
    let c = ok(&text);
    let d = E164::parse("+13125550178").expect("valid");
    assert_eq!(c.carrier_of(&d).map(|c| c.name.as_str()), Some("att"));
}

#[test]
fn unknown_key_has_position_and_names_the_table() {
    let text = with_call_line("ringseconds = 5");
    let (line, col, msg) = err_at(&text);
    assert_eq!((line, col), (13, 1));
    assert_eq!(
        msg,
        "unknown field `ringseconds` in [call], expected one of `ring_seconds`, `t1_ms`, \
         `linger_ms`, `alert_timeout_seconds`"
    );

    let (line, col, msg) = err_at(&with_trunk_line("    proxi = 1"));
    assert_eq!((line, col), (3, 5));
    assert!(
        msg.starts_with("unknown field `proxi` in [trunk], expected one of `proxy`"),
        "{msg}"
    );

    let (line, _, msg) = err_at(&format!("{MINIMAL}\n[stor]\npath = \"x\"\n"));
    assert_eq!(line, 12);
    assert!(
        msg.starts_with("unknown table `stor` at the top level"),
        "{msg}"
    );

    let (_, _, msg) = err_at(&MINIMAL.replace("name = \"att\"", "nme = \"att\""));
    assert!(
        msg.starts_with("unknown field `nme` in [[carriers]]"),
        "{msg}"
    );

    let (_, _, msg) = err_at(&MINIMAL.replace("number = ", "numbr = "));
    assert!(
        msg.starts_with("unknown field `numbr` in [[numbers]]"),
        "{msg}"
    );

    let (_, _, msg) = err_at(&format!("{MINIMAL}\n[schedule]\nwindoww = \"9-17\"\n"));
    assert!(
        msg.starts_with("unknown field `windoww` in [schedule]"),
        "{msg}"
    );
    let (line, col, msg) = err_at(&format!("{MINIMAL}\n[schedule]\nwindow = \"9-17\"\n"));
    assert_eq!((line, col), (13, 10));
    assert!(
        msg.starts_with("[schedule] window: `9` is not a HH:MM time"),
        "{msg}"
    );
    let (_, _, msg) = err_at(&format!(
        "{MINIMAL}\n[schedule]\ntimezone = \"Mars/Olympus\"\n"
    ));
    assert!(msg.contains("not an IANA timezone"), "{msg}");
    let (_, _, msg) = err_at(&format!(
        "{MINIMAL}\n[schedule]\nevery = \"6h\"\nblocked_every = \"1h\"\n"
    ));
    assert!(
        msg.contains("blocked_every must not be shorter than every"),
        "{msg}"
    );
    let (_, _, msg) = err_at(&format!(
        "{MINIMAL}\n[[alerts.webhook]]\nurl = \"ftp://x\"\n"
    ));
    assert!(msg.contains("must be an http:// or https:// URL"), "{msg}");
    let (_, _, msg) = err_at(&format!("{MINIMAL}\n[http]\nlisten = \"localhost\"\n"));
    assert!(msg.contains("[http] listen"), "{msg}");

    // Inline tables too.
    let text = MINIMAL.replace(
        "[trunk]\nproxy = \"127.0.0.1:5060\"",
        "trunk = { proxy = \"127.0.0.1:5060\", bogus = 1 }",
    );
    let (_, col, msg) = err_at(&text);
    assert_eq!(col, 37);
    assert!(msg.starts_with("unknown field `bogus` in [trunk]"), "{msg}");
}

#[test]
fn password_in_file_is_refused() {
    let (line, col, msg) = err_at(&with_trunk_line("password = \"hunter2\""));
    assert_eq!((line, col), (3, 1));
    assert!(
        msg.contains("put the password in an environment variable and name it with password_env"),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"));
}

#[test]
fn auth_keys_go_together() {
    let (line, col, msg) = err_at(&with_trunk_line("username = \"acct\""));
    assert_eq!((line, col), (3, 12));
    assert!(msg.contains("password_env"), "{msg}");

    let (line, _, msg) = err_at(&with_trunk_line("password_env = \"RW_PASS\""));
    assert_eq!(line, 3);
    assert!(msg.contains("username"), "{msg}");

    let (_, col, msg) = err_at(&with_trunk_line(
        "username = \"acct\"\npassword_env = \"my-pass\"",
    ));
    assert_eq!(col, 16);
    assert!(msg.contains("not an environment variable name"), "{msg}");

    let (_, _, msg) = err_at(&with_trunk_line(
        "username = \"acct\"\npassword_env = \"$RW_PASS\"",
    ));
    assert!(msg.contains("not an environment variable name"), "{msg}");
}

#[test]
fn transport_tcp_is_not_supported_yet() {
    let (line, col, msg) = err_at(&with_trunk_line("transport = \"tcp\""));
    assert_eq!((line, col), (3, 13));
    assert_eq!(
        msg,
        "transport \"tcp\" is not supported yet; only \"udp\" is"
    );
    let (_, _, msg) = err_at(&with_trunk_line("transport = \"tls\""));
    assert!(msg.contains("not supported yet"), "{msg}");
    let (_, _, msg) = err_at(&with_trunk_line("transport = \"sctp\""));
    assert!(msg.starts_with("unknown transport \"sctp\""), "{msg}");
}

#[test]
fn bad_number_points_at_the_value() {
    let text = MINIMAL.replace("\"+12025550143\"", "\"+1202555014\"");
    let (line, col, msg) = err_at(&text);
    assert_eq!((line, col), (6, 10));
    assert_eq!(
        msg,
        "+1202555014: NANP numbers have 10 digits after +1, got 9"
    );

    let text = MINIMAL.replace("[\"+13125550178\"]", "[\"+13125550178\", \"+03125550178\"]");
    let (line, col, msg) = err_at(&text);
    assert_eq!((line, col), (10, 33));
    assert_eq!(msg, "+03125550178: country codes never start with 0");

    let text = MINIMAL.replace("\"+12025550143\"", "+12025550143");
    let (_, col, msg) = err_at(&text);
    assert_eq!(col, 10);
    assert_eq!(
        msg,
        "phone numbers must be quoted strings: write \"+12025550143\""
    );

    let text = MINIMAL.replace("\"+12025550143\"", "true");
    let (_, _, msg) = err_at(&text);
    assert!(msg.ends_with("got boolean"), "{msg}");
}

#[test]
fn missing_numbers_or_carriers() {
    let no_numbers = MINIMAL.replace("[[numbers]]\nnumber = \"+12025550143\"\n", "");
    let e = parse(&no_numbers).expect_err("no numbers");
    assert!(
        e.to_string().starts_with("probes.toml: no [[numbers]]"),
        "{e}"
    );

    let no_carriers = MINIMAL.replace(
        "[[carriers]]\nname = \"att\"\ndestinations = [\"+13125550178\"]\n",
        "",
    );
    let e = parse(&no_carriers).expect_err("no carriers");
    assert!(
        e.to_string().starts_with("probes.toml: no [[carriers]]"),
        "{e}"
    );

    let e = parse("[[numbers]]\nnumber = \"+12025550143\"\n").expect_err("no trunk");
    assert!(
        e.to_string().starts_with("probes.toml: missing [trunk]"),
        "{e}"
    );

    let (line, col, msg) = err_at(&MINIMAL.replace("proxy = \"127.0.0.1:5060\"", ""));
    assert_eq!((line, col), (2, 1));
    assert!(msg.contains("no `proxy`"), "{msg}");

    let (line, col, msg) = err_at(&MINIMAL.replace("number = \"+12025550143\"", "label = \"x\""));
    assert_eq!((line, col), (5, 1));
    assert!(msg.contains("no `number`"), "{msg}");
}

#[test]
fn carrier_without_destinations() {
    let text = MINIMAL.replace("destinations = [\"+13125550178\"]", "");
    let (line, col, msg) = err_at(&text);
    assert_eq!((line, col), (9, 8));
    assert_eq!(msg, "carrier `att` has no destinations");

    let text = MINIMAL.replace("[\"+13125550178\"]", "[]");
    let (line, col, msg) = err_at(&text);
    assert_eq!((line, col), (10, 16));
    assert_eq!(msg, "carrier `att` has no destinations");
}

#[test]
fn duplicates_are_refused() {
    let text =
        format!("{MINIMAL}\n[[carriers]]\nname = \"att\"\ndestinations = [\"+13125550179\"]\n");
    let (line, col, msg) = err_at(&text);
    assert_eq!((line, col), (13, 8));
    assert_eq!(msg, "duplicate carrier `att` (already defined at line 9)");

    let text = format!("{MINIMAL}\n[[numbers]]\nnumber = \"+1 202-555-0143\"\n");
    let (line, col, msg) = err_at(&text);
    assert_eq!((line, col), (13, 10));
    assert_eq!(
        msg,
        "duplicate number +12025550143 (already listed at line 6)"
    );

    let text = MINIMAL.replace(
        "[\"+13125550178\"]",
        "[\"+13125550178\", \"+1312 555 0178\"]",
    );
    let (_, _, msg) = err_at(&text);
    assert_eq!(
        msg,
        "destination +13125550178 is listed twice for carrier `att`"
    );
}

#[test]
fn carrier_names_are_checked() {
    for bad in ["AT&T", "", "-att", &"a".repeat(33)] {
        let text = MINIMAL.replace("\"att\"", &format!("\"{bad}\""));
        let (line, col, msg) = err_at(&text);
        assert_eq!((line, col), (9, 8), "{bad}");
        assert!(msg.starts_with("carrier name"), "{msg}");
    }
}

#[test]
fn out_of_range_values() {
    let cases = [
        (
            "ring_seconds = 0",
            "[call] ring_seconds must be between 1 and 120 seconds, got 0",
        ),
        (
            "ring_seconds = 0.5",
            "[call] ring_seconds must be between 1 and 120 seconds, got 0.5",
        ),
        (
            "ring_seconds = 121",
            "[call] ring_seconds must be between 1 and 120 seconds, got 121",
        ),
        (
            "ring_seconds = -3",
            "[call] ring_seconds must be between 1 and 120 seconds, got -3",
        ),
        (
            "ring_seconds = nan",
            "[call] ring_seconds must be a finite number",
        ),
        (
            "ring_seconds = inf",
            "[call] ring_seconds must be a finite number",
        ),
        (
            "ring_seconds = \"6\"",
            "[call] ring_seconds must be a number (seconds), got string",
        ),
        (
            "t1_ms = 49",
            "[call] t1_ms must be between 50 and 5000 (milliseconds), got 49",
        ),
        (
            "t1_ms = 5001",
            "[call] t1_ms must be between 50 and 5000 (milliseconds), got 5001",
        ),
        (
            "t1_ms = 500.0",
            "[call] t1_ms must be a whole number of milliseconds, got 500.0",
        ),
        (
            "linger_ms = -1",
            "[call] linger_ms must be between 0 and 32000 (milliseconds), got -1",
        ),
        (
            "linger_ms = 32001",
            "[call] linger_ms must be between 0 and 32000 (milliseconds), got 32001",
        ),
        (
            "alert_timeout_seconds = 0",
            "[call] alert_timeout_seconds must be between 1 and 300 seconds, got 0",
        ),
        (
            "alert_timeout_seconds = 301",
            "[call] alert_timeout_seconds must be between 1 and 300 seconds, got 301",
        ),
    ];
    for (line, want) in cases {
        let (l, col, msg) = err_at(&with_call_line(line));
        assert_eq!(msg, want, "{line}");
        assert_eq!(l, 13, "{line}");
        assert_eq!(col, line.find('=').unwrap_or_default() + 3, "{line}");
    }

    let schedule = [
        (
            "cps = 0",
            "[schedule] cps must be more than 0 and at most 100, got 0",
        ),
        (
            "cps = -1.5",
            "[schedule] cps must be more than 0 and at most 100, got -1.5",
        ),
        (
            "cps = 100.5",
            "[schedule] cps must be more than 0 and at most 100, got 100.5",
        ),
        ("cps = nan", "[schedule] cps must be a finite number"),
        (
            "max_concurrent = 0",
            "[schedule] max_concurrent must be between 1 and 1000 (calls), got 0",
        ),
        (
            "max_concurrent = 1001",
            "[schedule] max_concurrent must be between 1 and 1000 (calls), got 1001",
        ),
    ];
    for (line, want) in schedule {
        let (l, _, msg) = err_at(&format!("{MINIMAL}\n[schedule]\n{line}\n"));
        assert_eq!(msg, want, "{line}");
        assert_eq!(l, 13, "{line}");
    }
    let c = ok(&format!("{MINIMAL}\n[schedule]\ncps = 100\n"));
    assert_eq!(c.schedule.cps, 100.0);
}

#[test]
fn proxy_and_hosts_are_checked() {
    for bad in [
        "",
        "host:0",
        "host:70000",
        "::1",
        "sip:trunk.example.net",
        "a b",
    ] {
        let (line, col, msg) = err_at(&MINIMAL.replace("127.0.0.1:5060", bad));
        assert_eq!((line, col), (3, 9), "{bad}");
        assert!(msg.starts_with("proxy "), "{msg}");
    }
    let (line, col, msg) = err_at(&with_trunk_line("domain = \"trunk.example.net:5060\""));
    assert_eq!((line, col), (3, 10));
    assert!(msg.starts_with("domain "), "{msg}");
    let (_, _, msg) = err_at(&with_trunk_line("from_domain = \"\""));
    assert_eq!(msg, "from_domain is empty");
    let c = ok(&with_trunk_line("domain = \"[2001:db8::1]\""));
    assert_eq!(c.trunk.domain, "[2001:db8::1]");
}

#[test]
fn serde_type_errors_name_the_key() {
    let (line, col, msg) = err_at(&with_trunk_line("user_phone = \"yes\""));
    assert_eq!((line, col), (3, 14));
    assert_eq!(
        msg,
        "`user_phone`: invalid type: string \"yes\", expected a boolean"
    );
    let (_, _, msg) = err_at(&MINIMAL.replace("[trunk]\nproxy = \"127.0.0.1:5060\"", "trunk = 5"));
    assert_eq!(msg, "`trunk`: invalid type: integer `5`, expected a table");
}

#[test]
fn single_brackets_for_a_list_get_a_hint() {
    let text = MINIMAL.replace("[[numbers]]", "[numbers]");
    let (line, col, msg) = err_at(&text);
    assert_eq!((line, col), (5, 1));
    assert_eq!(
        msg,
        "[numbers] must be written [[numbers]] (double brackets): one block per entry"
    );
}

#[test]
fn syntax_errors_are_one_line_with_position() {
    let (line, _, msg) = err_at("[trunk\nproxy = 1\n");
    assert_eq!(line, 1);
    assert!(msg.contains("invalid table header"), "{msg}");
    let (line, _, msg) = err_at(&with_trunk_line("proxy = \"x\""));
    assert_eq!(line, 4);
    assert!(msg.contains("duplicate key"), "{msg}");
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        "\u{0}",
        "\u{feff}",
        "[[trunk]]",
        "numbers = 5",
        "numbers = [1, 2]",
        "[numbers]\nnumber = \"+12025550143\"",
        "carriers = [{ destinations = [[1]] }]",
        "[trunk]\nproxy = \"[\"\n",
        "[trunk]\nproxy = \"é:ü\"\n",
        "[trunk]\nproxy = \"h:\"\n",
        "\r\n\r\n[trunk]\r\nproxi = 1\r\n",
    ];
    for input in inputs {
        if let Err(e) = parse(input) {
            assert!(!e.to_string().contains('\n'), "{input:?}: {e}");
        }
    }
    // Every prefix of a valid file.
    for (i, _) in EXAMPLE.char_indices() {
        let _ = parse(&EXAMPLE[..i]);
    }
}

#[test]
fn crlf_files_get_the_same_positions() {
    let text = with_call_line("ringseconds = 5").replace('\n', "\r\n");
    let (line, col, _) = err_at(&text);
    assert_eq!((line, col), (13, 1));
}

#[test]
fn load_reports_missing_file() {
    let path = Path::new("/nonexistent/ringwatch/probes.toml");
    let e = Config::load(path).expect_err("missing");
    assert!(matches!(e, ConfigError::NotFound { .. }));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/ringwatch/probes.toml: config file not found"),
        "{e}"
    );
}

#[test]
fn store_path_is_relative_to_the_config_file() {
    let dir = Path::new("/etc/ringwatch/probes.toml");
    let cfg = Config::parse_str(MINIMAL, dir).expect("valid");
    assert_eq!(cfg.store.path, Path::new("/etc/ringwatch/ringwatch.db"));
    let cfg = Config::parse_str(&format!("{MINIMAL}\n[store]\npath = \"data/h.db\"\n"), dir)
        .expect("valid");
    assert_eq!(cfg.store.path, Path::new("/etc/ringwatch/data/h.db"));
    let cfg = Config::parse_str(
        &format!("{MINIMAL}\n[store]\npath = \"/var/lib/rw.db\"\n"),
        dir,
    )
    .expect("valid");
    assert_eq!(cfg.store.path, Path::new("/var/lib/rw.db"));
    let err =
        Config::parse_str(&format!("{MINIMAL}\n[store]\npath = \"\"\n"), dir).expect_err("empty");
    assert!(err.to_string().contains("[store] path is empty"), "{err}");
}
