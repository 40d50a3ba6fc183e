//! The sandbox's HTTP face: SOAP 1.1 at `/HubService.svc` and the WSDL beside it.

use crate::seed;
use crate::store::catalogue::RegionSeed;
use crate::store::{Store, StoreError};
use crate::wsdl::WSDL;
use actix_web::{HttpRequest, HttpResponse, web};
use mis_hub::contract::{
    self, DecodeError, Fault, MethodResult, Operation, Request, Response, ResultBody,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `guid` the sandbox accepts unless configured otherwise; the gateway's default
/// configuration uses it.
pub const DEFAULT_GUID: &str = "11111111-2222-3333-4444-555555555555";

const PATH: &str = "/HubService.svc";

/// How to run the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The SQLite file (created on first start), or `:memory:`.
    pub database: PathBuf,
    /// The one key it accepts.
    pub guid: String,
    /// Added to every answer: a slow МИС, for trying the gateway (and in tests).
    pub latency: std::time::Duration,
    /// How long the region's slow clinic ([`seed::Behaviour::Slow`]) takes to answer.
    pub slow_clinic: std::time::Duration,
    /// How many clinics the region's hub lists in all: the seed's seven, and as many more
    /// made up as this asks for ([`RegionSeed`]): a region at its real size.
    pub region_clinics: usize,
    /// Answers that leave out every member the contract allows to be left out but those the
    /// hub adapter needs ([`crate::sparse`]): a МИС that says no more than it must.
    pub sparse: bool,
    /// Operations (their contract names: `GetLPUInfo`) answered with an `ErrorList` whatever
    /// is asked: a МИС or a hub without them.
    pub refuse_operations: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            database: PathBuf::from("registratura-sandbox.db"),
            guid: DEFAULT_GUID.to_owned(),
            latency: std::time::Duration::ZERO,
            slow_clinic: std::time::Duration::from_secs(30),
            region_clinics: seed::CLINICS.len(),
            sparse: false,
            refuse_operations: Vec::new(),
        }
    }
}

/// The database file of the region's clinic `lpu` beside the demo clinic's `path`
/// (`registratura-sandbox.db` → `registratura-sandbox.lpu2.db`); in memory stays in memory.
fn database_of(path: &Path, lpu: i32) -> PathBuf {
    if lpu == seed::LPU_ID || path.as_os_str() == ":memory:" {
        return path.to_owned();
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.lpu{lpu}.{}", ext.to_string_lossy()),
        None => format!("{stem}.lpu{lpu}"),
    };
    path.with_file_name(name)
}

/// The clinic a request is for, where it names one.
fn lpu_of(request: &Request) -> Option<i32> {
    Some(match request {
        Request::GetSpesialityList(r) => r.id_lpu,
        Request::GetDoctorList(r) => r.id_lpu,
        Request::GetAvailableDates(w) | Request::GetAvaibleAppointments(w) => w.id_lpu,
        Request::GetWorkingTime(r) => r.id_lpu,
        Request::CheckPatient(r) => r.id_lpu,
        Request::SetAppointment(r) => r.id_lpu,
        Request::CreateClaimForRefusal(r) => r.id_lpu,
        Request::UpdatePhoneByIdPat(r) => r.id_lpu,
        Request::GetPatientHistory(r) => r.id_lpu,
        Request::InspectDoctorsReferal(r) => r.id_lpu,
        Request::GetAppointmentsDemandDoctorsReferal(r) => r.id_lpu,
        Request::GetPatientsAreas(r) => r.id_lpu.as_deref()?.trim().parse().ok()?,
        _ => return None,
    })
}

/// The operation's refusal of every call, as a МИС without it answers.
const NOT_SUPPORTED: (i32, &str) = (2, "Метод не поддерживается данной МИС");

/// Names the clinic `lpu` in a request that names one (as [`lpu_of`] reads it).
fn set_lpu(request: &mut Request, lpu: i32) {
    match request {
        Request::GetSpesialityList(r) => r.id_lpu = lpu,
        Request::GetDoctorList(r) => r.id_lpu = lpu,
        Request::GetAvailableDates(w) | Request::GetAvaibleAppointments(w) => w.id_lpu = lpu,
        Request::GetWorkingTime(r) => r.id_lpu = lpu,
        Request::CheckPatient(r) => r.id_lpu = lpu,
        Request::SetAppointment(r) => r.id_lpu = lpu,
        Request::CreateClaimForRefusal(r) => r.id_lpu = lpu,
        Request::UpdatePhoneByIdPat(r) => r.id_lpu = lpu,
        Request::GetPatientHistory(r) => r.id_lpu = lpu,
        Request::InspectDoctorsReferal(r) => r.id_lpu = lpu,
        Request::GetAppointmentsDemandDoctorsReferal(r) => r.id_lpu = lpu,
        Request::GetPatientsAreas(r) => r.id_lpu = Some(lpu.to_string()),
        _ => {}
    }
}

/// A sandbox МИС, ready to be mounted in an actix-web app.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// The demo clinic's МИС.
    demo: Arc<Store>,
    /// The МИС of every other active clinic of the region, by `idLpu`.
    stores: Arc<BTreeMap<i32, Arc<Store>>>,
    guid: Arc<str>,
    latency: std::time::Duration,
    slow_clinic: std::time::Duration,
    region: RegionSeed,
    sparse: bool,
    refused: Arc<[Operation]>,
}

impl Sandbox {
    /// Opens the database (creating and seeding it on first use) and builds today's schedule.
    pub fn open(config: &SandboxConfig) -> Result<Self, StoreError> {
        let demo = Store::open(&config.database)?;
        demo.ensure_schedule(now().date())?;
        let mut stores = BTreeMap::new();
        for clinic in seed::CLINICS
            .iter()
            .filter(|c| c.active && c.lpu != seed::LPU_ID)
        {
            let store = Store::open_clinic(&database_of(&config.database, clinic.lpu), clinic)?;
            store.ensure_schedule(now().date())?;
            stores.insert(clinic.lpu, Arc::new(store));
        }
        Ok(Self {
            demo: Arc::new(demo),
            stores: Arc::new(stores),
            guid: config.guid.as_str().into(),
            latency: config.latency,
            slow_clinic: config.slow_clinic,
            region: RegionSeed::of_size(config.region_clinics),
            sparse: config.sparse,
            refused: config
                .refuse_operations
                .iter()
                .filter_map(|name| Operation::from_name(name))
                .collect(),
        })
    }

    /// The demo clinic's database, for tests that add patients.
    pub fn store(&self) -> &Store {
        &self.demo
    }

    /// The database of the region's clinic `lpu` (the demo clinic's where there is none).
    pub fn clinic_store(&self, lpu: i32) -> &Store {
        self.stores.get(&lpu).unwrap_or(&self.demo)
    }

    fn store_of(&self, lpu: i32) -> Arc<Store> {
        self.stores.get(&lpu).unwrap_or(&self.demo).clone()
    }

    /// The answer `response` to `op`, written as this sandbox writes (sparse or not).
    fn answer(&self, op: Operation, response: &Response) -> HttpResponse {
        let body = if self.sparse {
            contract::encode_response_sparse(op, response, crate::sparse::member)
        } else {
            contract::encode_response(op, response)
        };
        xml(actix_web::http::StatusCode::OK, body)
    }

    /// Registers the sandbox's routes.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::new(self.clone()))
            .app_data(web::PayloadConfig::new(256 * 1024))
            .service(
                web::resource(PATH)
                    .route(web::post().to(soap))
                    .route(web::get().to(wsdl))
                    .wrap(actix_web::middleware::from_fn(refuse_encoded_bodies)),
            );
    }
}

/// The clinic's local time now.
fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now()
        .with_timezone(&seed::LPU_TIMEZONE)
        .naive_local()
}

fn xml(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/xml; charset=utf-8")
        .body(body)
}

fn fault(code: &str, message: impl Into<String>) -> HttpResponse {
    let body = contract::encode_fault(&Fault {
        code: code.to_owned(),
        message: message.into(),
    });
    xml(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, body)
}

/// Whether a request's content is encoded (`Content-Encoding` other than `identity`).
fn content_encoded(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(actix_web::http::header::CONTENT_ENCODING)
        .any(|v| {
            v.to_str().map_or(true, |codings| {
                codings.split(',').any(|c| {
                    let c = c.trim();
                    !c.is_empty() && !c.eq_ignore_ascii_case("identity")
                })
            })
        })
}

/// Refuses compressed request bodies before anything reads them: actix would expand each
/// chunk whole before the body limit counts it.
async fn refuse_encoded_bodies(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    if content_encoded(req.request()) {
        let mut refusal = fault(
            "s:Client",
            "Сжатое тело запроса не принимается (Content-Encoding)",
        );
        *refusal.status_mut() = actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return Ok(req.into_response(refusal));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

async fn soap(sandbox: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if !sandbox.latency.is_zero() {
        actix_web::rt::time::sleep(sandbox.latency).await;
    }
    let call = match contract::decode_request(&body) {
        Ok(call) => call,
        Err(DecodeError::UnknownOperation(name)) => {
            let name: String = name.chars().take(64).collect();
            return fault(
                "s:Client",
                format!("Операция {name} не поддерживается (ActionNotSupported)"),
            );
        }
        Err(e) => return fault("s:Client", format!("Некорректный запрос: {e}")),
    };
    let op = call.request.operation();
    if let Some(action) = req
        .headers()
        .get("SOAPAction")
        .and_then(|v| v.to_str().ok())
    {
        let action = action.trim().trim_matches('"');
        if !action.is_empty() && action != op.soap_action().trim_matches('"') {
            return fault("s:Client", "SOAPAction не соответствует телу запроса");
        }
    }
    // The contract gives GetVersion and GetPatientsAreas no key.
    let keyed = !matches!(op, Operation::GetVersion | Operation::GetPatientsAreas);
    if keyed && call.guid.as_deref() != Some(&*sandbox.guid) {
        let response = Response {
            base: MethodResult::error(1, "Неверный или запрещённый guid"),
            body: ResultBody::empty(op),
        };
        return sandbox.answer(op, &response);
    }
    if sandbox.refused.contains(&op) {
        let response = Response {
            base: MethodResult::error(NOT_SUPPORTED.0, NOT_SUPPORTED.1),
            body: ResultBody::empty(op),
        };
        return sandbox.answer(op, &response);
    }
    if let Some(answer) = sandbox.region.answer(&call.request) {
        return sandbox.answer(op, &answer);
    }
    let mut request = call.request;
    let mut lpu = lpu_of(&request);
    if let Some(by) = lpu.and_then(|l| sandbox.region.served_by(l)) {
        // A made-up clinic of a large region: the МИС of a clinic of the seed answers for it,
        // and nobody is attached to its areas.
        if let Request::GetPatientsAreas(_) = request {
            let response = Response {
                base: MethodResult::ok(),
                body: ResultBody::GetPatientsAreas(contract::PatientsAreasResult {
                    patients_area_list: Some(Vec::new()),
                }),
            };
            return sandbox.answer(op, &response);
        }
        set_lpu(&mut request, by);
        lpu = Some(by);
    }
    match lpu.and_then(seed::clinic).map(|c| c.behaviour) {
        Some(seed::Behaviour::Slow) => actix_web::rt::time::sleep(sandbox.slow_clinic).await,
        Some(seed::Behaviour::Faulty) => {
            let response = Response {
                base: MethodResult::error(seed::FAULT_ID, seed::FAULT_TEXT),
                body: ResultBody::empty(op),
            };
            return sandbox.answer(op, &response);
        }
        _ => {}
    }
    // A request for no clinic, or for one the region has not, goes to the demo clinic's МИС
    // (which refuses an unknown clinic as the hub does).
    let store = sandbox.store_of(lpu.unwrap_or(seed::LPU_ID));
    match web::block(move || store.handle(&request, now())).await {
        Ok(response) => sandbox.answer(op, &response),
        Err(_) => fault("s:Server", "Внутренняя ошибка"),
    }
}

async fn wsdl(req: HttpRequest) -> HttpResponse {
    let wants_wsdl = req
        .query_string()
        .split('&')
        .any(|p| p.eq_ignore_ascii_case("wsdl") || p.eq_ignore_ascii_case("singleWsdl"));
    // The request's own host: forwarded headers are nobody's to believe here.
    let config = req.app_config();
    let scheme = if config.secure() { "https" } else { "http" };
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(vocabulary::host::plausible)
        .unwrap_or(config.host());
    let location = format!("{scheme}://{host}{PATH}");
    if wants_wsdl {
        let body = WSDL.replace("{{LOCATION}}", &mis_hub::xml::escape(&location));
        xml(actix_web::http::StatusCode::OK, body)
    } else {
        HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(format!(
            "Registratura sandbox МИС (HubService, SOAP 1.1).\nPOST SOAP requests here; the WSDL is at {location}?wsdl\n"
        ))
    }
}
