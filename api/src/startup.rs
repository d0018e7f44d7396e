//! Building and running the service: `Application::build` binds (port 0 picks a free port) and
//! tests call the same function.

use crate::admin::reload_units;
use crate::auth::{SessionCache, Throttle};
use crate::config::Settings;
use crate::demo;
use crate::http::{self, openapi, routes};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::state::AppState;
use crate::store::Store;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::{Arc, RwLock};
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
    demo::seed_units(&store)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    crate::holidays::seed(&store, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let now = clock.now();
    if demo_data {
        if demo::seed_demo_users(&store, settings.demo_password.expose(), now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
        {
            tracing::info!("seeded the demo users");
        }
    } else if let Some(pw) = &settings.admin_password {
        demo::seed_admin(&store, pw.expose(), now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let registry =
        Registry::load(&store, &settings.workflows_dir, &settings.schemas_dir, now).await?;
    let calendar = crate::holidays::load(&store)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mailer = crate::outbox::Mailer::from_settings(&settings)?;
    let state = AppState {
        settings,
        store,
        clock,
        registry,
        calendar: RwLock::new(Arc::new(calendar)),
        units: RwLock::new(Default::default()),
        throttle: Throttle::default(),
        sessions: SessionCache::default(),
        cases: Default::default(),
        metrics: Metrics::new()?,
        mailer,
        jobs: Default::default(),
    };
    reload_units(&state)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let backfilled = crate::cases::backfill_deadlines(&state)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if backfilled > 0 {
        tracing::info!(
            cases = backfilled,
            "wrote the running deadlines of existing cases"
        );
    }
    Ok(state)
}

impl Application {
    pub async fn build(settings: Settings, demo_data: bool) -> anyhow::Result<Self> {
        let bind = settings.bind.clone();
        let workers = settings.workers;
        let state = web::Data::new(prepare(settings, demo_data).await?);
        let listener =
            TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
        let port = listener.local_addr()?.port();
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(web::QueryConfig::default().error_handler(http::query_error))
                .app_data(web::PathConfig::default().error_handler(http::path_error))
                .app_data(web::PayloadConfig::new(http::JSON_LIMIT))
                .wrap(from_fn(http::language_and_metrics))
                .wrap(TracingLogger::default())
                .configure(routes::configure)
                .service(web::resource("/docs").route(web::get().to(|| async {
                    HttpResponse::Found()
                        .insert_header(("Location", "/docs/"))
                        .finish()
                })))
                .service(
                    SwaggerUi::new("/docs/{_:.*}").url("/api/openapi.json", openapi::document()),
                )
                .default_service(web::to(http::not_found))
        })
        .shutdown_timeout(30)
        .listen(listener)?;
        if workers > 0 {
            server = server.workers(workers);
        }
        let scheduler = crate::jobs::schedule(state.clone())
            .await
            .with_context(|| {
                format!(
                    "cannot start the jobs: check deadline_scan_cron `{}` and outbox_cron `{}` \
                 (cron with seconds, e.g. `0 * * * * *`, or `off`)",
                    state.settings.deadline_scan_cron, state.settings.outbox_cron
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
