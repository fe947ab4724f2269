//! The `webhook` task against a real HTTP server written here (tokio TcpListener on 127.0.0.1):
//! it records every request and answers from a script (503 then 200, 400, 429 with
//! Retry-After, or never). Asserts bodies field by field, headers, signatures and retries.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use pearl::ops::{Cluster, DryRun, OpsError};
use pearl::pool::{Pool, PoolConfig, RetryPolicy};
use pearl::tasks::{Params, Safety, Targets, TaskCx, TaskError, TaskOutput, registry};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    /// Header names lower-cased.
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Recorded {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// What the server answers, in order; 200 once the script is used up.
#[derive(Clone)]
enum Answer {
    Status(u16),
    StatusWith(u16, &'static str, &'static str),
    /// Read the request, then say nothing.
    Hang,
}

struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    async fn start(script: Vec<Answer>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let recorded = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (recorded, script) = (recorded.clone(), script.clone());
                tokio::spawn(async move {
                    let mut reader = BufReader::new(stream);
                    let mut line = String::new();
                    reader.read_line(&mut line).await.unwrap();
                    let mut parts = line.split_whitespace();
                    let (method, path) =
                        (parts.next().unwrap().to_string(), parts.next().unwrap().to_string());
                    let mut headers = BTreeMap::new();
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).await.unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        let (k, v) = h.split_once(':').unwrap();
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                    let len: usize = headers.get("content-length").map_or(0, |v| v.parse().unwrap());
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).await.unwrap();
                    recorded.lock().unwrap().push(Recorded { method, path, headers, body });
                    let answer = script.lock().unwrap().pop_front().unwrap_or(Answer::Status(200));
                    let (code, extra) = match answer {
                        Answer::Hang => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                        Answer::Status(code) => (code, String::new()),
                        Answer::StatusWith(code, k, v) => (code, format!("{k}: {v}\r\n")),
                    };
                    let text = format!("answer {code}");
                    let response = format!(
                        "HTTP/1.1 {code} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{text}",
                        text.len()
                    );
                    let mut stream = reader.into_inner();
                    stream.write_all(response.as_bytes()).await.unwrap();
                    stream.shutdown().await.ok();
                });
            }
        });
        Server { url, requests }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

/// A task context; the webhook task never talks to the cluster, so the client points nowhere.
fn task_cx(dry_run: DryRun, attempts: u32) -> TaskCx {
    let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    TaskCx::new(
        "notify",
        Cluster::new(client, dry_run),
        Pool::new(&PoolConfig::default()),
        RetryPolicy {
            max_attempts: attempts,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        },
        Targets::Namespaces(vec!["shop".into()]),
        Arc::new(Safety::default()),
    )
}

async fn run(cx: &TaskCx, params: Value) -> Result<TaskOutput, TaskError> {
    let t = registry().get("webhook").unwrap();
    let p = Params::from_json(t.params(), params.as_object().unwrap()).expect("valid parameters");
    t.check(&p).expect("parameters pass the type's check");
    t.run(cx, &p).await
}

#[tokio::test]
async fn a_503_is_retried_and_the_body_arrives_field_by_field() {
    let server = Server::start(vec![Answer::Status(503), Answer::Status(503)]).await;
    let cx = task_cx(DryRun::None, 5);
    let out = run(&cx, json!({"url": server.url, "body": {"event": "parked", "build": 1234, "ok": true}}))
        .await
        .unwrap();
    assert!(out.message.ends_with(": 200 after 3 attempts"), "{}", out.message);
    assert_eq!(out.items.to_vec()[0]["attempts"], json!(3));
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "two 503s and the 200");
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/hook");
        assert_eq!(r.headers.get("content-type").map(String::as_str), Some("application/json"));
        assert!(!r.headers.contains_key("authorization"), "no token was configured");
        let body = r.json();
        assert_eq!(body["task"], json!("notify"));
        assert_eq!(body["namespaces"], json!(["shop"]));
        assert_eq!(body["event"], json!("parked"));
        assert_eq!(body["build"], json!(1234));
        assert_eq!(body["ok"], json!(true));
        assert_eq!(body.as_object().unwrap().len(), 5, "{body}");
    }
    assert_eq!(requests[0].body, requests[2].body, "a retry sends the same body");
}

#[tokio::test]
async fn bearer_token_and_hmac_signature_come_from_files_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    let secret = dir.path().join("secret");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    std::fs::write(&secret, "hush-hush\n").unwrap();
    let server = Server::start(vec![]).await;
    let cx = task_cx(DryRun::None, 3);
    run(
        &cx,
        json!({"url": server.url, "tokenFile": token, "hmacSecretFile": secret, "headers": {"X-Team": "platform"}}),
    )
    .await
    .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.headers.get("authorization").map(String::as_str), Some("Bearer s3cret-token"));
    assert_eq!(r.headers.get("x-team").map(String::as_str), Some("platform"));
    // Verify as a receiver would: HMAC-SHA256 over the raw body with the shared secret.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"hush-hush").unwrap();
    mac.update(&r.body);
    let want: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(r.headers.get("x-pearl-signature"), Some(&format!("sha256={want}")));
}

#[tokio::test]
async fn the_signature_header_name_can_be_chosen_and_the_key_read_from_env() {
    // CARGO_PKG_NAME is set by cargo for every test run: a variable we can rely on without
    // changing the environment.
    let key = std::env::var("CARGO_PKG_NAME").expect("cargo sets CARGO_PKG_NAME");
    let server = Server::start(vec![]).await;
    let cx = task_cx(DryRun::None, 1);
    run(
        &cx,
        json!({"url": server.url, "hmacSecretEnv": "CARGO_PKG_NAME", "hmacHeader": "X-Hub-Signature-256", "tokenEnv": "CARGO_PKG_NAME"}),
    )
    .await
    .unwrap();
    let r = &server.requests()[0];
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(&r.body);
    let want: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(r.headers.get("x-hub-signature-256"), Some(&format!("sha256={want}")));
    assert!(!r.headers.contains_key("x-pearl-signature"));
    assert_eq!(r.headers.get("authorization"), Some(&format!("Bearer {key}")));
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let server = Server::start(vec![Answer::Status(400), Answer::Status(200)]).await;
    let cx = task_cx(DryRun::None, 5);
    let err = run(&cx, json!({"url": server.url})).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("webhook POST {}: answered 400", server.url)), "{text}");
    assert!(text.contains("answer 400"), "the answer's body is quoted: {text}");
    assert!(matches!(err, TaskError::Ops(OpsError::Webhook { status: Some(400), .. })), "{err:?}");
    assert_eq!(server.requests().len(), 1, "a client error must not be retried");
    assert_eq!(cx.attempts(), 1);
}

#[tokio::test]
async fn a_429_waits_as_long_as_retry_after_says() {
    let server = Server::start(vec![Answer::StatusWith(429, "Retry-After", "1")]).await;
    let cx = task_cx(DryRun::None, 3);
    let started = Instant::now();
    run(&cx, json!({"url": server.url})).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "retried after {:?}", started.elapsed());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn retries_end_with_the_last_5xx() {
    let server = Server::start(vec![Answer::Status(502), Answer::Status(502), Answer::Status(502)]).await;
    let cx = task_cx(DryRun::None, 3);
    let err = run(&cx, json!({"url": server.url})).await.unwrap_err();
    assert!(err.to_string().contains("answered 502"), "{err}");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cx = task_cx(DryRun::None, 3);
    let err = run(&cx, json!({"url": format!("http://127.0.0.1:{port}/hook")})).await.unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
    assert_eq!(cx.attempts(), 3, "connection errors are retried");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_per_attempt() {
    let server = Server::start(vec![Answer::Hang, Answer::Hang]).await;
    let cx = task_cx(DryRun::None, 2);
    let started = Instant::now();
    let err = run(&cx, json!({"url": server.url, "timeout": "300ms"})).await.unwrap_err();
    assert!(err.to_string().contains("no answer within 300ms"), "{err}");
    assert_eq!(server.requests().len(), 2);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_missing_token_variable_sends_nothing() {
    let server = Server::start(vec![]).await;
    let cx = task_cx(DryRun::None, 3);
    let err = run(&cx, json!({"url": server.url, "tokenEnv": "PEARL_TEST_NO_SUCH_TOKEN_VARIABLE"}))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("environment variable PEARL_TEST_NO_SUCH_TOKEN_VARIABLE is not set"),
        "{err}"
    );
    assert_eq!(cx.attempts(), 1, "a configuration error is not retried");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn dry_runs_send_nothing() {
    let server = Server::start(vec![]).await;
    for dry in [DryRun::Client, DryRun::Server] {
        let cx = task_cx(dry, 3);
        let out = run(&cx, json!({"url": server.url, "body": {"event": "x"}})).await.unwrap();
        assert!(out.message.starts_with("(dry run) would POST"), "{}", out.message);
        assert_eq!(out.items.to_vec()[0]["body"]["event"], json!("x"));
    }
    assert!(server.requests().is_empty());
}
