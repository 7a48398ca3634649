//! The `kabaadwala` binary: parse the command line and hand over to [`kabaadwala::cli`].

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kabaadwala::cli::main().await
}
