// The room client and the admin panel in Firefox (Debian's firefox-esr over WebDriver
// BiDi): a room signs in from its provisioning link and idles with its device checks; the
// admin signs in through its form and follows a live conference of synthetic rooms in the
// console; English works too; no page has text cut off or overlapping. Screenshots are
// saved as firefox-*.png next to the Chromium ones. (Firefox's media is not exercised:
// it gathers no loopback ICE candidates, and these tests may use loopback only.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { stopServer, sanitizerReport } from './lib.mjs';
import { Site, until } from './rooms_lib.mjs';
import { launchFirefox, FIREFOX } from './firefox.mjs';
import { provinceServer, provisioningLink, PASSWORD, SHOTS, pageLayoutProblems, pageTexts, foreignPatterns, foreignLeft } from './web_lib.mjs';
import { STRINGS } from '../../web/i18n.js';

test('the room client and the admin panel in Firefox', { timeout: 120000, skip: existsSync(FIREFOX) ? false : `no ${FIREFOX}` }, async () => {
  const srv = await provinceServer();
  const ff = await launchFirefox();
  const bots = [];
  mkdirSync(SHOTS, { recursive: true });
  const clean = async (tab, name) => {
    await tab.screenshot(path.join(SHOTS, `firefox-${name}.png`));
    const probs = await tab.eval(pageLayoutProblems);
    assert.deepEqual(probs, [], `firefox ${name}: ${probs.join('; ')}`);
  };
  try {
    const { api } = srv;
    const chair = srv.byUnit['883'], commune = srv.byUnit['30334']; // the room is not invited
    const cid = (await api.post('/conferences', { title: 'Giao ban trực tuyến Thành phố Long Xuyên', host_unit: '883',
      invite: { own: true, subtree: true }, chair_site: chair.site })).json.conference.id;

    const room = await ff.newTab();
    await room.goto(provisioningLink(srv, commune));
    await room.waitFor(() => window.room?.conn === 'signedin' && document.body.dataset.screen === 'idle' && !!window.room.stream, 15000, 'the room idle');
    assert.equal(await room.eval(() => document.querySelector('#idle-name').textContent), 'Điểm cầu Xã Vĩnh Châu');
    await clean(room, 'room-idle');

    for (const c of srv.creds.filter((x) => x.unit === '883' || ['30280', '30283', '30286', '30289'].includes(x.unit))) {
      const s = new Site(`ws://127.0.0.1:${srv.port}/ws`, c); bots.push(s); s.connect();
    }
    assert.equal((await api.post(`/conferences/${cid}/start`)).status, 200);
    await until(() => bots.every((b) => b.status === 'joined'), 15000, 'rooms joined');
    await bots[1].ask({ type: 'hand', raised: true });

    const admin = await ff.newTab();
    await admin.goto(`${srv.base}/admin/`);
    await admin.waitFor(() => document.body.dataset.auth === 'out', 10000, 'the sign-in page');
    await admin.eval((pw) => {
      document.querySelector('#login-user').value = 'admin';
      document.querySelector('#login-pass').value = pw;
      document.querySelector('#login-form').requestSubmit();
    }, PASSWORD);
    await admin.waitFor(() => document.body.dataset.auth === 'in', 10000, 'signed in');
    await admin.goto(`${srv.base}/admin/#/conferences/${cid}`);
    await admin.waitFor((s) => !!document.querySelector(`#roster tr[data-site="${s}"].joined`), 15000, 'a room in the roster', bots[1].id);
    await admin.waitFor(() => document.querySelectorAll('#hand-queue li').length === 1, 10000, 'the raised hand');
    await clean(admin, 'admin-live');
    await admin.goto(`${srv.base}/admin/#/sites/883`);
    await admin.waitFor(() => document.querySelectorAll('table.sites tbody tr').length === 13, 10000, 'the sites');
    await clean(admin, 'admin-sites');

    // English, then back.
    await admin.eval(() => document.querySelector('#lang [data-lang="en"]').click());
    await admin.waitFor(() => document.documentElement.lang === 'en', 5000, 'English');
    await new Promise((r) => setTimeout(r, 800));
    const left = foreignLeft(await admin.eval(pageTexts), foreignPatterns(STRINGS, 'vi', 'en').filter((p) => p.key !== 'room.site.n'));
    assert.deepEqual(left, []);
    await clean(admin, 'admin-live-en');
    await admin.eval(() => document.querySelector('#lang [data-lang="vi"]').click());
  } finally {
    for (const b of bots) b.close();
    await ff.close();
    const res = await stopServer(srv);
    assert.equal(sanitizerReport(srv.stderr), null);
    assert.equal(res.code, 0);
  }
});
