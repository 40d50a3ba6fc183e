//! The gateway's JSON API, from the browser (same origin: the widget page is the gateway's).

use api_types::routes::Route;
use api_types::{ErrorCode, FieldError, Problem};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// No answer (offline, gateway down) or an answer that is not the API's.
    Network,
    /// The API's problem document.
    Problem {
        code: ErrorCode,
        fields: Vec<FieldError>,
    },
}

impl Failure {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Problem { code, .. } => Some(*code),
            Self::Network => None,
        }
    }
}

/// The API of one clinic.
#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    pub clinic: String,
    /// The gateway's path prefix (empty at the root).
    pub base: String,
}

fn js_err(_: JsValue) -> Failure {
    Failure::Network
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

    async fn call(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<String>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, String), Failure> {
        let init = RequestInit::new();
        init.set_method(method);
        if let Some(body) = &body {
            init.set_body(&JsValue::from_str(body));
        }
        let request = Request::new_with_str_and_init(url, &init).map_err(js_err)?;
        let headers = request.headers();
        headers.set("Accept", "application/json").map_err(js_err)?;
        if body.is_some() {
            headers
                .set("Content-Type", "application/json")
                .map_err(js_err)?;
        }
        if let Some(token) = token {
            headers
                .set("Authorization", &format!("Bearer {token}"))
                .map_err(js_err)?;
        }
        if let Some(key) = idempotency_key {
            headers.set("Idempotency-Key", key).map_err(js_err)?;
        }
        let window = web_sys::window().ok_or(Failure::Network)?;
        let response: Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(js_err)?
            .dyn_into()
            .map_err(js_err)?;
        let status = response.status();
        let text = JsFuture::from(response.text().map_err(js_err)?)
            .await
            .map_err(js_err)?;
        Ok((status, text.as_string().unwrap_or_default()))
    }

    fn decode<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, Failure> {
        if (200..300).contains(&status) {
            serde_json::from_str(text).map_err(|_| Failure::Network)
        } else {
            match serde_json::from_str::<Problem>(text) {
                Ok(p) => Err(Failure::Problem {
                    code: p.code,
                    fields: p.errors,
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
        let (status, text) = self.call("GET", path, token, None, None).await?;
        Self::decode(status, &text)
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &impl serde::Serialize,
        idempotency_key: Option<&str>,
    ) -> Result<T, Failure> {
        let body = serde_json::to_string(body).map_err(|_| Failure::Network)?;
        let (status, text) = self
            .call("POST", path, token, Some(body), idempotency_key)
            .await?;
        Self::decode(status, &text)
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Result<(), Failure> {
        let (status, text) = self.call("DELETE", path, token, None, None).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Self::decode::<()>(status, &text)
        }
    }
}
