// Event hooks with the official Okta SDK for Node.js: its typed models read
// Gatehouse's EventHook objects, and a receiver written here, with no
// Gatehouse code, answers the verification challenge and takes the
// com.okta.event_hook deliveries. The server runs with
// --event-hook-allow-http so that the receiver can be plain HTTP on
// loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import okta from '@okta/okta-sdk-nodejs';
import { Gatehouse } from '../lib/gatehouse.js';

async function receiver(t) {
  const gets = [];
  const posts = [];
  const srv = http.createServer((req, res) => {
    if (req.method === 'GET') {
      gets.push(req.headers);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ verification: req.headers['x-okta-verification-challenge'] }));
      return;
    }
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      posts.push({ headers: req.headers, body: JSON.parse(body) });
      res.statusCode = 200;
      res.end();
    });
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => srv.close());
  return { url: `http://127.0.0.1:${srv.address().port}/hooks`, gets, posts };
}

async function waitFor(f, what) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const v = f();
    if (v) {
      return v;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('Okta Node SDK: an event hook is created, verified, delivers Okta\'s payload, and is deactivated and deleted', async (t) => {
  const rc = await receiver(t);
  const gh = await Gatehouse.start({ args: ['--event-hook-allow-http'] });
  t.after(() => gh.stop());
  const client = new okta.Client({ orgUrl: gh.baseURL, token: gh.token });
  const hooks = client.eventHookApi;

  const created = await hooks.createEventHook({
    eventHook: {
      name: 'Node receiver',
      events: { type: 'EVENT_TYPE', items: ['group.lifecycle.create'] },
      channel: {
        type: 'HTTP', version: '1.0.0',
        config: { uri: rc.url, headers: [{ key: 'X-Other-Header', value: 'other' }], authScheme: { type: 'HEADER', key: 'Authorization', value: 'node-secret' } },
      },
    },
  });
  assert.match(created.id, /^who[0-9A-Za-z]{17}$/);
  assert.equal(created.status, 'ACTIVE');
  assert.equal(created.verificationStatus, 'UNVERIFIED');
  assert.equal(created.channel.config.authScheme.key, 'Authorization');
  assert.equal(created.channel.config.authScheme.value, undefined);
  assert.deepEqual(created.events.items, ['group.lifecycle.create']);

  const verified = await hooks.verifyEventHook({ eventHookId: created.id });
  assert.equal(verified.verificationStatus, 'VERIFIED');
  assert.equal(rc.gets.length, 1);
  assert.equal(rc.gets[0].authorization, 'node-secret');

  const group = await client.groupApi.createGroup({ group: { profile: { name: 'node-hooked' } } });
  const post = await waitFor(() => rc.posts.find((p) => p.body.data.events.some((e) => e.target.some((x) => x.id === group.id))), 'the delivery');
  assert.equal(post.headers.authorization, 'node-secret');
  assert.equal(post.headers['x-other-header'], 'other');
  assert.equal(post.body.eventType, 'com.okta.event_hook');
  assert.equal(post.body.contentType, 'application/json');
  assert.equal(post.body.source, `${gh.baseURL}/api/v1/eventHooks/${created.id}`);
  const delivered = post.body.data.events.find((e) => e.target.some((x) => x.id === group.id));
  assert.equal(delivered.eventType, 'group.lifecycle.create');
  const logged = [];
  for await (const ev of await client.systemLogApi.listLogEvents({ filter: `uuid eq "${delivered.uuid}"`, until: new Date(Date.now() + 60_000).toISOString() })) {
    logged.push(ev);
  }
  assert.equal(logged.length, 1);
  assert.equal(logged[0].displayMessage, delivered.displayMessage);

  const listed = [];
  for await (const h of await hooks.listEventHooks()) {
    listed.push(h);
  }
  assert.deepEqual(listed.map((h) => h.id), [created.id]);

  const active = await apiError(() => hooks.deleteEventHook({ eventHookId: created.id }));
  assert.equal(active.errorCode, 'E0000001');
  const inactive = await hooks.deactivateEventHook({ eventHookId: created.id });
  assert.equal(inactive.status, 'INACTIVE');
  await hooks.deleteEventHook({ eventHookId: created.id });
  const gone = await apiError(() => hooks.getEventHook({ eventHookId: created.id }));
  assert.equal(gone.status, 404);
});

async function apiError(f) {
  try {
    await f();
  } catch (err) {
    assert.equal(err.name, 'OktaApiError', `expected an OktaApiError, got ${err}`);
    return err;
  }
  assert.fail('the call succeeded');
}
