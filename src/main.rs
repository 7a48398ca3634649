//! The `kabaadwala` binary: parse the command line and hand over to [`kabaadwala::cli`].

/// mimalloc instead of the system allocator: requests allocate many small, short-lived
/// objects across threads, where glibc's malloc showed up at ~10% of the CPU in profiles
/// (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kabaadwala::cli::main().await
}
