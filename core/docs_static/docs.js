// A small OpenAPI 3.1 renderer for /docs. Plain DOM, textContent only (document text is
// never parsed as HTML), no dependencies, nothing fetched but our own documents.
"use strict";

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function refName(ref) {
  return ref.split("/").pop();
}

function resolve(spec, schema) {
  return schema && schema.$ref ? spec.components.schemas[refName(schema.$ref)] : schema;
}

function typeLabel(schema) {
  if (!schema) return "any";
  if (schema.$ref) return refName(schema.$ref);
  if (schema.anyOf) return schema.anyOf.map(typeLabel).join(" | ");
  if (schema.allOf) return schema.allOf.map(typeLabel).filter((t) => t !== "any").join(" & ");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.type === "array") return typeLabel(schema.items) + "[]";
  if (schema.type === "string" && schema.format) return "string (" + schema.format + ")";
  return schema.type || "object";
}

function constraints(schema) {
  const keys = ["minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "pattern", "default"];
  const parts = keys.filter((k) => schema && schema[k] !== undefined).map((k) => k + ": " + schema[k]);
  return parts.join(", ");
}

function schemaView(spec, schema, seen) {
  const target = resolve(spec, schema);
  if (!target || !target.properties) return el("code", {}, typeLabel(schema));
  const name = schema.$ref ? refName(schema.$ref) : "object";
  if (seen.has(name)) return el("code", {}, name);
  const nextSeen = new Set(seen).add(name);
  const required = new Set(target.required || []);
  const rows = Object.entries(target.properties).map(([field, property]) => {
    const inner = property.items && property.items.$ref ? property.items : property;
    const nested = inner.$ref ? schemaView(spec, inner, nextSeen) : null;
    return el("tr", {},
      el("td", {}, el("code", {}, field), required.has(field) ? " *" : ""),
      el("td", {}, el("code", {}, typeLabel(property)), nested && nested.tagName === "DETAILS" ? nested : ""),
      el("td", {}, constraints(property)));
  });
  const extra = target.additionalProperties === false ? " — unknown fields are refused" : "";
  return el("details", {},
    el("summary", {}, el("code", {}, name), extra),
    el("table", {}, el("tr", {}, el("th", {}, "field (* required)"), el("th", {}, "type"), el("th", {}, "constraints")), rows));
}

function errorCodes(schema) {
  const parts = (schema && schema.allOf) || [];
  for (const part of parts) {
    const code = part.properties && part.properties.error && part.properties.error.properties.code;
    if (code && code.enum) return code.enum.join(", ");
  }
  return "";
}

function operationView(spec, path, method, operation) {
  const security = operation.security || spec.security || [];
  const scopes = security.flatMap((requirement) => Object.values(requirement).flat());
  const access = security.length === 0
    ? "public: no credentials"
    : scopes.length
      ? [operation["x-required-role"] ? "needs role " : "needs scope ", el("span", { class: "scope" }, scopes.join(", "))]
      : "any valid credentials";
  const parameters = (operation.parameters || []).map((p) =>
    el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in), el("td", {}, p.required ? "yes" : "no"),
      el("td", {}, el("code", {}, typeLabel(p.schema)), " ", constraints(p.schema))));
  const body = operation.requestBody && operation.requestBody.content["application/json"];
  const responses = Object.entries(operation.responses).map(([status, response]) => {
    const content = response.content && response.content["application/json"];
    const codes = content ? errorCodes(content.schema) : "";
    return el("tr", {}, el("td", {}, el("code", {}, status)), el("td", {}, response.description),
      el("td", {}, codes ? el("code", {}, codes) : content ? schemaView(spec, content.schema, new Set()) : ""));
  });
  return el("section", { class: "operation", id: operation.operationId || method + path },
    el("h3", {}, el("span", { class: "method " + method }, method.toUpperCase()), el("code", {}, path)),
    el("p", {}, operation.summary || "", " — ", access),
    operation.description ? el("p", {}, operation.description) : null,
    parameters.length ? el("table", {}, el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "required"), el("th", {}, "schema")), parameters) : null,
    body ? el("div", {}, el("strong", {}, "Request body (application/json): "), schemaView(spec, body.schema, new Set())) : null,
    el("table", {}, el("tr", {}, el("th", {}, "status"), el("th", {}, "meaning"), el("th", {}, "body / error codes")), responses));
}

function render(spec) {
  const schemes = Object.entries(spec.components.securitySchemes || {}).map(([name, scheme]) =>
    el("li", {}, el("code", {}, name), ": ", scheme.type === "apiKey" ? "header " + scheme.name : scheme.scheme + " " + (scheme.bearerFormat || ""),
      scheme.description ? " — " + scheme.description : ""));
  const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => operationView(spec, path, method, operation)));
  return [el("h2", {}, spec.info.title, " ", el("small", {}, "v" + spec.info.version)),
    el("p", {}, spec.info.description || ""), el("h3", {}, "Authentication"), el("ul", {}, schemes),
    el("p", {}, "Every error is ", el("code", {}, '{"request_id", "error": {"code", "message", "details?"}}'),
      "; every response carries X-Request-Id."), ...operations];
}

async function show(url) {
  const content = document.getElementById("content");
  for (const button of document.querySelectorAll("nav button")) {
    button.setAttribute("aria-pressed", String(button.dataset.document === url));
  }
  try {
    const response = await fetch(url, { credentials: "omit", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(url + " answered " + response.status);
    content.replaceChildren(...render(await response.json()));
    content.dataset.loaded = url;
  } catch (error) {
    content.replaceChildren(el("p", { class: "error" }, "Could not load " + url + ": " + error.message));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("nav button")) {
    button.addEventListener("click", () => show(button.dataset.document));
  }
  show(new URLSearchParams(location.search).get("doc") === "console" ? "/console/openapi.json" : "/api/v1/openapi.json");
});
