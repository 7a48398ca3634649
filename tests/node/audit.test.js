// GraphQL over HTTP conformance: every audit of the `graphql-http` library (13 MUST, 23 SHOULD,
// 25 MAY) must pass against the real server, with no warning and no notice.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { serverAudits } from 'graphql-http';

import { startServer } from './lib/server.js';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

async function responseSummary(response) {
  if (!response) return '';
  let body = '';
  try {
    body = await response.clone().text();
  } catch {
    body = '<body already read>';
  }
  const type = response.headers?.get?.('content-type') ?? '';
  return `${response.status} ${type} ${body.replace(/\s+/g, ' ').slice(0, 160)}`;
}

test('graphql-http serverAudits: all 61 pass (MUST, SHOULD and MAY)', async () => {
  const audits = serverAudits({ url: server.graphql, fetchFn: fetch });
  assert.equal(audits.length, 61, 'graphql-http 1.23.1 has 61 server audits');
  const results = [];
  for (const audit of audits) {
    try {
      results.push(await audit.fn());
    } catch (e) {
      results.push({ id: audit.id, name: audit.name, status: 'error', reason: `the audit threw: ${e.message}` });
    }
  }
  const failed = results.filter((r) => r.status !== 'ok');
  const rows = [];
  for (const r of failed) {
    rows.push({
      id: r.id,
      status: r.status,
      audit: r.name,
      reason: r.reason,
      response: await responseSummary(r.response),
    });
  }
  const passed = results.length - failed.length;
  console.log(`graphql-http audits: ${passed}/${results.length} ok`);
  if (rows.length) console.table(rows.map(({ response, ...row }) => row));
  const table = rows.map((r) => `  [${r.status}] ${r.id} ${r.audit}\n      ${r.reason}\n      got: ${r.response}`).join('\n');
  assert.equal(failed.length, 0, `${failed.length} of ${results.length} audits did not pass:\n${table}`);
});
