//! The server end to end, through its router: every status the README promises, with the reason
//! it promises, the plugin still serving after each fault, host functions that see the request,
//! the metrics counting it all, and a burst of mixed requests all answered.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use guestmem_server::{Config, Plugins, router};
use harness::guests::{self, GuestDir};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The plugins the tests serve, as testdata/guests.tsv builds them.
const PLUGINS: [&str; 5] = ["upper", "greet", "shapes", "misbehave", "request_info"];

fn guest_dir() -> &'static GuestDir {
    static DIR: OnceLock<GuestDir> = OnceLock::new();
    DIR.get_or_init(|| match std::env::var_os("GUESTMEM_GUEST_DIR") {
        Some(dir) => GuestDir::new(dir),
        None => {
            let dir = GuestDir::default_location();
            guests::build_all(&dir)
                .unwrap_or_else(|error| panic!("cannot build the guests: {error}"));
            dir
        }
    })
}

/// A fresh plugin directory named `test` with [`PLUGINS`] and `extra` files in it.
fn plugin_dir(test: &str, extra: &[(&str, &[u8])]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("guestmem-server-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("make the plugin directory");
    for name in PLUGINS {
        std::fs::copy(
            guest_dir().example_path(name),
            dir.join(format!("{name}.wasm")),
        )
        .unwrap_or_else(|error| panic!("copy {name}.wasm: {error}"));
    }
    for (file, bytes) in extra {
        std::fs::write(dir.join(file), bytes).expect("write an extra file");
    }
    dir
}

fn config(test: &str) -> Config {
    Config {
        plugins: plugin_dir(test, &[]),
        deadline: Duration::from_millis(200),
        max_instances: 2,
        ..Config::default()
    }
}

fn server(config: &Config) -> (Router, Arc<Plugins>) {
    let plugins = Arc::new(Plugins::load(config).expect("load the plugins"));
    (router(Arc::clone(&plugins), config), plugins)
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text()))
    }
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(body.into()).expect("a request"))
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

async fn post(app: &Router, uri: &str, body: &'static [u8]) -> Reply {
    send(app, "POST", uri, &[], body).await
}

/// Fails with the reply if its status and kind are not these.
fn assert_error(reply: &Reply, status: StatusCode, kind: &str) -> serde_json::Value {
    assert_eq!(reply.status, status, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["kind"], kind, "{json}");
    json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_calls_answer_with_the_kind_of_their_result() {
    let (app, _) = server(&config("good"));
    let reply = post(&app, "/plugins/upper/upper", b"hello").await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "HELLO")
    );
    assert_eq!(reply.headers["content-type"], "text/plain; charset=utf-8");

    let reply = send(
        &app,
        "POST",
        "/plugins/greet/greet",
        &[("x-salutation", "Bonjour")],
        "World",
    )
    .await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "Bonjour, World!")
    );

    let reply = post(
        &app,
        "/plugins/shapes/measure",
        br#"{"name":"door","width":2,"height":3}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.json()["area"], 6, "{}", reply.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_functions_see_the_request_they_serve() {
    let (app, _) = server(&config("request"));
    let reply = send(
        &app,
        "POST",
        "/plugins/request_info/tag",
        &[("x-request-id", "abc-123")],
        "hi",
    )
    .await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (StatusCode::OK, "request abc-123: hi")
    );
    assert_eq!(reply.headers["x-request-id"], "abc-123");
    // Without the header, the server's own id, the same one it answers with.
    let reply = post(&app, "/plugins/request_info/tag", b"hi").await;
    let id = reply.headers["x-request-id"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert_eq!(reply.text(), format!("request {id}: hi"));
    // Two requests, two ids.
    let again = post(&app, "/plugins/request_info/tag", b"hi").await;
    assert_ne!(again.text(), reply.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_has_its_status_and_reason_and_the_plugin_serves_on() {
    let (app, _) = server(&Config {
        max_body: 1024,
        ..config("faults")
    });
    let json = assert_error(
        &post(&app, "/plugins/nope/upper", b"x").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(json["message"], "no plugin named nope");
    // ABI exports are not the plugin's functions.
    assert_error(
        &post(&app, "/plugins/upper/alloc", b"x").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let json = assert_error(
        &post(&app, "/plugins/upper/upper", b"\xff").await,
        StatusCode::BAD_REQUEST,
        "input",
    );
    assert_eq!(
        json["message"],
        "argument text is text, and the body is not UTF-8 after byte 0"
    );
    assert_error(
        &post(&app, "/plugins/shapes/measure", b"{").await,
        StatusCode::BAD_REQUEST,
        "input",
    );
    assert_error(
        &post(&app, "/plugins/upper/upper", &[b'a'; 2048]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "input",
    );

    let json = assert_error(
        &post(&app, "/plugins/greet/greet", b"World").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "guest",
    );
    assert!(
        json["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("the request has no x-salutation header")),
        "{json}"
    );

    let json = assert_error(
        &post(&app, "/plugins/misbehave/panic_on", b"please panic").await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "trap",
    );
    let reason = json["reason"].as_str().expect("a reason");
    assert!(
        reason.starts_with("guest panicked at ")
            && reason.ends_with("panic_on was asked to panic: please panic"),
        "{reason}"
    );

    let started = Instant::now();
    let json = assert_error(
        &post(&app, "/plugins/misbehave/spin", b"forever").await,
        StatusCode::GATEWAY_TIMEOUT,
        "timeout",
    );
    assert_eq!(json["message"], "`spin` ran past its deadline of 200ms");
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "answered after {:?}",
        started.elapsed()
    );

    let json = assert_error(
        &post(&app, "/plugins/misbehave/hostile", b"x").await,
        StatusCode::BAD_GATEWAY,
        "bad_result",
    );
    assert!(
        json["message"]
            .as_str()
            .is_some_and(|m| m.contains("4294967292 bytes")),
        "{json}"
    );

    // After each fault, the same plugin answers good requests.
    for export in ["panic_on", "spin", "leak"] {
        let reply = post(&app, &format!("/plugins/misbehave/{export}"), b"fine").await;
        assert_eq!(reply.status, StatusCode::OK, "{export}: {}", reply.text());
    }
}

/// The value of the first metric line that starts with `prefix`.
fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {prefix} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_faults_and_recycles() {
    // Recycled above 20 pages: misbehave starts at 18, and leaks 1 KiB a call.
    let (app, _) = server(&Config {
        recycle_above_pages: 20,
        ..config("metrics")
    });
    post(&app, "/plugins/misbehave/panic_on", b"panic").await;
    post(&app, "/plugins/misbehave/spin", b"forever").await;
    for _ in 0..300 {
        assert_eq!(
            post(&app, "/plugins/misbehave/leak", b"x").await.status,
            StatusCode::OK
        );
    }
    let reply = send(&app, "GET", "/metrics", &[], Body::empty()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = reply.text();
    assert_eq!(
        metric(
            &text,
            r#"guestmem_pool_recycles_total{plugin="misbehave",cause="trap"} "#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"guestmem_pool_recycles_total{plugin="misbehave",cause="timeout"} "#
        ),
        1.0
    );
    assert!(
        metric(
            &text,
            r#"guestmem_pool_recycles_total{plugin="misbehave",cause="memory"} "#
        ) >= 1.0,
        "{text}"
    );
    assert_eq!(
        metric(&text, r#"guestmem_pool_calls_total{plugin="misbehave"} "#),
        302.0
    );
    assert_eq!(
        metric(&text, r#"guestmem_pool_traps_total{plugin="misbehave"} "#),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"guestmem_pool_timeouts_total{plugin="misbehave"} "#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            r#"guestmem_server_requests_total{plugin="misbehave",export="leak",status="200"} "#
        ),
        300.0
    );
    assert_eq!(
        metric(
            &text,
            r#"guestmem_server_requests_total{plugin="misbehave",export="spin",status="504"} "#
        ),
        1.0
    );
    // Each instance's memory: the live one's peak is at least its 18 starting pages.
    let peak = text
        .lines()
        .find(|line| line.starts_with(r#"guestmem_instance_peak_memory_pages{plugin="misbehave","#))
        .and_then(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no peak memory for misbehave in\n{text}"));
    assert!(peak >= 18, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listing_shows_interfaces_and_refused_files() {
    let minimal = std::fs::read(guest_dir().example_path("minimal")).expect("minimal.wasm");
    let config = Config {
        plugins: plugin_dir(
            "listing",
            &[
                ("garbage.wasm", b"not wasm"),
                ("minimal.wasm", &minimal),
                ("notes.txt", b"ignored"),
            ],
        ),
        ..config("listing-unused")
    };
    let (app, _) = server(&config);
    let reply = send(&app, "GET", "/plugins", &[], Body::empty()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    let names: Vec<&str> = json["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["greet", "misbehave", "request_info", "shapes", "upper"]
    );
    let greet = &json["plugins"][0];
    assert_eq!(
        greet["exports"][0]["describe"],
        "export greet(name: string) -> string, fallible"
    );
    assert_eq!(
        greet["imports"][0]["describe"],
        "import env.salutation() -> string, fallible"
    );
    let refused = json["refused"].as_array().expect("refused");
    assert_eq!(refused.len(), 2, "{json}");
    assert!(
        refused[0]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("garbage.wasm")),
        "{json}"
    );
    assert!(
        refused[1]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("no guestmem.interface section")),
        "{json}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_mixed_requests_is_answered_in_full() {
    let (app, _) = server(&config("burst"));
    let cases: [(&str, &'static [u8], StatusCode, &str); 5] = [
        ("upper/upper", b"abc", StatusCode::OK, "ABC"),
        (
            "misbehave/panic_on",
            b"panic",
            StatusCode::INTERNAL_SERVER_ERROR,
            "trap",
        ),
        ("misbehave/leak", b"kept", StatusCode::OK, "kept"),
        (
            "misbehave/hostile",
            b"x",
            StatusCode::BAD_GATEWAY,
            "bad_result",
        ),
        (
            "greet/greet",
            b"you",
            StatusCode::UNPROCESSABLE_ENTITY,
            "guest",
        ),
    ];
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..200 {
        let app = app.clone();
        let (route, body, status, expect) = cases[index % cases.len()];
        tasks.spawn(async move {
            let reply = post(&app, &format!("/plugins/{route}"), body).await;
            assert_eq!(reply.status, status, "{route}: {}", reply.text());
            if status == StatusCode::OK {
                assert_eq!(reply.text(), expect);
            } else {
                assert_eq!(reply.json()["kind"], expect);
            }
        });
    }
    let mut answered = 0;
    while let Some(outcome) = tasks.join_next().await {
        outcome.expect("every request answered as expected");
        answered += 1;
    }
    assert_eq!(answered, 200);
}
