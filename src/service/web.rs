//! The web application's pages and assets, all compiled into the binary: the service runs offline,
//! so nothing comes from a CDN.
//!
//! Pages are static shells; their script asks the API for data, so a page never carries personal
//! data in its URL or markup. Every page is served with a strict Content Security Policy (scripts
//! and styles from this origin only, no inline code), so that even a message an agent sees cannot
//! run script in their browser.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::state::AppState;

/// The sign-in page (it has a form of its own).
const LOGIN: &str = include_str!("web/login.html");

/// The application's pages share one shell: their script draws them. Path, title, asset name,
/// and the scripts the page's own script uses (loaded before it, in this order).
const PAGES: &[(&str, &str, &str, &[&str])] = &[
    ("/inbox", "Inbox", "inbox", &[]),
    (
        "/editor",
        "Redactie",
        "editor",
        &["codemirror.js", "editor-code.js", "editor-work.js"],
    ),
    ("/reports", "Rapportages", "reports", &[]),
];

/// The shell, with `{title}`, `{page}` and `{scripts}` to fill in.
const SHELL: &str = include_str!("web/app.html");

/// The pages, filled in once.
static RENDERED: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    PAGES
        .iter()
        .map(|(_, title, name, scripts)| {
            let scripts: String = scripts
                .iter()
                .map(|s| format!("<script src=\"/assets/{s}\" defer></script>\n"))
                .collect();
            SHELL
                .replace("{title}", title)
                .replace("{page}", name)
                .replace("{scripts}", &scripts)
        })
        .collect()
});

/// The assets under `/assets/`: name, content type, file.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", CSS, include_str!("web/app.css")),
    ("app.js", JS, include_str!("web/app.js")),
    ("login.js", JS, include_str!("web/login.js")),
    ("inbox.css", CSS, include_str!("web/inbox.css")),
    ("inbox.js", JS, include_str!("web/inbox.js")),
    ("editor.css", CSS, include_str!("web/editor.css")),
    ("editor.js", JS, include_str!("web/editor.js")),
    ("editor-code.js", JS, include_str!("web/editor-code.js")),
    ("editor-code.css", CSS, include_str!("web/editor-code.css")),
    ("editor-work.js", JS, include_str!("web/editor-work.js")),
    // CodeMirror 6, bundled by tools/codemirror; its licences are in web/vendor/LICENSES.txt.
    (
        "codemirror.js",
        JS,
        include_str!("web/vendor/codemirror.js"),
    ),
    ("reports.css", CSS, include_str!("web/reports.css")),
    ("reports.js", JS, include_str!("web/reports.js")),
    ("simulator.css", CSS, include_str!("web/simulator.css")),
    ("simulator.js", JS, include_str!("web/simulator.js")),
];

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

/// Scripts, styles and connections from this origin only; no frames, no plugins.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The pages' and assets' routes.
pub fn router() -> Router<Arc<AppState>> {
    let mut r = Router::new()
        .route("/assets/{name}", get(asset))
        .route("/login", get(|| async { page(LOGIN) }));
    for (i, (path, ..)) in PAGES.iter().enumerate() {
        r = r.route(path, get(move || async move { page(&RENDERED[i]) }));
    }
    r
}

/// A page with the headers every page gets.
pub fn page(body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    secure(&mut response, HTML);
    response
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => {
            let mut response = (StatusCode::OK, *body).into_response();
            secure(&mut response, kind);
            response
        }
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

/// The headers every page and asset gets. `no-cache` makes browsers revalidate, so a new
/// binary's assets are used at once.
fn secure(response: &mut Response, kind: &'static str) {
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
    ] {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}
