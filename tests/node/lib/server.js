// The real `kabaadwala` binary as a child process: its own temp folder, a free port, a fresh
// database (SQLite by default; a new PostgreSQL database when NODE_TEST_DATABASE_URL is a
// postgres admin URL), REDIS_URL passed through when set. Mirrors tests/api/support/process.rs.

import { spawn, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..', '..');
export const BIN = process.env.KABAADWALA_BIN || path.join(REPO, 'target', 'debug', 'kabaadwala');
export const PASSWORD = 'kabaad2026';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function isPostgres(url) {
  return /^postgres(ql)?:\/\//.test(url || '');
}

/** A fresh database: { url, drop() }. */
function freshDatabase(dir) {
  const admin = process.env.NODE_TEST_DATABASE_URL;
  if (!isPostgres(admin)) {
    return { url: `sqlite://${path.join(dir, 'kw.db')}?mode=rwc`, drop() {} };
  }
  const name = `kw_node_${randomBytes(6).toString('hex')}`;
  execFileSync('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${name}`], { stdio: 'pipe' });
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop() {
      try {
        execFileSync('psql', [admin, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: 'pipe' });
      } catch (e) {
        process.stderr.write(`could not drop ${name}: ${e.stderr || e.message}\n`);
      }
    },
  };
}

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/**
 * Starts `kabaadwala serve` and waits for /readyz; creates an admin first with
 * `kabaadwala create-superuser`. `extraEnv` overrides or adds configuration.
 */
export async function startServer(extraEnv = {}) {
  if (!fs.existsSync(BIN)) {
    throw new Error(`${BIN} does not exist: run \`cargo build\` first or set KABAADWALA_BIN`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-node-'));
  const db = freshDatabase(dir);
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || dir,
    DATABASE_URL: db.url,
    MAIL_DIR: path.join(dir, 'mail'),
    MEDIA_DIR: path.join(dir, 'media'),
    JWT_SECRET: 'node-test-secret-that-is-long-enough-0123456789',
    BIND_ADDR: `127.0.0.1:${port}`,
    RUST_LOG: 'warn',
    // Every test signs up several users from 127.0.0.1; limits are generous here (tests of
    // the limits themselves are in the Rust suite), and each server counts in its own keys.
    RATE_LIMIT_KEY_PREFIX: `kwnode-${randomUUID().replaceAll('-', '')}`,
  };
  for (const action of ['LOGIN', 'OTP', 'PASSWORD_RESET', 'REGISTER', 'RECHARGE']) {
    for (const scope of ['IP', 'ACCOUNT']) env[`RATE_LIMIT_${action}_${scope}`] = '100000/60';
  }
  if (process.env.REDIS_URL) env.REDIS_URL = process.env.REDIS_URL;
  Object.assign(env, extraEnv);

  const admin = { email: `admin-${randomUUID()}@example.com`, password: PASSWORD };
  try {
    execFileSync(BIN, ['create-superuser', '--email', admin.email, '--password', admin.password, '--name', 'Node Admin'], {
      env,
      stdio: 'pipe',
      timeout: 120_000,
    });
  } catch (e) {
    db.drop();
    throw new Error(`create-superuser failed: ${e.stderr || e.message}`);
  }

  const out = fs.openSync(path.join(dir, 'server.out'), 'w');
  const err = fs.openSync(path.join(dir, 'server.err'), 'w');
  const child = spawn(BIN, ['serve'], { env, stdio: ['ignore', out, err] });
  live.add(child);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve(exited);
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const server = {
    base,
    graphql: `${base}/graphql`,
    ws: `ws://127.0.0.1:${port}/graphql`,
    dir,
    env,
    admin,
    /** The server's stderr so far (for failure messages). */
    log() {
      try { return fs.readFileSync(path.join(dir, 'server.err'), 'utf8'); } catch { return ''; }
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const grace = new AbortController();
        const done = await Promise.race([
          exitPromise,
          sleep(10_000, null, { signal: grace.signal }).catch(() => null),
        ]);
        grace.abort(); // no timer left to keep the test process alive
        if (!done) {
          child.kill('SIGKILL');
          await exitPromise;
        }
      }
      fs.closeSync(out);
      fs.closeSync(err);
      db.drop();
      if (!process.env.NODE_TEST_KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      const log = server.log();
      await server.stop();
      throw new Error(`the server exited (${JSON.stringify(exited)}) before it was ready:\n${log}`);
    }
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return server;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      const log = server.log();
      await server.stop();
      throw new Error(`the server was not ready within 60 s:\n${log}`);
    }
    await sleep(50);
  }
}
