//! `lectern`: the server and its admin CLI.
//!
//! `lectern serve` runs the kernel with embedded defaults; `lectern admin …`
//! operates on the data directory directly (the server must be stopped, since
//! the database takes an exclusive lock); `lectern config check` validates
//! and prints the effective configuration.

mod admin;
mod config;
mod market;
mod plugin_test;
mod polyglot;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lectern_api::{ApiConfig, AppState, Metrics};
use lectern_core::{Clock, Kernel, KernelConfig};

use crate::config::{Config, LogFormat};

#[derive(Parser)]
#[command(name = "lectern", version, about = "Lectern learning management system: kernel server and admin CLI")]
struct Cli {
    /// Configuration file (TOML). Defaults to ./lectern.toml when present.
    #[arg(long, short, global = true, env = "LECTERN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Administer a stopped server's data directory.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Plugin projects and packages: new, build, pack, sign, inspect.
    #[command(subcommand)]
    Plugin(market::PluginCommand),
    /// Publisher keys.
    #[command(subcommand)]
    Publisher(market::PublisherCommand),
    /// Marketplace directories: init, add-publisher, add, yank, revoke, refresh, serve.
    #[command(subcommand)]
    Marketplace(market::MarketplaceCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the effective values (secrets redacted).
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config(ConfigCommand::Check) => Config::load(cli.config.as_deref()).and_then(|c| {
            println!("# effective configuration (defaults ← file ← LECTERN_* environment)");
            print!("{}", c.render_redacted()?);
            Ok(())
        }),
        Command::Serve => Config::load(cli.config.as_deref()).and_then(serve),
        Command::Plugin(cmd) => market::plugin(cmd),
        Command::Publisher(cmd) => market::publisher(cmd),
        Command::Marketplace(cmd) => market::marketplace(cmd),
        Command::Admin(cmd) => Config::load(cli.config.as_deref()).and_then(|c| {
            init_tracing(&c, true);
            admin::run(&c, cmd)
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(c: &Config, quiet: bool) {
    let filter = if quiet { "warn".to_owned() } else { c.log.filter.clone() };
    let filter =
        tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match c.log.format {
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
        LogFormat::Pretty => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

pub(crate) fn kernel_config(c: &Config) -> anyhow::Result<KernelConfig> {
    let mut k = KernelConfig::new(&c.data_dir, c.issuer());
    k.audience = c.auth.audience.clone();
    k.access_token_ttl_secs = c.auth.access_token_ttl_secs;
    k.refresh_token_ttl_secs = c.auth.refresh_token_ttl_secs;
    k.session_idle_secs = c.auth.session_idle_secs;
    k.session_absolute_secs = c.auth.session_absolute_secs;
    k.password_hasher =
        lectern_core::password_hasher(c.auth.argon2_memory_kib, c.auth.argon2_iterations, c.auth.argon2_parallelism)?;
    k.cache_capacity_bytes = (c.storage.cache_capacity_mib > 0).then_some(c.storage.cache_capacity_mib * 1024 * 1024);
    let p = &c.plugins;
    k.plugins = lectern_core::plugins::HostConfig {
        max_concurrent_instances: p.max_concurrent_instances,
        max_memory_bytes: p.max_memory_mib as usize * 1024 * 1024,
        epoch_tick: std::time::Duration::from_millis(p.epoch_tick_ms),
        grading_fuel: p.grading_fuel,
        memory_keep_resident_bytes: p.memory_keep_resident_kib as usize * 1024,
        warm_instances: p.warm_instances as usize,
        breaker: lectern_core::plugins::BreakerConfig {
            threshold: p.breaker_threshold.max(1),
            initial_backoff: std::time::Duration::from_secs(p.breaker_backoff_secs.max(1)),
            ..Default::default()
        },
        ..Default::default()
    };
    let b = &c.bus;
    let ms = std::time::Duration::from_millis;
    k.bus = lectern_core::workers::BusSettings {
        pulsar_url: (!b.pulsar_url.is_empty()).then(|| b.pulsar_url.clone()),
        grading: lectern_core::workers::RetryPolicy {
            max_attempts: b.grading_max_attempts,
            base_delay: ms(b.grading_base_delay_ms),
            max_delay: std::time::Duration::from_secs(b.max_delay_secs),
        },
        default: lectern_core::workers::RetryPolicy {
            max_attempts: b.max_attempts,
            base_delay: ms(b.base_delay_ms),
            max_delay: std::time::Duration::from_secs(b.max_delay_secs),
        },
        handler_timeout: std::time::Duration::from_secs(b.handler_timeout_secs),
        ..Default::default()
    };
    let e = &c.email;
    k.email = (!e.smtp_host.is_empty()).then(|| lectern_core::workers::SmtpConfig {
        host: e.smtp_host.clone(),
        port: e.smtp_port,
        tls: e.tls,
        username: (!e.username.is_empty()).then(|| e.username.clone()),
        password: (!e.password.is_empty()).then(|| e.password.clone()),
        from: e.from.clone(),
        timeout: std::time::Duration::from_secs(e.timeout_secs.max(1)),
    });
    k.webhooks.timeout = std::time::Duration::from_secs(c.webhooks.timeout_secs.max(1));
    k.webhooks.allow_private_addresses = c.webhooks.allow_private_addresses;
    k.media.max_upload_bytes = c.media.max_upload_mib.max(1).saturating_mul(1024 * 1024);
    k.tutor = c.tutor.clone();
    k.marketplace = c.marketplace.clone();
    k.secrets = lectern_core::secrets::SecretsSettings {
        key: if c.secrets.key.is_empty() {
            None
        } else {
            Some(
                lectern_core::secrets::parse_key(&c.secrets.key)
                    .map_err(|why| anyhow::anyhow!("secrets.key: {why}"))?,
            )
        },
        key_file: c.secrets.key_file.clone(),
        previous_key_files: c.secrets.previous_key_files.clone(),
    };
    Ok(k)
}

/// The web application to serve: `http.web_root` (which must hold a build), or
/// `./web/dist` when it holds one (the repository's build, for `cargo xtask run`).
fn web_root(c: &Config) -> anyhow::Result<Option<lectern_api::web::WebRoot>> {
    use lectern_api::web::WebRoot;
    match &c.http.web_root {
        Some(dir) => WebRoot::new(dir).map(Some).map_err(|e| anyhow::anyhow!("http.web_root: {e}")),
        None => match WebRoot::new("web/dist") {
            Ok(root) => Ok(Some(root)),
            Err(why) => {
                tracing::warn!(%why, "no web application: serving the API only");
                Ok(None)
            }
        },
    }
}

fn serve(c: Config) -> anyhow::Result<()> {
    init_tracing(&c, false);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(serve_async(c))
}

/// The OS's cap on a listen queue (`net.core.somaxconn`).
fn somaxconn() -> Option<u32> {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok()?.trim().parse().ok()
}

/// Binds `addr` with a listen queue of `backlog` (default: the OS maximum).
/// tokio's `TcpListener::bind` queues 1,024, which a synchronised exam start
/// on a busy server overflows: clients then time out on connect.
fn listen(addr: std::net::SocketAddr, backlog: Option<u32>) -> anyhow::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let backlog = backlog.or_else(somaxconn).unwrap_or(4096).max(1);
    tracing::debug!(backlog, "listen queue");
    Ok(socket.listen(backlog)?)
}

async fn serve_async(mut c: Config) -> anyhow::Result<()> {
    // Bound first so that, without a `public_url`, the issuer, credential and
    // status-list URLs name the real port (`http.listen` may ask for port 0).
    let listener =
        listen(c.http.listen, c.http.listen_backlog).with_context(|| format!("cannot listen on {}", c.http.listen))?;
    let addr = listener.local_addr()?;
    if c.public_url.is_none() {
        c.public_url = Some(format!("http://{addr}"));
    }
    let metrics = Arc::new(Metrics::new());
    let config = kernel_config(&c)?;
    let observer = Some(metrics.flush_observer());
    // Opening may block: it loads an embedding model or probes an embedding
    // server (a blocking HTTP client, which must not run on an async worker).
    let opened = tokio::task::block_in_place(|| Kernel::open(config, Clock::system(), observer))
        .with_context(|| format!("cannot open the data directory {}", c.data_dir.display()))?;
    if !opened.migrations_ran.is_empty() {
        tracing::info!(versions = ?opened.migrations_ran, "storage migrations applied");
    }
    if c.plugins.first_party {
        install_first_party(&opened.kernel).await?;
    }
    if c.marketplace.enabled() {
        // An unreachable or refused marketplace does not stop the server: the
        // administrator sees why and can install later.
        for (id, result) in opened.kernel.plugins().marketplace_install_configured().await {
            match result {
                Ok(done) => {
                    tracing::info!(plugin = %done.key, publisher = %done.publisher, slot = done.slot.name(), "installed from the marketplace")
                }
                Err(e) => tracing::error!(plugin = %id, error = %e, "cannot install from the marketplace"),
            }
        }
    }
    let api = ApiConfig {
        max_body_bytes: c.http.max_body_bytes,
        request_timeout: c.request_timeout(),
        cors_origins: c.http.cors_origins.clone(),
        secure_cookies: c.http.secure_cookies,
        trust_forwarded_for: c.http.trust_forwarded_for,
        login_attempts_per_minute: c.auth.login_attempts_per_minute,
        web_root: web_root(&c)?,
        commit: option_env!("LECTERN_COMMIT"),
    };
    let state = AppState::new(opened.kernel.clone(), metrics, api);
    print_banner(&c.issuer(), &c, opened.bootstrap_token.as_deref());
    // The line tests and scripts wait for; keep its shape stable.
    println!("lectern: listening on http://{addr}");

    let sweeper = tokio::spawn(sweep_periodically(opened.kernel.clone(), c.audit.retention_days));
    let market_refresher = c.marketplace.enabled().then(|| {
        tokio::spawn(refresh_marketplace_periodically(opened.kernel.clone(), c.marketplace.refresh_secs.max(60)))
    });
    let (stop_background, background_stopped) = tokio::sync::watch::channel(false);
    let background =
        opened.kernel.start_background(background_stopped).await.context("cannot start the event bus workers")?;
    let (signal_tx, signal_rx) = tokio::sync::oneshot::channel::<()>();
    let grace = std::time::Duration::from_secs(c.http.shutdown_grace_secs);
    let server = tokio::spawn(lectern_api::serve(listener, state, async move {
        let _ = signal_rx.await;
    }));
    shutdown_signal().await;
    tracing::info!(grace_secs = grace.as_secs(), "shutting down: finishing in-flight requests");
    let _ = signal_tx.send(());
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(Ok(()))) => tracing::info!("all requests finished"),
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "server error during shutdown"),
        Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
        Err(_) => tracing::warn!("grace period over; abandoning remaining requests"),
    }
    sweeper.abort();
    if let Some(r) = market_refresher {
        r.abort();
    }
    let _ = stop_background.send(true);
    for task in background.tasks {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
    }
    drop(opened.kernel);
    Ok(())
}

mod first_party {
    include!(concat!(env!("OUT_DIR"), "/first_party.rs"));
}

/// Installs the plugins built into this binary (see `plugins.first_party`).
async fn install_first_party(kernel: &Kernel) -> anyhow::Result<()> {
    for (manifest, component) in first_party::FIRST_PARTY {
        let b = kernel
            .plugins()
            .install_bundled(manifest, component)
            .await
            .context("cannot install a first-party plugin")?;
        if b.installed || b.activated {
            tracing::info!(plugin = %b.key, slot = b.slot.name(), installed = b.installed, activated = b.activated, "first-party plugin");
        }
    }
    Ok(())
}

/// Removes expired sessions, codes, refresh families and stale throttle
/// counters, and audit entries past their retention, every ten minutes, off
/// the async workers.
async fn sweep_periodically(kernel: Kernel, audit_retention_days: u64) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        let k = kernel.clone();
        match tokio::task::spawn_blocking(move || k.identity().sweep_expired()).await {
            Ok(Ok(s)) if s != lectern_core::Swept::default() => tracing::info!(?s, "expired records removed"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "sweep failed"),
            Err(e) => tracing::warn!(error = %e, "sweep task failed"),
        }
        let k = kernel.clone();
        match tokio::task::spawn_blocking(move || k.sweep_audit(audit_retention_days)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(removed = n, "audit entries past their retention removed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "audit sweep failed"),
            Err(e) => tracing::warn!(error = %e, "audit sweep task failed"),
        }
    }
}

/// Refreshes the marketplace index periodically, so revocations take effect
/// without an administrator asking; a failed refresh is logged and retried.
async fn refresh_marketplace_periodically(kernel: Kernel, every_secs: u64) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(every_secs));
    every.tick().await;
    loop {
        every.tick().await;
        match kernel.plugins().marketplace_refresh().await {
            Ok(state) => tracing::debug!(versions = ?state.versions(), "marketplace index refreshed"),
            Err(e) => tracing::warn!(error = %e, "marketplace refresh failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn print_banner(base: &str, c: &Config, bootstrap: Option<&str>) {
    println!("Lectern {} — data in {}", env!("CARGO_PKG_VERSION"), c.data_dir.display());
    match bootstrap {
        Some(token) => {
            println!();
            println!("First start: no administrator exists yet. Create one with this one-time token (valid 24 h):");
            println!();
            println!("  curl -sS -X POST {base}/api/v1/bootstrap -H 'content-type: application/json' \\");
            println!(
                "    -d '{{\"token\":\"{token}\",\"email\":\"admin@example.edu\",\"name\":\"Administrator\",\"password\":\"<choose a password>\"}}'"
            );
            println!();
            println!("Then log in (institution \"platform\"):");
            println!();
            println!("  curl -sS -X POST {base}/api/v1/auth/login -H 'content-type: application/json' \\");
            println!(
                "    -d '{{\"institution\":\"platform\",\"email\":\"admin@example.edu\",\"password\":\"<your password>\"}}'"
            );
            println!();
            println!(
                "(A new token is printed at every start until an administrator exists; `lectern admin bootstrap-token` makes one too.)"
            );
        }
        None => println!("Log in at {base}/api/v1/auth/login; API description at {base}/api/v1/openapi.json"),
    }
    println!();
}
