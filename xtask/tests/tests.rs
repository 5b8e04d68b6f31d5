//! Tests of the xtask library against a local HTTP server on 127.0.0.1 (never the internet).

mod server;

use server::Server;
use xtask::download::{Fetch, Outcome, Quiet, fetch, sha256_file};

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn downloads_verify_and_rename_atomically() {
    let data = body(300_000);
    let server = Server::start(vec![("/f.bin".into(), data.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sub/f.bin");
    let job = Fetch { urls: vec![server.url("/f.bin")], dest: dest.clone(), sha256: Some(sha256(&data)) };
    let out = fetch(&job, &mut Quiet).unwrap();
    assert_eq!(out, Outcome::Downloaded { sha256: sha256(&data), resumed_from: 0 });
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert!(!dir.path().join("sub/f.bin.partial").exists());
    // A second run finds the file and does not fetch it again.
    let requests = server.requests();
    assert_eq!(fetch(&job, &mut Quiet).unwrap(), Outcome::Present { sha256: sha256(&data) });
    assert_eq!(server.requests(), requests);
}

#[test]
fn an_interrupted_download_resumes_with_a_range_request() {
    let data = body(500_000);
    let server = Server::start(vec![("/f.bin".into(), data.clone())]);
    server.cut_next_response_after(123_456);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.bin");
    let job = Fetch { urls: vec![server.url("/f.bin")], dest: dest.clone(), sha256: Some(sha256(&data)) };
    let err = fetch(&job, &mut Quiet).unwrap_err().to_string();
    assert!(!dest.exists(), "a partial file never takes the final name ({err})");
    let partial = dir.path().join("f.bin.partial");
    assert_eq!(std::fs::metadata(&partial).unwrap().len(), 123_456);
    let out = fetch(&job, &mut Quiet).unwrap();
    assert_eq!(out, Outcome::Downloaded { sha256: sha256(&data), resumed_from: 123_456 });
    assert_eq!(sha256_file(&dest).unwrap(), sha256(&data));
    assert_eq!(server.last_range().as_deref(), Some("bytes=123456-"));
}

#[test]
fn a_checksum_mismatch_keeps_nothing() {
    let server = Server::start(vec![("/f.bin".into(), body(1000))]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.bin");
    let job = Fetch { urls: vec![server.url("/f.bin")], dest: dest.clone(), sha256: Some("00".repeat(32)) };
    let err = fetch(&job, &mut Quiet).unwrap_err().to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(!dest.exists() && !dir.path().join("f.bin.partial").exists());
}

#[test]
fn mirrors_are_tried_after_a_failing_url() {
    let data = body(10);
    let server = Server::start(vec![("/good".into(), data.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let job = Fetch {
        urls: vec![server.url("/missing"), server.url("/good")],
        dest: dir.path().join("x"),
        sha256: None,
    };
    assert!(matches!(fetch(&job, &mut Quiet).unwrap(), Outcome::Downloaded { .. }));
    let job = Fetch { urls: vec![server.url("/missing")], dest: dir.path().join("y"), sha256: None };
    assert!(fetch(&job, &mut Quiet).unwrap_err().to_string().contains("HTTP 404"));
}

#[test]
fn encoder_download_uses_hub_urls_and_skips_missing_optional_files() {
    let files = vec![
        ("/org/model/resolve/main/config.json".to_owned(), b"{}".to_vec()),
        ("/org/model/resolve/main/model.safetensors".to_owned(), body(5000)),
        ("/org/model/resolve/main/tokenizer.json".to_owned(), b"{\"x\":1}".to_vec()),
        ("/org/model/resolve/main/1_Pooling/config.json".to_owned(), b"{}".to_vec()),
    ];
    let server = Server::start(files);
    let dir = tempfile::tempdir().unwrap();
    let sums = xtask::encoder::download_encoder(&server.url(""), "org/model", "main", dir.path(), &mut Quiet).unwrap();
    assert_eq!(sums.len(), 4);
    assert!(dir.path().join("1_Pooling/config.json").is_file());
    let listing = std::fs::read_to_string(dir.path().join("checksums.sha256")).unwrap();
    assert!(listing.contains(&format!("{}  model.safetensors", sha256(&body(5000)))));

    // A required file the hub lacks is an error.
    let server = Server::start(vec![("/org/model/resolve/main/config.json".to_owned(), b"{}".to_vec())]);
    let dir = tempfile::tempdir().unwrap();
    let err = xtask::encoder::download_encoder(&server.url(""), "org/model", "main", dir.path(), &mut Quiet);
    assert!(format!("{:#}", err.unwrap_err()).contains("model.safetensors"));
}
