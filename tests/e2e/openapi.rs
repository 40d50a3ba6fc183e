use std::path::PathBuf;

/// `openapi/openapi.json` must be what the code generates. Refresh it with
/// `UPDATE_OPENAPI=1 cargo test -p registratura-e2e openapi` (or `just openapi`).
#[test]
fn the_committed_openapi_spec_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let generated = registratura::pages::openapi::spec_json() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("the spec is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale; refresh it with: UPDATE_OPENAPI=1 cargo test -p registratura-e2e openapi"
    );
}

/// The codes an operation of the spec declares: its error responses' descriptions list them,
/// each in backticks, under the status they go with.
fn declared(spec: &serde_json::Value, path: &str, method: &str) -> Vec<(u16, String)> {
    let responses = spec["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is in the spec"));
    let mut codes = Vec::new();
    for (status, response) in responses {
        let Ok(status) = status.parse::<u16>() else {
            continue;
        };
        if status < 400 {
            continue;
        }
        let text = response["description"].as_str().unwrap_or_default();
        for part in text.split('`').skip(1).step_by(2) {
            codes.push((status, part.to_owned()));
        }
    }
    codes
}

#[test]
fn every_error_code_a_route_can_answer_is_declared_on_it_under_its_status() {
    let spec: serde_json::Value =
        serde_json::from_str(&registratura::pages::openapi::spec_json()).expect("JSON");
    let mut answered = std::collections::BTreeSet::new();
    for endpoint in registratura::routes::ENDPOINTS {
        let method = format!("{:?}", endpoint.route.method).to_lowercase();
        let declared = declared(&spec, endpoint.route.path, &method);
        let failures = endpoint.failures();
        for code in &failures {
            answered.insert(code.as_str());
            assert!(
                declared.contains(&(code.status(), code.as_str().to_owned())),
                "{method} {} can answer {} ({}), which its operation does not declare: {declared:?}",
                endpoint.route.path,
                code.as_str(),
                code.status()
            );
        }
        // Nothing declared that the route table does not say it answers.
        for (status, code) in &declared {
            assert!(
                failures
                    .iter()
                    .any(|f| f.as_str() == code && f.status() == *status),
                "{method} {} declares {code} ({status}), which it never answers",
                endpoint.route.path
            );
        }
    }
    // Every code of the API is answered by some route (the pages' own answers aside).
    for code in api_types::ErrorCode::ALL {
        assert!(
            answered.contains(code.as_str()) || code == api_types::ErrorCode::MethodNotAllowed,
            "{code:?} is answered by no route of the table"
        );
    }
}

/// Every `$ref` of a value, recursively.
fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_schema_the_spec_refers_to_is_in_it() {
    let spec: serde_json::Value =
        serde_json::from_str(&registratura::pages::openapi::spec_json()).expect("JSON");
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {r}"));
        assert!(
            spec["components"]["schemas"].get(name).is_some(),
            "{r} is referred to and not defined"
        );
    }
}

/// A value for a parameter or a member named `name` that the gateway accepts as given: what it
/// is asked of is not this test's matter, only that nothing required is said to be missing.
fn value_of(name: &str, real: &std::collections::HashMap<&str, String>) -> String {
    if let Some(v) = real.get(name) {
        return v.clone();
    }
    match name {
        "date" | "from" | "to" => registratura_e2e::clinic_today().to_string(),
        "specialty" => "Терапия".into(),
        "document_number" => registratura_e2e::PATIENT_FOUND.0.into(),
        "policy_number" => registratura_e2e::PATIENT_FOUND.1.into(),
        "birth_date" => registratura_e2e::PATIENT_FOUND.2.into(),
        "phone" => "+7 916 123-45-67".into(),
        _ => "1".into(),
    }
}

/// The required members of the schema `schema` (a `$ref` followed).
fn required_members<'s>(
    spec: &'s serde_json::Value,
    schema: &'s serde_json::Value,
) -> Vec<&'s str> {
    let schema = match schema["$ref"].as_str() {
        Some(r) => &spec["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    };
    schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_request_with_only_what_the_spec_requires_is_never_told_a_parameter_is_missing() {
    let spec: serde_json::Value =
        serde_json::from_str(&registratura::pages::openapi::spec_json()).expect("JSON");
    let (_sandbox, sandbox_url) = registratura_e2e::start_sandbox();
    let mut config =
        registratura_e2e::gateway_config(vec![registratura_e2e::demo_clinic(&sandbox_url)]);
    config.regions = vec![registratura::config::RegionConfig {
        id: "msk".into(),
        name: "Москва".into(),
        endpoint: Some(format!("{sandbox_url}/HubService.svc")),
        guid: sandbox_mis::DEFAULT_GUID.into(),
        ..registratura::config::RegionConfig::default()
    }];
    let base = registratura_e2e::start_gateway(config).await;
    let api = registratura_e2e::Api::at(&base);
    let (doctor, _) = api.free_slot("Терапия").await;
    let specialty = api
        .specialties()
        .await
        .into_iter()
        .find(|s| s.name == "Терапия")
        .expect("listed")
        .id;
    let token = api.login(registratura_e2e::PATIENT_FOUND).await;
    let client = reqwest::Client::new();
    // The region's catalogue read, and its session.
    let started = std::time::Instant::now();
    while client
        .get(format!("{base}/api/v1/regions/msk/districts"))
        .send()
        .await
        .expect("answers")
        .status()
        != 200
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let region_token = registratura_e2e::open_session(
        &client,
        &format!("{base}/api/v1/regions/msk/sessions"),
        registratura_e2e::PATIENT_FOUND,
    )
    .await;
    let real: std::collections::HashMap<&str, String> = [
        ("clinic", "demo".to_owned()),
        ("region", "msk".to_owned()),
        ("doctor", doctor.id.clone()),
        ("specialty_id", specialty.clone()),
        ("number", registratura_e2e::REFERRAL_VALID.to_owned()),
    ]
    .into();
    let mut asked = 0;
    for endpoint in registratura::routes::ENDPOINTS {
        let method = format!("{:?}", endpoint.route.method).to_lowercase();
        let operation = &spec["paths"][endpoint.route.path][method.as_str()];
        let mut path = endpoint.route.path.to_owned();
        for name in endpoint.route.params() {
            let value = if name == "specialty" {
                specialty.clone()
            } else {
                value_of(name, &real)
            };
            path = path.replace(&format!("{{{name}}}"), &value);
        }
        let query: Vec<(String, String)> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .filter_map(|p| p["name"].as_str())
            .map(|name| (name.to_owned(), value_of(name, &real)))
            .collect();
        let mut request = client
            .request(
                method.to_uppercase().parse().expect("a method"),
                format!("{base}{path}"),
            )
            .query(&query)
            .bearer_auth(if path.contains("/regions/") {
                &region_token
            } else {
                &token
            })
            .header("idempotency-key", format!("required-{asked}"));
        let body = &operation["requestBody"];
        if !body.is_null() {
            let schema = &body["content"]["application/json"]["schema"];
            let members: serde_json::Map<String, serde_json::Value> =
                required_members(&spec, schema)
                    .into_iter()
                    .map(|m| (m.to_owned(), serde_json::Value::String(value_of(m, &real))))
                    .collect();
            request = request.json(&members);
        }
        let r = request.send().await.expect("answers");
        asked += 1;
        if r.status() != 422 {
            continue;
        }
        let problem: api_types::Problem = r.json().await.expect("a problem");
        let missing: Vec<_> = problem
            .errors
            .iter()
            .filter(|e| e.reason == "required")
            .map(|e| e.field.as_str())
            .collect();
        assert!(
            missing.is_empty(),
            "{method} {path} said {missing:?} are missing, which its operation does not require: {problem:?}"
        );
    }
    assert_eq!(asked, registratura::routes::ENDPOINTS.len());
}
