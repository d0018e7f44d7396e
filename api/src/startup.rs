//! Building and running the service: `Application::build` binds (port 0 picks a free port) and
//! tests call the same function.

use crate::admin::units::reload_units;
use crate::admin::{demo, holidays};
use crate::config::Settings;
use crate::context::Context;
use crate::http::{self, openapi};
use crate::metrics::Metrics;
use crate::notices::{JobKind, Mailer, jobs};
use crate::state::AppState;
use crate::store::Store;
use crate::workflows::Registry;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use std::net::TcpListener;
use tokio_cron_scheduler::JobScheduler;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    scheduler: Option<JobScheduler>,
}

/// Opens the database, migrates it, seeds what is missing and loads the workflows.
pub async fn prepare(settings: Settings, demo_data: bool) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let clock = settings.clock();
    let store = Store::connect(&settings.database_url(), settings.db_pool_size).await?;
    store.migrate().await?;
    demo::seed_units(&store).await?;
    holidays::seed(&store, clock.now()).await?;
    let now = clock.now();
    if demo_data {
        if demo::seed_demo_users(&store, settings.demo_password.expose(), now).await? {
            tracing::info!("seeded the demo users");
        }
    } else if let Some(pw) = &settings.admin_password {
        demo::seed_admin(&store, pw.expose(), now).await?;
    }
    let registry =
        Registry::load(&store, &settings.workflows_dir, &settings.schemas_dir, now).await?;
    let calendar = holidays::load(&store).await?;
    let mailer = Mailer::from_settings(&settings)?;
    let ctx = Context::new(
        settings,
        store,
        clock,
        registry,
        Metrics::new()?,
        calendar,
        Default::default(),
    );
    reload_units(&ctx).await?;
    let backfilled = crate::cases::backfill_deadlines(&ctx).await?;
    if backfilled > 0 {
        tracing::info!(
            cases = backfilled,
            "wrote the running deadlines of existing cases"
        );
    }
    Ok(AppState::new(ctx, mailer))
}

/// Runs a job on cron's trigger: not once shutdown has begun; a failure is logged.
async fn run_scheduled(state: web::Data<AppState>, kind: JobKind) {
    if state.jobs.stopping() {
        return;
    }
    if let Err(e) = jobs::run(&state.ctx, state.mailer.as_ref(), &state.jobs, kind).await {
        tracing::error!(job = kind.as_str(), error = ?e, "a scheduled job failed");
    }
}

impl Application {
    pub async fn build(mut settings: Settings, demo_data: bool) -> anyhow::Result<Self> {
        let bind = settings.bind.clone();
        let workers = settings.workers;
        let listener =
            TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
        let port = listener.local_addr()?.port();
        settings.public_url_from(listener.local_addr()?);
        let state = web::Data::new(prepare(settings, demo_data).await?);
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(web::QueryConfig::default().error_handler(http::query_error))
                .app_data(web::PathConfig::default().error_handler(http::path_error))
                .app_data(web::PayloadConfig::new(http::JSON_LIMIT))
                .wrap(from_fn(http::language_and_metrics))
                .wrap(TracingLogger::default())
                .configure(http::configure)
                .service(web::resource("/docs").route(web::get().to(|| async {
                    HttpResponse::Found()
                        .insert_header(("Location", "/docs/"))
                        .finish()
                })))
                .service(
                    SwaggerUi::new("/docs/{_:.*}").url("/api/openapi.json", openapi::document()),
                )
                .default_service(web::to(http::webapp::serve))
        })
        .shutdown_timeout(30)
        .listen(listener)?;
        if workers > 0 {
            server = server.workers(workers);
        }
        let settings = &state.ctx.settings;
        let for_jobs = state.clone();
        let scheduler = jobs::schedule(
            &settings.deadline_scan_cron,
            &settings.outbox_cron,
            move |kind| run_scheduled(for_jobs.clone(), kind),
        )
        .await
        .with_context(|| {
            format!(
                "cannot start the jobs: check deadline_scan_cron `{}` and outbox_cron `{}` \
                 (cron with seconds, e.g. `0 * * * * *`, or `off`)",
                settings.deadline_scan_cron, settings.outbox_cron
            )
        })?;
        Ok(Self {
            port,
            server: server.run(),
            state,
            scheduler,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM, then finishes requests in flight and the jobs' work in
    /// flight (the mail being sent), starting nothing new.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(mut scheduler) = self.scheduler
            && let Err(e) = scheduler.shutdown().await
        {
            tracing::warn!(error = %e, "the job scheduler did not stop cleanly");
        }
        self.state.jobs.drain().await;
        served
    }
}
