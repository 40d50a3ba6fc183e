//! [`HubClient`]: one hub endpoint, called over SOAP 1.1 through the shared МИС transport
//! (`mis-http`): a call, its answer decoded, and the hub's errors as the port's. What the
//! answers mean is [`crate::mapping`]'s; the port's operations are [`crate::port`]'s and
//! [`crate::region`]'s.

use crate::contract::{self, Call, DecodeError, Operation, Request, Response, ResultBody};
use crate::mapping::error_of;
use mis::MisError;
use mis_http::{Limits, Lost, Transport, clipped};
use std::time::{Duration, Instant};

/// The `PASource` written unless configured: the online registry of a clinic's site.
pub const DEFAULT_WAITING_LIST_SOURCE: i32 = 2;

/// How to reach one hub endpoint.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The service URL, e.g. `http://mis.local/HubService.svc`.
    pub endpoint: String,
    /// The key the hub issued to this gateway.
    pub guid: String,
    /// The longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// The longest a whole call may take, from sending to the last byte of the answer.
    pub timeout: Duration,
    /// The largest answer accepted, in bytes.
    pub max_response_bytes: usize,
    /// The number the hub knows this system by as a source of waiting-list requests
    /// (`PASource`).
    pub waiting_list_source: i32,
}

impl HubConfig {
    pub fn new(endpoint: impl Into<String>, guid: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            guid: guid.into(),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(8),
            max_response_bytes: 4 * 1024 * 1024,
            waiting_list_source: DEFAULT_WAITING_LIST_SOURCE,
        }
    }
}

/// A client of one hub endpoint, implementing [`Mis`].
#[derive(Debug, Clone)]
pub struct HubClient {
    transport: Transport,
    /// The endpoint, parsed once (not on every call).
    url: reqwest::Url,
    pub(crate) config: HubConfig,
}

impl HubClient {
    pub fn new(config: HubConfig) -> Result<Self, MisError> {
        let transport = Transport::new(Limits {
            connect_timeout: config.connect_timeout,
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
        })?;
        let url = reqwest::Url::parse(&config.endpoint)
            .map_err(|e| MisError::Unavailable(format!("the endpoint is not a URL: {e}")))?;
        Ok(Self {
            transport,
            url,
            config,
        })
    }

    /// The endpoint it calls.
    pub fn endpoint(&self) -> &str {
        &self.config.endpoint
    }

    fn call_of(&self, request: Request) -> Call {
        Call {
            guid: Some(self.config.guid.clone()),
            id_history: None,
            request,
        }
    }

    /// Sends one call and reads its result; hub errors become [`MisError`]s. A write whose
    /// request may have reached the МИС and whose answer is missing or unusable is
    /// [`MisError::OutcomeUnknown`] ([`Lost::of_write`]).
    pub(crate) async fn call(&self, request: Request) -> Result<ResultBody, MisError> {
        let op = request.operation();
        let started = Instant::now();
        let result = self
            .exchange(op, &self.call_of(request))
            .await
            .map_err(|lost| {
                if is_write(op) {
                    lost.of_write()
                } else {
                    lost.of_read()
                }
            });
        let elapsed_ms = started.elapsed().as_millis();
        match &result {
            Ok(_) => tracing::debug!(operation = op.name(), elapsed_ms, "МИС call succeeded"),
            Err(e) => {
                tracing::warn!(operation = op.name(), elapsed_ms, error = %e, "МИС call failed")
            }
        }
        let response = result?;
        check(op, response)
    }

    async fn exchange(&self, op: Operation, call: &Call) -> Result<Response, Lost> {
        let request = self
            .transport
            .client()
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", op.soap_action())
            .body(contract::encode_request(call));
        let received = self.transport.exchange(request).await?;
        let (status, bytes) = (received.status, received.body);
        let failed = match contract::decode_response(op, &bytes) {
            Ok(r) if status.is_success() => return Ok(r),
            Ok(_) => MisError::BadResponse(format!("a result with HTTP status {status}")),
            Err(DecodeError::Fault(f)) => {
                let code = clipped(&f.code);
                if f.code.ends_with("Server") || f.code.ends_with("Receiver") {
                    MisError::Unavailable(format!("SOAP fault {code}"))
                } else {
                    MisError::BadResponse(format!("SOAP fault {code}"))
                }
            }
            Err(_) if status.is_server_error() => {
                MisError::Unavailable(format!("HTTP status {status}"))
            }
            Err(e) => MisError::BadResponse(e.to_string()),
        };
        Err(Lost::After(failed))
    }
}

/// The operations that change what the МИС holds.
fn is_write(op: Operation) -> bool {
    matches!(
        op,
        Operation::SetAppointment
            | Operation::CreateClaimForRefusal
            | Operation::RegisterPARequest
            | Operation::CancelPARequest
            | Operation::UpdatePhoneByIdPat
    )
}

fn check(op: Operation, response: Response) -> Result<ResultBody, MisError> {
    if let Some(first) = response.base.errors.as_ref().and_then(|e| e.first()) {
        return Err(error_of(first.id));
    }
    if !response.base.succeeded() {
        return Err(MisError::BadResponse(format!(
            "{} failed without an error code",
            op.name()
        )));
    }
    Ok(response.body)
}
