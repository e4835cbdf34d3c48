// The API's own description of its request bodies (/openapi.json), so that a form's choices
// and limits come from the server that enforces them: a select lists the enum the API
// accepts, a textarea's minlength/maxlength are the API's. The API still checks everything;
// this only lets the browser say so before the round trip.

let spec = null;

async function loadSpec() {
  if (!spec) {
    spec = fetch("/openapi.json", { credentials: "same-origin" }).then((r) => {
      if (!r.ok) throw new Error(`the API description did not load (${r.status})`);
      return r.json();
    });
  }
  return spec;
}

function resolve(doc, node) {
  let current = node || {};
  for (let i = 0; i < 8 && current.$ref; i++) {
    current = doc.components.schemas[current.$ref.split("/").pop()] || {};
  }
  if (current.anyOf) {
    const concrete = current.anyOf.find((x) => x.type !== "null");
    if (concrete) return { ...resolve(doc, concrete), nullable: true, default: current.default };
  }
  if (current.type === "array" && current.items) return { ...current, items: resolve(doc, current.items) };
  return current;
}

// {field: {enum, minLength, maxLength, minimum, maximum, required, default, description, items}}
export async function bodySchema(name) {
  const doc = await loadSpec();
  const schema = doc.components.schemas[name];
  if (!schema) throw new Error(`the API has no schema ${name}`);
  const required = new Set(schema.required || []);
  const fields = {};
  for (const [key, value] of Object.entries(schema.properties || {})) {
    fields[key] = { ...resolve(doc, value), required: required.has(key) };
  }
  return fields;
}

// Apply a field's limits to a control (the attributes a browser understands).
export function constrain(control, rule) {
  if (!rule) return control;
  if (rule.required) control.required = true;
  if (rule.minLength !== undefined) control.setAttribute("minlength", rule.minLength);
  if (rule.maxLength !== undefined) control.setAttribute("maxlength", rule.maxLength);
  if (rule.minimum !== undefined) control.setAttribute("min", rule.minimum);
  if (rule.maximum !== undefined) control.setAttribute("max", rule.maximum);
  return control;
}

// "STATEMENT_CATEGORY_SELF_HARM" -> "Self harm"; "remove_asset" -> "Remove asset"
export function humanize(value) {
  const text = String(value)
    .replace(/^(STATEMENT_CATEGORY|KEYWORD|DECISION_GROUND|AUTOMATED_DECISION)_/, "")
    .replace(/_/g, " ")
    .toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}
