// check.mjs: hold idmint to its OpenAPI document.
//
//   node check.mjs NODE_DIR doc/openapi.json [RESPONSES.jsonl | -]
//
// NODE_DIR is where `npm ci` put node_modules (the build tree).  First the
// document itself is validated against the OpenAPI 3.1 schema
// (@seriousme/openapi-schema-validator).  Then each line of RESPONSES is
// one response a test received:
//   {"id":N, "method":"GET", "path":"/v1/encode", "query":"...",
//    "status":200, "headers":[["Name","value"],...], "body":"<bytes>"}
// (the body's bytes as the code points 0 to 255, as latin-1 reads them)
// and is checked against the document with Ajv (JSON Schema 2020-12): the
// status must be described for that method and path, every required
// header present, every described header valid, the Content-Type one of
// the described media types, and the body valid against its schema.
//
// Where the document has no operation, two extensions say what idmint
// answers: `x-idmint-other-methods` on a path (a method it does not
// take), and `x-idmint-unknown-paths` at the top (a path it does not
// have, by longest prefix).
//
// Prints one line per response the document does not describe, fields
// separated by tabs: FAIL, id, method, path, query, status, why, and an
// example of the wrong part (a body or header excerpt)
// then `checked N responses, M not described`.  Exit 0 when the document
// is valid (whatever the responses; the caller decides), 2 when it is not.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const [nodeDir, docPath, respPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(nodeDir), "package.json"));
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;
const { Validator } = await import(pathToFileURL(
	require.resolve("@seriousme/openapi-schema-validator")).href);

const doc = JSON.parse(fs.readFileSync(docPath, "utf8"));

// ---- the document ----------------------------------------------------------
const v = new Validator();
const res = await v.validate(structuredClone(doc));
if (!res.valid || !/^3\.1\./.test(doc.openapi)) {
	console.log("FAIL document: not a valid OpenAPI 3.1 document: " +
	    JSON.stringify(res.errors ?? doc.openapi).slice(0, 2000));
	process.exit(2);
}
console.log("document: valid OpenAPI " + doc.openapi);
if (!respPath)
	process.exit(0);

// ---- schemas, compiled once each ---------------------------------------------
const DOC_ID = "urn:idmint:openapi";
const ajv = new Ajv2020({ strict: false, allErrors: false,
	validateSchema: false });
addFormats(ajv);
ajv.addSchema({ ...doc, $id: DOC_ID });
const compiled = new Map();

function ptr(parts) {
	return "#/" + parts.map((p) =>
	    String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

function validator(pointer) {
	if (!compiled.has(pointer))
		compiled.set(pointer, ajv.compile({ $ref: DOC_ID + pointer }));
	return compiled.get(pointer);
}

// Follow a $ref within the document; returns [object, its pointer parts].
function deref(obj, parts) {
	while (obj && obj.$ref) {
		if (!obj.$ref.startsWith("#/"))
			throw new Error("external $ref " + obj.$ref);
		parts = obj.$ref.slice(2).split("/").map((s) =>
		    s.replace(/~1/g, "/").replace(/~0/g, "~"));
		obj = parts.reduce((o, k) => (o == null ? o : o[k]), doc);
	}
	return [obj, parts];
}

// ---- finding what describes a response ----------------------------------------
const templated = Object.keys(doc.paths).filter((p) => p.includes("{"))
    .map((p) => [p, new RegExp("^" + p.replace(/[.*+?^$()|[\]\\]/g, "\\$&")
	.replace(/\\?\{[^}]+\\?\}/g, "[^/]+") + "$")]);

function pathItem(p) {
	if (doc.paths[p])
		return p;
	const t = templated.find(([, re]) => re.test(p));
	return t ? t[0] : null;
}

// The Responses object for method and path, and where it is.
function responsesFor(method, p) {
	if (p === "")
		p = "/";	// an empty PATH_INFO is the root
	const key = pathItem(p);
	if (key !== null) {
		const m = method.toLowerCase();
		const op = doc.paths[key][m];
		if (op && op.responses)
			return [op.responses, ["paths", key, m, "responses"]];
		const other = doc.paths[key]["x-idmint-other-methods"];
		if (other)
			return [other, ["paths", key, "x-idmint-other-methods"]];
		return [null, null];
	}
	const unknown = doc["x-idmint-unknown-paths"] || {};
	let best = null;
	for (const pre of Object.keys(unknown))
		if ((p === pre || p.startsWith(pre.endsWith("/") ? pre : pre + "/")
		    || pre === "/") && (best === null || pre.length > best.length))
			best = pre;
	return best === null ? [null, null] :
	    [unknown[best], ["x-idmint-unknown-paths", best]];
}

function mediaType(ct) {
	return (ct || "").split(";")[0].trim().toLowerCase();
}

function headerValue(schema, value) {
	const t = schema && schema.type;
	if ((t === "integer" || t === "number") && /^-?[0-9]+$/.test(value))
		return Number(value);
	return value;
}

function ajvErrors(fn) {
	return (fn.errors || []).slice(0, 3).map((e) =>
	    (e.instancePath || "/") + " " + e.message +
	    (e.params && e.params.allowedValue !== undefined ?
		" (" + JSON.stringify(e.params.allowedValue) + ")" : "") +
	    (e.params && e.params.additionalProperty ?
		" (" + e.params.additionalProperty + ")" : "")).join("; ");
}

// The described media type of a Content-Type: its key, or undefined.
function mediaOf(resp, ct) {
	const mt = mediaType(ct);
	return Object.keys(resp.content).find((k) => mediaType(k) === mt) ??
	    Object.keys(resp.content).find((k) => k === "*/*");
}

// What describes answers of one method, path, status and Content-Type,
// found once: {error} or {headers, content, media, web, body, json}.
function planFor(method, p, status, ct) {
	const [responses, rparts] = responsesFor(method, p);
	if (responses === null)
		return { error: "no operation or fallback for this method and path" };
	const code = String(status);
	const k = [code, code[0] + "XX", "default"].find((c) => responses[c]);
	if (k === undefined)
		return { error: "status " + code + " not described (described: " +
		    Object.keys(responses).join(", ") + ")" };
	const [resp, parts] = deref(responses[k], [...rparts, k]);
	const plan = { headers: [], content: !!resp.content, body: null };
	for (const [name, h0] of Object.entries(resp.headers || {})) {
		const [h, hparts] = deref(h0, [...parts, "headers", name]);
		plan.headers.push({ name, lname: name.toLowerCase(),
		    required: !!h.required, schema: h.schema,
		    fn: h.schema ? validator(ptr([...hparts, "schema"])) : null });
	}
	if (!resp.content)
		return plan;
	const key = mediaOf(resp, ct);
	if (key === undefined)
		return { error: "Content-Type " + JSON.stringify(ct) + " not one of " +
		    Object.keys(resp.content).join(", ") };
	const media = resp.content[key];
	// The web server's own page: none of idmint's headers to hold it to.
	plan.web = !!media["x-idmint-web-server"];
	if (media.schema)
		plan.body = validator(ptr([...parts, "content", key, "schema"]));
	const mt = mediaType(ct);
	plan.json = mt === "application/json" || mt.endsWith("+json");
	return plan;
}

const plans = new Map();

function check(r) {
	const why = [];
	const have = new Map(r.headers.map(([h, val]) => [h.toLowerCase(), val]));
	const ct = have.get("content-type");
	const pkey = r.method + "\0" + r.path + "\0" + r.status + "\0" + ct;
	let plan = plans.get(pkey);
	if (plan === undefined) {
		plan = planFor(r.method, r.path, r.status, ct);
		plans.set(pkey, plan);
	}
	if (plan.error)
		return [plan.error];
	if (!plan.web)
		for (const h of plan.headers) {
			const val = have.get(h.lname);
			if (val === undefined) {
				if (h.required)
					why.push("header " + h.name + " missing");
			} else if (h.fn && !h.fn(headerValue(h.schema, val))) {
				why.push("header " + h.name + " " + ajvErrors(h.fn));
				why.example = h.name + ": " + val;
			}
		}
	const body = Buffer.from(r.body || "", "latin1").toString("utf8");
	if (!plan.content) {
		if (body !== "" && r.method !== "HEAD")
			why.push("a body where none is described");
		return why;
	}
	if (r.method === "HEAD" || plan.body === null)
		return why;
	let value = body;
	if (plan.json) {
		try {
			value = JSON.parse(body);
		} catch (e) {
			why.push("body is not JSON");
			why.example = body.slice(0, 200);
			return why;
		}
	}
	if (!plan.body(value)) {
		why.push("body " + ajvErrors(plan.body));
		why.example = JSON.stringify(value).slice(0, 200);
	}
	return why;
}

// ---- the responses ----------------------------------------------------------------
let n = 0, bad = 0;
const lines = readline.createInterface({ input: respPath === "-" ?
    process.stdin : fs.createReadStream(respPath), crlfDelay: Infinity });
for await (const line of lines) {
	if (line === "")
		continue;
	const r = JSON.parse(line);
	n++;
	let why;
	try {
		why = check(r);
	} catch (e) {
		why = ["checker error: " + e.message];
	}
	if (why.length > 0) {
		bad++;
		console.log(["FAIL", r.id, r.method, r.path,
		    (r.query || "").slice(0, 80), r.status, why.join("; "),
		    why.example || ""]
		    .map((f) => String(f).replace(/[\t\n]/g, " ")).join("\t"));
	}
}
console.log("checked " + n + " responses, " + bad + " not described");
