//! The `registratura` binary: parses the command line, sets up telemetry, loads the
//! configuration and runs the gateway (or the sandbox МИС alone).

use clap::{Parser, Subcommand};
use registratura::{Application, config::Config, telemetry};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "registratura",
    version,
    about = "An online registry for clinics: the gateway between patients and the clinic's МИС"
)]
struct Cli {
    /// The TOML configuration file; without one, the gateway runs against the built-in sandbox МИС.
    #[arg(long, short, global = true, env = "REGISTRATURA_CONFIG")]
    config: Option<PathBuf>,
    /// How log lines are written: `text` (human-readable) or `json` (one object per line).
    #[arg(
        long,
        global = true,
        env = "REGISTRATURA_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: telemetry::LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the gateway (the default).
    Serve,
    /// Runs the sandbox МИС alone.
    Sandbox {
        /// The address to listen on.
        #[arg(
            long,
            env = "REGISTRATURA_SANDBOX_LISTEN",
            default_value = "127.0.0.1:8090"
        )]
        listen: String,
        /// The SQLite file (created and seeded on first start), or `:memory:`.
        #[arg(
            long,
            env = "REGISTRATURA_SANDBOX_DATABASE",
            default_value = "registratura-sandbox.db"
        )]
        database: PathBuf,
        /// The one `guid` it accepts.
        #[arg(long, env = "REGISTRATURA_SANDBOX_GUID", default_value = sandbox_mis::DEFAULT_GUID)]
        guid: String,
        /// How many clinics its region's hub lists: the seed's seven, and made-up ones up to
        /// this many (a region at its real size: 10000).
        #[arg(long, env = "REGISTRATURA_SANDBOX_REGION_CLINICS", default_value_t = sandbox_mis::seed::CLINICS.len())]
        region_clinics: usize,
        /// Sparse answers: every member the contract allows to be left out is, but those the
        /// gateway needs (a МИС that says no more than it must).
        #[arg(long)]
        sparse: bool,
        /// An operation answered with an `ErrorList` whatever is asked (`GetLPUInfo`); may be
        /// given several times.
        #[arg(long = "refuse", value_name = "OPERATION")]
        refuse_operations: Vec<String>,
    },
    /// Prints the OpenAPI spec of the JSON API.
    Openapi,
    /// Installs, removes, starts or stops the gateway as a Windows service
    /// (examples/deploy/windows.md).
    Service {
        #[command(subcommand)]
        command: registratura::service::Command,
    },
    /// Checks the configuration and each clinic's МИС, and prints what it finds.
    Check {
        /// Fail (exit status 2) on warnings too.
        #[arg(long)]
        strict: bool,
        /// Try one identification: read the document, the policy and the birth date
        /// (YYYY-MM-DD) from standard input, one per line; they are never printed.
        #[arg(long)]
        patient: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Check { strict, patient }) = cli.command {
        // Only the findings on stdout; the log only for what goes wrong.
        let _logging = telemetry::init("error", cli.log_format);
        let config = Config::load(cli.config.as_deref());
        let options = registratura::check::Options { strict, patient };
        let code = actix_web::rt::System::new().block_on(registratura::check::run(
            config,
            options,
            &mut std::io::stdout(),
            &mut std::io::stdin().lock(),
        ));
        return ExitCode::from(code);
    }
    if let Some(Command::Service { command }) = cli.command {
        // A service writes its own log (a file, the Event Log); the commands print to the
        // console.
        return registratura::service::run(command, cli.config, cli.log_format);
    }
    let logging = telemetry::init("info", cli.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Check { .. } | Command::Service { .. } => Ok(()),
        Command::Openapi => {
            println!("{}", registratura::pages::openapi::spec_json());
            Ok(())
        }
        Command::Sandbox {
            listen,
            database,
            guid,
            region_clinics,
            sparse,
            refuse_operations,
        } => {
            if let Some(unknown) = refuse_operations
                .iter()
                .find(|op| mis_hub::contract::Operation::from_name(op).is_none())
            {
                eprintln!(
                    "--refuse {unknown}: no operation of the hub contract the sandbox answers"
                );
                return ExitCode::from(2);
            }
            let config = sandbox_mis::SandboxConfig {
                database,
                guid,
                region_clinics,
                sparse,
                refuse_operations,
                ..sandbox_mis::SandboxConfig::default()
            };
            actix_web::rt::System::new()
                .block_on(registratura::startup::run_sandbox_alone(config, listen))
        }
        Command::Serve => Config::load(cli.config.as_deref())
            .map_err(registratura::StartError::from)
            .and_then(|config| {
                actix_web::rt::System::new().block_on(async move {
                    Application::build(config).await?.run_with_signals().await
                })
            }),
    };
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "registratura stopped");
            eprintln!("registratura: {e}");
            ExitCode::FAILURE
        }
    };
    // What is queued is written out before the process ends.
    drop(logging);
    code
}
