//! `pilotflow`: the command line (and, later, the service).

mod workflow_files;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Print a workflow's lifecycle as a Mermaid stateDiagram-v2.
    Diagram {
        file: PathBuf,
        #[arg(long)]
        schemas: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
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
