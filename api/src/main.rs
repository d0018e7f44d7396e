//! `pilotflow`: the service and the command line.

use clap::{Parser, Subcommand};
use pilotflow::config::{LogFormat, Settings};
use pilotflow::workflows::files as workflow_files;
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc: a heap per thread, so the request threads and the SQLite writer thread do not
/// queue for glibc's arena locks (perf, W1 at 16 clients: 17 % of the request threads' samples
/// were glibc malloc and free, a quarter of that waking threads blocked on an arena), and
/// memory freed by another thread goes back to its owner without a lock.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pilotflow",
    version,
    about = "Workflow engine for government pilot programmes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check workflow definitions and the schemas they name; lists every problem found.
    Validate {
        /// Definition files (YAML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Directory the definitions' schema paths are relative to
        /// [default: `schemas/` beside the file's `workflows/` directory].
        #[arg(long)]
        schemas: Option<PathBuf>,
    },
    /// Run the REST service (configuration: pilotflow.toml and PILOTFLOW_* variables).
    Serve {
        /// Seed an empty database with Jilin's demo users.
        #[arg(long)]
        demo: bool,
    },
    /// Check that every case's history hash chain is intact and replays to the stored case.
    VerifyHistory,
    /// Print the timeline a new case would see if nobody acted: its deadlines, reminders and
    /// overdue notices, and who gets them (no database; the shipped holiday calendar).
    Simulate {
        file: PathBuf,
        /// When the case is created: 2026-08-01 (09:00 local) or an RFC 3339 time.
        #[arg(long)]
        from: String,
        /// The end of the timeline.
        #[arg(long)]
        to: String,
        /// Preset a variable, e.g. --set city_cutoff=2026-09-10T23:59:59+08:00 (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        #[arg(long)]
        schemas: Option<PathBuf>,
    },
    /// Print a workflow's lifecycle as a Mermaid stateDiagram-v2.
    Diagram {
        file: PathBuf,
        #[arg(long)]
        schemas: Option<PathBuf>,
    },
}

fn settings() -> Result<Settings, ExitCode> {
    Settings::load().map_err(|e| {
        eprintln!("configuration error: {e}");
        ExitCode::FAILURE
    })
}

/// Logs for people on a terminal, JSON lines for a log collector, unless configured.
fn init_logs(format: Option<LogFormat>) {
    use std::io::IsTerminal;
    let format = format.unwrap_or(if std::io::stdout().is_terminal() {
        LogFormat::Pretty
    } else {
        LogFormat::Json
    });
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // One line per request when its span closes: method, route, status, request id, latency.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Pretty => builder.init(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("cannot start the async runtime: {e}");
            ExitCode::FAILURE
        })
}

/// What still uses glibc's heap is C code, SQLite's page caches above all (Rust's allocations
/// go to mimalloc). glibc gives each thread that contends for the heap an arena of its own (up
/// to 8 per core) and keeps freed memory in them: measured under the W2 burst when all of the
/// server used glibc, 33 MB of heap held 200 MB of RSS. Two arenas and a fixed 128 KiB
/// trim/mmap threshold held it to about 120 MB (the same as `MALLOC_ARENA_MAX=2
/// MALLOC_TRIM_THRESHOLD_=131072 MALLOC_MMAP_THRESHOLD_=131072`, which a deployment may still
/// set and override).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_heap_retention() {
    const ARENAS: libc::c_int = 2;
    const THRESHOLD: libc::c_int = 128 * 1024;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    // SAFETY: `mallopt` only sets allocator parameters; it is called before any other
    // thread exists, and a refused setting leaves glibc's default in place.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        libc::mallopt(libc::M_TRIM_THRESHOLD, THRESHOLD);
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_heap_retention() {}

fn serve(demo: bool) -> Result<(), ExitCode> {
    limit_heap_retention();
    let settings = settings()?;
    init_logs(settings.log_format);
    runtime()?.block_on(async move {
        let app = pilotflow::startup::Application::build(settings, demo)
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "cannot start");
                eprintln!("cannot start: {e:#}");
                ExitCode::FAILURE
            })?;
        tracing::info!(port = app.port(), "listening");
        eprintln!("{}", started_banner(&app.state().ctx, demo));
        app.run_until_stopped().await.map_err(|e| {
            tracing::error!(error = ?e, "server stopped");
            ExitCode::FAILURE
        })
    })
}

/// What a person starting the service needs: the address to open, the API documentation, the
/// demo accounts, and whether the clock is the rehearsal clock.
fn started_banner(ctx: &pilotflow::context::Context, demo: bool) -> String {
    let base = ctx.settings.public_url.trim_end_matches('/');
    let mut lines = vec![format!(
        "Pilotflow 已启动:请在浏览器中打开 {base}/ (接口文档 {base}/docs)"
    )];
    if demo {
        lines.push(format!(
            "演示账号,密码均为 {}:区县 d220102(南关区)、市州 c220100(长春市)、\
             省民政厅 admin、评审专家 expert01–expert12",
            ctx.settings.demo_password.expose()
        ));
    }
    if ctx.clock.mode() == pilotflow::clock::ClockMode::Simulated {
        lines.push(format!(
            "演练模式:使用模拟时钟,当前为 {}(北京时间)",
            pilotflow_engine::deadline::local_text(chrono_tz::Asia::Shanghai, ctx.clock.now())
        ));
    }
    lines.join("\n")
}

fn verify_history() -> Result<(), ExitCode> {
    let settings = settings()?;
    runtime()?.block_on(async move {
        let fail = |e: anyhow::Error| {
            eprintln!("verify-history: {e:#}");
            ExitCode::FAILURE
        };
        let store = pilotflow::store::Store::connect(&settings.database_url(), 2)
            .await
            .map_err(|e| fail(e.into()))?;
        store.migrate().await.map_err(|e| fail(e.into()))?;
        let calendar = pilotflow::admin::holidays::load(&store)
            .await
            .map_err(|e| fail(e.into()))?;
        let report = pilotflow::tools::verify::verify_all(&store, &calendar)
            .await
            .map_err(fail)?;
        for (case, b) in &report.broken {
            println!("case {case}: event {}: {}", b.seq, b.reason);
        }
        println!(
            "{} cases, {} events checked: {}",
            report.cases,
            report.events,
            if report.broken.is_empty() {
                "every history chain is intact".to_owned()
            } else {
                format!("{} broken", report.broken.len())
            }
        );
        if report.broken.is_empty() {
            Ok(())
        } else {
            Err(ExitCode::FAILURE)
        }
    })
}

fn simulate(
    file: &std::path::Path,
    from: &str,
    to: &str,
    set: &[String],
    schemas: Option<PathBuf>,
) -> ExitCode {
    use pilotflow::tools::simulate;
    let dir = schemas.unwrap_or_else(|| workflow_files::default_schema_dir(file));
    let def = match workflow_files::load(file, &dir) {
        Ok(def) => def,
        Err(diagnostics) => {
            for d in diagnostics {
                eprintln!("{d}");
            }
            return ExitCode::FAILURE;
        }
    };
    let calendar = match pilotflow::admin::holidays::calendar() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("the shipped holiday calendar cannot be read: {e}");
            return ExitCode::FAILURE;
        }
    };
    let lines = (|| {
        let from = simulate::parse_time(&def, from)?;
        let to = simulate::parse_time(&def, to)?;
        let vars = set
            .iter()
            .map(|s| simulate::parse_set(&def, s))
            .collect::<Result<_, _>>()?;
        simulate::timeline(&def, &calendar, from, to, vars)
    })();
    match lines {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("simulate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { demo } => match serve(demo) {
            Ok(()) => ExitCode::SUCCESS,
            Err(code) => code,
        },
        Command::VerifyHistory => match verify_history() {
            Ok(()) => ExitCode::SUCCESS,
            Err(code) => code,
        },
        Command::Validate { files, schemas } => {
            let mut problems = 0usize;
            for file in &files {
                let dir = schemas
                    .clone()
                    .unwrap_or_else(|| workflow_files::default_schema_dir(file));
                match workflow_files::load(file, &dir) {
                    Ok(def) => println!(
                        "{}: ok ({} {}, {} states, {} actions, {} deadlines)",
                        file.display(),
                        def.key,
                        def.version,
                        def.states.len(),
                        def.actions.len(),
                        def.deadlines.len()
                    ),
                    Err(diagnostics) => {
                        problems += diagnostics.len();
                        for d in diagnostics {
                            eprintln!("{d}");
                        }
                    }
                }
            }
            if problems == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "{problems} problem{} found",
                    if problems == 1 { "" } else { "s" }
                );
                ExitCode::FAILURE
            }
        }
        Command::Simulate {
            file,
            from,
            to,
            set,
            schemas,
        } => simulate(&file, &from, &to, &set, schemas),
        Command::Diagram { file, schemas } => {
            let dir = schemas.unwrap_or_else(|| workflow_files::default_schema_dir(&file));
            match workflow_files::load(&file, &dir) {
                Ok(def) => {
                    print!("{}", pilotflow_engine::diagram::mermaid(&def));
                    ExitCode::SUCCESS
                }
                Err(diagnostics) => {
                    for d in diagnostics {
                        eprintln!("{d}");
                    }
                    ExitCode::FAILURE
                }
            }
        }
    }
}
