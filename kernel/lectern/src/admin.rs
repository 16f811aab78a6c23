//! `lectern admin`: operations on a stopped server's data directory, through
//! the same domain functions the HTTP API uses (as the system principal).

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use lectern_core::audit::{AuditActor, AuditOutcome, NewAuditEntry};
use lectern_core::model::InstitutionRole;
use lectern_core::{Clock, Kernel, NewInstitution, NewUser, Principal};

use crate::config::Config;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an institution (tenant).
    CreateInstitution {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// Create a user; prints a generated password unless --password-stdin is given.
    CreateUser {
        /// Institution slug or id.
        #[arg(long)]
        institution: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value_t = Role::Member)]
        role: Role,
        /// Make a platform administrator (institution must be `platform`).
        #[arg(long)]
        platform_admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password and end their sessions; prints a generated
    /// password unless --password-stdin is given.
    ResetPassword {
        #[arg(long)]
        institution: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print a fresh one-time bootstrap token (replaces any earlier one).
    BootstrapToken,
    /// Back up the *running* server into a file: its database (exported while
    /// it keeps serving), media and plugin components. Needs a platform
    /// administrator's access token in the environment variable LECTERN_TOKEN.
    Backup {
        /// The file to write (a tar archive).
        #[arg(long)]
        out: std::path::PathBuf,
        /// The server's URL (default: this configuration's public URL).
        #[arg(long)]
        url: Option<String>,
    },
    /// Restore a backup into this configuration's data directory, which must
    /// not exist or be empty (a fresh machine). Then start `lectern serve`.
    Restore {
        /// The backup file (from `lectern admin backup`).
        #[arg(long)]
        from: std::path::PathBuf,
        /// The secrets key file of the server that made the backup (its
        /// `secrets.key`): checked against the backup and copied into the data
        /// directory. Without it, configure the key before `lectern serve`.
        #[arg(long)]
        secrets_key: Option<std::path::PathBuf>,
    },
}

impl AdminCommand {
    /// The command's name, as typed (the audit log's action).
    fn name(&self) -> &'static str {
        match self {
            AdminCommand::CreateInstitution { .. } => "create-institution",
            AdminCommand::CreateUser { .. } => "create-user",
            AdminCommand::ResetPassword { .. } => "reset-password",
            AdminCommand::BootstrapToken => "bootstrap-token",
            AdminCommand::Backup { .. } => "backup",
            AdminCommand::Restore { .. } => "restore",
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Role {
    Admin,
    Staff,
    Member,
}

impl From<Role> for InstitutionRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => InstitutionRole::Admin,
            Role::Staff => InstitutionRole::Staff,
            Role::Member => InstitutionRole::Member,
        }
    }
}

fn read_password(stdin: bool) -> anyhow::Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_owned();
        if pw.is_empty() {
            bail!("no password on standard input");
        }
        Ok((pw, false))
    } else {
        Ok((lectern_core::generate_password()?, true))
    }
}

pub fn run(c: &Config, cmd: AdminCommand) -> anyhow::Result<()> {
    // These two never open the data directory: the server holds it, or it is to be made.
    match cmd {
        AdminCommand::Backup { out, url } => return backup(c, &out, url),
        AdminCommand::Restore { from, secrets_key } => {
            let m = lectern_core::backup::restore(&from, &c.data_dir, secrets_key.as_deref())
                .with_context(|| format!("cannot restore {} into {}", from.display(), c.data_dir.display()))?;
            println!(
                "restored the backup of {} ({} records, {} files) into {}; start `lectern serve`",
                m.created_at,
                m.database_records,
                m.files,
                c.data_dir.display()
            );
            if let (None, Some(id)) = (&secrets_key, &m.sealing_key) {
                println!(
                    "its secrets are sealed with key {id}: before starting, put that server's secrets.key in {} \
                     (or set secrets.key_file or LECTERN_SECRETS__KEY)",
                    c.data_dir.display()
                );
            }
            return Ok(());
        }
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut config = crate::kernel_config(c)?;
    // Administration of a stopped server runs no plugin code.
    config.plugins.restore = false;
    config.plugins.max_concurrent_instances = 4;
    let opened = Kernel::open(config, Clock::system(), None)
        .with_context(|| format!("cannot open the data directory {}", c.data_dir.display()))?;
    let k = opened.kernel;
    runtime.block_on(async move {
        let action = format!("cli.admin.{}", cmd.name());
        let result = run_command(&k, cmd).await;
        // The shell's administration is recorded like the API's (the system acted).
        let entry = NewAuditEntry {
            institution: result.as_ref().ok().copied().flatten(),
            actor: AuditActor::System,
            action,
            target: None,
            outcome: if result.is_ok() { AuditOutcome::Succeeded } else { AuditOutcome::Failed },
            status: None,
            ip: None,
            request_id: None,
            details: result.as_ref().err().map(|e| [("error".to_owned(), format!("{e:#}"))].into()).unwrap_or_default(),
        };
        k.record_audit(entry).await?;
        result.map(|_| ())
    })
}

/// `lectern admin backup`: asks the running server for its backup and
/// writes it to `out` (through a temporary file beside it, renamed once
/// complete, so `out` is never a partial backup).
fn backup(c: &Config, out: &std::path::Path, url: Option<String>) -> anyhow::Result<()> {
    let token = std::env::var("LECTERN_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .context("set LECTERN_TOKEN to a platform administrator's access token (POST /api/v1/auth/login)")?;
    let base = url.unwrap_or_else(|| c.issuer());
    let endpoint = format!("{}/api/v1/admin/backup", base.trim_end_matches('/'));
    let client =
        lectern_http::BlockingClient::new(lectern_http::ClientOptions::new(std::time::Duration::from_secs(24 * 3600)))?;
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    let (resp, bytes) = client.download(&endpoint, token.trim(), tmp.as_file_mut())?;
    if !(200..300).contains(&resp.status) {
        bail!("the server refused the backup ({}): {}", resp.status, String::from_utf8_lossy(&resp.body));
    }
    tmp.as_file().sync_all()?;
    tmp.persist(out).with_context(|| format!("cannot write {}", out.display()))?;
    println!("backup written to {} ({bytes} bytes)", out.display());
    Ok(())
}

/// Runs one command; the institution it concerned, if any.
async fn run_command(k: &Kernel, cmd: AdminCommand) -> anyhow::Result<Option<lectern_core::InstitutionId>> {
    {
        match cmd {
            AdminCommand::CreateInstitution { slug, name } => {
                let platform = k.identity().resolve_institution("platform")?;
                let inst = k
                    .identity()
                    .create_institution(&Principal::system(platform), NewInstitution { slug, name })
                    .await?;
                println!("created institution {} ({})", inst.slug, inst.id);
                return Ok(Some(inst.id));
            }
            AdminCommand::CreateUser { institution, email, name, role, platform_admin, password_stdin } => {
                let inst = k.identity().resolve_institution(&institution)?;
                let (password, generated) = read_password(password_stdin)?;
                let user = k
                    .identity()
                    .create_user(
                        &Principal::system(inst),
                        inst,
                        NewUser { email, name, role: role.into(), platform_admin, password: Some(password.clone()) },
                    )
                    .await?;
                println!("created user {} ({})", user.email, user.id);
                if generated {
                    println!("password: {password}");
                }
                return Ok(Some(inst));
            }
            AdminCommand::ResetPassword { institution, email, password_stdin } => {
                let inst = k.identity().resolve_institution(&institution)?;
                let system = Principal::system(inst);
                let user = k.identity().user_by_email(&system, inst, &email)?;
                let (password, generated) = read_password(password_stdin)?;
                k.identity().reset_password(&system, inst, user.id, password.clone()).await?;
                println!("password reset for {}; their sessions have ended", user.email);
                if generated {
                    println!("password: {password}");
                }
                return Ok(Some(inst));
            }
            AdminCommand::BootstrapToken => {
                if k.identity().has_platform_admin()? {
                    eprintln!("note: a platform administrator already exists; the token creates another one");
                }
                println!("{}", k.identity().new_bootstrap_token()?);
            }
            AdminCommand::Backup { .. } | AdminCommand::Restore { .. } => {
                bail!("backup and restore never open the data directory")
            }
        }
        Ok(None)
    }
}
