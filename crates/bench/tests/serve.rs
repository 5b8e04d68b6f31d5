//! `specgr serve` (#25 §3) on an ephemeral loopback port: health, recommendations
//! batched across concurrent clients, an item added and recommended at once, removed
//! and never again, every error case as a 4xx JSON error naming the field, metrics,
//! and a SIGTERM that stops the server with the catalog written.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_specgr");

/// One HTTP/1.1 request on its own connection: the status and the body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn json(port: u16, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let (status, text) = http(port, method, path, body);
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text:?}")))
}

/// The server on a free port; its port, read from the line it prints once loaded.
fn start(runs: &str) -> (Child, u16) {
    let mut child = Command::new(BIN)
        .args([
            "serve", "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", "tiny", "--method", "semantic-knn",
            "--k", "3", "--batch-size", "4", "--max-body", "4096", "--listen", "127.0.0.1:0", "--runs", runs,
        ])
        .env_remove("SPECGR_DATA")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("no address: {line:?}"));
    (child, port)
}

fn listed(answer: &serde_json::Value) -> Vec<String> {
    answer["items"].as_array().unwrap().iter().map(|i| i["item"].as_str().unwrap().to_string()).collect()
}

#[test]
fn the_server_recommends_adds_removes_refuses_bad_requests_and_stops_on_sigterm() {
    let tmp = crate::serving::copy_of_run();
    let runs = tmp.path().display().to_string();
    let keys = crate::serving::dataset().catalog.keys().to_vec();
    let (embeddings, _) = text_encoder::Embeddings::load(&tmp.path().join("synthetic/embeddings/embeddings.safetensors")).unwrap();
    let (mut child, port) = start(&runs);

    let (status, health) = json(port, "GET", "/health", "");
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")), "{health}");
    assert_eq!(health["catalog_items"], keys.len());
    let ask = serde_json::json!({"id": "u1", "history": [keys[4]]}).to_string();
    let (status, answer) = json(port, "POST", "/recommend", &ask);
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["id"].as_str(), answer["method"].as_str()), (Some("u1"), Some("semantic-knn")));
    assert_eq!(listed(&answer).len(), 3);

    // Concurrent clients share batches.
    let threads: Vec<_> = (0..8).map(|_| {
        let ask = ask.clone();
        std::thread::spawn(move || json(port, "POST", "/recommend", &ask))
    }).collect();
    for t in threads {
        let (status, a) = t.join().unwrap();
        assert_eq!(status, 200, "{a}");
    }

    // Added: recommended at once (its embedding is item 4's), then removed: never again.
    let item = serde_json::json!({"id": "fresh", "text": "A fresh item.", "embedding": embeddings.row(4)}).to_string();
    let (status, added) = json(port, "POST", "/items", &item);
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["item"], keys.len());
    let (_, answer) = json(port, "POST", "/recommend", &ask);
    assert!(listed(&answer).contains(&"fresh".to_string()), "{answer}");
    let (status, _) = json(port, "DELETE", "/items/fresh", "");
    assert_eq!(status, 200);
    let (_, answer) = json(port, "POST", "/recommend", &ask);
    assert!(!listed(&answer).contains(&"fresh".to_string()), "{answer}");

    // Every bad request: a 4xx with a JSON error naming the field.
    let big = format!(r#"{{"history": ["{}"], "pad": "{}"}}"#, keys[0], "x".repeat(5000));
    let cases = [
        ("POST", "/recommend", r#"{"history": ["nope"]}"#.to_string(), 400, "history[0]", "unknown item id"),
        ("POST", "/recommend", r#"{"history": []}"#.to_string(), 400, "history", "empty"),
        ("POST", "/recommend", r#"{"history": ["#.to_string(), 400, "body", "malformed JSON"),
        ("POST", "/recommend", format!(r#"{{"history": ["{}"], "k": 4}}"#, keys[0]), 400, "k", "from 1 to 3"),
        ("POST", "/recommend", big, 413, "body", "length limit"),
        ("POST", "/items", item.clone(), 409, "id", "removed ids are not reused"),
        ("POST", "/items", serde_json::json!({"id": "x", "text": "X.", "embedding": [1.0]}).to_string(), 400, "embedding", "values"),
        ("POST", "/items", r#"{"text": "X."}"#.to_string(), 400, "id", "missing"),
        ("DELETE", "/items/nope", String::new(), 404, "id", "no item `nope`"),
        ("DELETE", "/items/fresh", String::new(), 409, "id", "already removed"),
        ("GET", "/recommend", String::new(), 404, "path", "no such route"),
        ("GET", "/nothing", String::new(), 404, "path", "no such route"),
    ];
    for (method, path, body, code, field, fragment) in &cases {
        let (status, e) = json(port, method, path, body);
        assert_eq!(status, *code, "{method} {path} {body:.60}: {e}");
        assert_eq!(e["error"]["field"], *field, "{method} {path}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(fragment), "{method} {path}: `{fragment}` in {e}");
    }

    let (status, metrics) = http(port, "GET", "/metrics", "");
    assert_eq!(status, 200);
    for line in [
        "specgr_requests_total{route=\"recommend\",status=\"200\"} 11",
        "specgr_requests_total{route=\"recommend\",status=\"413\"} 1",
        "specgr_requests_total{route=\"items_add\",status=\"201\"} 1",
        &format!("specgr_catalog_items {}", keys.len()),
    ] {
        assert!(metrics.lines().any(|l| l == line), "`{line}` in\n{metrics}");
    }
    assert!(metrics.contains("specgr_request_seconds_bucket{route=\"recommend\",le=\"+Inf\"} 16"), "{metrics}");

    // An add answered, then SIGTERM: the server exits cleanly and the add is on disk.
    let late = serde_json::json!({"id": "late", "text": "Late.", "embedding": embeddings.row(9)}).to_string();
    assert_eq!(json(port, "POST", "/items", &late).0, 201);
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM ends the server cleanly: {status}");
    let overlay: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("synthetic/catalog/overlay.json")).unwrap()).unwrap();
    let added: Vec<&str> = overlay["added"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(added, ["fresh", "late"]);
    assert_eq!(overlay["removed"], serde_json::json!(["fresh"]));
}
