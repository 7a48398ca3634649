// GraphQL over HTTP with Node's fetch: JSON requests and GraphQL multipart uploads.

/** Thrown when a response carries errors the caller did not expect. */
export class GqlError extends Error {
  constructor(errors, body) {
    super(errors.map((e) => `${e.extensions?.code ?? '?'}: ${e.message}`).join('; '));
    this.errors = errors;
    this.body = body;
  }
}

async function parse(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}, not JSON: ${text.slice(0, 500)}`);
  }
}

/** The whole response body `{ data, errors }` of one operation. */
export async function request(url, query, variables = {}, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return parse(res);
}

/** `data` of one operation; throws GqlError on any error. */
export async function gql(url, query, variables = {}, token) {
  const body = await request(url, query, variables, token);
  if (body.errors?.length) throw new GqlError(body.errors, body);
  return body.data;
}

/**
 * An operation with file uploads (GraphQL multipart request spec). `files` maps a variable
 * path (`variables.file`) to `{ name, type, bytes }`.
 */
export async function upload(url, query, variables, files, token) {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query, variables }));
  const map = {};
  const entries = Object.entries(files);
  entries.forEach(([at], i) => { map[String(i)] = [at]; });
  form.append('map', JSON.stringify(map));
  entries.forEach(([, f], i) => form.append(String(i), new Blob([f.bytes], { type: f.type }), f.name));
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: form });
  const body = await parse(res);
  if (body.errors?.length) throw new GqlError(body.errors, body);
  return body.data;
}
