//! `/`: the self-contained HTML dashboard of a [`Snapshot`]. Pure string
//! building: no I/O, no clock, no panics.
//!
//! The page is complete without JavaScript: the numbers × carriers grid,
//! the open incidents and the redress contacts are rendered here, on the
//! server. One small inline script (allowed by its hash in the
//! `Content-Security-Policy`, see [`csp`]) re-fetches the same URL every
//! [`REFRESH_SECONDS`] and swaps the `#rw` element; with scripting off, a
//! `<noscript>` meta refresh reloads the page instead. No external
//! resources of any kind.
//!
//! Every string from the snapshot is escaped ([`Esc`]): carrier names come
//! from the config, but redress URLs, telephone numbers, e-mails, locations
//! and reasons come from SIP responses, i.e. from the network. Redress URLs
//! are shown as text, never as links (see docs/DECISIONS.md, "HTTP").
//!
//! Test hooks (stable): each grid cell is
//! `<td class="cell s-STATE" data-number="+1…" data-carrier="NAME" data-state="STATE">`,
//! each row `<tr data-number="+1…">`, each redress contact
//! `<span class="redress-url|redress-tel|redress-email|redress-location">`
//! inside `<tr class="redress" data-number data-carrier>`, each open
//! incident `<tr class="incident" data-number data-carrier data-state>`.

use std::fmt::{self, Write as _};
use std::sync::LazyLock;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::daemon::snapshot::{NumberView, Snapshot};
use crate::reputation::{CarrierReport, State, Verdict};

/// How often the page refreshes itself (seconds): by script, or by the
/// `<noscript>` meta refresh (three times slower, a full reload).
pub const REFRESH_SECONDS: u32 = 10;

/// At most this many probes (the newest) are drawn in a sparkline.
const SPARK_MAX: usize = 60;

const STYLE: &str = r#"
:root{--clean:#1e8e3e;--clean-bg:#e6f4ea;--suspect:#c77700;--suspect-bg:#fef3d6;--blocked:#c5221f;--blocked-bg:#fce8e6;--unknown:#6b7280;--unknown-bg:#eef0f3;--ink:#1f2933;--muted:#5f6b7a;--line:#d9dee5}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#f6f7f9}
header{background:#1f2933;color:#fff;padding:10px 24px;display:flex;align-items:baseline;gap:18px;flex-wrap:wrap}
header h1{margin:0;font-size:20px;letter-spacing:.02em}
header .live{color:#b8c2cc;font-size:12px}
#rw{padding:14px 24px 28px}
.meta{color:var(--muted);margin:0 0 10px}
.pills{display:flex;gap:8px;flex-wrap:wrap;margin:0 0 14px}
.pill{border-radius:999px;padding:2px 10px;font-weight:600;font-size:12px;border:1px solid var(--line);background:#fff}
.pill.s-clean{color:var(--clean);border-color:var(--clean)}
.pill.s-suspect{color:var(--suspect);border-color:var(--suspect)}
.pill.s-blocked{color:var(--blocked);border-color:var(--blocked)}
.pill.s-unknown{color:var(--unknown);border-color:var(--unknown)}
.pill.warn{background:var(--blocked-bg);color:var(--blocked);border-color:var(--blocked)}
h2{font-size:15px;margin:22px 0 6px}
table{border-collapse:separate;border-spacing:6px}
th{text-align:left;font-weight:600}
.grid thead th{font-size:13px;color:var(--muted);padding:0 4px}
.grid th.num{padding:8px 10px 8px 0;vertical-align:top;min-width:170px}
.num .e164{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:14px;display:block}
.num .label{color:var(--muted);font-weight:400;display:block}
.verdict{display:inline-block;margin-top:4px;font-size:11px;font-weight:700;text-transform:uppercase;border-radius:4px;padding:1px 6px;color:#fff}
.v-ready{background:var(--clean)}.v-not_ready{background:var(--blocked)}.v-unknown{background:var(--unknown)}
td.cell{vertical-align:top;min-width:200px;padding:8px 10px;border-radius:6px;border:1px solid var(--line);border-left-width:6px}
td.s-clean{background:var(--clean-bg);border-color:var(--clean)}
td.s-suspect{background:var(--suspect-bg);border-color:var(--suspect)}
td.s-blocked{background:var(--blocked-bg);border-color:var(--blocked)}
td.s-unknown{background:var(--unknown-bg);border-color:var(--unknown)}
.st{font-size:12px;font-weight:700;text-transform:uppercase;letter-spacing:.05em}
.s-clean .st{color:var(--clean)}.s-suspect .st{color:var(--suspect)}.s-blocked .st{color:var(--blocked)}.s-unknown .st{color:var(--unknown)}
.last{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
.small{color:var(--muted);font-size:12px}
.attr{font-size:12px}
.spark{display:block;margin:4px 0 2px}
.k-R{fill:var(--clean)}.k-B{fill:var(--blocked)}.k-s{fill:var(--suspect)}.k-d{fill:#5aa469}.k-b,.k-n{fill:#7b8794}.k-t,.k-o{fill:#a3acb9}.track{fill:#c3cad4}
.list{background:#fff;border:1px solid var(--line);border-radius:6px;border-spacing:0}
.list th,.list td{padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
.list tr:last-child td{border-bottom:0}
.list code,.redress span{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.redress span{display:block}
.none{color:var(--muted)}
.legend{color:var(--muted);font-size:12px;margin-top:18px}
.legend b{display:inline-block;width:9px;height:9px;margin:0 3px 0 10px;border-radius:2px}
.legend .k-R{background:var(--clean)}.legend .k-B{background:var(--blocked)}.legend .k-s{background:var(--suspect)}.legend .k-d{background:#5aa469}.legend .k-b{background:#7b8794}.legend .k-t{background:#a3acb9}
"#;

const SCRIPT: &str = r#"
(function(){
  var live=document.getElementById('rw-live');
  if(live){live.textContent='auto-refresh every 10 s';}
  function tick(){
    fetch(location.href,{cache:'no-store',credentials:'same-origin'}).then(function(r){
      if(!r.ok){throw new Error('HTTP '+r.status);}
      return r.text();
    }).then(function(t){
      var next=new DOMParser().parseFromString(t,'text/html').getElementById('rw');
      var cur=document.getElementById('rw');
      if(next&&cur){cur.replaceWith(document.adoptNode(next));}
      if(live){live.textContent='auto-refresh every 10 s, last '+new Date().toLocaleTimeString();}
    }).catch(function(e){
      if(live){live.textContent='refresh failed ('+e.message+'); showing older data';}
    });
  }
  setInterval(tick,10000);
})();
"#;

fn sha256_b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
}

static CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; \
         connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
        sha256_b64(STYLE),
        sha256_b64(SCRIPT)
    )
});

/// The `Content-Security-Policy` the page is served with: nothing but the
/// page's own inline style and script (by hash), and `fetch` to its own
/// origin. An injected `<script>` would not run even if escaping failed.
#[must_use]
pub fn csp() -> &'static str {
    CSP.as_str()
}

/// Render the whole page.
#[must_use]
pub fn render_dashboard(s: &Snapshot) -> String {
    let mut out = String::with_capacity(16 * 1024);
    // Writing into a String cannot fail.
    let _ = page(&mut out, s);
    out
}

/// HTML-escapes a string for text and double-quoted attribute values alike.
/// C0 control characters other than tab, LF and CR become U+FFFD.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(|c: char| {
            matches!(c, '&' | '<' | '>' | '"' | '\'')
                || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        }) {
            let (head, tail) = rest.split_at(i);
            f.write_str(head)?;
            let mut chars = tail.chars();
            let c = chars.next().unwrap_or('\u{fffd}');
            f.write_str(match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => "\u{fffd}",
            })?;
            rest = chars.as_str();
        }
        f.write_str(rest)
    }
}

/// Carrier columns: the configured carriers in order, then any carrier
/// that only appears in a report (first seen first).
fn columns(s: &Snapshot) -> Vec<(&str, bool)> {
    let mut cols: Vec<(&str, bool)> = s.carriers.iter().map(|c| (c.as_str(), true)).collect();
    for v in &s.numbers {
        for c in &v.report.carriers {
            if !cols.iter().any(|(name, _)| *name == c.carrier) {
                cols.push((c.carrier.as_str(), false));
            }
        }
    }
    cols
}

fn state_counts(s: &Snapshot) -> [(State, u64); 4] {
    let mut counts = [
        (State::Clean, 0u64),
        (State::Suspect, 0),
        (State::Blocked, 0),
        (State::Unknown, 0),
    ];
    for v in &s.numbers {
        for c in &v.report.carriers {
            for (st, n) in &mut counts {
                if *st == c.state {
                    *n = n.saturating_add(1);
                }
            }
        }
    }
    counts
}

fn page(out: &mut String, s: &Snapshot) -> fmt::Result {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    writeln!(
        out,
        "<noscript><meta http-equiv=\"refresh\" content=\"{}\"></noscript>",
        REFRESH_SECONDS * 3
    )?;
    out.push_str("<link rel=\"icon\" href=\"data:,\">\n<title>ringwatch</title>\n");
    writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>")?;
    out.push_str("<header><h1>ringwatch</h1><span>outbound caller-ID reputation</span>");
    writeln!(
        out,
        "<span class=\"live\" id=\"rw-live\">static page: reloads every {} s</span></header>",
        REFRESH_SECONDS * 3
    )?;
    out.push_str("<main id=\"rw\">\n");
    summary(out, s)?;
    grid(out, s)?;
    incidents(out, s)?;
    redress(out, s)?;
    legend(out)?;
    out.push_str("</main>\n");
    writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>")
}

fn summary(out: &mut String, s: &Snapshot) -> fmt::Result {
    writeln!(
        out,
        "<p class=\"meta\">generated <time id=\"generated-at\" datetime=\"{}\">{}</time> · daemon up since {} · {} numbers × {} carriers</p>",
        Esc(&s.generated_at),
        Esc(&long_time(&s.generated_at)),
        Esc(&long_time(&s.started_at)),
        s.numbers.len(),
        columns(s).len()
    )?;
    out.push_str("<div class=\"pills\">");
    for (st, n) in state_counts(s) {
        write!(
            out,
            "<span class=\"pill s-{0}\" data-count-state=\"{0}\">{1} {0}</span>",
            st.as_str(),
            n
        )?;
    }
    let m = &s.metrics;
    if m.trunk_paused {
        out.push_str("<span class=\"pill warn\" id=\"trunk-paused\">trunk paused</span>");
    }
    write!(
        out,
        "<span class=\"pill\">calls in flight: {}</span><span class=\"pill\">scheduler lag: {:.1} s</span>",
        m.calls_in_flight,
        finite(m.scheduler_lag_seconds)
    )?;
    if m.alerts_dropped > 0 {
        write!(
            out,
            "<span class=\"pill warn\">{} alerts dropped</span>",
            m.alerts_dropped
        )?;
    }
    out.push_str("</div>\n");
    Ok(())
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

fn grid(out: &mut String, s: &Snapshot) -> fmt::Result {
    out.push_str("<h2>Numbers × carriers</h2>\n");
    let cols = columns(s);
    if s.numbers.is_empty() {
        out.push_str("<p class=\"none\">No owned numbers yet.</p>\n");
        return Ok(());
    }
    out.push_str("<table class=\"grid\" id=\"grid\">\n<thead><tr><th>number</th>");
    for (name, configured) in &cols {
        write!(out, "<th scope=\"col\" data-carrier=\"{0}\">{0}", Esc(name))?;
        if !configured {
            out.push_str(" <span class=\"small\">(not in config)</span>");
        }
        out.push_str("</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for v in &s.numbers {
        row(out, v, &cols)?;
    }
    out.push_str("</tbody>\n</table>\n");
    Ok(())
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Ready => "ready",
        Verdict::NotReady => "not ready",
        Verdict::Unknown => "unknown",
    }
}

fn row(out: &mut String, v: &NumberView, cols: &[(&str, bool)]) -> fmt::Result {
    write!(
        out,
        "<tr data-number=\"{0}\"><th scope=\"row\" class=\"num\"><span class=\"e164\">{0}</span>",
        Esc(&v.number)
    )?;
    if let Some(label) = &v.label {
        write!(out, "<span class=\"label\">{}</span>", Esc(label))?;
    }
    write!(
        out,
        "<span class=\"verdict v-{}\" data-verdict=\"{}\">{}</span></th>",
        v.report.verdict.as_str(),
        v.report.verdict.as_str(),
        verdict_text(v.report.verdict)
    )?;
    for (carrier, _) in cols {
        match v.report.carriers.iter().find(|c| c.carrier == *carrier) {
            Some(c) => cell(out, &v.number, c)?,
            None => write!(
                out,
                "<td class=\"cell s-unknown\" data-number=\"{}\" data-carrier=\"{}\" data-state=\"unknown\"><div class=\"st\">unknown</div><div class=\"small\">no probes</div></td>",
                Esc(&v.number),
                Esc(carrier)
            )?,
        }
    }
    out.push_str("</tr>\n");
    Ok(())
}

fn cell(out: &mut String, number: &str, c: &CarrierReport) -> fmt::Result {
    let st = c.state.as_str();
    write!(
        out,
        "<td class=\"cell s-{st}\" data-number=\"{}\" data-carrier=\"{}\" data-state=\"{st}\" title=\"{}\">",
        Esc(number),
        Esc(&c.carrier),
        Esc(&c.reason)
    )?;
    write!(out, "<div class=\"st\">{st}</div>")?;
    match c.last_outcome {
        Some(o) => {
            write!(
                out,
                "<div class=\"last\" data-outcome=\"{0}\">{0}",
                o.as_str()
            )?;
            if let Some(code) = c.last_status {
                write!(out, " {code}")?;
            }
            out.push_str("</div>");
        }
        None => out.push_str("<div class=\"last none\">no probes</div>"),
    }
    sparkline(out, &c.timeline)?;
    if let Some(at) = &c.last_at {
        write!(
            out,
            "<div class=\"small\">last {} · {} probes</div>",
            Esc(&long_time(at)),
            c.probes
        )?;
    }
    if c.state != State::Clean {
        if let Some(a) = c.attribution {
            write!(
                out,
                "<div class=\"attr\" data-attribution=\"{0}\">attribution: <b>{0}</b></div>",
                a.as_str()
            )?;
        }
        if let Some(since) = &c.since {
            write!(
                out,
                "<div class=\"small\">since {}</div>",
                Esc(&long_time(since))
            )?;
        }
    }
    out.push_str("</td>");
    Ok(())
}

/// The timeline as SVG bars, oldest left: tall green for rang, tall red
/// for 603+/608, tall amber for suspect codes, shorter for neutral and
/// route outcomes.
fn sparkline(out: &mut String, timeline: &str) -> fmt::Result {
    let chars: Vec<char> = timeline.chars().collect();
    let shown = chars
        .get(chars.len().saturating_sub(SPARK_MAX)..)
        .unwrap_or(&[]);
    if shown.is_empty() {
        return Ok(());
    }
    let width = shown.len() * 4 - 1;
    let tl: String = shown.iter().collect();
    write!(
        out,
        "<svg class=\"spark\" width=\"{width}\" height=\"19\" viewBox=\"0 0 {width} 19\" role=\"img\" aria-label=\"recent probes, oldest first: {0}\" data-timeline=\"{0}\"><title>{0}</title><rect class=\"track\" x=\"0\" y=\"18\" width=\"{width}\" height=\"1\"></rect>",
        Esc(&tl)
    )?;
    for (i, ch) in shown.iter().enumerate() {
        let (class, h) = match ch {
            'R' => ("R", 18),
            'B' => ("B", 18),
            's' => ("s", 18),
            'd' => ("d", 13),
            'b' => ("b", 10),
            'n' => ("n", 10),
            't' => ("t", 7),
            _ => ("o", 7),
        };
        write!(
            out,
            "<rect class=\"k-{class}\" x=\"{}\" y=\"{}\" width=\"3\" height=\"{h}\"></rect>",
            i * 4,
            18 - h
        )?;
    }
    out.push_str("</svg>");
    Ok(())
}

fn label_of(v: &NumberView) -> &str {
    v.label.as_deref().unwrap_or("")
}

fn incidents(out: &mut String, s: &Snapshot) -> fmt::Result {
    out.push_str("<h2>Open incidents</h2>\n");
    let mut any = false;
    for v in &s.numbers {
        for c in &v.report.carriers {
            for inc in c.incidents.iter().filter(|i| i.cleared_at.is_none()) {
                if !any {
                    out.push_str("<table class=\"list\" id=\"incidents\"><thead><tr><th>number</th><th>label</th><th>carrier</th><th>state</th><th>since</th><th>first outcome</th><th>probes</th><th>attribution</th></tr></thead><tbody>\n");
                    any = true;
                }
                writeln!(
                    out,
                    "<tr class=\"incident\" data-number=\"{0}\" data-carrier=\"{1}\" data-state=\"{2}\"><td><code>{0}</code></td><td>{3}</td><td>{1}</td><td>{2}</td><td>{4}</td><td><code>{5}</code></td><td>{6}</td><td>{7}</td></tr>",
                    Esc(&v.number),
                    Esc(&c.carrier),
                    inc.state.as_str(),
                    Esc(label_of(v)),
                    Esc(&long_time(&inc.started_at)),
                    inc.first_outcome.as_str(),
                    inc.probes,
                    c.attribution.map_or("-", |a| a.as_str()),
                )?;
            }
        }
    }
    if any {
        out.push_str("</tbody></table>\n");
    } else {
        out.push_str("<p class=\"none\" id=\"incidents\">No open incidents.</p>\n");
    }
    Ok(())
}

fn spans(out: &mut String, class: &str, items: &[String]) -> fmt::Result {
    if items.is_empty() {
        out.push_str("<span class=\"none\">-</span>");
    }
    for item in items {
        write!(out, "<span class=\"{class}\">{}</span>", Esc(item))?;
    }
    Ok(())
}

fn redress(out: &mut String, s: &Snapshot) -> fmt::Result {
    out.push_str("<h2>Redress contacts of blocked pairs (603+ / 608)</h2>\n");
    let mut any = false;
    for v in &s.numbers {
        for c in v
            .report
            .carriers
            .iter()
            .filter(|c| c.state == State::Blocked)
        {
            if !any {
                out.push_str("<table class=\"list\" id=\"redress\"><thead><tr><th>number</th><th>carrier</th><th>last outcome</th><th>web (not a link: from the network)</th><th>tel</th><th>email</th><th>location</th></tr></thead><tbody>\n");
                any = true;
            }
            write!(
                out,
                "<tr class=\"redress\" data-number=\"{0}\" data-carrier=\"{1}\"><td><code>{0}</code></td><td>{1}</td><td><code>{2}</code></td><td>",
                Esc(&v.number),
                Esc(&c.carrier),
                c.last_outcome.map_or("-", |o| o.as_str()),
            )?;
            spans(out, "redress-url", &c.redress.url)?;
            out.push_str("</td><td>");
            spans(out, "redress-tel", &c.redress.tel)?;
            out.push_str("</td><td>");
            spans(out, "redress-email", &c.redress.email)?;
            out.push_str("</td><td>");
            spans(out, "redress-location", &c.locations)?;
            out.push_str("</td></tr>\n");
        }
    }
    if any {
        out.push_str("</tbody></table>\n");
    } else {
        out.push_str("<p class=\"none\" id=\"redress\">No blocked pairs.</p>\n");
    }
    Ok(())
}

fn legend(out: &mut String) -> fmt::Result {
    writeln!(
        out,
        "<p class=\"legend\">Sparkline, oldest left:<b class=\"k-R\"></b>rang<b class=\"k-B\"></b>603+/608 block<b class=\"k-s\"></b>suspect (603, 607, 403)<b class=\"k-d\"></b>declined after ringing<b class=\"k-b\"></b>busy / no answer<b class=\"k-t\"></b>timeout / route failure. Hover a cell for the reason.</p>"
    )
}

/// `2025-11-20 10:00:00 UTC`, or the input as given when it is not RFC 3339.
fn long_time(s: &str) -> String {
    DateTime::parse_from_rfc3339(s).map_or_else(
        |_| s.to_owned(),
        |t| {
            t.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        },
    )
}
