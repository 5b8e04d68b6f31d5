//! `cargo xtask`: orchestration for this workspace (downloads, reproduction, sweeps).
//!
//! Heavy work runs in the real binary (`specgr`), which the tasks build once through
//! cargo and then run directly (`xtask::specgr`); they only resolve arguments, fetch
//! files and sequence stages. The tasks live in the library, one module each
//! (`xtask::cli` dispatches), so that `xtask-net` (the same tasks with the HTTP
//! client) is the same few lines.

fn main() -> anyhow::Result<()> {
    xtask::cli::main()
}
