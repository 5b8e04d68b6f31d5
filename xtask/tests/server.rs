//! A minimal HTTP/1.1 file server on 127.0.0.1 for download tests: GET with
//! optional `Range: bytes=N-`, 404 for unknown paths, and a switch that cuts the
//! next response short to simulate a dropped connection.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    cut_after: Option<usize>,
    last_range: Option<String>,
}

pub struct Server {
    addr: std::net::SocketAddr,
    requests: Arc<AtomicUsize>,
    state: Arc<Mutex<State>>,
}

impl Server {
    pub fn start(files: Vec<(String, Vec<u8>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let files: Arc<HashMap<String, Vec<u8>>> = Arc::new(files.into_iter().collect());
        let requests = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(Mutex::new(State::default()));
        let (r, s) = (requests.clone(), state.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                r.fetch_add(1, Ordering::SeqCst);
                let _ = serve(stream, &files, &s);
            }
        });
        Self { addr, requests, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn cut_next_response_after(&self, bytes: usize) {
        self.state.lock().unwrap().cut_after = Some(bytes);
    }

    pub fn last_range(&self) -> Option<String> {
        self.state.lock().unwrap().last_range.clone()
    }
}

fn serve(mut stream: TcpStream, files: &HashMap<String, Vec<u8>>, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_owned());
            }
        }
    }
    let Some(data) = files.get(&path) else {
        return stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    };
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse::<usize>().ok())
        .unwrap_or(0);
    let cut = {
        let mut s = state.lock().unwrap();
        s.last_range = range.clone();
        s.cut_after.take()
    };
    if start >= data.len() && range.is_some() {
        return stream.write_all(b"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    let body = &data[start..];
    let status = if range.is_some() { "206 Partial Content" } else { "200 OK" };
    write!(stream, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    let sent = cut.unwrap_or(body.len()).min(body.len());
    stream.write_all(&body[..sent])?;
    stream.flush()
}
