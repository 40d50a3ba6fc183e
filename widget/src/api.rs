//! The gateway's JSON API, from the browser (same origin: the widget page is the gateway's).

use api_types::routes::{self, Route};
use api_types::{
    ErrorCode, FieldError, NewSession, NewTicket, Problem, Reschedule, Session, Ticket,
};
use gloo_net::http::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// No answer (offline, gateway down) or an answer that is not the API's.
    Network,
    /// The API's problem document.
    Problem {
        code: ErrorCode,
        fields: Vec<FieldError>,
        /// The answer's `Retry-After`, seconds, where it has one.
        retry_after: Option<u32>,
    },
}

impl Failure {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Problem { code, .. } => Some(*code),
            Self::Network => None,
        }
    }

    /// Whether the same request is worth sending again after a pause: the gateway is at the
    /// МИС's capacity (`overloaded`), counts too many requests, or did not answer (a reset).
    /// Safe for what is sent with an `Idempotency-Key` and for reads.
    pub fn passing(&self) -> bool {
        matches!(
            self.code(),
            None | Some(ErrorCode::Overloaded | ErrorCode::TooManyRequests)
        )
    }
}

/// How many times a request is sent through a surge, at most.
pub const SURGE_TRIES: u32 = 8;

/// The pause before try `n + 1` (from 0) after `failure`: the gateway's `Retry-After` where
/// it gave one (it spreads them), else 1, 2, 4, 8, 8… seconds; either between half and one
/// and a half of that at random, so that patients told to wait do not all come back at once.
pub fn surge_pause_ms(n: u32, failure: &Failure) -> u32 {
    let told = match failure {
        Failure::Problem {
            retry_after: Some(s),
            ..
        } => Some((*s).clamp(1, 60) * 1_000),
        _ => None,
    };
    let base = told.unwrap_or(1_000u32 << n.min(3));
    let spread = js_sys::Math::random() + 0.5;
    (f64::from(base) * spread) as u32
}

/// Waits `ms`, or less when `stopped` turns true (checked every tenth of a second).
pub async fn pause(ms: u32, stopped: &dyn Fn() -> bool) {
    let mut left = ms;
    while left > 0 && !stopped() {
        let step = left.min(100);
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    &resolve,
                    i32::try_from(step).unwrap_or(100),
                );
            }
        });
        let _ = JsFuture::from(promise).await;
        left -= step;
    }
}

/// Sends `attempt` until it is answered, through a surge: after a failure that
/// [`Failure::passing`] says will pass, `crowded` is told (the patient sees that the widget
/// is trying again) and the request is sent again after [`surge_pause_ms`], up to
/// [`SURGE_TRIES`] times or until `stopped`. The last answer is the result.
pub async fn through_surge<T, F, Fut>(
    attempt: F,
    crowded: &dyn Fn(bool),
    stopped: &dyn Fn() -> bool,
) -> Result<T, Failure>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut tries = 0;
    loop {
        let result = attempt().await;
        tries += 1;
        match &result {
            Err(e) if e.passing() && tries < SURGE_TRIES && !stopped() => {
                crowded(true);
                pause(surge_pause_ms(tries - 1, e), stopped).await;
                if stopped() {
                    crowded(false);
                    return result;
                }
            }
            _ => {
                crowded(false);
                return result;
            }
        }
    }
}

/// The API of one clinic.
#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    pub clinic: String,
    /// The region the clinic is chosen from: identification is the region's, once for all
    /// its clinics.
    pub region: Option<String>,
    /// The gateway's path prefix (empty at the root).
    pub base: String,
}

fn js_err(_: JsValue) -> Failure {
    Failure::Network
}

/// A value as JSON text (`JSON.stringify` of its JavaScript form).
pub fn to_json(value: &impl serde::Serialize) -> Result<JsValue, Failure> {
    let value = serde_wasm_bindgen::to_value(value).map_err(|_| Failure::Network)?;
    js_sys::JSON::stringify(&value)
        .map(JsValue::from)
        .map_err(js_err)
}

impl Api {
    /// The path of a route of this clinic (the route table's template, from the wire types),
    /// with the parameters after `{clinic}`.
    pub fn route(&self, route: Route, args: &[&str]) -> String {
        let mut all = Vec::with_capacity(args.len() + 1);
        if route.params().next() == Some("clinic") {
            all.push(self.clinic.as_str());
        }
        all.extend_from_slice(args);
        format!("{}{}", self.base, route.url(&all))
    }

    /// Sends a request; answers its status, its `Retry-After` (seconds) and its body as the
    /// browser parsed it (`JSON.parse`: the wasm never parses JSON text), `null` when it has
    /// none.
    async fn call(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<JsValue>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, Option<u32>, JsValue), Failure> {
        let mut request = RequestBuilder::new(url)
            .method(method)
            .header("Accept", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let request = match body {
            Some(body) => request
                .header("Content-Type", "application/json")
                .body(body)
                .map_err(|_| Failure::Network)?,
            None => request.build().map_err(|_| Failure::Network)?,
        };
        let response = request.send().await.map_err(|_| Failure::Network)?;
        let status = response.status();
        if status == 204 {
            return Ok((status, None, JsValue::NULL));
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.trim().parse().ok());
        let raw: web_sys::Response = response.into();
        let value = JsFuture::from(raw.json().map_err(js_err)?)
            .await
            .map_err(js_err)?;
        Ok((status, retry_after, value))
    }

    fn decode<T: DeserializeOwned>(
        (status, retry_after, value): (u16, Option<u32>, JsValue),
    ) -> Result<T, Failure> {
        if (200..300).contains(&status) {
            crate::js_value::from_value(value).map_err(|_| Failure::Network)
        } else {
            match crate::js_value::from_value::<Problem>(value) {
                Ok(p) => Err(Failure::Problem {
                    code: p.code,
                    fields: p.errors,
                    retry_after,
                }),
                Err(_) => Err(Failure::Network),
            }
        }
    }

    /// `GET` of a path made by [`Api::route`] (with its query).
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> Result<T, Failure> {
        Self::decode(self.call(Method::GET, path, token, None, None).await?)
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &impl serde::Serialize,
        idempotency_key: Option<&str>,
    ) -> Result<T, Failure> {
        let body = to_json(body)?;
        Self::decode(
            self.call(Method::POST, path, token, Some(body), idempotency_key)
                .await?,
        )
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Result<(), Failure> {
        let answer = self.call(Method::DELETE, path, token, None, None).await?;
        if (200..300).contains(&answer.0) {
            Ok(())
        } else {
            Self::decode::<()>(answer)
        }
    }

    /// Identifies the patient (`POST …/sessions`): in a region, once for all its clinics,
    /// and then (a clinic being chosen) found in the clinic, so that a patient it has no card
    /// of hears so here.
    pub async fn identify(&self, identity: &NewSession) -> Result<Session, Failure> {
        let Some(region) = &self.region else {
            let path = self.route(routes::CREATE_SESSION, &[]);
            return self.post(&path, None, identity, None).await;
        };
        let path = format!(
            "{}{}",
            self.base,
            routes::REGION_CREATE_SESSION.url(&[region])
        );
        let session: Session = self.post(&path, None, identity, None).await?;
        if !self.clinic.is_empty() {
            let tickets = self.route(routes::TICKETS, &[]);
            self.get::<api_types::List<Ticket>>(&tickets, Some(&session.token))
                .await?;
        }
        Ok(session)
    }

    /// A route of the region (`{region}` filled), with its query.
    pub fn region_route(&self, route: Route, query: &str) -> String {
        let region = self.region.as_deref().unwrap_or_default();
        format!("{}{}{query}", self.base, route.url(&[region]))
    }

    /// Books `slot_id` (by `referral`, if given), or with `moving`, moves that ticket to it
    /// (keeping `referral`): one request under `key`, so that a retry cannot book twice.
    pub async fn book(
        &self,
        token: Option<&str>,
        slot_id: String,
        referral: Option<String>,
        moving: Option<&str>,
        key: &str,
    ) -> Result<Ticket, Failure> {
        match moving {
            Some(old) => {
                let body = Reschedule { slot_id, referral };
                let path = self.route(routes::RESCHEDULE, &[old]);
                self.post(&path, token, &body, Some(key)).await
            }
            None => {
                let body = NewTicket { slot_id, referral };
                let path = self.route(routes::BOOK, &[]);
                self.post(&path, token, &body, Some(key)).await
            }
        }
    }
}
