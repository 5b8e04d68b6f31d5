//! `xtask-net`: the tasks of `cargo xtask` built with the `net` feature (the HTTP
//! client). `cargo xtask`, built without it, runs its downloads through this binary
//! (`cargo run --features net --bin xtask-net -- download …`), so the TLS stack is
//! compiled only on a machine that downloads something.

fn main() -> anyhow::Result<()> {
    xtask::cli::main()
}
